/**
 * Property-based fuzzing (fast-check) of what reads outside input without a server: the table
 * reader, the contract's event validation, the request-body cleaner, the data file namer and
 * the intent rules. Each property holds for every generated input: a reader returns a table or
 * refuses with an InputError (never another error, never a hang), validation answers rather
 * than throws, and what is written is well-formed. FUZZ_RUNS sets the number of cases
 * (npm test: 200 each; `npm run fuzz`: many more).
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { DATA_FILE_EXTENSIONS, EVENT_NAMES, validateEnvelope, validatePayload } from "../../contract";
import { parseIntentByRules } from "../../kernel/agents/intent-rules";
import { safeDataFileName } from "../../kernel/conductor/project-meta";
import { columnLength } from "../../kernel/data/table";
import { loadTableFile } from "../../kernel/data/table-loader";
import { isInputError } from "../../kernel/errors/input-error";
import { HttpError, MAX_BODY_DEPTH, wellFormed } from "../../kernel/server/http-exchange";

const RUNS = Number(process.env["FUZZ_RUNS"] ?? 200);
const options = { numRuns: RUNS };

/** Text that looks like a table more often than chance: delimiters, quotes, missing-value tokens. */
const tableText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 400 }),
  fc
    .array(
      fc.array(fc.oneof(fc.constantFrom("", "NA", "nan", "1", "-2.5e3", "inf", '"a,b"', '"', "2024-01-02", "x"), fc.string({ maxLength: 6 })), {
        minLength: 1,
        maxLength: 6,
      }),
      { maxLength: 30 },
    )
    .map((rows) => rows.map((r) => r.join(",")).join("\n")),
  fc.json().map((j) => j),
);

describe("fuzzing the readers", function () {
  this.timeout(120_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "automl-fuzz-"));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("reads any CSV, TSV or JSON text as a table, or refuses it with an InputError", async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(tableText, fc.constantFrom(".csv", ".tsv", ".json"), async (text, ext) => {
        const file = path.join(dir, `t${n++}${ext}`);
        fs.writeFileSync(file, text);
        try {
          const { table } = await loadTableFile(file);
          assert.ok(table.nCols >= 1 && table.nRows >= 1);
          for (const c of table.columns) assert.equal(columnLength(c), table.nRows);
        } catch (err) {
          assert.ok(isInputError(err), `not an InputError: ${(err as Error).stack}`);
          assert.ok((err as Error).message.length > 10);
        } finally {
          fs.rmSync(file, { force: true });
        }
      }),
      options,
    );
  });

  it("validates any payload and envelope without throwing", () => {
    fc.assert(
      fc.property(fc.constantFrom(...EVENT_NAMES), fc.jsonValue(), (name, payload) => {
        const checked = validatePayload(name, payload);
        assert.equal(typeof checked.ok, "boolean");
        const envelope = validateEnvelope({ v: 1, type: "EVENT", project_id: "p", seq: 1, ts: 1, stage: {}, event: { name, payload } });
        assert.equal(typeof envelope.ok, "boolean");
      }),
      options,
    );
    fc.assert(
      fc.property(fc.anything(), (value) => assert.equal(typeof validateEnvelope(value).ok, "boolean")),
      options,
    );
  });

  it("makes every string of a request body well-formed, so it survives UTF-8 and JSON unchanged", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), fc.string({ unit: "binary" }), (value, text) => {
        for (const v of [value, text, { [text]: [text, value] }]) {
          const cleaned = JSON.stringify(wellFormed(v));
          const roundTrip = Buffer.from(cleaned, "utf8").toString("utf8");
          assert.equal(roundTrip, cleaned, "no code unit lost in UTF-8");
          assert.deepEqual(JSON.parse(roundTrip), JSON.parse(cleaned));
        }
      }),
      options,
    );
  });

  it("refuses a body nested deeper than the API ever nests with a 400, not a stack overflow", () => {
    const deep = JSON.parse("[".repeat(5000) + "]".repeat(5000)) as unknown;
    assert.throws(
      () => wellFormed({ prompt: "x", target: deep }),
      (err: HttpError) => err instanceof HttpError && err.status === 400 && err.message.includes(`${MAX_BODY_DEPTH} levels`),
    );
    const shallow = JSON.parse("[".repeat(MAX_BODY_DEPTH) + "]".repeat(MAX_BODY_DEPTH)) as unknown;
    assert.deepEqual(wellFormed(shallow), shallow);
  });

  it("names any uploaded file safely: one plain name of at most 100 characters, with a data extension", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 400 }), (name) => {
        const safe = safeDataFileName(name);
        assert.ok(safe.length <= 100, safe);
        assert.ok(/^[\w][\w.-]*$/.test(safe) && DATA_FILE_EXTENSIONS.some((ext) => safe.toLowerCase().endsWith(`.${ext}`)), safe);
        assert.equal(path.basename(safe), safe);
      }),
      options,
    );
  });

  it("reads any prompt in linear time, or refuses it with an InputError", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 2000 }), (prompt) => {
        const t0 = performance.now();
        try {
          parseIntentByRules(prompt, "y");
        } catch (err) {
          assert.ok(isInputError(err), `not an InputError: ${(err as Error).stack}`);
        }
        assert.ok(performance.now() - t0 < 200, `${JSON.stringify(prompt.slice(0, 40))}… took too long`);
      }),
      options,
    );
  });
});
