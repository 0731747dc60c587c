/** The dashboard webview: keeps a store of the project's events and redraws the active view. */
import type { HostToPanel } from "../../contract";
import { DashboardStore } from "./dashboard-store";
import { DataView } from "./data-view";
import { ForecastView } from "./forecast-view";
import { h, replaceChildren } from "./dom-builder";
import { GradientView } from "./gradient-view";
import { assetArrived, assetFailed, post, saveState } from "./panel-host";
import { TimelineView } from "./timeline-view";
import { TrainingView } from "./training-view";

const app = document.getElementById("app")!;
let store = new DashboardStore(app.dataset["project"] ?? "");
let actionError: string | null = null;
let seenConnected = false;
let lostConnection = false;
const banner = h("div", { class: "banner", role: "status" });
const title = h("h1", {}, "AutoML");
const timeline = new TimelineView(() => schedule(true));
const data = new DataView();
const training = new TrainingView(() => schedule(true));
const gradient = new GradientView(() => schedule(true));
const forecast = new ForecastView();
const views = { Timeline: timeline, Data: data, Training: training, Forecast: forecast, "Gradient descent": gradient } as const;
type ViewName = keyof typeof views;
let active: ViewName = "Timeline";
/** the views this project has: Forecast for a forecast, the gradient descent view for the rest (no forecaster descends a loss) */
function shownViews(): ViewName[] {
  const forecasting = store.snapshot.task_type === "time_series_forecasting";
  return (Object.keys(views) as ViewName[]).filter((name) => (name === "Forecast" ? forecasting : name === "Gradient descent" ? !forecasting : true));
}
let tabsShown = "";
const tabs = h("nav", { class: "tabs", role: "tablist" });
const body = h("main", {});

function showTabs(): void {
  const names = shownViews();
  tabsShown = names.join("|");
  if (!names.includes(active)) active = "Timeline";
  replaceChildren(
    tabs,
    ...names.map((name) =>
      h(
        "button",
        {
          role: "tab",
          class: name === active ? "active" : "",
          "aria-selected": String(name === active),
          "data-tab": name,
          onclick: () => ((active = name), showTabs(), schedule(true)),
        },
        name,
      ),
    ),
  );
  replaceChildren(body, views[active].el);
}

let drawnVersion = -1;
let frame = 0;
let lastDraw = 0;
/** Redraw at most ~8 times a second: a burst of 10,000 events costs a few redraws, not 10,000. */
function schedule(force = false): void {
  if (force) drawnVersion = -1;
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    const wait = 120 - (performance.now() - lastDraw);
    if (wait > 0) return void setTimeout(() => schedule(), wait);
    if (store.version === drawnVersion) return;
    drawnVersion = store.version;
    lastDraw = performance.now();
    if (shownViews().join("|") !== tabsShown) showTabs();
    timeline.render(store.snapshot, actionError);
    if (active === "Data") data.render(store);
    if (active === "Training") training.render(store);
    if (active === "Gradient descent") gradient.render(store);
    if (active === "Forecast") forecast.render(store.snapshot);
    document.body.dataset["lastSeq"] = String(store.snapshot.last_seq);
    document.body.dataset["stageExport"] = store.snapshot.stages.EXPORT.status;
  });
}

window.addEventListener("message", (e: MessageEvent<HostToPanel>) => {
  const m = e.data;
  switch (m.type) {
    case "init":
      store = m.projectId === store.snapshot.project_id ? store : new DashboardStore(m.projectId);
      title.textContent = m.name;
      timeline.prompt = m.prompt;
      // VS Code restores the panel after a reload from this state (the extension's serializer)
      saveState({ projectId: m.projectId });
      break;
    case "events":
      try {
        for (const ev of m.events) store.apply(ev);
      } catch (err) {
        console.error(err);
        post({ type: "ready" }); // ask for the history again; what we hold is skipped
      }
      break;
    case "connection":
      // "Reconnected" only after a drop this panel saw; the first connection needs no banner
      banner.textContent =
        m.state === "connected"
          ? lostConnection
            ? "Reconnected: the events missed meanwhile were replayed."
            : ""
          : m.state === "stopped"
            ? "The conductor is stopped: nothing runs now. AutoML: Restart Conductor brings this project back from its log; a stage the stop cut short can then be resumed or retried."
            : "Connection to the conductor lost; reconnecting (nothing will be missed)…";
      banner.className = m.state === "connected" ? "banner" : "banner warn";
      document.body.dataset["connection"] = m.state;
      timeline.stopped = training.stopped = m.state === "stopped";
      schedule(true);
      // "reconnected" is news for a moment, not a state
      if (m.state === "connected" && lostConnection)
        setTimeout(
          () => banner.textContent === "Reconnected: the events missed meanwhile were replayed." && ((banner.textContent = ""), (banner.className = "banner")),
          8000,
        );
      if (m.state === "reconnecting" && seenConnected) lostConnection = true;
      if (m.state === "connected") seenConnected = true;
      break;
    case "asset":
      assetArrived(m.url, m.json);
      break;
    case "assetError":
      assetFailed(m.url, m.error);
      break;
    case "actionResult":
      actionError = m.ok ? null : (m.error ?? "failed");
      timeline.actionSettled(m.ok);
      schedule(true);
      break;
  }
  schedule();
});

app.append(title, banner, tabs, body);
showTabs();
post({ type: "ready" });
