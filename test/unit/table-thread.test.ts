/**
 * A loaded table's thread: the profile and the preprocessing it computes are the ones computed
 * in place; a thread that ended (idle, or ended on purpose) is started again from the file; a
 * file gone by then is a clear error; a table no thread knows is worked on in place.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import type { PreprocessStep } from "../../contract";
import { prepareData, splitForTask } from "../../kernel/data/prepared-data";
import { planPreprocessing } from "../../kernel/data/preprocess-plan";
import { endTableThread, loadTableOffThread, prepareOnThread, profileOnThread } from "../../kernel/data/table-load";
import { Table } from "../../kernel/data/table";
import { textLevelsOf } from "../../kernel/data/text-levels";
import { profileTable } from "../../kernel/data/table-profile";
import { isInputError } from "../../kernel/errors/input-error";
import { removeTempWorkspaces, tempWorkspace } from "../support/temp-workspace";

function writeCsv(file: string, rows: number): void {
  const lines = ["size,rooms,city,built,price"];
  for (let i = 0; i < rows; i++) {
    const size = 40 + ((i * 37) % 160);
    const rooms = i % 7 === 0 ? "" : String(1 + (i % 5));
    const city = ["Köln", "Lyon", "Oslo"][i % 3];
    const built = `${1950 + (i % 70)}-0${1 + (i % 9)}-15`;
    lines.push(`${size},${rooms},${city},${built},${(size * 3.1 + (i % 11) * 7).toFixed(1)}`);
  }
  fs.writeFileSync(file, lines.join("\n") + "\n");
}

describe("a loaded table's thread", function () {
  this.timeout(60_000);
  after(removeTempWorkspaces);

  it("profiles and preprocesses as the same code does in place, and starts again from the file after it ended", async () => {
    const file = path.join(tempWorkspace(), "houses.csv");
    writeCsv(file, 3000);
    const { table } = await loadTableOffThread(file, file, { keepThread: true });

    const onThread = await profileOnThread(table, "price", "regression");
    assert.deepEqual(onThread, profileTable(table, "price", "regression"));

    const data = splitForTask(table, { target: "price", task: "regression", seed: 7, testSize: 0.2, valSize: 0.2 });
    const steps = planPreprocessing(onThread, "price");
    const threaded = await prepareOnThread(steps, table, data);
    const inPlace = prepareData(steps, table, data);
    assert.deepEqual(threaded.featureNames, inPlace.featureNames);
    assert.ok(threaded.featureNames.length >= 4, threaded.featureNames.join(", "));
    for (const set of ["train", "val"] as const) {
      assert.deepEqual(threaded.fit[set].x, inPlace.fit[set].x);
      assert.deepEqual(threaded.fit[set].y, inPlace.fit[set].y);
    }
    assert.deepEqual(threaded.test.x, inPlace.test.x);
    assert.deepEqual(threaded.prep, inPlace.prep);

    await endTableThread(table);
    assert.deepEqual(await profileOnThread(table, "price", "regression"), onThread, "a new thread read the file again");

    await endTableThread(table);
    fs.rmSync(file);
    await assert.rejects(profileOnThread(table, "price", "regression"), (err: Error) => isInputError(err) && err.message.includes("houses.csv"));
  });

  it("says what is wrong with a plan in the thread as in place (a step on a column that is not there)", async () => {
    const file = path.join(tempWorkspace(), "houses.csv");
    writeCsv(file, 200);
    const { table } = await loadTableOffThread(file, file, { keepThread: true });
    const data = splitForTask(table, { target: "price", task: "regression", seed: 1, testSize: 0.2, valSize: 0.2 });
    const bad: PreprocessStep[] = [{ id: "x", op: "drop_column", columns: ["no such column"], params: {}, why: "a test" }];
    let inPlace = "";
    try {
      prepareData(bad, table, data);
    } catch (err) {
      inPlace = (err as Error).message;
    }
    assert.ok(inPlace, "the plan is refused in place");
    await assert.rejects(prepareOnThread(bad, table, data), (err: Error) => err.message === inPlace);
    await endTableThread(table);
  });

  it("works on a table no thread knows where it is", async () => {
    const table = new Table([
      { name: "x", kind: "numeric", values: Float64Array.from([1, 2, 3, 4, 5, 6]) },
      { name: "y", kind: "categorical", codes: Int32Array.from([0, 1, 0, 1, 0, 1]), levels: textLevelsOf(["a", "b"]) },
    ]);
    assert.deepEqual(await profileOnThread(table, "y", "classification"), profileTable(table, "y", "classification"));
  });
});
