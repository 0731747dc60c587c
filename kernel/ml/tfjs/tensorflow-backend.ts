/**
 * Which TensorFlow.js the gradient-descent networks run on: `@tensorflow/tfjs-node` (native
 * libtensorflow) when it is really installed, else `@tensorflow/tfjs` on its WebAssembly
 * backend, whose .wasm files ship inside the npm package. tfjs-node cannot install here (its
 * install script downloads libtensorflow) and the package's overrides map the name to plain
 * tfjs for danfojs, so "really installed" means it has the native `tf.node` namespace.
 * Measured on this machine (ENVIRONMENT.md): an MLP 64-64-1, 10 epochs on 16,000 rows took
 * 10.3 s on tfjs's pure-JS `cpu` backend and 2.6 s on `wasm`.
 */
import path from "node:path";

export type Tensorflow = typeof import("@tensorflow/tfjs");

let loading: Promise<{ tf: Tensorflow; backend: string }> | null = null;

export function tensorflow(): Promise<{ tf: Tensorflow; backend: string }> {
  loading ??= load();
  return loading;
}

async function load(): Promise<{ tf: Tensorflow; backend: string }> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const native = require("@tensorflow/tfjs-node") as Tensorflow & { node?: unknown };
    if (native.node) {
      await native.ready();
      return { tf: native, backend: native.getBackend() };
    }
  } catch {
    // not installed: the wasm backend below
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const tf = require("@tensorflow/tfjs") as Tensorflow;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const wasm = require("@tensorflow/tfjs-backend-wasm") as typeof import("@tensorflow/tfjs-backend-wasm");
  wasm.setWasmPaths(path.join(path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist") + path.sep);
  if (!(await tf.setBackend("wasm")))
    throw new Error("TensorFlow.js could not start its WebAssembly backend; reinstall @tensorflow/tfjs-backend-wasm (npm ci)");
  await tf.ready();
  return { tf, backend: tf.getBackend() };
}
