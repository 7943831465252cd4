/**
 * Classification metrics on plain arrays: top-K accuracy and the confusion matrix (single-label
 * datasets such as UCF101, HMDB51, Kinetics, ESC-50), and mean average precision and ROC-AUC
 * (multi-label datasets such as AudioSet).
 *
 * Score matrices are `[N, C]` row-major (N examples, C classes); higher means more likely.
 * NaN scores are rejected with a RangeError everywhere.
 *
 * @module
 */

export { dPrime } from "./d_prime.ts";

/** Options of {@linkcode topKAccuracy}. */
export interface TopKOptions {
  /** K: a prediction is correct when the true class is among the K best. Default 1. */
  k?: number;
}

/** Options of the multi-label metrics: the class count C of the `[N, C]` inputs. */
export interface MultiLabelOptions {
  /** Number of classes C. */
  numClasses: number;
}

/** Per-class values and their macro average, from {@linkcode meanAveragePrecision} / {@linkcode rocAuc}. */
export interface PerClassMetric {
  /** Macro average over the evaluated classes (NaN if none could be evaluated). */
  mean: number;
  /** The value for each class, `[C]`; NaN for a skipped class. */
  perClass: Float64Array;
  /** Number of classes that entered the average. */
  evaluatedClasses: number;
  /** Number of classes skipped because the metric is undefined for them. */
  skippedClasses: number;
}

function checkScores(scores: ArrayLike<number>, rows: number, cols: number, what: string): void {
  if (scores.length !== rows * cols) {
    throw new RangeError(
      `Cannot compute ${what}: scores have ${scores.length} values, expected ${rows} × ${cols}`,
    );
  }
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i])) {
      throw new RangeError(
        `Cannot compute ${what}: score of example ${Math.floor(i / cols)}, class ${
          i % cols
        } is NaN`,
      );
    }
  }
}

function checkLabels(labels: ArrayLike<number>, numClasses: number, what: string): void {
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= numClasses) {
      throw new RangeError(
        `Cannot compute ${what}: label ${y} of example ${i} is outside [0, ${numClasses})`,
      );
    }
  }
}

function positiveInt(value: number, what: string, name: string): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new RangeError(
      `Cannot compute ${what}: ${name} must be a positive integer, got ${value}`,
    );
  }
}

/**
 * Top-K accuracy: the fraction of examples whose true class is among the K highest logits.
 * C is `logits.length / labels.length`.
 *
 * Ties are counted pessimistically, as in `retrievalMetrics`: the true class is in the
 * top K only if fewer than K OTHER classes have a logit ≥ its own. Constant logits therefore give
 * accuracy 0 (for K < C), not a lucky 1/C.
 *
 * @param logits `[N, C]` row-major scores.
 * @param labels `[N]` true class indices.
 * @param kOrOptions K, or `{ k }` (default 1).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { topKAccuracy } from "./metrics.ts";
 * const logits = new Float32Array([0.1, 0.7, 0.2, 0.5, 0.3, 0.2]); // 2 examples × 3 classes
 * const labels = new Int32Array([1, 2]);
 * assert.equal(topKAccuracy(logits, labels), 0.5);
 * assert.equal(topKAccuracy(logits, labels, { k: 3 }), 1);
 * ```
 */
export function topKAccuracy(
  logits: Float32Array | ArrayLike<number>,
  labels: Int32Array | ArrayLike<number>,
  kOrOptions: number | TopKOptions = {},
): number {
  const k = typeof kOrOptions === "number" ? kOrOptions : kOrOptions.k ?? 1;
  const what = `top-${k} accuracy`;
  positiveInt(k, what, "K");
  const n = labels.length;
  positiveInt(n, what, "the number of labels");
  const c = logits.length / n;
  if (!Number.isInteger(c) || c === 0) {
    throw new RangeError(
      `Cannot compute ${what}: ${logits.length} logits do not split into ${n} rows`,
    );
  }
  checkScores(logits, n, c, what);
  checkLabels(labels, c, what);
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const row = i * c;
    const own = logits[row + labels[i]];
    let atLeast = 0;
    for (let j = 0; j < c; j++) if (j !== labels[i] && logits[row + j] >= own) atLeast++;
    if (atLeast < k) correct++;
  }
  return correct / n;
}

/**
 * Index of the largest value in each row of a `[N, C]` matrix (the first one on ties).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { argmaxRows } from "./metrics.ts";
 * const p = argmaxRows(new Float32Array([0, 2, 1, 5, 4, 3]), { numClasses: 3 });
 * assert.equal(p[0], 1);
 * assert.equal(p[1], 0);
 * ```
 */
export function argmaxRows(
  scores: Float32Array | ArrayLike<number>,
  options: MultiLabelOptions,
): Int32Array {
  const c = options.numClasses;
  positiveInt(c, "argmax", "numClasses");
  if (scores.length % c !== 0) {
    throw new RangeError(
      `Cannot compute argmax: ${scores.length} values do not split into rows of ${c}`,
    );
  }
  const n = scores.length / c;
  checkScores(scores, n, c, "argmax");
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < c; j++) if (scores[i * c + j] > scores[i * c + best]) best = j;
    out[i] = best;
  }
  return out;
}

/**
 * Confusion matrix: `m[t][p]` counts the examples of true class `t` predicted as class `p`
 * (rows are true classes, columns predictions, as in scikit-learn).
 *
 * @param predictions `[N]` predicted class indices.
 * @param labels `[N]` true class indices.
 * @param numClassesOrOptions C, or `{ numClasses }`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { confusionMatrix } from "./metrics.ts";
 * const m = confusionMatrix([0, 1, 1], [0, 0, 1], 2);
 * assert.deepEqual(m, [[1, 1], [0, 1]]);
 * ```
 */
export function confusionMatrix(
  predictions: Int32Array | ArrayLike<number>,
  labels: Int32Array | ArrayLike<number>,
  numClassesOrOptions: number | MultiLabelOptions,
): number[][] {
  const c = typeof numClassesOrOptions === "number"
    ? numClassesOrOptions
    : numClassesOrOptions.numClasses;
  positiveInt(c, "a confusion matrix", "numClasses");
  if (predictions.length !== labels.length) {
    throw new RangeError(
      `Cannot compute a confusion matrix: ${predictions.length} predictions for ${labels.length} labels`,
    );
  }
  checkLabels(labels, c, "a confusion matrix");
  checkLabels(predictions, c, "a confusion matrix (predictions)");
  const m = Array.from({ length: c }, () => new Array<number>(c).fill(0));
  for (let i = 0; i < labels.length; i++) m[labels[i]][predictions[i]]++;
  return m;
}

function checkTargets(targets: ArrayLike<number>, n: number, c: number, what: string): void {
  if (targets.length !== n * c) {
    throw new RangeError(
      `Cannot compute ${what}: targets have ${targets.length} values, expected ${n} × ${c}`,
    );
  }
  for (let i = 0; i < targets.length; i++) {
    if (targets[i] !== 0 && targets[i] !== 1) {
      throw new RangeError(`Cannot compute ${what}: target ${targets[i]} at ${i} is not 0 or 1`);
    }
  }
}

function shape(
  scores: ArrayLike<number>,
  options: MultiLabelOptions,
  what: string,
): [number, number] {
  const c = options.numClasses;
  positiveInt(c, what, "numClasses");
  if (scores.length % c !== 0 || scores.length === 0) {
    throw new RangeError(
      `Cannot compute ${what}: ${scores.length} scores do not split into rows of ${c}`,
    );
  }
  return [scores.length / c, c];
}

function perClass(
  c: number,
  compute: (j: number) => number,
): PerClassMetric {
  const values = new Float64Array(c);
  let sum = 0;
  let evaluated = 0;
  for (let j = 0; j < c; j++) {
    values[j] = compute(j);
    if (!Number.isNaN(values[j])) {
      sum += values[j];
      evaluated++;
    }
  }
  return {
    mean: evaluated > 0 ? sum / evaluated : NaN,
    perClass: values,
    evaluatedClasses: evaluated,
    skippedClasses: c - evaluated,
  };
}

/** Example indices of a class's column, sorted by decreasing score (by index on ties). */
function sortedColumn(column: ScoredColumn): Int32Array {
  const { scores, n, c, j } = column;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return order.sort((a, b) => scores[b * c + j] - scores[a * c + j] || a - b);
}

/**
 * Mean average precision over classes (multi-label; the AudioSet metric).
 *
 * Per class, AP follows scikit-learn's `average_precision_score`: walking the distinct scores
 * from high to low, `AP = Σ_t (R_t − R_{t−1}) · P_t`, where `P_t` and `R_t` are the precision and
 * recall of predicting "positive" for scores ≥ t. Without ties this is the mean, over the
 * positives, of the precision at each positive's rank; examples sharing a score are taken
 * together (no interpolation). Classes with no positive example are skipped (AP undefined)
 * and counted in `skippedClasses`; `mean` averages the others.
 *
 * @param scores `[N, C]` row-major scores.
 * @param targets `[N, C]` multi-hot 0/1 targets.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { meanAveragePrecision } from "./metrics.ts";
 * // one class; positives at ranks 1 and 3 → AP = (1/1 + 2/3) / 2
 * const r = meanAveragePrecision(new Float32Array([0.9, 0.8, 0.7]), new Uint8Array([1, 0, 1]), {
 *   numClasses: 1,
 * });
 * assert.ok(Math.abs(r.mean - 5 / 6) < 1e-12);
 * ```
 */
export const meanAveragePrecision: MultiLabelMetric = multiLabelMetric(
  "mean average precision",
  averagePrecisionOf,
);

/** Average precision of one class (NaN without a positive). */
function averagePrecisionOf(column: ScoredColumn): number {
  const { positives } = column;
  if (positives === 0) return NaN;
  let ap = 0;
  let tp = 0;
  for (const tie of ties(column, sortedColumn(column))) {
    tp += tie.positives;
    ap += (tie.positives / positives) * (tp / tie.end);
  }
  return ap;
}

/**
 * ROC-AUC per class and its macro average (multi-label; AudioSet reports it with mAP).
 *
 * Per class, AUC is the Mann–Whitney statistic: the probability that a random positive scores
 * higher than a random negative, with ties counting 1/2. It is computed from mid-ranks:
 * `AUC = (Σ rank(positives) − P(P+1)/2) / (P · N)`. Classes without both a positive and a
 * negative example are skipped (AUC undefined) and counted in `skippedClasses`.
 *
 * @param scores `[N, C]` row-major scores.
 * @param targets `[N, C]` multi-hot 0/1 targets.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rocAuc } from "./metrics.ts";
 * // pairs (pos, neg): (0.8, 0.5) win, (0.8, 0.8) tie, (0.4, 0.5) loss, (0.4, 0.8) loss → 1.5 / 4
 * const r = rocAuc(new Float32Array([0.8, 0.4, 0.5, 0.8]), new Uint8Array([1, 1, 0, 0]), {
 *   numClasses: 1,
 * });
 * assert.equal(r.mean, 0.375);
 * ```
 */
export const rocAuc: MultiLabelMetric = multiLabelMetric("ROC-AUC", rocAucOf);

/** ROC-AUC of one class (NaN without both a positive and a negative). */
function rocAucOf(column: ScoredColumn): number {
  const { n, positives: pos } = column;
  const neg = n - pos;
  if (pos === 0 || neg === 0) return NaN;
  // ascending order; ranks 1..n, tied groups get their mid-rank
  const order = sortedColumn(column).reverse();
  let rankSum = 0;
  for (const tie of ties(column, order)) {
    const midRank = (tie.start + 1 + tie.end) / 2;
    rankSum += tie.positives * midRank;
  }
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** A per-class metric of `[N, C]` scores against `[N, C]` multi-hot 0/1 targets. */
export type MultiLabelMetric = (
  scores: Float32Array | ArrayLike<number>,
  targets: Uint8Array | ArrayLike<number>,
  options: MultiLabelOptions,
) => PerClassMetric;

/** One class (column `j`) of an `[n, c]` multi-label problem, with its count of positives. */
interface ScoredColumn {
  scores: ArrayLike<number>;
  targets: ArrayLike<number>;
  n: number;
  c: number;
  j: number;
  positives: number;
}

/**
 * A {@linkcode MultiLabelMetric} that checks its inputs, computes `ofColumn` for each class
 * (NaN skips the class) and averages them.
 */
function multiLabelMetric(
  what: string,
  ofColumn: (column: ScoredColumn) => number,
): MultiLabelMetric {
  return (scores, targets, options) => {
    const [n, c] = shape(scores, options, what);
    checkScores(scores, n, c, what);
    checkTargets(targets, n, c, what);
    return perClass(c, (j) => {
      let positives = 0;
      for (let i = 0; i < n; i++) positives += targets[i * c + j];
      return ofColumn({ scores, targets, n, c, j, positives });
    });
  };
}

/** A run of equal scores in a sorted column: positions `[start, end)` and the positives among them. */
interface Tie {
  start: number;
  end: number;
  positives: number;
}

/** The runs of tied scores of a column walked in `order`, first to last. */
function* ties(column: ScoredColumn, order: Int32Array): Generator<Tie> {
  const { scores, targets, n, c, j } = column;
  let start = 0;
  while (start < n) {
    const s = scores[order[start] * c + j];
    let end = start;
    let positives = 0;
    while (end < n && scores[order[end] * c + j] === s) {
      positives += targets[order[end] * c + j];
      end++;
    }
    yield { start, end, positives };
    start = end;
  }
}
