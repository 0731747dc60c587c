// The notebook kernel through the conductor's real API, side by side with a Jupyter Python
// kernel (ipykernel) on the same machine. Medians over several repetitions.
// Usage: node bench/notebook-kernel.mjs [reps=5]   (after npm run build; needs python3-ipykernel
// and python3-jupyter-client from Debian for the reference column)
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const WebSocket = require("ws");
const here = path.dirname(fileURLToPath(import.meta.url));
const reps = Number(process.argv[2] ?? 5);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const ws = mkdtempSync(path.join(tmpdir(), "automl-bench-kernel-"));
const server = spawn(process.execPath, [path.join(here, "..", "bin", "automl.js"), "serve", "--workspace", ws], { stdio: ["ignore", "pipe", "inherit"] });
const ready = JSON.parse(await new Promise((r) => createInterface({ input: server.stdout }).once("line", r)));
const base = `http://127.0.0.1:${ready.port}`;
const headers = { authorization: `Bearer ${ready.token}`, "content-type": "application/json" };
const call = async (method, p, body) => {
  const res = await fetch(base + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
  return text;
};
const execute = async (id, code) => {
  const lines = (await call("POST", `/api/projects/${id}/kernel/execute`, { code }))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  const done = lines.at(-1);
  if (done.status !== "ok") throw new Error(`cell failed: ${code}\n${JSON.stringify(lines)}`);
  return done;
};
const time = async (f) => {
  const t = performance.now();
  await f();
  return performance.now() - t;
};

try {
  const { project_id: id } = JSON.parse(await call("POST", "/api/projects", { prompt: "predict house prices", auto: true, pacing: false }));
  for (;;) {
    const s = JSON.parse(await call("GET", `/api/projects/${id}/state`));
    if (s.snapshot.stages.EXPORT.status === "completed") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const starts = [],
    ones = [],
    consts = [],
    withEvents = [],
    without = [],
    delivered = [];
  for (let rep = 0; rep < reps; rep++) {
    starts.push(await time(async () => (await call("POST", `/api/projects/${id}/kernel/restart`, {}), await execute(id, "1"))));
    ones.push(
      await time(async () => {
        for (let i = 0; i < 75; i++) await execute(id, "1");
      }),
    );
    consts.push(
      await time(async () => {
        for (let i = 0; i < 75; i++) await execute(id, `const c${rep}_${i} = ${i};`);
      }),
    );
    await execute(
      id,
      `import * as automl from "automl-builder/runtime";\nconst rt${rep} = await automl.connect(${JSON.stringify(id)});\nconst noop${rep} = (_m: unknown) => undefined;`,
    );
    without.push(
      await time(() => execute(id, `for (let i = 1; i <= 10000; i++) noop${rep}({ run_id: "bench", name: "loss", split: "train", step: i, value: 1 / i });`)),
    );
    const state = JSON.parse(await call("GET", `/api/projects/${id}/state`));
    const socket = new WebSocket(`ws://127.0.0.1:${ready.port}/ws/projects/${id}?since=${state.snapshot.last_seq}&token=${encodeURIComponent(ready.token)}`);
    await new Promise((r) => socket.once("message", r)); // HELLO
    let received = 0;
    const allThere = new Promise((r) => socket.on("message", () => ++received === 10000 && r()));
    const t0 = performance.now();
    withEvents.push(
      await time(() =>
        execute(id, `for (let i = 1; i <= 10000; i++) rt${rep}.logMetric({ run_id: "bench", name: "loss", split: "train", step: i, value: 1 / i });`),
      ),
    );
    await allThere;
    delivered.push(performance.now() - t0);
    socket.close();
  }
  const ours = {
    start_to_first_result_ms: median(starts),
    cells_of_1_x75_ms: median(ones),
    const_cells_x75_ms: median(consts),
    cell_10k_metric_events_ms: median(withEvents),
    same_loop_without_events_ms: median(without),
    event_path_overhead_ms: median(withEvents) - median(without),
    cell_start_to_10k_events_on_websocket_ms: median(delivered),
  };
  let reference = null;
  try {
    reference = JSON.parse(execFileSync("/usr/bin/python3", [path.join(here, "python-kernel-reference.py"), String(reps)], { encoding: "utf8" }));
  } catch (err) {
    console.error(`(no Python reference: ${err.message.split("\n")[0]})`);
  }
  console.log(`medians over ${reps} repetitions (ms); the project kernel is driven over HTTP, the Python kernel in-process by jupyter_client`);
  console.log("measure".padEnd(42), "tslab kernel".padStart(13), "ipykernel".padStart(11), "ratio".padStart(7));
  for (const [k, v] of Object.entries(ours)) {
    const r = reference?.[k];
    console.log(
      k.padEnd(42),
      v.toFixed(1).padStart(13),
      (r === undefined ? "" : r.toFixed(1)).padStart(11),
      (r === undefined ? "" : (v / r).toFixed(2)).padStart(7),
    );
  }
} finally {
  server.kill("SIGTERM");
  rmSync(ws, { recursive: true, force: true });
}
