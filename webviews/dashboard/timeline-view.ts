/**
 * The eight stages with their status, and what a person can do from here, so no screen is a
 * dead end: the gate's every choice (a column picker for the target, the task, the request
 * reworded, a plan approved as is or edited), Retry on a failed stage (and the request
 * reworded when the failure is about it), Re-run for stale stages, the project's actions
 * (notebook, export, upload), the suggested edits at review, and a summary card at the end.
 */
import {
  GATE_ACTIONS,
  canResumeSearch,
  checkPlanEdit,
  STAGE_IDS,
  STAGE_TITLES,
  type NextAction,
  type PanelToHost,
  type ProjectSnapshot,
  type StageId,
} from "../../contract";
import { formatBytes, formatNumber, h, replaceChildren } from "./dom-builder";
import { post } from "./panel-host";

/** Stages whose failure a reworded request (or another target) can mend. */
const REQUEST_STAGES = new Set<StageId>(["PARSE_INTENT", "DATA_SOURCE"]);

export class TimelineView {
  readonly el = h("section", { class: "view timeline" });
  /** a plan being edited: kept across renders and after a refusal, until the conductor takes it */
  private planDraft: { stage: StageId; text: string } | null = null;
  private promptDraft: string | null = null;
  private lastSent: PanelToHost | null = null;
  private rendered = "";
  prompt = "";
  /** the conductor is stopped: a stage it was running is not running now */
  stopped = false;

  constructor(private readonly rerender: () => void) {}

  /** Draw again on the next frame (an editor opened or closed). */
  private refresh(): void {
    this.rendered = "";
    this.rerender();
  }

  /** The host's answer to the last action: a refused edit stays in its editor, with the reason. */
  actionSettled(ok: boolean): void {
    if (ok && this.lastSent?.type === "confirm" && this.lastSent.plan_json) this.planDraft = null;
    if (ok && (this.lastSent?.type === "reparse" || (this.lastSent?.type === "confirm" && this.lastSent.prompt))) this.promptDraft = null;
    this.rendered = "";
  }

  private send(m: PanelToHost): void {
    this.lastSent = m;
    post(m);
  }

  render(s: ProjectSnapshot, actionError: string | null): void {
    const key = JSON.stringify([
      s.stages,
      s.waiting,
      s.plans,
      s.suggestions,
      s.export.ready,
      s.best,
      this.planDraft !== null,
      this.promptDraft !== null,
      actionError,
      this.stopped,
    ]);
    if (key === this.rendered) return; // keep an editor being typed in intact
    this.rendered = key;
    const list = h(
      "ol",
      { class: "stages" },
      ...STAGE_IDS.map((id) => {
        const status = this.stopped && s.stages[id].status === "running" ? "stopped" : s.stages[id].status;
        return h(
          "li",
          { class: `stage status-${status}`, "data-stage": id },
          h("span", { class: "dot" }),
          h("span", { class: "stage-name" }, STAGE_TITLES[id]),
          h("span", { class: "stage-status" }, status),
          status === "stopped" ? h("div", { class: "stage-message" }, "cut short by the stop: AutoML: Restart Conductor, then resume or retry it") : null,
          s.stages[id].message && s.stages[id].message !== STAGE_TITLES[id] ? h("div", { class: "stage-message" }, s.stages[id].message) : null,
          s.stages[id].status === "failed" ? this.failedActions(s, id) : null,
        );
      }),
    );
    replaceChildren(
      this.el,
      this.projectActions(s),
      h("h2", {}, "Stages"),
      list,
      // a refused plan edit is said under its editor, where the person is looking
      actionError && !this.planDraft ? h("div", { class: "error", role: "alert" }, actionError) : null,
      this.gate(s, actionError),
      this.summary(s),
      // after the project is done the ideas stay in view, each one click from being tried
      s.stages.EXPORT.status === "completed" && !s.waiting ? this.suggestions(s) : null,
    );
  }

  private projectActions(s: ProjectSnapshot): HTMLElement {
    const trained = ["completed", "stale"].includes(s.stages.TRAIN.status);
    const stale = STAGE_IDS.filter((id) => s.stages[id].status === "stale");
    return h(
      "div",
      { class: "project-actions" },
      stale.length
        ? h(
            "button",
            {
              "data-action": "rerun-stale",
              onclick: () => this.send({ type: "rerunStale" }),
              title: `Brings ${stale.map((id) => STAGE_TITLES[id]).join(", ")} up to date`,
            },
            `Re-run ${stale.length} stale stage${stale.length > 1 ? "s" : ""}`,
          )
        : null,
      s.assets.notebook ? h("button", { class: "secondary", onclick: () => this.send({ type: "openNotebook" }) }, "Open notebook") : null,
      trained ? h("button", { class: "secondary", onclick: () => this.send({ type: "exportZip" }) }, "Export zip") : null,
      h(
        "button",
        {
          class: "secondary",
          "data-action": "upload",
          onclick: () => this.send({ type: "upload" }),
          title: "Use another data file: the stages from the data on run again",
        },
        "Upload data…",
      ),
    );
  }

  private failedActions(s: ProjectSnapshot, id: StageId): HTMLElement {
    return h(
      "div",
      { class: "actions stage-actions" },
      id === "TRAIN" && canResumeSearch(s)
        ? h(
            "button",
            {
              "data-action": "resume",
              onclick: () => this.send({ type: "retry", resume: true }),
              title: "Keep the runs it finished and spend the rest of its time budget",
            },
            "Resume the search",
          )
        : null,
      h(
        "button",
        {
          class: id === "TRAIN" && canResumeSearch(s) ? "secondary" : "",
          "data-action": "retry",
          onclick: () => this.send({ type: "retry" }),
          title: "Run the stage again from its start",
        },
        "Retry",
      ),
      REQUEST_STAGES.has(id)
        ? h("button", { class: "secondary", onclick: () => ((this.promptDraft = this.prompt), this.refresh()) }, "Edit the request")
        : null,
      REQUEST_STAGES.has(id) && this.promptDraft !== null ? this.promptEditor((prompt) => this.send({ type: "reparse", prompt })) : null,
    );
  }

  private promptEditor(submit: (prompt: string) => void): HTMLElement {
    const input = h("textarea", { class: "prompt-editor", rows: "2", "aria-label": "the request" });
    input.value = this.promptDraft ?? this.prompt;
    input.addEventListener("input", () => (this.promptDraft = input.value));
    return h(
      "div",
      { class: "prompt-edit" },
      input,
      h("button", { onclick: () => input.value.trim() && submit(input.value.trim()) }, "Run with this request"),
      h("button", { class: "secondary", onclick: () => ((this.promptDraft = null), this.refresh()) }, "Cancel"),
    );
  }

  private gate(s: ProjectSnapshot, actionError: string | null): HTMLElement | null {
    const w = s.waiting;
    if (!w) return null;
    // while a plan is edited, its editor's buttons are the only ones: "Approve plan" above it would approve the unedited plan
    const editing = this.planDraft?.stage === w.stage_id;
    const plan = s.plans[w.stage_id];
    const pending = plan && !plan.approved ? plan.plan_json : null;
    const controls = w.next_actions.map((a) => this.actionControl(w.stage_id, a, pending));
    return h(
      "div",
      { class: "gate", "data-gate": w.stage_id },
      h("h3", {}, `Waiting at ${STAGE_TITLES[w.stage_id]}`),
      h("p", {}, w.summary),
      pending && this.planDraft === null ? h("pre", { class: "plan" }, JSON.stringify(pending, null, 2)) : null,
      w.stage_id === "REVIEW_EDIT" ? this.suggestions(s) : null,
      editing ? null : h("div", { class: "actions" }, ...controls),
      editing ? this.planEditor(w.stage_id, s, actionError) : null,
      this.promptDraft !== null && w.next_actions.some((a) => a.id === GATE_ACTIONS.editPrompt)
        ? this.promptEditor((prompt) => this.send({ type: "confirm", stage_id: w.stage_id, action: GATE_ACTIONS.editPrompt, prompt }))
        : null,
    );
  }

  private actionControl(stage: StageId, a: NextAction, pending: Record<string, unknown> | null): HTMLElement {
    if (a.id === GATE_ACTIONS.upload) return h("button", { "data-action": a.id, onclick: () => this.send({ type: "upload" }) }, `${a.label}…`);
    if (a.id === GATE_ACTIONS.edit) {
      return h(
        "button",
        {
          class: "secondary",
          "data-action": a.id,
          onclick: () => ((this.planDraft = { stage, text: JSON.stringify(pending ?? {}, null, 2) }), this.refresh()),
        },
        a.label,
      );
    }
    if (a.id === GATE_ACTIONS.editPrompt) {
      return h("button", { class: "secondary", "data-action": a.id, onclick: () => ((this.promptDraft = this.prompt), this.refresh()) }, a.label);
    }
    const field = a.id === GATE_ACTIONS.setTask ? "task_type" : a.id === GATE_ACTIONS.chooseDataset ? "dataset_id" : "target";
    if (a.id === GATE_ACTIONS.chooseDataset && !a.choices?.length) {
      // a dataset named by its id (hf:OWNER/NAME, kaggle:OWNER/SLUG, catalog:NAME, workspace:PATH)
      const input = h("input", { type: "text", "aria-label": a.label, "data-name": a.id, placeholder: a.description ?? "", size: "40" }) as HTMLInputElement;
      return this.valueControl(stage, a, input, field);
    }
    if (a.choices?.length) {
      // a picker: each choice with what the data says of it
      const select = h(
        "select",
        { "aria-label": a.label, "data-choices": a.id },
        ...a.choices.map((c) => h("option", { value: c.value }, c.description ? `${c.label} — ${c.description}` : c.label)),
      ) as HTMLSelectElement;
      return this.valueControl(stage, a, select, field);
    }
    return h("button", { "data-action": a.id, onclick: () => this.send({ type: "confirm", stage_id: stage, action: a.id }) }, a.label);
  }

  /** An action that sends a value (a picked choice, a typed id) as `field`, with its Apply button. */
  private valueControl(stage: StageId, a: NextAction, control: HTMLInputElement | HTMLSelectElement, field: string): HTMLElement {
    const apply = () => {
      const value = control.value.trim();
      if (value) this.send({ type: "confirm", stage_id: stage, action: a.id, [field]: value } as PanelToHost);
    };
    return h(
      "span",
      { class: "choice" },
      h("label", {}, `${a.label}: `, control),
      h("button", { class: "secondary", "data-action": a.id, onclick: apply }, "Apply"),
    );
  }

  private planEditor(stage: StageId, s: ProjectSnapshot, refused: string | null): HTMLElement {
    const task = s.intent?.task_type ?? s.task_type;
    const defaultsOf = (id: string) => {
      const defaults = s.model_candidates.find((c) => c.id === id)?.requirements["defaults"];
      return defaults && typeof defaults === "object" && !Array.isArray(defaults) ? (defaults as Record<string, unknown>) : undefined;
    };
    const textarea = h("textarea", { class: "plan-editor", spellcheck: false, rows: "14", "aria-label": "the plan, as JSON" });
    textarea.value = this.planDraft!.text;
    textarea.addEventListener("input", () => (this.planDraft = { stage, text: textarea.value }));
    const problem = h("div", { class: "error", role: "alert" }, refused ?? "");
    const approve = () => {
      try {
        const edited = JSON.parse(textarea.value) as Record<string, unknown>;
        // the contract's plan schema says what is wrong before anything is sent; the conductor checks the rest
        const wrong = checkPlanEdit(stage, edited, task, defaultsOf);
        if (wrong) {
          problem.textContent = `The plan cannot be approved as it is: ${wrong}.`;
          return;
        }
        this.send({ type: "confirm", stage_id: stage, action: GATE_ACTIONS.edit, plan_json: edited });
      } catch (err) {
        problem.textContent = `The plan is not valid JSON: ${(err as Error).message}`;
      }
    };
    return h(
      "div",
      { class: "plan-edit" },
      textarea,
      h(
        "div",
        { class: "actions" },
        h("button", { "data-action": "approve-edited", onclick: approve }, "Approve edited plan"),
        h("button", { class: "secondary", onclick: () => ((this.planDraft = null), this.refresh()) }, "Discard the edit"),
      ),
      problem,
    );
  }

  private suggestions(s: ProjectSnapshot): HTMLElement | null {
    if (!s.suggestions.length) return null;
    return h(
      "div",
      { class: "suggestions" },
      h("h4", {}, "Suggested edits"),
      h(
        "ul",
        {},
        ...s.suggestions.map((sg) =>
          h(
            "li",
            { "data-suggestion": sg.id },
            h("strong", {}, sg.title),
            ` (${STAGE_TITLES[sg.stage_id]}${sg.source === "llm" ? ", suggested by the language model" : ""}): ${sg.detail} `,
            sg.cell_edit
              ? h(
                  "button",
                  {
                    class: "link",
                    "data-apply": sg.id,
                    onclick: () => this.send({ type: "applySuggestion", id: sg.id }),
                    title: `Put this edit in the ${STAGE_TITLES[sg.stage_id]} cell, run it, and re-run the stages after it`,
                  },
                  "Apply and run",
                )
              : h(
                  "button",
                  { class: "link", onclick: () => this.send({ type: "openNotebook" }), title: `Edit the ${STAGE_TITLES[sg.stage_id]} cell and run it` },
                  "Open the notebook",
                ),
          ),
        ),
      ),
    );
  }

  /** The end of the project: what was built, how it scored on the held-out rows, and where it is. */
  private summary(s: ProjectSnapshot): HTMLElement | null {
    const ready = s.export.ready;
    if (s.stages.EXPORT.status !== "completed" || !ready) return null;
    const best = s.best ? s.runs[s.best.run_id] : undefined;
    const metrics = best?.final_metrics?.metrics.filter((m) => m.split === "test") ?? [];
    const zip = ready.asset_url.split("/").pop() ?? "export.zip";
    const bytes = ready.contents.reduce((n, c) => n + c.size, 0);
    return h(
      "div",
      { class: "summary-card", "data-summary": "export" },
      h("h3", {}, "Done: the project is exported"),
      best ? h("p", {}, "Best model: ", h("strong", {}, best.model_id), ` (run ${best.run_id}), chosen on validation.`) : null,
      metrics.length ? h("p", {}, "On the held-out test rows, looked at once: ", metrics.map((m) => `${m.name} ${formatNumber(m.value)}`).join(" · ")) : null,
      h("p", {}, `${zip}: ${ready.contents.length} files, ${formatBytes(bytes)} before compression.`),
      h(
        "div",
        { class: "actions" },
        h("button", { onclick: () => this.send({ type: "revealZip" }) }, "Reveal the zip"),
        h("button", { class: "secondary", onclick: () => this.send({ type: "openReport" }) }, "Open the report"),
        h("button", { class: "secondary", onclick: () => this.send({ type: "openNotebook" }) }, "Open the notebook"),
      ),
    );
  }
}
