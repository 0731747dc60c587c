/** The webview's side of the panel protocol: posting to the extension and fetching assets through it. */
import type { PanelToHost } from "../../contract";

interface VsCodeApi {
  postMessage(message: PanelToHost): void;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const api = acquireVsCodeApi();
const waiting = new Map<string, Array<{ resolve: (v: unknown) => void; reject: (e: Error) => void }>>();
const cache = new Map<string, unknown>();

export function post(message: PanelToHost): void {
  api.postMessage(message);
}

/** What VS Code keeps for this panel across a window reload. */
export function saveState(state: { projectId: string }): void {
  api.setState(state);
}

/** An asset's JSON (a .bin asset comes as an array of float32 values). */
export function fetchAsset(url: string): Promise<unknown> {
  if (cache.has(url)) return Promise.resolve(cache.get(url));
  return new Promise((resolve, reject) => {
    const list = waiting.get(url);
    if (list) list.push({ resolve, reject });
    else {
      waiting.set(url, [{ resolve, reject }]);
      post({ type: "fetchAsset", url });
    }
  });
}

export function assetArrived(url: string, json: unknown): void {
  cache.set(url, json);
  for (const w of waiting.get(url) ?? []) w.resolve(json);
  waiting.delete(url);
}

export function assetFailed(url: string, error: string): void {
  for (const w of waiting.get(url) ?? []) w.reject(new Error(error));
  waiting.delete(url);
}
