import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { zipSync } from "fflate";
import { catalogSource, workspaceSource } from "../../kernel/agents/local-dataset-sources";
import { removeTempWorkspaces, tempWorkspace } from "../support/temp-workspace";
import { checkLicense } from "../../kernel/agents/license-check";
import { columnMatches, rankCandidates, unclearChoice, type DatasetCandidate, type DatasetQuery } from "../../kernel/agents/dataset-ranking";

function candidate(over: Partial<DatasetCandidate> & Pick<DatasetCandidate, "id" | "name">): DatasetCandidate {
  return { source: "hf", desc: "", license: checkLicense("mit"), size_bytes: 1e6, downloads: null, columns: null, task: null, keywords: [], ...over };
}

const query: DatasetQuery = { prompt: "predict whether a breast tumour is malignant", task: "classification", targetHint: "diagnosis" };

describe("ranking dataset candidates from every source together", () => {
  it("puts the matching, licensed dataset with the target column first, and says why for each", () => {
    const ranked = rankCandidates(query, [
      candidate({
        id: "hf:a/tumours-gpl",
        name: "Breast tumour diagnosis",
        license: checkLicense("gpl-3.0"),
        downloads: 90_000,
        columns: ["radius", "diagnosis"],
        task: "classification",
      }),
      candidate({
        id: "hf:b/breast-cancer",
        name: "Breast cancer Wisconsin",
        desc: "malignant or benign tumour",
        downloads: 3_000,
        columns: ["radius_mean", "Diagnosis"],
        task: "classification",
      }),
      candidate({ id: "catalog:boston", source: "catalog", name: "Boston house prices", columns: ["medv"], task: "regression" }),
    ]);
    assert.deepEqual(
      ranked.map((r) => r.id),
      ["hf:b/breast-cancer", "hf:a/tumours-gpl", "catalog:boston"],
    );
    assert.ok(
      ranked[0]!.reasons.some((r) => /has a column "Diagnosis" for the target/.test(r)),
      ranked[0]!.reasons.join(" | "),
    );
    assert.ok(
      ranked[0]!.reasons.some((r) => /matches "breast", .*"malignant"/.test(r)),
      ranked[0]!.reasons.join(" | "),
    );
    const gpl = ranked.find((r) => r.id === "hf:a/tumours-gpl")!;
    assert.equal(gpl.usable, false, "more downloads do not buy a rejected license a place");
    assert.match(gpl.reasons[0]!, /^license GPL-3\.0 rejected: copyleft/);
    const boston = ranked.find((r) => r.id === "catalog:boston")!;
    assert.ok(boston.reasons.some((r) => /made for regression, not classification/.test(r)));
    assert.deepEqual([boston.relevant, boston.usable], [false, false], "a dataset sharing nothing with the request is never taken");
    assert.equal(unclearChoice(query, ranked), null, "a clear lead needs no question");
  });

  it("asks when two candidates are close, when the best is non-commercial, when its columns lack the target, or when nothing is usable", () => {
    const close = rankCandidates(query, [
      candidate({ id: "hf:x/malignant-tumours", name: "Malignant tumours", columns: ["diagnosis"] }),
      candidate({ id: "hf:y/breast-tumours", name: "Breast tumours", columns: ["diagnosis"] }),
    ]);
    assert.match(unclearChoice(query, close)!, /match about as well/);
    const nc = rankCandidates(query, [
      candidate({ id: "hf:z/nc", name: "Breast tumour malignant", license: checkLicense("cc-by-nc-4.0"), columns: ["diagnosis"] }),
    ]);
    assert.match(unclearChoice(query, nc)!, /license is CC-BY-NC-4.0: non-commercial: research \/ demo only/);
    const noTarget = rankCandidates(query, [candidate({ id: "hf:w/t", name: "Breast tumour malignant", columns: ["radius", "label"] })]);
    assert.match(unclearChoice(query, noTarget)!, /no column matching the target "diagnosis"/);
    assert.match(
      unclearChoice(query, rankCandidates(query, [candidate({ id: "hf:v/u", name: "Breast", license: checkLicense(null) })]))!,
      /every candidate's license was rejected/,
    );
    assert.match(unclearChoice(query, [])!, /no dataset matches/);
  });

  it("takes the person's own files first when they fit, with no license gate", () => {
    const ranked = rankCandidates(query, [
      candidate({ id: "hf:b/breast-cancer", name: "Breast cancer malignant tumour", columns: ["diagnosis"], downloads: 1e6 }),
      candidate({
        id: "workspace:data/tumours.csv",
        source: "workspace",
        name: "tumours.csv",
        license: null,
        size_bytes: 20_000,
        columns: ["id", "diagnosis", "radius"],
      }),
    ]);
    assert.equal(ranked[0]!.id, "workspace:data/tumours.csv");
    assert.ok(ranked[0]!.reasons.includes("already in your workspace"));
    assert.ok(ranked[0]!.reasons.some((r) => /your own data: no license gate/.test(r)));
  });

  it("reads the person's files by their columns too: 'employees who will leave the company' fits hr_attrition.csv's left_company", () => {
    const hr = candidate({
      id: "workspace:hr_attrition.csv",
      name: "hr_attrition.csv",
      source: "workspace",
      license: null,
      columns: ["employee_id", "email", "years_at_company", "left_company"],
    });
    const [ranked] = rankCandidates(
      { prompt: "predict which employees will leave the company", task: "regression", targetHint: "which employees will leave the company" },
      [hr],
    );
    assert.equal(ranked!.relevant, true);
    assert.match(ranked!.reasons[0]!, /matches .*"company"/);
    // a remote dataset is still judged by its card, not by its column names alone
    const [remote] = rankCandidates({ prompt: "predict which employees will leave the company", task: "regression", targetHint: null }, [
      { ...hr, id: "hf:x/hr", source: "hf", license: checkLicense("mit") },
    ]);
    assert.equal(remote!.relevant, false);
  });

  it("an image task takes datasets of images only: a sneaker-price table and a review corpus are listed with why, never chosen", () => {
    const ranked = rankCandidates({ prompt: "classify photos of sneakers and boots", task: "image_classification", targetHint: null }, [
      candidate({ id: "hf:shop/sneaker-prices", name: "Sneaker prices", downloads: 80_000, modality: "table", task: "regression" }),
      candidate({ id: "hf:shop/sneaker-reviews", name: "Sneaker reviews", downloads: 50_000, modality: "text", task: "text_classification" }),
      candidate({ id: "hf:lab/sneakers-and-boots", name: "Sneakers and boots photos", downloads: 40, modality: "image", task: "image_classification" }),
      candidate({ id: "workspace:sneakers.csv", source: "workspace", name: "sneakers.csv", columns: ["image", "kind"], license: null }),
    ]);
    const byId = new Map(ranked.map((r) => [r.id, r]));
    assert.equal(ranked[0]!.id, "workspace:sneakers.csv", "the person's own table of image paths is read to tell");
    assert.equal(byId.get("hf:lab/sneakers-and-boots")!.usable, true);
    assert.equal(byId.get("hf:shop/sneaker-prices")!.usable, false);
    assert.equal(byId.get("hf:shop/sneaker-prices")!.reasons[0], "a table, not images: an image task needs a dataset of images");
    assert.equal(byId.get("hf:shop/sneaker-reviews")!.reasons[0], "texts, not images: an image task needs a dataset of images");
    // the words naming the classes are what the dataset is about, not a column to find ("photos" is in no dataset's name)
    const named = rankCandidates({ prompt: "classify photos: temple or flower", task: "image_classification", targetHint: "photos: temple or flower" }, [
      candidate({
        id: "hf:photolab/temple-or-flower",
        name: "temple-or-flower",
        keywords: ["temple", "flower"],
        modality: "image",
        task: "image_classification",
      }),
    ]);
    assert.equal(named[0]!.usable, true, named[0]!.reasons.join("; "));
  });

  it("matches a target hint to a column by its words", () => {
    assert.ok(columnMatches("SalePrice", "price"));
    assert.ok(columnMatches("sale_price", "sale price"));
    assert.ok(columnMatches("Diagnosis", "diagnosis"));
    assert.ok(!columnMatches("prices_index", "sale price"));
  });
});

describe("the local dataset sources", () => {
  after(removeTempWorkspaces);

  it("finds the workspace's data files with their columns (not the product's own folders), ranks them with the catalog, and fetches the choice", async () => {
    const ws = tempWorkspace("sources");
    fs.mkdirSync(path.join(ws, "clinic", "exports"), { recursive: true });
    fs.writeFileSync(path.join(ws, "clinic", "exports", "tumours.csv"), "id,radius,Diagnosis\n1,14.2,M\n2,11.0,B\n");
    fs.mkdirSync(path.join(ws, ".automl", "projects", "p", "data"), { recursive: true });
    fs.writeFileSync(path.join(ws, ".automl", "projects", "p", "data", "old.csv"), "a,b\n1,2\n");
    fs.mkdirSync(path.join(ws, "node_modules", "x"), { recursive: true });
    fs.writeFileSync(path.join(ws, "node_modules", "x", "data.csv"), "a,b\n1,2\n");
    fs.writeFileSync(path.join(ws, "package.json"), "{}");
    // what the product wrote is not data to train on: predictions, an export (zipped and unzipped), a run's --out copy
    fs.mkdirSync(path.join(ws, "out", "bundle"), { recursive: true });
    for (const f of ["manifest.json", "predict.mjs", "sample.csv"]) fs.writeFileSync(path.join(ws, "out", "bundle", f), "x");
    fs.writeFileSync(
      path.join(ws, "out", "p.zip"),
      zipSync({ "manifest.json": new Uint8Array(1), "predict.mjs": new Uint8Array(1), "data/d.csv": new Uint8Array(1) }),
    );
    for (const f of ["events.jsonl", "notebook.ipynb"]) fs.writeFileSync(path.join(ws, "out", f), "{}");
    fs.writeFileSync(path.join(ws, "clinic", "exports", "tumours-2023.zip"), zipSync({ "tumours-2023.csv": new TextEncoder().encode("id,Diagnosis\n1,M\n") }));
    fs.writeFileSync(path.join(ws, "clinic", "exports", "new.predictions.csv"), "Diagnosis\nM\n");
    fs.writeFileSync(path.join(ws, "clinic", "exports", "new.predictions.report.csv"), "row,column,value,problem,action\n");
    const found = await workspaceSource(ws).search({ prompt: "", task: null, targetHint: null });
    assert.deepEqual(
      found.map((c) => [c.id, c.columns]),
      [
        ["workspace:clinic/exports/tumours-2023.zip", null],
        ["workspace:clinic/exports/tumours.csv", ["id", "radius", "Diagnosis"]],
      ],
    );
    const catalog = await catalogSource().search({ prompt: "", task: null, targetHint: null });
    assert.ok(catalog.length >= 3 && catalog.every((c) => c.license?.decision === "allowed" && c.columns!.length > 0));
    const ranked = rankCandidates(query, [...found, ...catalog]);
    assert.equal(ranked[0]!.id, "workspace:clinic/exports/tumours.csv");
    const dataDir = path.join(ws, "project-data");
    fs.mkdirSync(dataDir);
    const fetched = await workspaceSource(ws).fetch(ranked[0]!, dataDir);
    assert.equal(fs.readFileSync(fetched.file, "utf8"), fs.readFileSync(path.join(ws, "clinic", "exports", "tumours.csv"), "utf8"));
    const boston = catalog.find((c) => /boston/i.test(c.name))!;
    assert.ok(fs.statSync((await catalogSource().fetch(boston, dataDir)).file).size > 10_000);
    await assert.rejects(workspaceSource(ws).fetch({ ...ranked[0]!, id: "workspace:../../etc/passwd" }, dataDir), /not inside the workspace/);
  });
});
