import { strict as assert } from "node:assert";
import { applyBins, fitBins } from "../../kernel/ml/trees/feature-binning";
import { leaseShardWorkers, releaseShardWorkers, runInParts } from "../../kernel/ml/trees/shard-workers";
import { sharedMirror } from "../../kernel/ml/trees/shared-memory";
import { seededRandom } from "../../kernel/data/seeded-random";

describe("tree worker jobs and shared memory", () => {
  it("bins a table the same on a worker as here", () => {
    const r = seededRandom(7);
    const rows = 30_000;
    const cols = 5;
    const data = new Float64Array(rows * cols).map((_, i) => (i % cols === 4 ? Math.floor(r() * 6) : r() < 0.03 ? NaN : (r() - 0.5) * 10 ** (i % cols)));
    const here = { data, rows, cols };
    const categorical = [false, false, false, false, true];
    const workers = leaseShardWorkers(1);
    try {
      assert.equal(workers.length, 1, "a spare core for the worker");
      const shared = { ...here, data: sharedMirror(data) };
      const mapper = fitBins(here, categorical);
      const mapperThere = fitBins(shared, categorical, 255, 200_000, (job, args, n) => runInParts(workers, job, args, n, 1));
      assert.deepEqual(mapperThere.edges, mapper.edges);
      assert.deepEqual(mapperThere.nBins, mapper.nBins);
      const bins = applyBins(mapper, here).bins;
      const binsThere = applyBins(mapper, shared, (job, args, n) => runInParts(workers, job, args, n, 1000)).bins;
      assert.deepEqual(Array.from(binsThere), Array.from(bins));
      assert.ok(
        bins.some((b) => b === 0),
        "missing values in bin 0",
      );
    } finally {
      releaseShardWorkers(workers);
    }
  });

  it("refuses a job whose arrays the workers could not write back", () => {
    const workers = leaseShardWorkers(1);
    try {
      const out = new Float64Array(100_000);
      const fill = (a: { out: Float64Array; from: number; to: number }) => a.out.fill(1, a.from, a.to);
      assert.throws(() => runInParts(workers, fill, { out }, out.length, 10), /out is not in shared memory/);
    } finally {
      releaseShardWorkers(workers);
    }
  });

  it("mirrors an array into shared memory once, and refreshes the mirror when the array changed", () => {
    const a = Float64Array.from([1, NaN, 3]);
    const m = sharedMirror(a);
    assert.ok(m.buffer instanceof SharedArrayBuffer);
    assert.equal(sharedMirror(a), m, "the same mirror for the same unchanged array");
    a[2] = 4;
    assert.equal(sharedMirror(a), m);
    assert.deepEqual(Array.from(m), [1, NaN, 4]);
  });
});
