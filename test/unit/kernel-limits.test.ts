/** The kernel limits a conductor reads from its environment: defaults, whole numbers within bounds, and every bad value named with its VS Code setting. */
import { strict as assert } from "node:assert";
import { DEFAULT_KERNEL_LIMITS, kernelLimitsFrom } from "../../kernel/notebook-kernel/kernel-session";

describe("kernel limits from the environment", () => {
  it("takes whole numbers within bounds, and the defaults for what is not set", () => {
    assert.deepEqual(kernelLimitsFrom({}), DEFAULT_KERNEL_LIMITS);
    assert.deepEqual(kernelLimitsFrom({ AUTOML_KERNEL_IDLE_MINUTES: " 2 ", AUTOML_KERNEL_MAX_ALIVE: "64", AUTOML_KERNEL_MEMORY_MB: "512" }), {
      idleMs: 120_000,
      maxAlive: 64,
      memoryMb: 512,
    });
  });

  it("names every bad value at once, with the setting it comes from in VS Code", () => {
    assert.throws(
      () => kernelLimitsFrom({ AUTOML_KERNEL_IDLE_MINUTES: "1.5", AUTOML_KERNEL_MAX_ALIVE: "100", AUTOML_KERNEL_MEMORY_MB: "4096MB" }),
      (err: Error) =>
        /AUTOML_KERNEL_IDLE_MINUTES \(in VS Code, the setting automl\.kernel\.idleMinutes\) must be a whole number from 1 to 10080, not "1\.5"/.test(
          err.message,
        ) &&
        /AUTOML_KERNEL_MAX_ALIVE \(in VS Code, the setting automl\.kernel\.maxAlive\) must be a whole number from 1 to 64, not "100"/.test(err.message) &&
        /automl\.kernel\.memoryMb\) must be a whole number from 512 to \d+, not "4096MB"/.test(err.message),
    );
  });
});
