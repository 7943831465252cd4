/**
 * Retrieval metrics for cross-modal search (video→text, text→video, video→audio, ...):
 * Recall@K, median rank and mean rank, computed from a query × candidate similarity matrix
 * ({@linkcode retrievalMetrics}) or straight from query and candidate vectors ranked by cosine
 * similarity, a chunk of queries at a time ({@linkcode rankByCosine}).
 *
 * ## Rank and ties
 * The rank of a query is the 1-based position of its best-scoring correct candidate:
 *
 *     rank(q) = 1 + #{ c ∉ positives(q) : score(q, c) ≥ score(q, best positive) }
 *
 * Ties are counted pessimistically: a wrong candidate whose score EQUALS the best positive's
 * counts as ranked above it. Other positives never count against a query, tied or not. So a
 * model that gives every candidate the same score gets the worst possible rank
 * (`1 + candidates − |positives|`), never a lucky rank 1.
 *
 * ## Summary numbers (the VATT / MIL-NCE protocol)
 * - Recall@K: the fraction of queries whose rank is ≤ K.
 * - Median rank: the median of the 1-based ranks (the mean of the two middle ranks when the
 *   number of queries is even).
 * - Mean rank: the arithmetic mean of the ranks.
 *
 * @module
 */

/** Options of {@linkcode retrievalMetrics}. */
export interface RetrievalOptions {
  /** Number of queries Q: the rows of the similarity matrix. */
  queries: number;
  /** Number of candidates C: the columns of the similarity matrix. */
  candidates: number;
  /**
   * Indices (in [0, C)) of the correct candidates for query `q`; at least one per query.
   * Duplicates are allowed.
   */
  positives: (q: number) => ArrayLike<number>;
  /** The K of each Recall@K to report. Default `[1, 5, 10]`. */
  ks?: number[];
}

/** The result of {@linkcode retrievalMetrics}. */
export interface RetrievalMetrics {
  /** Recall@K in [0, 1] for each requested K. */
  recallAtK: Record<number, number>;
  /** Median of the 1-based ranks (mean of the two middle ones for an even count). */
  medianRank: number;
  /** Mean of the 1-based ranks. */
  meanRank: number;
  /** The 1-based rank of each query, `[Q]`. */
  ranks: Int32Array;
}

/** The default K values of Recall@K. */
export const DEFAULT_RECALL_KS: readonly number[] = [1, 5, 10];

function checkCount(name: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new RangeError(
      `Cannot compute retrieval metrics: ${name} must be a positive integer, got ${value}`,
    );
  }
}

/**
 * Computes Recall@K, median rank and mean rank from a similarity matrix (higher = more similar).
 * Ties between the best positive and a wrong candidate count against the query (see the module
 * documentation).
 *
 * @param similarity `[Q, C]` row-major scores; NaN is rejected with a RangeError.
 * @param options shape, positives and the Ks.
 * @throws {RangeError} on a size mismatch, a NaN score, a query without positives, a positive
 *   index out of range or a K that is not a positive integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { retrievalMetrics } from "./metrics.ts";
 * // 2 queries × 3 candidates; query q's match is candidate q.
 * const sim = new Float32Array([
 *   0.9, 0.1, 0.2, // query 0: its match scores best → rank 1
 *   0.8, 0.5, 0.1, // query 1: candidate 0 beats the match → rank 2
 * ]);
 * const m = retrievalMetrics(sim, { queries: 2, candidates: 3, positives: (q) => [q], ks: [1, 5] });
 * assert.equal(m.recallAtK[1], 0.5);
 * assert.equal(m.recallAtK[5], 1);
 * assert.equal(m.medianRank, 1.5);
 * assert.equal(m.meanRank, 1.5);
 * ```
 */
export function retrievalMetrics(
  similarity: Float32Array | Float64Array | ArrayLike<number>,
  options: RetrievalOptions,
): RetrievalMetrics {
  const { queries, candidates, positives } = options;
  const ks = options.ks ?? [...DEFAULT_RECALL_KS];
  checkCount("queries", queries);
  checkCount("candidates", candidates);
  if (similarity.length !== queries * candidates) {
    throw new RangeError(
      `Cannot compute retrieval metrics: similarity has ${similarity.length} values, expected ${queries} × ${candidates} = ${
        queries * candidates
      }`,
    );
  }
  for (const k of ks) {
    if (!Number.isInteger(k) || k <= 0) {
      throw new RangeError(`Cannot compute Recall@K for K = ${k}: K must be a positive integer`);
    }
  }

  const ranks = new Int32Array(queries);
  const isPositive = new Uint8Array(candidates);
  for (let q = 0; q < queries; q++) {
    const row = q * candidates;
    for (let c = 0; c < candidates; c++) {
      if (Number.isNaN(similarity[row + c])) {
        throw new RangeError(`Cannot rank query ${q}: score of candidate ${c} is NaN`);
      }
    }
    const pos = positives(q);
    if (pos.length === 0) throw new RangeError(`Cannot rank query ${q}: it has no positives`);
    let best = -Infinity;
    for (let i = 0; i < pos.length; i++) {
      const p = pos[i];
      if (!Number.isInteger(p) || p < 0 || p >= candidates) {
        throw new RangeError(
          `Cannot rank query ${q}: positive index ${p} is outside [0, ${candidates})`,
        );
      }
      isPositive[p] = 1;
      best = Math.max(best, similarity[row + p]);
    }
    let above = 0;
    for (let c = 0; c < candidates; c++) {
      if (isPositive[c] === 0 && similarity[row + c] >= best) above++;
    }
    ranks[q] = 1 + above;
    for (let i = 0; i < pos.length; i++) isPositive[pos[i]] = 0;
  }

  return summariseRanks(ranks, ks);
}

/**
 * Recall@K, median and mean of a non-empty list of 1-based ranks (the median is the mean of
 * the two middle ranks for an even count).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { summariseRanks } from "./metrics.ts";
 * const m = summariseRanks(new Int32Array([1, 4, 2, 6]), [1, 5]);
 * assert.deepEqual(m.recallAtK, { 1: 0.25, 5: 0.75 });
 * assert.equal(m.medianRank, 3);
 * assert.equal(m.meanRank, 3.25);
 * ```
 */
export function summariseRanks(ranks: Int32Array, ks: readonly number[]): RetrievalMetrics {
  const n = ranks.length;
  const recallAtK: Record<number, number> = {};
  for (const k of ks) {
    let hits = 0;
    for (let q = 0; q < n; q++) if (ranks[q] <= k) hits++;
    recallAtK[k] = hits / n;
  }
  let sum = 0;
  for (let q = 0; q < n; q++) sum += ranks[q];
  const sorted = Int32Array.from(ranks).sort();
  const mid = n >> 1;
  const medianRank = n % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { recallAtK, medianRank, meanRank: sum / n, ranks };
}

/** Options of {@linkcode cosineSimilarityMatrix}. */
export interface CosineSimilarityOptions {
  /** Vector length D shared by both inputs. */
  dim: number;
}

/**
 * Cosine similarity between every row of `a` (`[N, D]`) and every row of `b` (`[M, D]`),
 * accumulated in float64, returned as `[N, M]` row-major. A zero vector has similarity 0 with
 * everything (rather than NaN).
 *
 * @param dimOrOptions D, or `{ dim: D }`.
 * @throws {RangeError} if D is not a positive integer or does not divide an input's length.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cosineSimilarityMatrix } from "./metrics.ts";
 * const a = new Float32Array([1, 0, 0, 2]); // 2 × 2
 * const b = new Float32Array([3, 0]); // 1 × 2
 * const s = cosineSimilarityMatrix(a, b, { dim: 2 });
 * assert.equal(s.length, 2);
 * assert.equal(s[0], 1);
 * assert.equal(s[1], 0);
 * ```
 */
export function cosineSimilarityMatrix(
  a: Float32Array | ArrayLike<number>,
  b: Float32Array | ArrayLike<number>,
  dimOrOptions: number | CosineSimilarityOptions,
): Float32Array {
  const d = typeof dimOrOptions === "number" ? dimOrOptions : dimOrOptions.dim;
  if (!Number.isInteger(d) || d <= 0) {
    throw new RangeError(`Cannot compute cosine similarities with dimension ${d}`);
  }
  for (const [name, x] of [["a", a], ["b", b]] as const) {
    if (x.length % d !== 0) {
      throw new RangeError(
        `Cannot compute cosine similarities: ${name} has ${x.length} values, not a multiple of dimension ${d}`,
      );
    }
  }
  const n = a.length / d;
  const m = b.length / d;
  const invNorm = (x: ArrayLike<number>, rows: number): Float64Array => {
    const out = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += x[r * d + j] * x[r * d + j];
      out[r] = s > 0 ? 1 / Math.sqrt(s) : 0;
    }
    return out;
  };
  const na = invNorm(a, n);
  const nb = invNorm(b, m);
  const out = new Float32Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < m; k++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += a[i * d + j] * b[k * d + j];
      out[i * m + k] = s * na[i] * nb[k];
    }
  }
  return out;
}

/** Options of {@linkcode rankByCosine}. */
export interface RankByCosineOptions {
  /** Vector length. */
  dim: number;
  /** The candidate index each query should find. */
  owner: ArrayLike<number>;
  /** The K of each Recall@K. Default 1, 5, 10. */
  ks?: number[];
  /** Queries scored at once (bounds memory to `chunk × candidates` floats). Default 1024. */
  chunk?: number;
}

/**
 * Ranks every candidate for every query by cosine similarity, a chunk of
 * queries at a time, and summarises the ranks of the owners as
 * {@linkcode retrievalMetrics} does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rankByCosine } from "./metrics.ts";
 * const q = new Float32Array([1, 0, 0, 1]); // two queries
 * const c = new Float32Array([0, 1, 1, 0]); // two candidates
 * const m = rankByCosine(q, c, { dim: 2, owner: [1, 1] });
 * assert.equal(m.ranks.join(), "1,2");
 * assert.equal(m.recallAtK[1], 0.5);
 * ```
 */
export function rankByCosine(
  queries: Float32Array,
  candidates: Float32Array,
  options: RankByCosineOptions,
): RetrievalMetrics {
  const { dim, owner } = options;
  const ks = options.ks ?? [...DEFAULT_RECALL_KS];
  const chunk = options.chunk ?? 1024;
  if (!Number.isInteger(chunk) || chunk < 1) {
    throw new RangeError(`Cannot rank: chunk must be a positive integer, got ${chunk}`);
  }
  const q = queries.length / dim;
  const c = candidates.length / dim;
  if (owner.length !== q) {
    throw new RangeError(`Cannot rank ${q} queries with ${owner.length} owners`);
  }
  const ranks = new Int32Array(q);
  for (let start = 0; start < q; start += chunk) {
    const rows = Math.min(chunk, q - start);
    const sim = cosineSimilarityMatrix(
      queries.subarray(start * dim, (start + rows) * dim),
      candidates,
      dim,
    );
    const part = retrievalMetrics(sim, {
      queries: rows,
      candidates: c,
      positives: (i) => [owner[start + i]],
      ks,
    });
    ranks.set(part.ranks, start);
  }
  return summariseRanks(ranks, ks);
}
