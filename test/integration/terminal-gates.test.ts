/**
 * `automl run` at its gates in a real terminal (a pty made by util-linux `script`), answered as
 * a person types: an answer that is not one of the choices is asked again, the target is picked
 * from the numbered column list, the preprocessing plan is edited in $EDITOR, and the project
 * reaches its export with those answers in its log.
 */
import { strict as assert } from "node:assert";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { EV, type AnyEventEnvelope } from "../../contract";
import { startCli } from "../support/cli-process";
import { BOSTON_CSV, removeTempWorkspaces, tempWorkspace, writeFile } from "../support/temp-workspace";

const BIN = path.join(__dirname, "..", "..", "bin", "automl.js");

/** A program in a pseudo-terminal, read as a person reads it and answered line by line. */
class TerminalSession {
  private output = "";
  private cursor = 0;
  readonly exited: Promise<number | null>;

  constructor(private readonly child: ChildProcess) {
    child.stdout!.on("data", (d: Buffer) => (this.output += String(d)));
    this.exited = new Promise((resolve) => child.once("close", resolve));
  }

  /** Waits for `pattern` in what was printed since the last answer; returns that text. */
  async expect(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const fresh = this.output.slice(this.cursor);
      const m = pattern.exec(fresh);
      if (m) {
        this.cursor += m.index + m[0].length;
        return fresh.slice(0, m.index + m[0].length);
      }
      if (Date.now() > end || this.child.exitCode !== null) throw new Error(`no ${pattern} in the terminal; it shows:\n${fresh.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  type(line: string): void {
    this.child.stdin!.write(`${line}\r`);
  }

  get transcript(): string {
    return this.output;
  }
}

describe("automl run at its gates, in a terminal", function () {
  this.timeout(180_000);
  after(removeTempWorkspaces);

  it("asks again on an answer that is not a choice, takes a target from the column list and a plan edited in $EDITOR, and exports", async () => {
    const ws = tempWorkspace("tty");
    const data = path.join(ws, "housing.csv");
    fs.copyFileSync(BOSTON_CSV, data);
    // the person's editor: drops column b from the plan it is given
    const editor = writeFile(
      ws,
      "edit-plan.js",
      `const fs = require("fs"); const f = process.argv[2];
       const plan = JSON.parse(fs.readFileSync(f, "utf8").split("\\n").filter((l) => !l.startsWith("//")).join("\\n"));
       plan.steps.unshift({ id: "drop-b", op: "drop_column", columns: ["b"], params: {}, why: "typed in the editor" });
       fs.writeFileSync(f, JSON.stringify(plan, null, 2));`,
    );
    const command = [process.execPath, BIN, "run", `predict house "price" from housing.csv`, "--data", data, "--workspace", ws, "--no-pacing"]
      .map((a) => `'${a.replace(/'/g, "'\\''")}'`)
      .join(" ");
    const child = spawn("script", ["-qfec", command, "/dev/null"], {
      cwd: ws,
      env: { ...process.env, EDITOR: `'${process.execPath}' '${editor}'`, NO_COLOR: "1" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const term = new TerminalSession(child);
    try {
      // 1. the request: "maybe" is not a choice and is asked again, never taken as yes
      await term.expect(/Choose 1(?:-\d+)? or q \[1\]: /);
      term.type("maybe");
      await term.expect(/"maybe" is not one of the choices\.\s+Choose 1(?:-\d+)? or q \[1\]: /);
      term.type("1");
      // 2. the data has no column "price": the target is picked from the numbered list
      const menu = await term.expect(/Choose 1(?:-\d+)? or q \[1\]: /);
      const pickTarget = /(\d+)\) [^\n]*target/i.exec(menu);
      assert.ok(pickTarget, `the data gate offers a target column:\n${menu}`);
      term.type(pickTarget[1]!);
      const list = await term.expect(/The target column \(a number or a name; empty to go back\): /);
      const medv = /(\d+)\) medv\b/.exec(list);
      assert.ok(medv, `medv is listed:\n${list}`);
      term.type(medv[1]!);
      // 3. every later gate: the default ("y" once, to show it means the first choice), but the
      // preprocessing plan, which is edited in $EDITOR
      let edited = false;
      for (let gate = 0; !edited || child.exitCode === null; gate++) {
        const menu = await term
          .expect(/Choose 1(?:-\d+)? or q \[1\]: |Export ready|Exported/, 120_000)
          .catch((err: Error) => (child.exitCode !== null ? "" : Promise.reject(err)));
        if (!/Choose 1/.test(menu)) break;
        const edit = /\nSplit and preprocess: [\s\S]*?(\d+)\) [^\n]*[Ee]dit/.exec(menu);
        if (edit && !edited) {
          term.type(edit[1]!);
          edited = true;
        } else term.type(gate === 0 ? "y" : "");
        assert.ok(gate < 10, "the project keeps asking");
      }
      assert.ok(edited, `the plan gate offered an edit:\n${term.transcript.slice(-3000)}`);
      const code = await term.exited;
      assert.equal(code, 0, term.transcript.slice(-3000));
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    const projects = path.join(ws, ".automl", "projects");
    const [id] = fs.readdirSync(projects);
    const events = fs
      .readFileSync(path.join(projects, id!, "events.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as AnyEventEnvelope);
    const parsed = events.filter((e) => e.event.name === EV.PROMPT_PARSED).at(-1)!.event.payload as { target: string };
    assert.equal(parsed.target, "medv");
    const approved = events.find((e) => e.event.name === EV.PLAN_APPROVED && e.event.payload.stage_id === "PREPROCESS")!.event.payload as {
      plan_json?: { steps: Array<{ op: string; columns: string[] }> };
    };
    assert.deepEqual(approved.plan_json?.steps[0], { id: "drop-b", op: "drop_column", columns: ["b"], params: {}, why: "typed in the editor" });
    assert.ok(
      events.some((e) => e.event.name === EV.EXPORT_READY),
      "the project was exported",
    );
  });

  it("continues a project stopped at a gate with --project ID --auto, taking each gate's first choice", async () => {
    const ws = tempWorkspace("continue");
    // no terminal: the run stops at its first gate and says how to continue
    const first = await startCli(["run", "predict house prices", "--workspace", ws, "--no-pacing"]).done;
    assert.equal(first.code, 3, first.stderr);
    const id = /--project (\S+)/.exec(first.stderr)?.[1];
    assert.ok(id, first.stderr);
    const next = await startCli(["run", "--project", id, "--auto", "--workspace", ws]).done;
    assert.equal(next.code, 0, next.stderr + next.stdout);
    assert.match(next.stdout, /Understand the request: .* → Continue to find and load the data \(--auto\)/);
    const events = fs.readFileSync(path.join(ws, ".automl", "projects", id, "events.jsonl"), "utf8");
    assert.ok(events.includes(`"${EV.EXPORT_READY}"`), "exported");
  });
});
