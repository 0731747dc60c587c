/**
 * The Hugging Face Hub source against a Hub on 127.0.0.1 (test/support/test-hub-server.ts)
 * that answers @huggingface/hub's real routes: search, card, file tree, downloads with
 * redirects and ranges, and the failures (429, 401/403 gated, 404, a dropped connection, a
 * Hub that is not there). Real datasets from vega-datasets stand in for the Hub's files.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { hfHubSource } from "../../kernel/agents/hf-hub-source";
import { rankCandidates } from "../../kernel/agents/dataset-ranking";
import { loadTableBlocking } from "../../kernel/data/table-load";
import { FASHION, imageParquet, twoClassRows } from "../support/image-parquet";
import { startTestHub, type HubDataset, type TestHub } from "../support/test-hub-server";

const vega = (f: string) => path.join(path.dirname(require.resolve("vega-datasets")), "..", "data", f);
const flightsCard = {
  pretty_name: "US flight delays",
  license: "cc-by-4.0",
  dataset_info: {
    download_size: 123_456,
    features: [
      { name: "date", dtype: "string" },
      { name: "delay", dtype: "int64" },
      { name: "distance", dtype: "int64" },
      { name: "origin", dtype: "string" },
    ],
  },
};

function hubDatasets(): HubDataset[] {
  const flights = fs.readFileSync(vega("flights-5k.json"));
  return [
    {
      id: "copyleft-air/flight-delays",
      downloads: 90_000,
      tags: ["license:gpl-3.0", "task_categories:tabular-regression", "format:json"],
      cardData: { ...flightsCard, license: "gpl-3.0" },
      files: [{ path: "flights.json", bytes: flights }],
    },
    {
      id: "open-aviation/flight-delays",
      downloads: 1_200,
      tags: ["license:cc-by-4.0", "task_categories:tabular-regression", "modality:tabular"],
      cardData: flightsCard,
      files: [
        { path: "README.md", bytes: Buffer.from("# US flight delays\n") },
        { path: "data/flights-test.json", bytes: Buffer.from("[]") },
        { path: "data/flights-train.json", bytes: flights },
      ],
      parquet: [{ path: "default/train/0000.parquet", diskFile: vega("flights-3m.parquet") }],
    },
    {
      id: "open-aviation/flight-delays-arrow",
      downloads: 10,
      tags: ["license:mit"],
      files: [
        ...["a", "b", "c", "d"].map((x) => ({ path: `docs/${x}.md`, bytes: Buffer.from(x) })),
        { path: "flights-200k.arrow", diskFile: vega("flights-200k.arrow") },
      ],
    },
    {
      id: "gated-org/flight-delays-private",
      downloads: 5,
      gated: "manual",
      allowedTokens: ["hf_granted"],
      tags: ["license:cc0-1.0"],
      files: [{ path: "train.json", bytes: flights }],
    },
    {
      id: "anon/flight-delays-unlicensed",
      downloads: 40_000,
      tags: ["task_categories:tabular-regression"],
      cardData: { pretty_name: "Flight delays" },
      files: [{ path: "train.json", bytes: flights }],
    },
    {
      id: "empty-org/flight-delays-notes",
      downloads: 3,
      tags: ["license:mit"],
      files: [
        { path: "README.md", bytes: Buffer.from("soon") },
        { path: "load.py", bytes: Buffer.from("") },
      ],
    },
    {
      id: "pets/cats-vs-dogs-flight",
      downloads: 2,
      tags: ["license:cc-by-4.0", "task_categories:image-classification", "modality:image"],
      cardData: {
        dataset_info: {
          features: [
            { name: "image", dtype: "image" },
            { name: "label", dtype: "int64" },
          ],
        },
      },
      files: Array.from({ length: 6 }, (_, i) => ({ path: `train/cat/${i}.jpg`, bytes: Buffer.from([0xff, 0xd8, i]) })),
    },
    ...imageDatasets(),
  ];
}

const WEBP = Buffer.concat([Buffer.from("RIFF"), Buffer.alloc(4), Buffer.from("WEBPVP8 "), Buffer.alloc(20)]);

/** Image datasets in the Hub's Parquet conversion: real Fashion-MNIST images, bytes and a ClassLabel, as the datasets library writes them. */
function imageDatasets(): HubDataset[] {
  const imageCard = (names: Record<string, string>) => ({
    pretty_name: "Footwear",
    license: "mit",
    dataset_info: {
      features: [
        { name: "image", dtype: "image" },
        { name: "label", dtype: { class_label: { names } } },
      ],
    },
  });
  const bad = [
    { bytes: WEBP, path: "photo.webp", label: 0 },
    { bytes: null, path: "/home/someone/pictures/x.jpg", label: 1 },
    { bytes: twoClassRows(FASHION.sneaker, FASHION.boot, 1, 900)[0]!.bytes, path: "unlabelled.jpg", label: -1 },
    { bytes: twoClassRows(FASHION.sneaker, FASHION.boot, 1, 901)[0]!.bytes, path: "class-seven.jpg", label: 7 },
    { bytes: Buffer.from("<!doctype html><title>404</title>"), path: "page.html", label: 0 },
  ];
  return [
    {
      id: "fashion-lab/sneakers-vs-boots",
      downloads: 300,
      tags: ["license:mit", "task_categories:image-classification", "modality:image"],
      cardData: imageCard({ "0": "sneaker", "1": "ankle boot" }),
      files: [{ path: "README.md", bytes: Buffer.from("# Footwear") }],
      parquet: [
        {
          path: "default/train/0000.parquet",
          bytes: imageParquet([...twoClassRows(FASHION.sneaker, FASHION.boot, 40), ...bad], { names: ["sneaker", "ankle boot"] }),
        },
        { path: "default/train/0001.parquet", bytes: imageParquet(twoClassRows(FASHION.sneaker, FASHION.boot, 20, 40), { names: ["sneaker", "ankle boot"] }) },
        { path: "default/test/0000.parquet", bytes: imageParquet(twoClassRows(FASHION.sneaker, FASHION.boot, 10, 500), { names: ["sneaker", "ankle boot"] }) },
      ],
    },
    {
      id: "fashion-lab/sandals-vs-bags",
      downloads: 200,
      tags: ["license:mit", "task_categories:image-classification", "modality:image"],
      cardData: imageCard({ "0": "sandal", "1": "bag" }),
      files: [],
      parquet: [{ path: "default/train/0000.parquet", bytes: imageParquet(twoClassRows(FASHION.sandal, FASHION.bag, 15), { names: null }) }],
    },
    {
      id: "fashion-lab/numbered-classes",
      downloads: 150,
      tags: ["license:mit", "task_categories:image-classification", "modality:image"],
      cardData: { license: "mit" },
      files: [],
      parquet: [{ path: "default/train/0000.parquet", bytes: imageParquet(twoClassRows(FASHION.sandal, FASHION.bag, 5), { names: null }) }],
    },
    {
      id: "fashion-lab/webp-photos",
      downloads: 100,
      tags: ["license:mit", "task_categories:image-classification", "modality:image"],
      cardData: imageCard({ "0": "a", "1": "b" }),
      files: [],
      parquet: [
        {
          path: "default/train/0000.parquet",
          bytes: imageParquet(
            [0, 1, 0, 1].map((label) => ({ bytes: WEBP, path: null, label })),
            { names: ["a", "b"] },
          ),
        },
      ],
    },
  ];
}

describe("Hugging Face Hub source (a Hub on 127.0.0.1)", function () {
  this.timeout(60_000);
  let hub: TestHub;
  let dir: string;
  beforeEach(async () => {
    hub = await startTestHub(hubDatasets(), { pageSize: 3 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "hf-source-"));
  });
  afterEach(async () => {
    await hub.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const source = (token: string | null = null) => hfHubSource({ endpoint: hub.url, token, cacheDir: path.join(dir, "cache") });

  it("searches by the request's words and reads license, task, columns and access from the card and tags; ranks the GPL one out whatever its downloads", async () => {
    const query = { prompt: "predict flight delays", task: "regression" as const, targetHint: "delay" };
    const found = await source().search(query);
    const gpl = found.find((c) => c.id === "hf:copyleft-air/flight-delays")!;
    assert.equal(gpl.license?.decision, "rejected");
    assert.match(gpl.license!.note, /copyleft/);
    const open = found.find((c) => c.id === "hf:open-aviation/flight-delays")!;
    assert.deepEqual(open.columns, ["date", "delay", "distance", "origin"]);
    assert.equal(open.task, "regression");
    assert.equal(open.downloads, 1200);
    assert.equal(open.size_bytes, 123_456, "the card's download size");
    assert.equal(open.license?.license, "CC-BY-4.0");
    assert.equal(found.find((c) => c.id === "hf:gated-org/flight-delays-private")!.gated, true);
    const unlicensed = found.find((c) => c.id === "hf:anon/flight-delays-unlicensed")!;
    assert.deepEqual(
      [unlicensed.license?.decision, unlicensed.license?.note],
      ["rejected", "no license stated: its terms cannot be cleared, so it is not used"],
    );
    assert.equal(found.find((c) => c.id === "hf:pets/cats-vs-dogs-flight")!.modality, "image");
    // the search asked the card's fields and paged through the Link header (3 a page)
    const searches = hub.requests.filter((r) => r.path.startsWith("/api/datasets?"));
    assert.ok(
      searches.some((r) => r.path.includes("expand=cardData") && r.path.includes("cursor=3")),
      JSON.stringify(searches),
    );
    const ranked = rankCandidates(query, found);
    assert.equal(ranked[0]!.id, "hf:open-aviation/flight-delays");
    const rejected = ranked.find((r) => r.id === gpl.id)!;
    assert.equal(rejected.usable, false);
    assert.match(rejected.reasons[0]!, /license GPL-3.0 rejected: copyleft/);
  });

  it("waits out a 429 as Retry-After says, then goes on; sends the token when one is set", async () => {
    hub.faults.rateLimit = 1;
    const started = Date.now();
    const found = await source("hf_granted").search({ prompt: "flight", task: null, targetHint: null });
    assert.ok(found.length >= 5);
    assert.ok(Date.now() - started >= 900, "waited about the second Retry-After asked");
    assert.deepEqual(
      hub.requests.slice(0, 2).map((r) => r.status),
      [429, 200],
    );
    assert.ok(hub.requests.every((r) => r.authorization === "Bearer hf_granted"));
  });

  it("prefers the Hub's Parquet conversion, downloads it through the redirect into the cache, and a second project takes it from there", async () => {
    const candidate = await source().lookup("hf:open-aviation/flight-delays");
    const first = await source().fetch(candidate, path.join(dir, "p1", "data"));
    // the card is read once: the fetch takes the commit the lookup read
    assert.equal(hub.requests.filter((r) => r.path.includes("/revision/")).length, 1);
    assert.deepEqual(fs.readFileSync(first.file), fs.readFileSync(vega("flights-3m.parquet")));
    assert.match(first.notes[0]!, /read default\/train\/0000.parquet from the Hub's Parquet conversion: the training split in Parquet/);
    assert.match(first.notes[1]!, /downloaded .* \(12\.9 MB\) at commit/);
    assert.ok(hub.requests.some((r) => r.status === 302) && hub.requests.some((r) => r.status === 206));
    const downloads = hub.requests.filter((r) => r.path.startsWith("/cdn/")).length;
    const second = await source().fetch(candidate, path.join(dir, "p2", "data"));
    assert.deepEqual(fs.readFileSync(second.file), fs.readFileSync(first.file));
    assert.match(second.notes[1]!, /from the workspace's download cache .*nothing downloaded/);
    assert.equal(hub.requests.filter((r) => r.path.startsWith("/cdn/")).length, downloads, "no second download");
  });

  it("without a conversion, reads the dataset's own training file (the listing paged), saying which and why", async () => {
    const fetched = await source().fetch(await source().lookup("hf:open-aviation/flight-delays-arrow"), path.join(dir, "data"));
    assert.deepEqual(fs.readFileSync(fetched.file), fs.readFileSync(vega("flights-200k.arrow")));
    assert.match(fetched.notes[0]!, /read flights-200k.arrow from the dataset's own files: its data file as ARROW/);
    assert.ok(
      hub.requests.some((r) => r.path.includes("/tree/") && r.path.includes("cursor=3")),
      "the tree's second page was read",
    );
  });

  it("resumes a download the connection dropped, from the byte it reached; gives up after its tries with nothing half-written", async () => {
    const candidate = await source().lookup("hf:open-aviation/flight-delays");
    hub.faults.dropAfterBytes = { bytes: 3_000_000, times: 2 };
    const fetched = await source().fetch(candidate, path.join(dir, "data"));
    assert.deepEqual(fs.readFileSync(fetched.file), fs.readFileSync(vega("flights-3m.parquet")));
    // each drop resumed from the bytes that had arrived (what the socket lost in flight is asked again)
    const resumedAt = hub.requests
      .filter((r) => r.path.startsWith("/cdn/") && r.range && r.range !== "bytes=0-0")
      .map((r) => Number(/bytes=(\d+)-/.exec(r.range!)![1]));
    assert.equal(resumedAt.length, 2, `two resumes: ${resumedAt.join(", ")}`);
    assert.ok(resumedAt[0]! > 0 && resumedAt[0]! <= 3_000_000 && resumedAt[1]! > resumedAt[0]!, resumedAt.join(", "));

    hub.faults.dropAfterBytes = { bytes: 1_000_000, times: 100 };
    const cache = path.join(dir, "cache2");
    await assert.rejects(
      hfHubSource({ endpoint: hub.url, token: null, cacheDir: cache }).fetch(candidate, path.join(dir, "data2")),
      /The download of default\/train\/0000.parquet from hf:open-aviation\/flight-delays stopped at .* and did not resume after 3 tries .*Nothing was kept/,
    );
    const left = fs.readdirSync(cache, { recursive: true }).map(String);
    assert.ok(!left.some((f) => f.endsWith(".parquet") || f.endsWith(".part")), left.join(", "));
    assert.ok(!fs.existsSync(path.join(dir, "data2")) || fs.readdirSync(path.join(dir, "data2")).length === 0);
  });

  it("a gated dataset: without a token says how to get access; with a token not yet granted says so; a granted token downloads", async () => {
    const candidate = await source().lookup("hf:gated-org/flight-delays-private");
    await assert.rejects(
      source().fetch(candidate, path.join(dir, "data")),
      new RegExp(
        `gated or private: .*Accept its conditions on ${hub.url}/datasets/gated-org/flight-delays-private, make a read token .*AutoML: Set Hugging Face Token, or HF_TOKEN`,
      ),
    );
    await assert.rejects(source("hf_someone").fetch(candidate, path.join(dir, "data")), /your token has no access to it yet: accept its conditions/);
    const fetched = await source("hf_granted").fetch(candidate, path.join(dir, "data"));
    assert.equal(fs.readFileSync(fetched.file, "utf8"), fs.readFileSync(vega("flights-5k.json"), "utf8"));
    // a token that is not one is not used (said once): public data is still there, a gated dataset is refused as without a token
    const warnings: string[] = [];
    const badToken = hfHubSource({
      endpoint: hub.url,
      token: "not-a-token",
      cacheDir: path.join(dir, "cache-without-token"),
      onWarning: (t) => warnings.push(t),
    });
    assert.match(warnings.join("\n"), new RegExp(`HF_TOKEN is not a Hugging Face access token .*so it is not used.*${hub.url}/settings/tokens`));
    await assert.rejects(badToken.fetch(candidate, path.join(dir, "data3")), /gated or private/);
    assert.ok((await badToken.search({ prompt: "flight", task: null, targetHint: null })).length > 0);
  });

  it("an image dataset: every shard of the conversion's training split becomes a folder per class with its index, the classes named; WebP, a path without bytes, a row without a label left out and said", async () => {
    const fetched = await source().fetch(await source().lookup("hf:fashion-lab/sneakers-vs-boots"), path.join(dir, "data"));
    assert.equal(fetched.file, path.join(dir, "data", "fashion-lab--sneakers-vs-boots", "images.csv"));
    const { table } = loadTableBlocking(fetched.file);
    assert.deepEqual(table.columnNames, ["image", "label"]);
    // 40 + 20 of each class from the two training shards; the test split's shard is not read
    assert.equal(table.nRows, 120);
    const labels = table.records().map((r) => String(r["label"]));
    assert.deepEqual([...new Set(labels)].sort(), ["ankle boot", "sneaker"]);
    assert.equal(labels.filter((l) => l === "sneaker").length, 60);
    const images = table.records().map((r) => String(r["image"]));
    assert.ok(images.every((p) => p.startsWith("data/fashion-lab--sneakers-vs-boots/")));
    // the bytes as they were: the sneakers' JPEGs, the boots' PNGs
    const first = (p: string) => fs.readFileSync(path.join(dir, p)).subarray(0, 3);
    assert.deepEqual([...first(images[0]!)], [0xff, 0xd8, 0xff]);
    assert.deepEqual([...first(images[1]!)], [0x89, 0x50, 0x4e]);
    assert.ok(images[0]!.endsWith(".jpg") && images[1]!.endsWith(".png"));
    const notes = fetched.notes.join("\n");
    assert.match(
      notes,
      /read the 2 Parquet files of default\/train \(an image dataset.s shards of one split\) from the Hub.s Parquet conversion; default\/test not read \(the split is made from default\/train\)/,
    );
    const copyNotes = JSON.parse(fs.readFileSync(path.join(path.dirname(fetched.file), "copy-notes.json"), "utf8")) as string[];
    assert.match(copyNotes[0]!, /wrote 120 images of 2 classes from column image, labelled by label \(sneaker: 60, ankle boot: 60\)/);
    assert.ok(
      copyNotes.some((n) => /1 image\(s\) in WebP left out: PNG and JPEG are read/.test(n)),
      copyNotes.join("; "),
    );
    assert.ok(copyNotes.some((n) => /1 row\(s\) without the image's bytes/.test(n)));
    assert.ok(copyNotes.some((n) => /1 row\(s\) without a label left out/.test(n)));
    assert.ok(
      copyNotes.some((n) => /1 row\(s\) labelled 7, which label's 2 class names do not reach, left out/.test(n)),
      copyNotes.join("; "),
    );
    assert.ok(copyNotes.some((n) => /1 image\(s\) whose bytes are no image format \(damaged, or not an image\) left out/.test(n)));
    assert.ok(!hub.requests.some((r) => r.path.includes("default/test")), "the test split is not downloaded");

    // class names on the card only (the files' metadata has none): from the card
    const unnamed = await source().fetch(await source().lookup("hf:fashion-lab/sandals-vs-bags"), path.join(dir, "data"));
    const { table: bags } = loadTableBlocking(unnamed.file);
    assert.deepEqual([...new Set(bags.records().map((r) => r["label"]))].sort(), ["bag", "sandal"]);
    assert.match(fs.readFileSync(path.join(path.dirname(unnamed.file), "copy-notes.json"), "utf8"), /class names from the dataset card/);

    // named nowhere: the numbers are the classes, and that is said
    const numbered = await source().fetch(await source().lookup("hf:fashion-lab/numbered-classes"), path.join(dir, "data"));
    assert.deepEqual(
      [
        ...new Set(
          loadTableBlocking(numbered.file)
            .table.records()
            .map((r) => String(r["label"])),
        ),
      ].sort(),
      ["0", "1"],
    );
    assert.match(
      fs.readFileSync(path.join(path.dirname(numbered.file), "copy-notes.json"), "utf8"),
      /the classes are numbers: neither the files nor the dataset card name the classes of label/,
    );

    // images in no format the decoder reads: refused with why, no folder left
    await assert.rejects(
      source().fetch(await source().lookup("hf:fashion-lab/webp-photos"), path.join(dir, "data")),
      /has no image this version reads \(its images are WebP: PNG and JPEG are read\)/,
    );
    assert.ok(!fs.existsSync(path.join(dir, "data", "fashion-lab--webp-photos")) && !fs.existsSync(path.join(dir, "data", "fashion-lab--webp-photos.partial")));
  });

  it("refuses clearly: no data file (naming what it holds), an image dataset, an unknown name, a malformed id, a Hub that is not there", async () => {
    await assert.rejects(
      source().fetch(await source().lookup("hf:empty-org/flight-delays-notes"), dir),
      /holds no data file this version reads .*it has README.md, load.py\. Choose another candidate, or give a file with --data/,
    );
    await assert.rejects(
      source().fetch(await source().lookup("hf:pets/cats-vs-dogs-flight"), dir),
      /is an image dataset of 6 separate image files, and the Hub has no Parquet conversion of it .*give the images as a folder with a subfolder per class/,
    );
    await assert.rejects(source().lookup("hf:nobody/nothing"), new RegExp(`There is no dataset hf:nobody/nothing on ${hub.url}`));
    await assert.rejects(source().lookup("hf:../etc"), /is not a Hub dataset name: write hf:OWNER\/NAME/);
    const closed = await freePort();
    const gone = hfHubSource({ endpoint: `http://127.0.0.1:${closed}`, token: null, cacheDir: dir });
    const started = Date.now();
    await assert.rejects(gone.search({ prompt: "flight delays", task: null, targetHint: null }), /could not be reached \(connection refused\)/);
    assert.ok(Date.now() - started < 2000, "a refused connection is not retried for seconds");
  });
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}
