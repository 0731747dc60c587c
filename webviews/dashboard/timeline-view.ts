/** The eight stages with their status, and the gate the project waits at, with its actions. */
import { GATE_ACTIONS, STAGE_IDS, STAGE_TITLES, type ProjectSnapshot } from "../../contract";
import { h, replaceChildren } from "./dom-builder";
import { post } from "./panel-host";

export class TimelineView {
  readonly el = h("section", { class: "view timeline" });
  private editing = false;
  private rendered = "";

  render(s: ProjectSnapshot, actionError: string | null): void {
    const key = JSON.stringify([s.stages, s.waiting, s.plans, this.editing, actionError]);
    if (key === this.rendered) return; // keep a textarea being edited intact
    this.rendered = key;
    const list = h(
      "ol",
      { class: "stages" },
      ...STAGE_IDS.map((id) =>
        h(
          "li",
          { class: `stage status-${s.stages[id].status}`, "data-stage": id },
          h("span", { class: "dot" }),
          h("span", { class: "stage-name" }, STAGE_TITLES[id]),
          h("span", { class: "stage-status" }, s.stages[id].status),
          s.stages[id].message && s.stages[id].message !== STAGE_TITLES[id] ? h("div", { class: "stage-message" }, s.stages[id].message) : null,
        ),
      ),
    );
    replaceChildren(this.el, h("h2", {}, "Stages"), list, this.gate(s, actionError));
  }

  private gate(s: ProjectSnapshot, actionError: string | null): HTMLElement | null {
    const w = s.waiting;
    if (!w) return null;
    const plan = s.plans[w.stage_id];
    const pending = plan && !plan.approved ? plan.plan_json : null;
    const textarea = h("textarea", { class: "plan-editor", spellcheck: false, rows: "14" });
    textarea.value = pending ? JSON.stringify(pending, null, 2) : "";
    const error = h("div", { class: "error" }, actionError ?? "");
    const buttons = w.next_actions.map((a) => {
      if (a.id === GATE_ACTIONS.upload) return h("p", { class: "hint" }, `${a.label}: run "AutoML: New Project" with a data file, or upload it through the API.`);
      if (a.id === GATE_ACTIONS.edit) {
        return h("button", { class: "secondary", onclick: () => ((this.editing = !this.editing), (this.rendered = ""), this.render(s, null)) }, this.editing ? "Cancel editing" : a.label);
      }
      return h("button", { "data-action": a.id, onclick: () => post({ type: "confirm", stage_id: w.stage_id, action: a.id }) }, a.label);
    });
    const approveEdited = h(
      "button",
      {
        onclick: () => {
          try {
            const edited = JSON.parse(textarea.value) as Record<string, unknown>;
            post({ type: "confirm", stage_id: w.stage_id, action: GATE_ACTIONS.edit, plan_json: edited });
            this.editing = false;
          } catch (err) {
            error.textContent = `The plan is not valid JSON: ${(err as Error).message}`;
          }
        },
      },
      "Approve edited plan",
    );
    return h(
      "div",
      { class: "gate" },
      h("h3", {}, `Waiting at ${STAGE_TITLES[w.stage_id]}`),
      h("p", {}, w.summary),
      pending && !this.editing ? h("pre", { class: "plan" }, JSON.stringify(pending, null, 2)) : null,
      this.editing ? textarea : null,
      h("div", { class: "actions" }, ...buttons, this.editing ? approveEdited : null),
      error,
    );
  }
}
