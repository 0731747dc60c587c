/**
 * The Kaggle source against Kaggle's API on 127.0.0.1 (test/support/test-kaggle-server.ts):
 * search, view, files, the zip download through its redirect, basic auth, 429 with
 * Retry-After, a dropped connection resumed; and zips that must not be trusted (entries
 * leading out with ../, a bomb that declares its size, one that lies about it).
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { zipSync } from "fflate";
import { kaggleCredentials, kaggleSource } from "../../kernel/agents/kaggle-source";
import { checkedZipEntries, extractZipEntry } from "../../kernel/data/safe-unzip";
import { loadTableBlocking } from "../../kernel/data/table-load";
import { encoded, FASHION, fashionImages } from "../support/image-parquet";
import { startTestKaggle, type KaggleDatasetFixture, type TestKaggle } from "../support/test-kaggle-server";

const bostonCsv = fs.readFileSync(require.resolve("@stdlib/datasets-harrison-boston-house-prices/data/data.csv"));
const penguins = fs.readFileSync(path.join(path.dirname(require.resolve("vega-datasets")), "..", "data", "penguins.json"));
const creds = { username: "ada", key: "0123456789abcdef0123456789abcdef" };

/** a zip whose one entry says it expands to `declared` bytes but really expands to `real` (its directory and local header patched) */
function lyingZip(real: number, declared: number): Buffer {
  const zip = Buffer.from(zipSync({ "data.csv": new Uint8Array(real) }, { level: 9 }));
  for (let i = 0; i + 4 <= zip.length; i++) {
    if (zip.readUInt32LE(i) === 0x02014b50) zip.writeUInt32LE(declared, i + 24);
    if (zip.readUInt32LE(i) === 0x04034b50) zip.writeUInt32LE(declared, i + 22);
  }
  return zip;
}

/** Zip entries of real Fashion-MNIST images of class `cls` under `folder`. */
function imageEntries(folder: string, cls: number, count: number, from: number, format: "jpeg" | "png"): Record<string, Uint8Array> {
  return Object.fromEntries(fashionImages(cls, count, from).map((p, i) => [`${folder}/${from + i}.${format === "jpeg" ? "jpg" : "png"}`, encoded(p, format)]));
}

function renamed(entries: Record<string, Uint8Array>, rename: (name: string) => string): Record<string, Uint8Array> {
  return Object.fromEntries(Object.entries(entries).map(([k, v]) => [rename(k), v]));
}

function fixtures(): KaggleDatasetFixture[] {
  return [
    {
      ref: "harrison/boston-housing",
      title: "Boston housing prices",
      subtitle: "Median home values of Boston tracts, 1978",
      licenseName: "CC0: Public Domain",
      downloadCount: 52_000,
      version: 3,
      tags: ["housing", "real estate"],
      zip: Buffer.from(
        zipSync({
          "README.md": new TextEncoder().encode("# Boston"),
          "data/housing_test.csv": bostonCsv.subarray(0, 2000),
          "data/housing_train.csv": bostonCsv,
        }),
      ),
      files: [{ name: "housing_train.csv", totalBytes: bostonCsv.length, columns: ["crim", "rm", "medv"] }],
    },
    {
      ref: "gnu-homes/boston-housing-gpl",
      title: "Boston housing (GPL)",
      licenseName: "GPL 2",
      downloadCount: 99_000,
      zip: Buffer.from(zipSync({ "boston.csv": bostonCsv })),
      files: [{ name: "boston.csv", totalBytes: bostonCsv.length }],
    },
    {
      ref: "evil/housing-traversal",
      title: "Housing traversal",
      licenseName: "CC0: Public Domain",
      downloadCount: 1,
      zip: Buffer.from(zipSync({ "ok.csv": bostonCsv, "../../escaped.csv": bostonCsv })),
      files: [{ name: "ok.csv", totalBytes: bostonCsv.length }],
    },
    {
      ref: "evil/housing-bomb",
      title: "Housing bomb",
      licenseName: "CC0: Public Domain",
      downloadCount: 1,
      zip: Buffer.from(zipSync({ "a.csv": new Uint8Array(40 * 1024 ** 2), "b.csv": new Uint8Array(40 * 1024 ** 2) }, { level: 9 })),
      files: [{ name: "a.csv", totalBytes: 40 * 1024 ** 2 }],
    },
    { ref: "evil/housing-liar", title: "Housing liar", licenseName: "CC0: Public Domain", downloadCount: 1, zip: lyingZip(30 * 1024 ** 2, 1000), files: [] },
    {
      // as Kaggle's image datasets are laid out: the training and test sets each in a folder per class, each set in a folder of its own name
      ref: "shoes/sneakers-and-boots",
      title: "Sneakers and boots",
      licenseName: "CC0: Public Domain",
      downloadCount: 12,
      zip: Buffer.from(
        zipSync({
          ...imageEntries("training_set/training_set/sneakers", FASHION.sneaker, 12, 0, "jpeg"),
          ...imageEntries("training_set/training_set/boots", FASHION.boot, 9, 0, "png"),
          ...imageEntries("test_set/test_set/sneakers", FASHION.sneaker, 3, 100, "jpeg"),
          ...imageEntries("test_set/test_set/boots", FASHION.boot, 3, 100, "png"),
          "training_set/training_set/boots/_DS_Store.txt": new Uint8Array(3),
        }),
      ),
      files: [],
    },
    {
      // images in one folder, their classes in a table beside them (id without its extension, label)
      ref: "shoes/flat-with-labels",
      title: "Shoes, labelled in a table",
      licenseName: "CC0: Public Domain",
      downloadCount: 5,
      zip: Buffer.from(
        zipSync({
          // numbered files padded to four digits, named by the table's plain numbers (read as numbers: 7 for 0007)
          ...renamed(imageEntries("images", FASHION.sneaker, 10, 0, "jpeg"), (n) => n.replace(/\/(\d+)\./, (_, d: string) => `/${d.padStart(4, "0")}.`)),
          ...imageEntries("images", FASHION.boot, 8, 200, "png"),
          "labels.csv": new TextEncoder().encode(
            ["id,kind", ...Array.from({ length: 10 }, (_, i) => `${i},sneaker`), ...Array.from({ length: 8 }, (_, i) => `${200 + i},boot`), "999,boot"].join(
              "\n",
            ),
          ),
        }),
      ),
      files: [],
    },
    {
      ref: "penguins/palmer",
      title: "Palmer penguins",
      licenseName: "Attribution 4.0 International (CC BY 4.0)",
      downloadCount: 7,
      zip: Buffer.from(zipSync({ "penguins.json": penguins, "notes.txt": new Uint8Array(0) })),
      files: [{ name: "penguins.json", totalBytes: penguins.length }],
    },
  ];
}

describe("Kaggle source (Kaggle's API on 127.0.0.1)", function () {
  this.timeout(60_000);
  let kaggle: TestKaggle;
  let dir: string;
  beforeEach(async () => {
    kaggle = await startTestKaggle(fixtures(), creds);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kaggle-source-"));
  });
  afterEach(async () => {
    await kaggle.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const source = (credentials = { ...creds, from: "KAGGLE_USERNAME/KAGGLE_KEY" }) =>
    kaggleSource({ endpoint: kaggle.url, credentials, cacheDir: path.join(dir, "cache"), maxExpandedBytes: 50 * 1024 ** 2 });

  it("reads credentials from the environment, else kaggle.json", () => {
    assert.deepEqual(kaggleCredentials({ KAGGLE_USERNAME: "ada", KAGGLE_KEY: "k" }), { username: "ada", key: "k", from: "KAGGLE_USERNAME/KAGGLE_KEY" });
    const config = path.join(dir, "cfg");
    fs.mkdirSync(config);
    fs.writeFileSync(path.join(config, "kaggle.json"), JSON.stringify({ username: "bob", key: "k2" }));
    assert.equal(kaggleCredentials({ KAGGLE_CONFIG_DIR: config })?.username, "bob");
    assert.equal(kaggleCredentials({ KAGGLE_CONFIG_DIR: path.join(dir, "none") }), null);
  });

  it("searches with basic auth and reads Kaggle's license names (the GPL one rejected); a 429 is waited out", async () => {
    kaggle.faults.rateLimit = 1;
    const found = await source().search({ prompt: "predict boston housing prices", task: "regression", targetHint: null });
    const ids = found.map((c) => c.id);
    assert.ok(ids.includes("kaggle:harrison/boston-housing") && ids.includes("kaggle:gnu-homes/boston-housing-gpl"), ids.join(", "));
    assert.equal(found.find((c) => c.id === "kaggle:harrison/boston-housing")!.license?.license, "CC0-1.0");
    assert.equal(found.find((c) => c.id === "kaggle:gnu-homes/boston-housing-gpl")!.license?.decision, "rejected");
    assert.deepEqual(
      kaggle.requests.slice(0, 2).map((r) => r.status),
      [429, 200],
    );
  });

  it("downloads the zip through its redirect, picks the training CSV with its reason, and takes it from the cache the second time", async () => {
    const candidate = await source().lookup("kaggle:harrison/boston-housing");
    assert.deepEqual(candidate.columns, ["crim", "rm", "medv"]);
    const first = await source().fetch(candidate, path.join(dir, "p1"));
    assert.deepEqual(fs.readFileSync(first.file), bostonCsv);
    assert.equal(first.revision, "v3");
    assert.match(
      first.notes.join("\n"),
      /read data\/housing_train.csv from kaggle:harrison\/boston-housing's download: the training split as CSV; 1 other data file not read \(housing_test.csv\)/,
    );
    const second = await source().fetch(candidate, path.join(dir, "p2"));
    assert.deepEqual(fs.readFileSync(second.file), bostonCsv);
    assert.match(second.notes[0]!, /from the workspace's download cache \(version 3\): nothing downloaded/);
    assert.equal(kaggle.requests.filter((r) => r.path.startsWith("/storage/")).length, 1);
  });

  it("an image dataset's zip: the training set's class folders copied into the project with their index, the test set not read and said", async () => {
    const candidate = await source().lookup("kaggle:shoes/sneakers-and-boots");
    const fetched = await source().fetch(candidate, path.join(dir, "p1", "data"));
    assert.equal(fetched.file, path.join(dir, "p1", "data", "shoes--sneakers-and-boots", "images.csv"));
    const rows = loadTableBlocking(fetched.file).table.records();
    assert.equal(rows.length, 21);
    assert.deepEqual([...new Set(rows.map((r) => r["label"]))].sort(), ["boots", "sneakers"]);
    assert.ok(rows.every((r) => fs.statSync(path.join(dir, "p1", String(r["image"]))).isFile()));
    const notes = JSON.parse(fs.readFileSync(path.join(path.dirname(fetched.file), "copy-notes.json"), "utf8")) as string[];
    assert.match(notes.join("; "), /read from training_set\/; test_set\/ not read/);
    assert.match(notes.join("; "), /copied 21 images of 2 classes \(boots: 9, sneakers: 12\); 1 file\(s\) that are not PNG or JPEG images were skipped/);
    assert.match(fetched.notes.join("; "), /an image dataset: its images by class \(the folder training_set\/training_set\)/);
    // a second project: nothing downloaded, nothing extracted again
    const again = await source().fetch(candidate, path.join(dir, "p2", "data"));
    assert.equal(loadTableBlocking(again.file).table.nRows, 21);
    assert.equal(kaggle.requests.filter((r) => r.path.startsWith("/storage/")).length, 1);
  });

  it("an image dataset's zip whose classes are in a table beside one folder of images: the index puts each named image beside the table's columns", async () => {
    const fetched = await source().fetch(await source().lookup("kaggle:shoes/flat-with-labels"), path.join(dir, "p", "data"));
    const rows = loadTableBlocking(fetched.file).table.records();
    assert.equal(rows.length, 18);
    assert.deepEqual(Object.keys(rows[0]!), ["id", "kind"]);
    assert.ok(rows.every((r) => fs.statSync(path.join(dir, "p", String(r["id"]))).isFile()));
    assert.deepEqual([rows[0]!["kind"], rows[17]!["kind"]], ["sneaker", "boot"]);
    const notes = JSON.parse(fs.readFileSync(path.join(path.dirname(fetched.file), "copy-notes.json"), "utf8")) as string[];
    assert.match(notes[0]!, /the images named in labels.csv's column id \(18 of its 19 rows\), with its other columns \(kind\)/);
    assert.match(notes[1]!, /1 row\(s\) of labels.csv name no image in the download: left out/);
  });

  it("resumes a dropped download with a Range request", async () => {
    kaggle.faults.dropAfterBytes = { bytes: 5_000, times: 1 };
    const fetched = await source().fetch(await source().lookup("kaggle:harrison/boston-housing"), path.join(dir, "p"));
    assert.deepEqual(fs.readFileSync(fetched.file), bostonCsv);
    assert.ok(
      kaggle.requests.some((r) => r.status === 206 && r.range?.startsWith("bytes=")),
      JSON.stringify(kaggle.requests),
    );
  });

  it("refuses untrustworthy zips whole, extracting nothing: ../ entries, a declared bomb, an entry that lies about its size", async () => {
    await assert.rejects(
      source().fetch(await source().lookup("kaggle:evil/housing-traversal"), path.join(dir, "p")),
      /"\.\.\/\.\.\/escaped.csv", which leads out of the folder .*nothing was extracted/,
    );
    assert.ok(!fs.existsSync(path.join(dir, "escaped.csv")) && !fs.existsSync(path.join(dir, "p")));
    await assert.rejects(
      source().fetch(await source().lookup("kaggle:evil/housing-bomb"), path.join(dir, "p")),
      /would expand to 80\.0 MB .*past the 50\.0 MB .*nothing was extracted/,
    );
    await assert.rejects(
      source().fetch(await source().lookup("kaggle:evil/housing-liar"), path.join(dir, "p")),
      /expands past the 0\.0 MB its archive declares: a zip bomb/,
    );
    const cached = fs.readdirSync(path.join(dir, "cache"), { recursive: true }).map(String);
    assert.ok(!cached.some((f) => f.endsWith(".csv") || f.endsWith(".part")), cached.join(", "));
  });

  it("says what to do about bad credentials, an unknown dataset and a malformed id; picks JSON when that is the data", async () => {
    await assert.rejects(
      source({ username: "ada", key: "wrong", from: "KAGGLE_USERNAME/KAGGLE_KEY" }).search({ prompt: "housing", task: null, targetHint: null }),
      /refused the credentials from KAGGLE_USERNAME\/KAGGLE_KEY \(401 Unauthenticated\).*AutoML: Set Kaggle Credentials/,
    );
    await assert.rejects(source().lookup("kaggle:nobody/nothing"), /Kaggle has no such dataset \(404/);
    await assert.rejects(source().lookup("kaggle:../x"), /is not a Kaggle dataset: write kaggle:OWNER\/SLUG/);
    const fetched = await source().fetch(await source().lookup("kaggle:penguins/palmer"), path.join(dir, "p"));
    assert.equal(path.basename(fetched.file), "penguins.json");
  });

  it("extracts a zip's entry streamed, checking its CRC", async () => {
    const zipFile = path.join(dir, "x.zip");
    fs.writeFileSync(zipFile, Buffer.from(zipSync({ "d/boston.csv": bostonCsv })));
    const [entry] = checkedZipEntries(zipFile, "x.zip");
    await extractZipEntry(zipFile, entry!, path.join(dir, "out.csv"), "x.zip");
    assert.deepEqual(fs.readFileSync(path.join(dir, "out.csv")), bostonCsv);
    const damaged = fs.readFileSync(zipFile);
    damaged[60] = damaged[60]! ^ 0xff; // a byte of the compressed data
    fs.writeFileSync(zipFile, damaged);
    await assert.rejects(extractZipEntry(zipFile, entry!, path.join(dir, "out2.csv"), "x.zip"), /damaged|cannot be expanded/);
    assert.ok(!fs.existsSync(path.join(dir, "out2.csv")) && !fs.existsSync(path.join(dir, "out2.csv.part")));
  });
});
