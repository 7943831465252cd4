import assert from "node:assert/strict";
import fc from "fast-check";
import {
  cosineSimilarityMatrix,
  rankByCosine,
  retrievalMetrics,
  summariseRanks,
} from "../../../../lib/eval/retrieval/metrics.ts";

Deno.test("retrievalMetrics() gives hand-computed ranks, Recall@K, median and mean rank", () => {
  // 3 queries × 4 candidates, query q matches candidate q.
  const sim = new Float32Array([
    0.9,
    0.1,
    0.2,
    0.3, // q0: match best → rank 1
    0.5,
    0.4,
    0.6,
    0.1, // q1: 0.5 and 0.6 above 0.4 → rank 3
    0.1,
    0.2,
    0.8,
    0.7, // q2: rank 1
  ]);
  const m = retrievalMetrics(sim, {
    queries: 3,
    candidates: 4,
    positives: (q) => [q],
    ks: [1, 2, 3],
  });
  assert.deepEqual([...m.ranks], [1, 3, 1]);
  assert.equal(m.recallAtK[1], 2 / 3);
  assert.equal(m.recallAtK[2], 2 / 3);
  assert.equal(m.recallAtK[3], 1);
  assert.equal(m.medianRank, 1);
  assert.equal(m.meanRank, 5 / 3);
});

Deno.test("retrievalMetrics() takes the mean of the two middle ranks for an even count", () => {
  // 4 queries × 5 candidates, positive = candidate 0; ranks 1, 2, 4, 5.
  const sim = new Float32Array([
    5,
    4,
    3,
    2,
    1, // rank 1
    4,
    5,
    3,
    2,
    1, // rank 2
    2,
    5,
    4,
    3,
    1, // rank 4
    1,
    5,
    4,
    3,
    2, // rank 5
  ]);
  const m = retrievalMetrics(sim, { queries: 4, candidates: 5, positives: () => [0] });
  assert.deepEqual([...m.ranks], [1, 2, 4, 5]);
  assert.equal(m.medianRank, 3); // (2 + 4) / 2
  assert.equal(m.meanRank, 3);
  assert.deepEqual(m.recallAtK, { 1: 0.25, 5: 1, 10: 1 });
});

Deno.test("retrievalMetrics() counts a wrong candidate tied with the positive as above it", () => {
  const sim = new Float32Array([0.5, 0.5, 0.1, 0.5]); // positive 0 tied with candidates 1 and 3
  const m = retrievalMetrics(sim, { queries: 1, candidates: 4, positives: () => [0], ks: [1] });
  assert.equal(m.ranks[0], 3);
  assert.equal(m.recallAtK[1], 0);
});

Deno.test("retrievalMetrics() ranks by the best of several positives, ignoring the others", async (t) => {
  await t.step("best positive decides", () => {
    // positives 1 and 3; best positive is 3 (0.7); only candidate 0 (0.9) is above it.
    const sim = new Float32Array([0.9, 0.2, 0.4, 0.7, 0.6]);
    const m = retrievalMetrics(sim, { queries: 1, candidates: 5, positives: () => [1, 3] });
    assert.equal(m.ranks[0], 2);
  });
  await t.step("positives tied with each other do not count against the query", () => {
    const sim = new Float32Array([0.3, 0.8, 0.8, 0.8, 0.1]);
    const m = retrievalMetrics(sim, {
      queries: 1,
      candidates: 5,
      positives: () => new Int32Array([1, 2, 3, 3]),
    });
    assert.equal(m.ranks[0], 1);
  });
});

Deno.test("retrievalMetrics() gives constant scores the worst possible rank", () => {
  const q = 4;
  const c = 6;
  const sim = new Float32Array(q * c).fill(0.25);
  const positives = (i: number) => (i % 2 === 0 ? [i] : [i, (i + 1) % c]);
  const m = retrievalMetrics(sim, { queries: q, candidates: c, positives, ks: [1, 5] });
  assert.deepEqual([...m.ranks], [6, 5, 6, 5]); // 1 + (C − |positives|)
  assert.equal(m.recallAtK[1], 0);
  assert.equal(m.recallAtK[5], 0.5);
});

Deno.test("retrievalMetrics() agrees with ranking by a pessimistic sort", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 1, max: 7 }),
      fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 35, maxLength: 35 }),
      fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 5, maxLength: 5 }),
      (q, c, raw, pos) => {
        const sim = new Float32Array(raw.slice(0, q * c));
        const positives = (i: number) => [pos[i] % c];
        const m = retrievalMetrics(sim, { queries: q, candidates: c, positives });
        for (let i = 0; i < q; i++) {
          // sort descending; on ties put negatives first: the rank is the positive's position
          const order = Array.from({ length: c }, (_, j) => j).sort((a, b) =>
            sim[i * c + b] - sim[i * c + a] ||
            Number(a === positives(i)[0]) - Number(b === positives(i)[0])
          );
          assert.equal(m.ranks[i], order.indexOf(positives(i)[0]) + 1);
        }
      },
    ),
    { seed: 7, numRuns: 200 },
  );
});

Deno.test("retrievalMetrics() rejects bad input with a RangeError", async (t) => {
  const base = { queries: 2, candidates: 2, positives: (q: number) => [q] };
  await t.step("NaN score", () => {
    assert.throws(() => retrievalMetrics(new Float32Array([1, NaN, 0, 1]), base), RangeError);
  });
  await t.step("size mismatch", () => {
    assert.throws(() => retrievalMetrics(new Float32Array(3), base), /3 values/);
  });
  await t.step("query without positives", () => {
    assert.throws(
      () => retrievalMetrics(new Float32Array(4), { ...base, positives: () => [] }),
      /no positives/,
    );
  });
  await t.step("positive out of range", () => {
    assert.throws(
      () => retrievalMetrics(new Float32Array(4), { ...base, positives: () => [2] }),
      /positive index 2/,
    );
  });
  await t.step("K = 0", () => {
    assert.throws(() => retrievalMetrics(new Float32Array(4), { ...base, ks: [0] }), /K = 0/);
  });
  await t.step("zero queries", () => {
    assert.throws(() => retrievalMetrics(new Float32Array(0), { ...base, queries: 0 }), RangeError);
  });
});

Deno.test("cosineSimilarityMatrix() matches hand-computed cosines", () => {
  const a = new Float32Array([3, 4, 0, /* */ 0, 0, 0]); // 2 × 3, second row is zero
  const b = new Float32Array([3, 4, 0, /* */ 0, 0, 2, /* */ -4, 3, 0]); // 3 × 3
  const s = cosineSimilarityMatrix(a, b, { dim: 3 });
  assert.equal(s.length, 6);
  const expected = [1, 0, 0, 0, 0, 0]; // (3·−4 + 4·3) = 0; zero row → 0
  for (let i = 0; i < 6; i++) assert.ok(Math.abs(s[i] - expected[i]) < 1e-6, `${i}: ${s[i]}`);
  const t = cosineSimilarityMatrix([1, 1], [1, 0], 2);
  assert.ok(Math.abs(t[0] - Math.SQRT1_2) < 1e-6);
  assert.throws(() => cosineSimilarityMatrix(a, b, 4), /not a multiple of dimension 4/);
  assert.throws(() => cosineSimilarityMatrix(a, b, 0), RangeError);
});

Deno.test("rankByCosine() in chunks equals retrievalMetrics() on the whole matrix", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 1, max: 7 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 5 }),
      fc.integer(),
      (q, c, d, chunk, seed) => {
        let s = seed >>> 0;
        const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
        // Coarse values make ties likely.
        const queries = Float32Array.from({ length: q * d }, () => Math.round(rand() * 2));
        const cands = Float32Array.from({ length: c * d }, () => Math.round(rand() * 2));
        const owner = Array.from({ length: q }, (_, i) => i % c);
        const got = rankByCosine(queries, cands, { dim: d, owner, chunk, ks: [1, 2] });
        const want = retrievalMetrics(cosineSimilarityMatrix(queries, cands, d), {
          queries: q,
          candidates: c,
          positives: (i) => [owner[i]],
          ks: [1, 2],
        });
        assert.deepEqual([...got.ranks], [...want.ranks]);
        assert.deepEqual(got.recallAtK, want.recallAtK);
        assert.equal(got.medianRank, want.medianRank);
        assert.equal(got.meanRank, want.meanRank);
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("summariseRanks() gives Recall@K, the median of an odd count and the mean", () => {
  const m = summariseRanks(new Int32Array([3, 1, 2]), [1, 2]);
  assert.deepEqual(m.recallAtK, { 1: 1 / 3, 2: 2 / 3 });
  assert.equal(m.medianRank, 2);
  assert.equal(m.meanRank, 2);
});
