/**
 * The values a stage's statements read and bind (the conductor's side of the notebook's
 * variables: `table`, `intent`, `profile`, `split`, `steps`, `data`, `models`, `metric`, …).
 * Each is kept when a statement binds it, and rebuilt from the event log and the project's
 * files when it is not there (after a restart), without emitting anything: the events for it
 * are already in the log.
 */
import * as path from "node:path";
import { approvedPlan, type ProjectSnapshot } from "../../contract";
import type { AssetStore } from "../assets/asset-store";
import type { Table } from "../data/table";
import { loadTableFile } from "../data/table-loader";
import { profileTable, type TableProfile } from "../data/table-profile";
import { prepareData, splitForTask, type PreparedData, type SplitData } from "../data/prepared-data";
import type { StepScope } from "./pipeline-step";

/** The names a stage binds, in pipeline order: forgetting one forgets those after it. */
const ORDER = ["table", "intent", "profile", "split", "steps", "data", "models", "metric", "budgetSeconds", "outcome"] as const;
const FROM = { table: "table", split: "split", prepared: "data" } as const;

export class WorkingSet implements StepScope {
  private readonly values = new Map<string, { value: unknown; madeBy?: string }>();

  constructor(
    private readonly snapshot: ProjectSnapshot,
    private readonly assets: AssetStore,
  ) {}

  /** Forgets everything from `from` on (a re-run or a rewind makes it stale). */
  forget(from: keyof typeof FROM): void {
    const start = ORDER.indexOf(FROM[from]);
    for (const name of [...this.values.keys()]) {
      const at = ORDER.indexOf(name as (typeof ORDER)[number]);
      if (at < 0 || at >= start) this.values.delete(name);
    }
  }

  get(name: string): unknown {
    const held = this.values.get(name);
    if (held) return held.value;
    const value = this.rebuild(name);
    this.values.set(name, { value });
    return value;
  }

  set(name: string, value: unknown, madeBy?: string): void {
    this.values.set(name, madeBy === undefined ? { value } : { value, madeBy });
  }

  madeBy(name: string): string | undefined {
    return this.values.get(name)?.madeBy;
  }

  table(): Table {
    return this.get("table") as Table;
  }

  profile(): TableProfile {
    return this.get("profile") as TableProfile;
  }

  split(): SplitData {
    return this.get("split") as SplitData;
  }

  prepared(): PreparedData {
    return this.get("data") as PreparedData;
  }

  /** The dataset file selected in DATA_SOURCE, as a path inside the project. */
  datasetFile(): string {
    const chosen = this.snapshot.dataset_candidates.find((d) => d.id === this.snapshot.dataset_id);
    const file = chosen?.meta["project_file"];
    if (typeof file !== "string") throw new Error("no dataset has been selected yet");
    return file;
  }

  intent(): { target: string; task: "regression" | "classification" } {
    const i = this.snapshot.intent;
    if (!i?.target) throw new Error("the target is not settled yet");
    if (i.task_type !== "regression" && i.task_type !== "classification") throw new Error(`task ${i.task_type} is not tabular`);
    return { target: i.target, task: i.task_type };
  }

  /** The file name the notebook uses for the data (relative to the notebook). */
  datasetNotebookPath(): string {
    return this.datasetFile().split(path.sep).join("/");
  }

  /** A value rebuilt from the log and the files (no events: they are in the log already). */
  private rebuild(name: string): unknown {
    switch (name) {
      case "table":
        return loadTableFile(this.assets.absolute(this.datasetFile())).table;
      case "intent":
        return this.intent();
      case "profile": {
        const { target, task } = this.intent();
        return profileTable(this.table(), target, task);
      }
      case "split": {
        const split = this.snapshot.plans.PREPROCESS?.plan?.split;
        if (!this.snapshot.split || !split) throw new Error("the data has not been split yet");
        const { target, task } = this.intent();
        return splitForTask(this.table(), { target, task, seed: split.seed, testSize: split.test_size, valSize: split.val_size });
      }
      case "steps":
        return this.approved("PREPROCESS").steps;
      case "data":
        return prepareData(this.approved("PREPROCESS").steps, this.table(), this.split());
      case "models":
        return this.approved("MODEL_SELECT").models;
      case "metric":
        return this.approved("MODEL_SELECT").metric_primary;
      case "budgetSeconds":
        return this.approved("MODEL_SELECT").time_budget_s ?? null;
      default:
        throw new Error(`${name} is not known yet: the stage that makes it has not run`);
    }
  }

  private approved<S extends "PREPROCESS" | "MODEL_SELECT">(stage: S) {
    const plan = approvedPlan(this.snapshot, stage);
    if (!plan) throw new Error(`the ${stage === "PREPROCESS" ? "preprocessing" : "training"} plan has not been approved yet`);
    return plan;
  }
}
