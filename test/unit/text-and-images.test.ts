/**
 * Texts and images: TF-IDF features and the text classifiers on real e-mails (SpamAssassin), PNG
 * and JPEG decoding and resizing, a person's labelled image folder with its bad inputs (mixed
 * sizes and channels, a corrupt file, a class with no images, a class with one image), and the
 * small CNN (its convolution's gradients against tfjs's own, a real MNIST slice learnt, its
 * model state loaded again).
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import jpeg from "jpeg-js";
import { decodeImage, encodePng, resizePixels } from "../../kernel/data/image-files";
import { copyImageFolder } from "../../kernel/data/image-folder";
import { IMAGE_COLUMN, subjectAndBody, writePackagedDigits, writeSpamAssassinCsv } from "../../kernel/data/packaged-corpora";
import { splitForTask } from "../../kernel/data/prepared-data";
import { loadTableBlocking } from "../../kernel/data/table-load";
import { profileImages, prepareImages, proposedImageStep } from "../../kernel/ml/image/image-data";
import { convolution, loadCnn, trainCnn } from "../../kernel/ml/image/small-cnn";
import { accuracyAndLogLoss } from "../../kernel/ml/metrics";
import { tensorflow } from "../../kernel/ml/tfjs/tensorflow-backend";
import { cnnProbabilities } from "../../kernel/predict/cnn-forward";
import { TEXT_LEARNERS, textScores } from "../../kernel/ml/text/text-classifiers";
import { prepareText, proposedTextStep, findTextColumn } from "../../kernel/ml/text/text-data";
import { fitVectorizer, tokenize, vectorize } from "../../kernel/ml/text/text-vectorizer";
import { trainingLength } from "../../kernel/tasks/image";
import { removeTempWorkspaces, tempWorkspace } from "../support/temp-workspace";

after(removeTempWorkspaces);

describe("text features and classifiers", function () {
  this.timeout(120_000);

  it("tokenises as scikit-learn's default pattern, fits the vocabulary on the training texts only, and scales each row to unit length", () => {
    assert.deepEqual(tokenize("Hello, WORLD! a 42 x_y é-mail", 1000), ["hello", "world", "42", "x_y", "mail"]);
    const train = ["cheap pills now", "cheap pills cheap", "meeting at noon", "meeting notes at noon"];
    const v = fitVectorizer(train, { word_ngrams: [1, 2], char_ngrams: null, min_df: 2, max_words: 100, char_buckets: 1024, max_chars: 1000 });
    // words in two or more training texts, and the pairs that are
    assert.deepEqual([...v.words].sort(), ["at", "at noon", "cheap", "cheap pills", "meeting", "noon", "pills"]);
    // at most max_words, the most frequent kept
    const two = fitVectorizer(train, { word_ngrams: [1, 1], char_ngrams: null, min_df: 1, max_words: 2, char_buckets: 1024, max_chars: 1000 });
    assert.deepEqual(two.words, ["cheap", "pills"], "the first seen of the most frequent");
    // smoothed idf: ln((1 + n) / (1 + df)) + 1
    assert.ok(Math.abs(v.idf[v.words.indexOf("cheap")]! - (Math.log(5 / 3) + 1)) < 1e-6);
    const x = vectorize(v, ["cheap cheap pills and a word never seen", ""]);
    let norm = 0;
    for (let j = x.indptr[0]!; j < x.indptr[1]!; j++) norm += x.values[j]! ** 2;
    assert.ok(Math.abs(norm - 1) < 1e-5, `a row has unit length (${norm})`);
    assert.equal(x.indptr[2]! - x.indptr[1]!, 0, "an empty text has no features");
  });

  it("classifies real e-mails (SpamAssassin): the linear models above 95% on held-out e-mails (naive Bayes above 90%), epoch by epoch with real losses", async () => {
    const dir = tempWorkspace("spam");
    const csv = path.join(dir, "spam.csv");
    writeSpamAssassinCsv(csv);
    const { table } = loadTableBlocking(csv);
    assert.equal(table.nRows, 6046);
    // subject and body: the routing headers (one mail server's, for all the ham) are not what to learn
    assert.equal(subjectAndBody("Received: from x\nSubject: Hello there\nTo: a@b\n\nThe body\n\nmore"), "Hello there\n\nThe body\n\nmore");
    assert.deepEqual(table.columnNames, ["text", "label"]);
    assert.equal(findTextColumn(table, "label"), "text");
    // a slice keeps the test quick: every third e-mail
    const data = splitForTask(table, { target: "label", task: "text_classification", seed: 7, testSize: 0.25, valSize: 0.15 });
    const slice = (rows: number[]) => rows.filter((r) => r % 3 === 0);
    const small = { ...data, split: { ...data.split, train: slice(data.split.train), val: slice(data.split.val), test: slice(data.split.test) } };
    const prepared = prepareText([proposedTextStep("text")], table, small);
    assert.ok(prepared.vectorizer.words.length > 1000 && prepared.vectorizer.idf.length > prepared.vectorizer.words.length);
    for (const learner of TEXT_LEARNERS) {
      const losses: number[] = [];
      const fitted = await learner.fit(prepared.train.x, prepared.train.y, 2, learner.defaults, {
        seed: 1,
        val: prepared.val,
        onEpoch: async (e) => void losses.push(e.train_loss),
      });
      const { accuracy } = accuracyAndLogLoss(textScores(fitted.state, prepared.test.x, 2), prepared.test.y, 2);
      // naive Bayes is the fast, weaker one (as scikit-learn's MultinomialNB is on this corpus)
      assert.ok(accuracy > (learner.id === "text_naive_bayes" ? 0.9 : 0.95), `${learner.id}: test accuracy ${accuracy}`);
      if (learner.id !== "text_naive_bayes") assert.ok(losses.length >= 2 && losses.at(-1)! < losses[0]!, `${learner.id} descends: ${losses.join(", ")}`);
    }
  });

  it("says how many texts are empty (given the classes' shares), and refuses a table without free text or a step on the label", async () => {
    const dir = tempWorkspace("texts");
    const rows = Array.from(
      { length: 40 },
      (_, i) => `"${i % 5 === 0 ? "" : i % 2 ? "win a free prize now click here" : "see you at the meeting tomorrow morning"}",${i % 2 ? "spam" : "ham"}`,
    );
    fs.writeFileSync(path.join(dir, "t.csv"), `message,label\n${rows.join("\n")}\n`);
    const { table } = loadTableBlocking(path.join(dir, "t.csv"));
    const data = splitForTask(table, { target: "label", task: "text_classification", seed: 1, testSize: 0.2, valSize: 0.2 });
    const prepared = prepareText([{ ...proposedTextStep("message"), params: { min_df: 1 } }], table, data);
    assert.match(prepared.notes.join(" "), /8 row\(s\) have an empty message/);
    // an empty text has no words to go on: every model gives it each class's share of the training texts
    const share = prepared.classes.map((_, c) => prepared.train.y.filter((y) => y === c).length / prepared.train.y.length);
    const empty = vectorize(prepared.vectorizer, [""]);
    for (const l of TEXT_LEARNERS) {
      const { state } = await l.fit(prepared.train.x, prepared.train.y, 2, l.defaults, { seed: 1, val: prepared.val });
      const p = textScores(state, empty, 2);
      prepared.classes.forEach((_, c) => assert.ok(Math.abs(p[c]! - share[c]!) < 1e-6, `${l.id}: ${p[c]} for ${share[c]}`));
    }
    assert.throws(() => prepareText([proposedTextStep("label")], table, data), /label is the label to predict/);
    fs.writeFileSync(path.join(dir, "n.csv"), `a,label\n${Array.from({ length: 30 }, (_, i) => `${i},${i % 2 ? "x" : "y"}`).join("\n")}\n`);
    assert.throws(() => findTextColumn(loadTableBlocking(path.join(dir, "n.csv")).table, "label"), /No column of free text/);
  });

  it("reads a text column that is not UTF-8 (Latin-1) with its accents, and says so", () => {
    const dir = tempWorkspace("latin1");
    const lines = Array.from(
      { length: 30 },
      (_, i) =>
        `"${i % 2 ? "Gagnez un séjour gratuit à Noël, réponse immédiate" : "Réunion à la mairie demain, ordre du jour ci-joint"} ${i}",${i % 2 ? "spam" : "ham"}`,
    );
    fs.writeFileSync(path.join(dir, "latin1.csv"), Buffer.from(`texte,label\n${lines.join("\n")}\n`, "latin1"));
    const loaded = loadTableBlocking(path.join(dir, "latin1.csv"));
    assert.match([...loaded.notes, ...loaded.warnings].join(" "), /latin|1252|8859/i);
    const data = splitForTask(loaded.table, { target: "label", task: "text_classification", seed: 1, testSize: 0.2, valSize: 0.2 });
    const prepared = prepareText([{ ...proposedTextStep("texte"), params: { min_df: 1 } }], loaded.table, data);
    assert.ok(prepared.vectorizer.words.includes("séjour"), "the accented words are read as words");
  });
});

describe("images", function () {
  this.timeout(300_000);

  it("decodes PNG (grey, RGB, with alpha) and JPEG by their bytes, refuses what is neither, and resizes", () => {
    const grey = { width: 4, height: 3, channels: 1 as const, data: Uint8Array.from({ length: 12 }, (_, i) => i * 20) };
    assert.deepEqual(decodeImage(encodePng(grey)), grey);
    const rgb = { width: 2, height: 2, channels: 3 as const, data: Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9]) };
    assert.deepEqual(decodeImage(encodePng(rgb)), rgb);
    const photo = jpeg.encode(
      { width: 16, height: 8, data: Buffer.from(Array.from({ length: 16 * 8 * 4 }, (_, i) => (i % 4 === 3 ? 255 : i % 4 === 0 ? 200 : 40))) },
      95,
    );
    const decoded = decodeImage(photo.data);
    assert.equal(decoded.channels, 3);
    assert.deepEqual([decoded.width, decoded.height], [16, 8]);
    assert.throws(() => decodeImage(Buffer.from("not an image at all")), /not a PNG or JPEG/);
    assert.throws(() => decodeImage(encodePng(grey).subarray(0, 40)));
    const half = resizePixels({ width: 4, height: 2, channels: 1, data: Uint8Array.from([0, 100, 200, 200, 0, 100, 200, 200]) }, 2, 1, 1);
    assert.deepEqual(Array.from(half.data), [50, 200], "shrinking averages the area each pixel covers");
    assert.deepEqual(Array.from(resizePixels(rgb, 2, 2, 1).data), [76, 150, 29, 9], "colour to grey by luma");
  });

  it("copies a labelled folder with bad inputs: mixed sizes and channels resized and said, a corrupt file left out, an empty class and one-image class said", () => {
    const src = tempWorkspace("folder");
    const put = (cls: string, name: string, bytes: Uint8Array) => (
      fs.mkdirSync(path.join(src, cls), { recursive: true }),
      fs.writeFileSync(path.join(src, cls, name), bytes)
    );
    const square = (side: number, channels: 1 | 3, v: number) =>
      encodePng({
        width: side,
        height: side,
        channels,
        data: Uint8Array.from({ length: side * side * channels }, (_, i) => (channels === 1 ? v : [v, v / 2, 255 - v][i % 3]!)),
      });
    for (let i = 0; i < 6; i++) put("cat", `c${i}.png`, square(i % 2 ? 40 : 20, i % 3 ? 3 : 1, 30 + i));
    for (let i = 0; i < 6; i++) put("dog", `d${i}.png`, square(32, 3, 200 - i));
    put("dog", "broken.png", Buffer.from("\x89PNG\r\n\x1a\n truncated"));
    put("dog", "notes.txt", Buffer.from("not an image"));
    put("fox", "only.png", square(32, 3, 120));
    fs.mkdirSync(path.join(src, "owl"));
    const project = tempWorkspace("project");
    const copied = copyImageFolder(src, path.join(project, "data", "pets"), "data/pets");
    assert.equal(copied.classes, 3);
    assert.match(copied.notes.join(" "), /owl hold no PNG or JPEG image: left out/);
    assert.match(copied.notes.join(" "), /1 file\(s\) that are not PNG or JPEG images were skipped/);
    const { table } = loadTableBlocking(copied.index);
    assert.deepEqual(table.columnNames, [IMAGE_COLUMN, "label"]);
    const read = (p: string) => fs.readFileSync(path.join(project, p));
    const profile = profileImages(table, IMAGE_COLUMN, "label", read);
    assert.equal(profile.images, 13);
    assert.deepEqual(
      profile.unreadable.map((u) => path.basename(u.file)),
      ["broken.png"],
    );
    const warnings = profile.warnings.join(" ");
    assert.match(warnings, /come in 3 size\(s\).*resized to 32 × 32/);
    assert.match(warnings, /grey and .* in colour: the grey ones are read as colour/);
    assert.match(warnings, /1 file\(s\) could not be read as images and are left out: .*broken\.png/);
    assert.match(warnings, /fox have one image only/);
    assert.deepEqual(profile.proposed, { width: 32, height: 32, channels: 3 });
    const data = splitForTask(table, { target: "label", task: "image_classification", seed: 3, testSize: 0.25, valSize: 0.25 });
    const prepared = prepareImages([proposedImageStep(profile)], table, data, read);
    assert.equal(prepared.train.n + prepared.val.n + prepared.test.n, 13);
    assert.match(prepared.notes.join(" "), /1 image file\(s\) could not be read and are left out/);
    assert.equal(prepared.train.pixels.length, prepared.train.n * 32 * 32 * 3);
  });

  it("trains a small image set for about 600 steps (smaller batches, more epochs), a large one for 12 epochs", () => {
    assert.deepEqual(trainingLength(180), { epochs: 60, batch_size: 32, patience: 10 });
    assert.deepEqual(trainingLength(1000), { epochs: 19, batch_size: 32, patience: 4 });
    assert.deepEqual(trainingLength(6400), { epochs: 12, batch_size: 64, patience: 3 });
  });

  it("refuses a folder of one class, or of no images", () => {
    const src = tempWorkspace("one");
    fs.mkdirSync(path.join(src, "cat"));
    fs.writeFileSync(path.join(src, "cat", "a.png"), encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array(4) }));
    fs.mkdirSync(path.join(src, "dog"));
    assert.throws(() => copyImageFolder(src, path.join(tempWorkspace("p"), "x"), "data/x"), /images of one class only \(cat\); dog has none/);
    assert.throws(() => copyImageFolder(tempWorkspace("empty"), path.join(tempWorkspace("p"), "x"), "data/x"), /not a labelled image folder/);
  });

  it("trains its convolutions with the same gradients as tfjs's own (the cpu backend's Conv2DBackprop kernels)", async () => {
    const { tf, backend } = await tensorflow();
    const x = tf.randomNormal([2, 6, 5, 3], 0, 1, "float32", 1) as import("@tensorflow/tfjs").Tensor4D;
    const w = tf.randomNormal([3, 3, 3, 4], 0, 1, "float32", 2) as import("@tensorflow/tfjs").Tensor4D;
    const ours = tf.grads((a, b) =>
      convolution(tf, true)(a as typeof x, b as typeof w)
        .square()
        .sum(),
    )([x, w]);
    const oursValues = await Promise.all(ours.map((g) => g.array()));
    await tf.setBackend("cpu");
    try {
      const xs = tf.tensor(await x.array()) as typeof x;
      const ws = tf.tensor(await w.array()) as typeof w;
      const theirs = tf.grads((a, b) =>
        tf
          .conv2d(a as typeof x, b as typeof w, 1, "same")
          .square()
          .sum(),
      )([xs, ws]);
      const theirsValues = await Promise.all(theirs.map((g) => g.array()));
      for (let i = 0; i < 2; i++) {
        const a = (oursValues[i] as number[][][][]).flat(3);
        const b = (theirsValues[i] as number[][][][]).flat(3);
        const scale = Math.max(...b.map(Math.abs));
        assert.ok(Math.max(...a.map((v, k) => Math.abs(v - b[k]!))) < 1e-4 * scale, `gradient ${i} matches`);
      }
    } finally {
      await tf.setBackend(backend);
    }
  });

  it("learns real MNIST digits on the wasm backend (a slice, four epochs), predicts the same after its weights are loaded again, and the bundle's plain-JavaScript network agrees", async () => {
    const dir = tempWorkspace("mnist");
    const { index } = writePackagedDigits("mnist", path.join(dir, "data", "mnist"), "data/mnist");
    const { table } = loadTableBlocking(index);
    assert.equal(table.nRows, 10_000);
    const read = (p: string) => fs.readFileSync(path.join(dir, p));
    const data = splitForTask(table, { target: "label", task: "image_classification", seed: 5, testSize: 0.1, valSize: 0.1 });
    // every third row of each split: the split lists rows class by class, so a slice of its start would hold a few digits only
    const slice = (rows: number[]) => rows.filter((_, i) => i % 3 === 0);
    const small = { ...data, split: { ...data.split, train: slice(data.split.train), val: slice(data.split.val), test: slice(data.split.test) } };
    const profileStep = proposedImageStep({
      proposed: { width: 28, height: 28, channels: 1 },
      column: IMAGE_COLUMN,
      sizes: [{ width: 28, height: 28, count: 1 }],
    } as never);
    const prepared = prepareImages([profileStep], table, small, read);
    const epochs: number[] = [];
    const trained = await trainCnn(prepared.train, 10, { epochs: 4 }, { seed: 1, val: prepared.val, onEpoch: (e) => void epochs.push(e.val_accuracy!) });
    assert.equal(trained.backend, "wasm");
    const proba = await trained.predict(prepared.test);
    const { accuracy } = accuracyAndLogLoss(proba, prepared.test.labels, 10);
    assert.ok(accuracy > 0.88, `test accuracy ${accuracy} after 4 epochs on ${prepared.train.n} digits`);
    const loaded = await loadCnn(
      JSON.parse(
        JSON.stringify(trained.state, (_k, v) => (v instanceof Float32Array ? Array.from(v) : v)),
        (_k, v) => v,
      ),
    );
    const again = await loaded.predict(prepared.test);
    assert.ok(Math.max(...Array.from(again, (p, i) => Math.abs(p - proba[i]!))) < 1e-4, "the loaded weights predict the same");
    // the plain-JavaScript forward pass a bundle predicts with gives tfjs's probabilities
    const size = 28 * 28;
    for (let i = 0; i < 50; i++) {
      const js = cnnProbabilities(trained.state, prepared.test.pixels.subarray(i * size, (i + 1) * size));
      for (let c = 0; c < 10; c++)
        assert.ok(Math.abs(js[c]! - proba[i * 10 + c]!) < 1e-4, `image ${i}, class ${c}: ${js[c]} against tfjs's ${proba[i * 10 + c]}`);
    }
    trained.dispose();
    loaded.dispose();
  });
});
