/**
 * The values a stage's statements read and bind (the conductor's side of the notebook's
 * variables: `table`, `intent`, `profile`, `split`, `steps`, `data`, `models`, `metric`, …).
 * Each is kept when a statement binds it, and rebuilt from the event log and the project's
 * files when it is not there (after a restart), without emitting anything: the events for it
 * are already in the log.
 */
import { approvedPlan, type ProjectSnapshot, type TaskType } from "../../contract";
import type { AssetStore } from "../assets/asset-store";
import type { PreparedData, SplitData } from "../data/prepared-data";
import type { Table } from "../data/table";
import type { TableProfile } from "../data/table-profile";
import type { StepScope } from "../tasks/pipeline-step";
import type { PipelineTask } from "../tasks/task";

/** The names a stage binds, in pipeline order: forgetting one forgets those after it. */
const ORDER = ["table", "intent", "profile", "split", "steps", "data", "models", "metric", "budgetSeconds", "outcome"] as const;
const FROM = { table: "table", split: "split", prepared: "data" } as const;

export class WorkingSet implements StepScope {
  private readonly values = new Map<string, { value: unknown; madeBy?: string }>();

  constructor(
    private readonly snapshot: ProjectSnapshot,
    private readonly assets: AssetStore,
    /** the project's task (from its intent), which knows how its values are rebuilt */
    private readonly task: () => PipelineTask | null,
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

  /** The settled intent: the target and the task type. */
  intent(): { target: string; task: TaskType } {
    const i = this.snapshot.intent;
    if (!i?.target) throw new Error("the target is not settled yet");
    return { target: i.target, task: i.task_type };
  }

  /** A value rebuilt from the log and the files (no events: they are in the log already). */
  private rebuild(name: string): unknown {
    const training = () => {
      const plan = approvedPlan(this.snapshot, "MODEL_SELECT");
      if (!plan) throw new Error("the training plan has not been approved yet");
      return plan;
    };
    switch (name) {
      case "models":
        return training().models;
      case "metric":
        return training().metric_primary;
      case "budgetSeconds":
        return training().time_budget_s ?? null;
    }
    // the rest (the table, its profile, the split, the features) is the task's to rebuild
    const value = this.task()?.rebuild(name, { snapshot: this.snapshot, assets: this.assets, get: (n) => this.get(n) });
    if (value === undefined) throw new Error(`${name} is not known yet: the stage that makes it has not run`);
    return value;
  }
}
