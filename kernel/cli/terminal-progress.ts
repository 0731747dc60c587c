/**
 * How `automl run` shows a project in a terminal: a line per stage transition, a live
 * progress bar per training run (redrawn in place on a TTY, every quarter otherwise), and
 * the leaderboard and export at the end.
 */
import { EV, STAGE_TITLES, type AnyEventEnvelope } from "../../contract";

export class TerminalProgress {
  private bar: { runId: string; model: string; lastQuarter: number; loss?: number; val?: string } | null = null;
  private readonly started = Date.now();

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly tty = Boolean(out.isTTY),
  ) {}

  show(e: AnyEventEnvelope): void {
    switch (e.event.name) {
      case EV.STAGE_STATUS: {
        const p = e.event.payload;
        if (p.status === "running" && p.message === STAGE_TITLES[p.stage_id]) this.line(`▶ ${p.stage_id.padEnd(12)} ${p.message}`);
        else if (p.status === "completed") this.line(`✔ ${p.stage_id.padEnd(12)} ${p.message}`);
        else if (p.status === "failed") this.line(`✖ ${p.stage_id.padEnd(12)} ${p.message}`);
        break;
      }
      case EV.TRAIN_RUN_STARTED:
        this.bar = { runId: e.event.payload.run_id, model: e.event.payload.model_id, lastQuarter: -1 };
        this.line(
          `  training ${e.event.payload.model_id}${e.event.payload.config.train.simulated ? ` (one-shot fit; its steps are stand-ins, marked simulated${e.event.payload.config.train.pacing_ms ? ", paced" : ""})` : ""}`,
        );
        break;
      case EV.METRIC_SCALAR: {
        const p = e.event.payload;
        if (this.bar?.runId !== p.run_id) break;
        if (p.name === "loss" && p.split === "train") this.bar.loss = p.value;
        else if (p.split === "val") this.bar.val = `${p.name} ${figure(p.value)}`;
        break;
      }
      case EV.TRAIN_PROGRESS: {
        const p = e.event.payload;
        // the evaluation's progress too: a run stopped early ends at the steps it ran (126/126), not at its last quarter (90/360)
        if (this.bar?.runId !== p.run_id || p.phase === "finalize") break;
        const frac = p.steps ? p.step / p.steps : 0;
        const text = `  ${progressBar(frac)} ${String(p.step).padStart(4)}/${p.steps}  loss ${this.bar.loss !== undefined ? figure(this.bar.loss) : "-"}${this.bar.val ? `  val ${this.bar.val}` : ""}${p.eta_s !== null ? `  eta ≤${p.eta_s.toFixed(1)}s` : ""}`;
        if (this.tty) this.out.write(`\r${text}\x1b[K`);
        else {
          const quarter = Math.floor(frac * 4);
          if (quarter > this.bar.lastQuarter) ((this.bar.lastQuarter = quarter), this.line(text));
        }
        break;
      }
      case EV.TRAIN_RUN_FINISHED: {
        const p = e.event.payload;
        if (this.tty) this.out.write("\r\x1b[K");
        const said = (split: string) =>
          p.final_metrics?.metrics
            .filter((x) => x.split === split)
            .map((x) => `${x.name} ${figure(x.value)}`)
            .join(", ");
        const test = said("test");
        // a forecast's metrics include its backtests' means (validation)
        const backtests = p.final_metrics?.task_type === "time_series_forecasting" ? said("val") : "";
        this.line(`  ${p.status === "success" ? "done" : p.status}: ${test ? `test ${test}${backtests ? `; backtests ${backtests}` : ""}` : (p.reason ?? "")}`);
        this.bar = null;
        break;
      }
      case EV.BEST_MODEL_UPDATED:
        this.line(
          `  best so far: ${e.event.payload.model_id} (${e.event.payload.metric.split} ${e.event.payload.metric.name} ${figure(e.event.payload.metric.value)})`,
        );
        break;
      case EV.LOG_LINE:
        if (e.event.payload.level === "warn" || e.event.payload.level === "error") this.line(`  ${e.event.payload.level}: ${e.event.payload.text}`);
        // what the data file was found to be (its format, compression, delimiter): a few lines worth seeing
        else if (e.stage?.id === "DATA_SOURCE") this.line(`  ${e.event.payload.text}`);
        break;
      case EV.EXPORT_READY:
        this.line(`  export: ${e.event.payload.contents.length} files, ${e.event.payload.checksum}`);
        break;
      default:
        break;
    }
  }

  line(text: string): void {
    this.out.write(`${text}\n`);
  }

  elapsedSeconds(): number {
    return (Date.now() - this.started) / 1000;
  }
}

function progressBar(frac: number, width = 24): string {
  const filled = Math.round(Math.max(0, Math.min(1, frac)) * width);
  return `[${"█".repeat(filled)}${"░".repeat(width - filled)}]`;
}

/** A metric or loss for the terminal: 4 decimals for everyday sizes, 5 significant digits for huge or tiny ones. */
function figure(v: number): string {
  return Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toPrecision(5) : v.toFixed(4);
}
