/**
 * 2-D maps of embeddings for plotting: UMAP (through `umap-js`), exact t-SNE and PCA.
 * Every method is deterministic for a given seed.
 *
 * @module
 */

import { UMAP } from "umap-js";
import { Rng } from "../util/rng.ts";
import { pcaProject } from "./_pca.ts";
import { tsne } from "./_tsne.ts";

/** Options of {@linkcode embed2d}. */
export interface Embed2dOptions {
  /**
   * `"umap"`: UMAP with euclidean distance (`umap-js`, its default epochs and min_dist);
   * `"tsne"`: exact t-SNE, O(N²) time and memory per step (a few thousand points at most);
   * `"pca"`: the first two principal components.
   */
  method: "umap" | "tsne" | "pca";
  /** Seed of every random choice (UMAP's neighbour search and layout, t-SNE's start, PCA's start). */
  seed: number;
  /** UMAP neighbourhood size; clamped to N − 1. Default 15. */
  nNeighbors?: number;
  /** t-SNE perplexity; clamped to (N − 1) / 3. Default 30. */
  perplexity?: number;
  /** t-SNE gradient steps (default 1000) or UMAP epochs (default: umap-js's choice). */
  iterations?: number;
}

/**
 * Maps vectors (all of one length) to 2-D points.
 *
 * Inputs with fewer than 4 vectors are mapped by PCA whatever the method (UMAP and t-SNE
 * need neighbours); no vectors give `[]`.
 *
 * @throws {RangeError} when vectors differ in length, hold a non-finite value, or an option
 *   is out of range; {TypeError} on an unknown method.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { embed2d } from "./embed_2d.ts";
 * const vectors = [[0, 0, 1], [0, 1, 0], [1, 0, 0], [1, 1, 1], [2, 2, 2]].map((v) => new Float32Array(v));
 * const points = embed2d(vectors, { method: "pca", seed: 1 });
 * assert.equal(points.length, 5);
 * assert.equal(points[0].length, 2);
 * ```
 */
export function embed2d(
  vectors: readonly ArrayLike<number>[],
  options: Embed2dOptions,
): [number, number][] {
  const { method, seed } = options;
  if (method !== "umap" && method !== "tsne" && method !== "pca") {
    throw new TypeError(
      `Cannot embed with method ${JSON.stringify(method)}: expected umap, tsne or pca`,
    );
  }
  if (!Number.isFinite(seed)) throw new RangeError(`Cannot embed with seed ${seed}`);
  const nNeighbors = options.nNeighbors ?? 15;
  const perplexity = options.perplexity ?? 30;
  if (!Number.isInteger(nNeighbors) || nNeighbors < 2) {
    throw new RangeError(`Cannot run UMAP with nNeighbors ${nNeighbors}: expected an integer ≥ 2`);
  }
  if (!(perplexity > 0) || !Number.isFinite(perplexity)) {
    throw new RangeError(
      `Cannot run t-SNE with perplexity ${perplexity}: expected a positive number`,
    );
  }
  if (
    options.iterations !== undefined &&
    (!Number.isInteger(options.iterations) || options.iterations < 1)
  ) {
    throw new RangeError(
      `Cannot embed with ${options.iterations} iterations: expected a positive integer`,
    );
  }
  const n = vectors.length;
  if (n === 0) return [];
  const d = vectors[0].length;
  if (d === 0) throw new RangeError("Cannot embed vectors of length 0");
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    if (vectors[i].length !== d) {
      throw new RangeError(`Cannot embed vector ${i}: length ${vectors[i].length}, expected ${d}`);
    }
    for (let j = 0; j < d; j++) {
      const v = vectors[i][j];
      if (!Number.isFinite(v)) throw new RangeError(`Cannot embed vector ${i}: value ${j} is ${v}`);
      x[i * d + j] = v;
    }
  }
  const rng = new Rng(seed).fork(method);
  let flat: Float64Array;
  if (method === "pca" || n < 4) {
    flat = pcaProject(x, { n, d }, { k: 2, rng });
  } else if (method === "tsne") {
    flat = tsne(x, { n, d }, { perplexity, iterations: options.iterations ?? 1000, rng });
  } else {
    const umap = new UMAP({
      nComponents: 2,
      nNeighbors: Math.min(nNeighbors, n - 1),
      nEpochs: options.iterations,
      random: () => rng.nextFloat(),
    });
    const rows = Array.from({ length: n }, (_, i) => Array.from(x.subarray(i * d, (i + 1) * d)));
    return umap.fit(rows).map(([a, b]) => [a, b]);
  }
  return Array.from({ length: n }, (_, i) => [flat[2 * i], flat[2 * i + 1]]);
}
