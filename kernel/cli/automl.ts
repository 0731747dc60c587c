/** Entry point of the `automl` binary (bundled to dist/kernel/automl.js). */
import { main } from "./main";

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`automl: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
