/**
 * Retrieval the other way round: the candidates of a forward ranking (for
 * `text-video`, the clips' video) become the queries, and the forward queries
 * (the captions) the candidates. A clip may own several captions, so a
 * reversed query has one or more positives: the rank is that of its best one
 * (ties counted against the query, as in `metrics.ts`). Candidates that own
 * no forward query (a clip without audio in `audio-video`) ask nothing.
 *
 * Chance for a query with P positives among N candidates: Recall@K is
 * `1 − C(N−P, K) / C(N, K)` and the expected rank of the best positive is
 * `(N + 1) / (P + 1)`, each averaged over the queries.
 *
 * @module
 */
import {
  cosineSimilarityMatrix,
  DEFAULT_RECALL_KS,
  type RetrievalMetrics,
  retrievalMetrics,
  summariseRanks,
} from "./metrics.ts";

/** Options of {@linkcode rankReversed}. */
export interface RankReversedOptions {
  /** Vector length. */
  dim: number;
  /** For each forward query, the forward candidate it should find. */
  owner: ArrayLike<number>;
  /** The K of each Recall@K. Default 1, 5, 10. */
  ks?: number[];
}

/** The outcome of {@linkcode rankReversed}: metrics, chance and the counts. */
export interface ReversedRanking extends RetrievalMetrics {
  /** Reversed queries ranked (forward candidates that own a forward query). */
  queries: number;
  /** Candidates each reversed query ranks (all forward queries). */
  candidates: number;
  /** What a random ranking scores (see the module documentation). */
  chance: { recallAtK: Record<number, number>; medianRank: number; meanRank: number };
}

/**
 * Ranks the forward queries for each forward candidate that owns one, by
 * cosine similarity.
 *
 * @param forwardQueries `[Q, dim]`: they become the candidates.
 * @param forwardCandidates `[C, dim]`: those owning a forward query become the queries.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rankReversed } from "./reverse.ts";
 * // Three captions (forward queries) of two clips: captions 0 and 1 belong to clip 0.
 * const captions = new Float32Array([1, 0, 0, 1, 1, 1]);
 * const clips = new Float32Array([0, 1, 1, 0]);
 * const r = rankReversed(captions, clips, { dim: 2, owner: [0, 0, 1], ks: [1] });
 * // Clip 0 ([0, 1]) finds caption 1 first (a positive): rank 1. Clip 1 ([1, 0]) finds caption 0
 * // (clip 0's) before its own caption 2: rank 2.
 * assert.equal(r.ranks.join(), "1,2");
 * assert.equal(r.queries, 2);
 * assert.equal(r.candidates, 3);
 * // Chance of R@1: 2 of 3 for clip 0, 1 of 3 for clip 1.
 * assert.equal(r.chance.recallAtK[1], 0.5);
 * assert.equal(r.chance.meanRank, ((3 + 1) / 3 + (3 + 1) / 2) / 2);
 * ```
 */
export function rankReversed(
  forwardQueries: Float32Array,
  forwardCandidates: Float32Array,
  options: RankReversedOptions,
): ReversedRanking {
  const { dim, owner } = options;
  const ks = options.ks ?? [...DEFAULT_RECALL_KS];
  const n = forwardQueries.length / dim;
  const owned = new Map<number, number[]>();
  for (let q = 0; q < owner.length; q++) {
    const list = owned.get(owner[q]) ?? [];
    list.push(q);
    owned.set(owner[q], list);
  }
  const askers = [...owned.keys()].sort((a, b) => a - b);
  const vectors = new Float32Array(askers.length * dim);
  askers.forEach((c, i) =>
    vectors.set(forwardCandidates.subarray(c * dim, (c + 1) * dim), i * dim)
  );
  const sim = cosineSimilarityMatrix(vectors, forwardQueries, dim);
  const m = retrievalMetrics(sim, {
    queries: askers.length,
    candidates: n,
    positives: (i) => owned.get(askers[i])!,
    ks,
  });
  const positives = askers.map((c) => owned.get(c)!.length);
  return {
    ...summariseRanks(m.ranks, ks),
    queries: askers.length,
    candidates: n,
    chance: chanceOf(positives, n, ks),
  };
}

/** Chance Recall@K and expected best rank for queries with `positives[i]` positives among `n`. */
function chanceOf(positives: number[], n: number, ks: readonly number[]) {
  const recallAtK: Record<number, number> = {};
  for (const k of ks) {
    let sum = 0;
    for (const p of positives) {
      // P(no positive in the top K) = Π_{i<K} (n − p − i) / (n − i).
      let miss = 1;
      for (let i = 0; i < Math.min(k, n); i++) miss *= Math.max(0, n - p - i) / (n - i);
      sum += 1 - miss;
    }
    recallAtK[k] = sum / positives.length;
  }
  const expected = positives.map((p) => (n + 1) / (p + 1));
  const meanRank = expected.reduce((a, b) => a + b, 0) / expected.length;
  const sorted = [...expected].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const medianRank = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { recallAtK, medianRank, meanRank };
}
