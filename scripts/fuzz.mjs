// The fuzz tests with many more cases than npm test runs: node scripts/fuzz.mjs [cases=20000]
// (test/unit/fuzz-readers.test.ts and test/integration/fuzz-rest.test.ts read FUZZ_RUNS).
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const runs = process.argv[2] ?? "20000";
const mocha = require.resolve("mocha/bin/mocha.js");
const result = spawnSync(
  process.execPath,
  [mocha, "--no-config", "-r", "tsx/cjs", "--timeout", "0", "test/unit/fuzz-readers.test.ts", "test/integration/fuzz-rest.test.ts"],
  { stdio: "inherit", env: { ...process.env, FUZZ_RUNS: runs } },
);
process.exit(result.status ?? 1);
