/**
 * The summary of a protocol over its splits or folds: the mean and spread of
 * each metric, and one table line to paste next to the paper's.
 *
 * @module
 */

/** Mean and spread of one metric over folds. */
export interface MetricSummary {
  mean: number;
  /** Sample standard deviation over folds (n − 1 in the denominator); 0 for one fold. */
  spread: number;
}

/**
 * Mean and sample standard deviation (n − 1) of `values`; throws `RangeError`
 * for no value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { meanAndSpread } from "./aggregate.ts";
 * assert.deepEqual(meanAndSpread([1, 3]), { mean: 2, spread: Math.SQRT2 }); // sqrt((1 + 1) / 1)
 * assert.deepEqual(meanAndSpread([0.4]), { mean: 0.4, spread: 0 });
 * ```
 */
export function meanAndSpread(values: readonly number[]): MetricSummary {
  const n = values.length;
  if (n === 0) throw new RangeError("Cannot summarise no folds");
  const mean = values.reduce((s, v) => s + v, 0) / n;
  if (n === 1) return { mean, spread: 0 };
  const ss = values.reduce((s, v) => s + (v - mean) ** 2, 0);
  return { mean, spread: Math.sqrt(ss / (n - 1)) };
}

/** How a metric is written: percentages for rates, plain numbers for ranks and d′. */
function shown(metric: string, value: number): string {
  const percent = metric === "top1" || metric === "mAP" || metric === "rocAuc" ||
    metric.startsWith("R@");
  return percent ? (100 * value).toFixed(1) : value.toFixed(metric === "dPrime" ? 3 : 1);
}

/** The names the paper's tables use. */
const LABELS: Record<string, string> = {
  top1: "top-1",
  mAP: "mAP",
  rocAuc: "AUC",
  dPrime: "d′",
  medianRank: "MedR",
};

/**
 * One Markdown table row: the benchmark, the folds (`"5 folds"`), then `mean ± spread` of
 * each metric (rates in %, d′ and median rank as numbers).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tableLine } from "./aggregate.ts";
 * const line = tableLine("ESC-50", { folds: "2 folds", metrics: { top1: { mean: 0.6, spread: 0.1414 } } });
 * assert.equal(line, "| ESC-50 | 2 folds | top-1 60.0 ± 14.1 |");
 * ```
 */
export function tableLine(
  title: string,
  summary: { folds: string; metrics: Record<string, MetricSummary> },
): string {
  const cells = Object.entries(summary.metrics).map(([m, s]) =>
    `${LABELS[m] ?? m} ${shown(m, s.mean)} ± ${shown(m, s.spread)}`
  );
  return `| ${title} | ${summary.folds} | ${cells.join(" | ")} |`;
}
