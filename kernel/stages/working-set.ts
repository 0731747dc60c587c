/**
 * The in-memory results a later stage needs from an earlier one (the loaded table, the split,
 * the fitted preprocessing). Each is kept when a stage computes it, and rebuilt from the
 * event log and the project's files when it is not there (after a restart), without
 * emitting anything: the events for it are already in the log.
 */
import * as path from "node:path";
import type { PreprocessStep, ProjectSnapshot } from "../../contract";
import type { AssetStore } from "../assets/asset-store";
import type { Table } from "../data/table";
import { loadTableFile } from "../data/table-loader";
import { profileTable, type TableProfile } from "../data/table-profile";
import { prepareData, splitForTask, type PreparedData, type SplitData } from "../data/prepared-data";

export class WorkingSet {
  private tableValue: Table | null = null;
  private profileValue: TableProfile | null = null;
  private splitValue: SplitData | null = null;
  private preparedValue: PreparedData | null = null;

  constructor(
    private readonly snapshot: ProjectSnapshot,
    private readonly assets: AssetStore,
  ) {}

  /** Forgets everything from `from` on (a re-run or a rewind makes it stale). */
  forget(from: "table" | "split" | "prepared"): void {
    if (from === "table") ((this.tableValue = null), (this.profileValue = null));
    if (from === "table" || from === "split") this.splitValue = null;
    this.preparedValue = null;
  }

  setTable(t: Table): void {
    this.tableValue = t;
  }
  setProfile(p: TableProfile): void {
    this.profileValue = p;
  }
  setSplit(s: SplitData): void {
    this.splitValue = s;
  }
  setPrepared(p: PreparedData): void {
    this.preparedValue = p;
  }

  /** The dataset file selected in DATA_SOURCE, as a path inside the project. */
  datasetFile(): string {
    const chosen = this.snapshot.dataset_candidates.find((d) => d.id === this.snapshot.dataset_id);
    const file = chosen?.meta["project_file"];
    if (typeof file !== "string") throw new Error("no dataset has been selected yet");
    return file;
  }

  table(): Table {
    this.tableValue ??= loadTableFile(this.assets.absolute(this.datasetFile())).table;
    return this.tableValue;
  }

  profile(): TableProfile {
    if (!this.profileValue) {
      const { target, task } = this.intent();
      this.profileValue = profileTable(this.table(), target, task);
    }
    return this.profileValue;
  }

  intent(): { target: string; task: "regression" | "classification" } {
    const i = this.snapshot.intent;
    if (!i?.target) throw new Error("the target is not settled yet");
    if (i.task_type !== "regression" && i.task_type !== "classification") throw new Error(`task ${i.task_type} is not tabular`);
    return { target: i.target, task: i.task_type };
  }

  split(): SplitData {
    if (!this.splitValue) {
      const s = this.snapshot.split;
      const plan = this.snapshot.plans.PREPROCESS?.plan_json as { split?: { seed: number; test_size: number; val_size: number } } | undefined;
      if (!s || !plan?.split) throw new Error("the data has not been split yet");
      const { target, task } = this.intent();
      this.splitValue = splitForTask(this.table(), { target, task, seed: plan.split.seed, testSize: plan.split.test_size, valSize: plan.split.val_size });
    }
    return this.splitValue;
  }

  prepared(): PreparedData {
    if (!this.preparedValue) {
      const plan = this.snapshot.plans.PREPROCESS;
      if (!plan?.approved) throw new Error("the preprocessing plan has not been approved yet");
      const steps = (plan.plan_json as { steps: PreprocessStep[] }).steps;
      this.preparedValue = prepareData(steps, this.table(), this.split());
    }
    return this.preparedValue;
  }

  /** The file name the notebook uses for the data (relative to the notebook). */
  datasetNotebookPath(): string {
    return this.datasetFile().split(path.sep).join("/");
  }
}
