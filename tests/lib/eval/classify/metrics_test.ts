import assert from "node:assert/strict";
import fc from "fast-check";
import {
  argmaxRows,
  confusionMatrix,
  meanAveragePrecision,
  rocAuc,
  topKAccuracy,
} from "../../../../lib/eval/classify/metrics.ts";

const close = (a: number, b: number, what = "") =>
  assert.ok(Math.abs(a - b) < 1e-12, `${what} ${a} ≠ ${b}`);

// 4 examples × 6 classes
const LOGITS = new Float32Array([
  0.1,
  0.9,
  0.2,
  0.3,
  0.4,
  0.5, // label 1: rank 1
  0.6,
  0.1,
  0.5,
  0.4,
  0.3,
  0.2, // label 2: rank 2
  0.1,
  0.2,
  0.3,
  0.4,
  0.5,
  0.6, // label 0: rank 6
  0.3,
  0.3,
  0.3,
  0.3,
  0.3,
  0.3, // label 3: all tied → pessimistic rank 6
]);
const LABELS = new Int32Array([1, 2, 0, 3]);

Deno.test("topKAccuracy() gives hand-computed top-1 and top-5 accuracy", () => {
  assert.equal(topKAccuracy(LOGITS, LABELS), 1 / 4);
  assert.equal(topKAccuracy(LOGITS, LABELS, 1), 1 / 4);
  assert.equal(topKAccuracy(LOGITS, LABELS, { k: 2 }), 2 / 4);
  assert.equal(topKAccuracy(LOGITS, LABELS, { k: 5 }), 2 / 4);
  assert.equal(topKAccuracy(LOGITS, LABELS, { k: 6 }), 1);
});

Deno.test("topKAccuracy() scores constant logits as wrong", () => {
  assert.equal(topKAccuracy(new Float32Array(12).fill(1), new Int32Array([0, 1, 2]), 1), 0);
});

Deno.test("topKAccuracy() rejects NaN, bad labels, bad K and ragged logits", () => {
  assert.throws(() => topKAccuracy(new Float32Array([0, NaN]), new Int32Array([0])), /NaN/);
  assert.throws(() => topKAccuracy(new Float32Array([0, 1]), new Int32Array([2])), /label 2/);
  assert.throws(() => topKAccuracy(LOGITS, LABELS, 0), RangeError);
  assert.throws(() => topKAccuracy(new Float32Array(5), new Int32Array(2)), /do not split/);
});

Deno.test("argmaxRows() and confusionMatrix() count hand-made predictions", () => {
  const pred = argmaxRows(LOGITS, { numClasses: 6 });
  assert.deepEqual([...pred], [1, 0, 5, 0]); // first index wins on ties
  const m = confusionMatrix(pred, LABELS, 6);
  const expected = Array.from({ length: 6 }, () => new Array(6).fill(0));
  expected[1][1] = 1; // true 1 → predicted 1
  expected[2][0] = 1;
  expected[0][5] = 1;
  expected[3][0] = 1;
  assert.deepEqual(m, expected);
  assert.deepEqual(confusionMatrix([0, 1, 1, 1], [0, 0, 1, 1], { numClasses: 2 }), [[1, 1], [
    0,
    2,
  ]]);
  assert.throws(() => confusionMatrix([0, 3], [0, 1], 2), /label 3/);
  assert.throws(() => confusionMatrix([0], [0, 1], 2), /1 predictions for 2 labels/);
});

/** scikit-learn's average_precision_score written out: Σ (R_t − R_{t−1}) P_t over distinct thresholds. */
function sklearnAveragePrecision(y: number[], s: number[]): number {
  const thresholds = [...new Set(s)].sort((a, b) => b - a);
  const positives = y.reduce((a, b) => a + b, 0);
  let ap = 0;
  let previousRecall = 0;
  for (const t of thresholds) {
    let tp = 0;
    let fp = 0;
    for (let i = 0; i < y.length; i++) {
      if (s[i] >= t) y[i] === 1 ? tp++ : fp++;
    }
    const recall = tp / positives;
    ap += (recall - previousRecall) * (tp / (tp + fp));
    previousRecall = recall;
  }
  return ap;
}

Deno.test("meanAveragePrecision() gives the hand-computed value and skips empty classes", () => {
  // 5 examples × 3 classes, columns: class 0, class 1, class 2 (no positives)
  const scores = new Float32Array([
    0.9,
    0.1,
    0.5,
    0.8,
    0.4,
    0.5,
    0.7,
    0.35,
    0.5,
    0.6,
    0.8,
    0.5,
    0.5,
    0.2,
    0.5,
  ]);
  const targets = new Uint8Array([
    1,
    0,
    0,
    0,
    1,
    0,
    1,
    0,
    0,
    1,
    1,
    0,
    0,
    0,
    0,
  ]);
  const r = meanAveragePrecision(scores, targets, { numClasses: 3 });
  // class 0: positives at ranks 1, 3, 4 → precisions 1/1, 2/3, 3/4
  const ap0 = (1 / 1 + 2 / 3 + 3 / 4) / 3;
  // class 1: positives (0.8, 0.4) are the top two → precisions 1/1, 2/2
  const ap1 = 1;
  close(r.perClass[0], ap0, "class 0");
  close(r.perClass[1], ap1, "class 1");
  assert.ok(Number.isNaN(r.perClass[2]));
  close(r.mean, (ap0 + ap1) / 2, "mAP");
  assert.equal(r.skippedClasses, 1);
  assert.equal(r.evaluatedClasses, 2);
  close(ap0, sklearnAveragePrecision([1, 0, 1, 1, 0], [0.9, 0.8, 0.7, 0.6, 0.5]), "sklearn");
});

Deno.test("meanAveragePrecision() groups tied scores like scikit-learn", () => {
  // threshold 0.5: 1 of 2 positive (P = 1/2, R = 1/2); 0.3: 2 of 3 (P = 2/3, R = 1)
  const r = meanAveragePrecision(
    new Float32Array([0.5, 0.5, 0.3, 0.1]),
    new Uint8Array([1, 0, 1, 0]),
    {
      numClasses: 1,
    },
  );
  close(r.mean, 0.5 * 0.5 + 0.5 * (2 / 3));
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.boolean()), {
        minLength: 1,
        maxLength: 12,
      }),
      (rows) => {
        const s = rows.map(([v]) => v / 4);
        const y = rows.map(([, p]) => (p ? 1 : 0));
        const got = meanAveragePrecision(new Float32Array(s), new Uint8Array(y), { numClasses: 1 });
        if (y.every((v) => v === 0)) return assert.equal(got.skippedClasses, 1);
        assert.ok(Math.abs(got.mean - sklearnAveragePrecision(y, s)) < 1e-9);
      },
    ),
    { seed: 11, numRuns: 300 },
  );
});

/** AUC by counting every positive/negative pair: win 1, tie 1/2. */
function pairwiseAuc(y: number[], s: number[]): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < y.length; i++) {
    for (let j = 0; j < y.length; j++) {
      if (y[i] === 1 && y[j] === 0) {
        pairs++;
        wins += s[i] > s[j] ? 1 : s[i] === s[j] ? 0.5 : 0;
      }
    }
  }
  return wins / pairs;
}

Deno.test("rocAuc() counts ties as 1/2 and averages classes with both kinds of example", () => {
  // 4 examples × 3 classes; class 2 has only positives → skipped
  const scores = new Float32Array([
    0.8,
    0.9,
    0.1,
    0.4,
    0.1,
    0.2,
    0.5,
    0.2,
    0.3,
    0.8,
    0.3,
    0.4,
  ]);
  const targets = new Uint8Array([
    1,
    1,
    1,
    1,
    0,
    1,
    0,
    0,
    1,
    0,
    0,
    1,
  ]);
  const r = rocAuc(scores, targets, { numClasses: 3 });
  // class 0: (0.8 vs 0.5) 1, (0.8 vs 0.8) 1/2, (0.4 vs 0.5) 0, (0.4 vs 0.8) 0 → 1.5 / 4
  close(r.perClass[0], 0.375);
  close(r.perClass[1], 1);
  assert.ok(Number.isNaN(r.perClass[2]));
  close(r.mean, (0.375 + 1) / 2);
  assert.equal(r.skippedClasses, 1);
  const constant = rocAuc(new Float32Array(6).fill(2), new Uint8Array([1, 0, 1, 0, 0, 1]), {
    numClasses: 1,
  });
  close(constant.mean, 0.5);
});

Deno.test("rocAuc() equals the pairwise Mann–Whitney count", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.boolean()), {
        minLength: 2,
        maxLength: 15,
      }),
      (rows) => {
        const s = rows.map(([v]) => v);
        const y = rows.map(([, p]) => (p ? 1 : 0));
        const got = rocAuc(new Float32Array(s), new Uint8Array(y), { numClasses: 1 });
        if (y.every((v) => v === y[0])) return assert.equal(got.skippedClasses, 1);
        assert.ok(Math.abs(got.mean - pairwiseAuc(y, s)) < 1e-12);
      },
    ),
    { seed: 5, numRuns: 300 },
  );
});

Deno.test("meanAveragePrecision() and rocAuc() reject NaN, non-binary targets and bad shapes", () => {
  const opts = { numClasses: 2 };
  for (const f of [meanAveragePrecision, rocAuc]) {
    assert.throws(() => f(new Float32Array([0, NaN]), new Uint8Array([1, 0]), opts), /NaN/);
    assert.throws(() => f(new Float32Array([0, 1]), new Uint8Array([2, 0]), opts), /not 0 or 1/);
    assert.throws(() => f(new Float32Array(3), new Uint8Array(3), opts), /rows of 2/);
    assert.throws(() => f(new Float32Array(4), new Uint8Array(2), opts), /targets have 2/);
  }
});
