/**
 * Defaults shared by the commands that run a trained model over a dataset
 * (evaluation, export, fine-tuning's feature extraction) and draw what they
 * export: each is written here once, applied by the library when an option is
 * left out, and shown by the CLI's `--help`.
 *
 * @module
 */

/**
 * Clips per forward pass when embedding, classifying or exporting.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_EVAL_BATCH_SIZE } from "./eval_config.ts";
 * import { command } from "../../cli/eval_classify.ts";
 * assert.equal(command().opts().batch, DEFAULT_EVAL_BATCH_SIZE); // what --help shows
 * assert.equal(DEFAULT_EVAL_BATCH_SIZE, 16);
 * ```
 */
export const DEFAULT_EVAL_BATCH_SIZE = 16;

/**
 * The query-candidate pair `vatt eval retrieval` ranks when none is given:
 * captions query clips' video (the paper's YouCook2 / MSR-VTT protocol).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_RETRIEVAL_PAIR } from "./eval_config.ts";
 * import { PRESETS } from "./vatt_config.ts";
 * import { spaceOfPair } from "../eval/retrieval/retrieval.ts";
 * import { command } from "../../cli/eval_retrieval.ts";
 * assert.equal(command().opts().pair, DEFAULT_RETRIEVAL_PAIR); // what --help shows
 * assert.equal(spaceOfPair(DEFAULT_RETRIEVAL_PAIR, PRESETS.tiny), "vt"); // ranked in video-text space
 * ```
 */
export const DEFAULT_RETRIEVAL_PAIR = "text-video" as const;

/**
 * Windows `<clip>#w<k>` averaged per clip in retrieval when none is given: 1,
 * each dataset entry is taken as it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_RETRIEVAL_WINDOWS } from "./eval_config.ts";
 * import { groupWindows } from "../eval/retrieval/windows.ts";
 * import { command } from "../../cli/eval_retrieval.ts";
 * assert.equal(command().opts().windows, DEFAULT_RETRIEVAL_WINDOWS);
 * // One window: ids without a `#w<k>` suffix are their own clips.
 * assert.deepEqual(groupWindows(["a", "b"], DEFAULT_RETRIEVAL_WINDOWS).clipIds, ["a", "b"]);
 * ```
 */
export const DEFAULT_RETRIEVAL_WINDOWS = 1;

/**
 * The embedding space exported when none is given: the video-audio space.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_EXPORT_SPACE } from "./eval_config.ts";
 * import { SPACE_MODALITIES } from "../eval/embeddings/export.ts";
 * import { command } from "../../cli/export.ts";
 * assert.equal(command().opts().space, DEFAULT_EXPORT_SPACE);
 * assert.deepEqual(SPACE_MODALITIES[DEFAULT_EXPORT_SPACE], ["video", "audio"]);
 * ```
 */
export const DEFAULT_EXPORT_SPACE = "va" as const;

/**
 * The 2-D method of an embedding map (`vatt plot`) when none is given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_MAP_METHOD } from "./eval_config.ts";
 * import { embeddingMap } from "../eval/embeddings/map.ts";
 * import { command } from "../../cli/plot.ts";
 * assert.equal(command().opts().method, DEFAULT_MAP_METHOD);
 * // Leaving the method out maps the rows as the default method does, not as PCA.
 * const n = 8;
 * const rows = {
 *   ids: Array.from({ length: n }, (_, i) => `c${i}`),
 *   modality: Array.from({ length: n }, () => "video"),
 *   index: new Int32Array(n),
 *   vectors: Array.from({ length: n }, (_, i) => new Float32Array([i, i % 3, i % 2])),
 * };
 * const implied = embeddingMap(rows).points;
 * assert.deepEqual(implied, embeddingMap(rows, { method: DEFAULT_MAP_METHOD }).points);
 * assert.notDeepEqual(implied, embeddingMap(rows, { method: "pca" }).points);
 * ```
 */
export const DEFAULT_MAP_METHOD = "umap" as const;

/**
 * Seed of an embedding map's subsample and 2-D method when none is given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_MAP_SEED } from "./eval_config.ts";
 * import { embeddingMap } from "../eval/embeddings/map.ts";
 * import { command } from "../../cli/plot.ts";
 * assert.equal(command().opts().seed, DEFAULT_MAP_SEED);
 * // Leaving the seed out draws the same subsample as giving the default.
 * const n = 12;
 * const rows = {
 *   ids: Array.from({ length: n }, (_, i) => `c${i}`),
 *   modality: Array.from({ length: n }, () => "video"),
 *   index: new Int32Array(n),
 *   vectors: Array.from({ length: n }, (_, i) => new Float32Array([i, i % 3])),
 * };
 * const given = embeddingMap(rows, { method: "pca", maxPoints: 5, seed: DEFAULT_MAP_SEED });
 * assert.deepEqual(embeddingMap(rows, { method: "pca", maxPoints: 5 }).labels, given.labels);
 * ```
 */
export const DEFAULT_MAP_SEED = 0;

/**
 * What an embedding map's points are coloured by when not given: their modality.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_MAP_COLOR_BY } from "./eval_config.ts";
 * import { embeddingMap } from "../eval/embeddings/map.ts";
 * import { command } from "../../cli/plot.ts";
 * assert.equal(command().opts().colorBy, DEFAULT_MAP_COLOR_BY);
 * const rows = {
 *   ids: ["a", "a", "b"],
 *   modality: ["video", "audio", "video"],
 *   index: new Int32Array(3),
 *   vectors: [[1, 0], [0, 1], [1, 1]].map((v) => new Float32Array(v)),
 * };
 * assert.deepEqual(embeddingMap(rows, { method: "pca" }).groups, ["video", "audio", "video"]);
 * ```
 */
export const DEFAULT_MAP_COLOR_BY = "modality" as const;

/**
 * Rows an embedding map draws at most (a seeded random subsample) when not
 * given, for UMAP and PCA; t-SNE draws {@linkcode DEFAULT_TSNE_MAX_POINTS}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_MAP_MAX_POINTS, DEFAULT_TSNE_MAX_POINTS } from "./eval_config.ts";
 * import { embeddingMap } from "../eval/embeddings/map.ts";
 * import { command } from "../../cli/plot.ts";
 * const help = command().helpInformation().replace(/\s+/g, " ");
 * assert.match(help, new RegExp(`default ${DEFAULT_MAP_MAX_POINTS}, t-SNE ${DEFAULT_TSNE_MAX_POINTS}`));
 * const n = DEFAULT_MAP_MAX_POINTS + 1;
 * const rows = {
 *   ids: Array.from({ length: n }, (_, i) => `c${i}`),
 *   modality: Array.from({ length: n }, () => "video"),
 *   index: new Int32Array(n),
 *   vectors: Array.from({ length: n }, (_, i) => new Float32Array([i % 7, i % 5])),
 * };
 * assert.equal(embeddingMap(rows, { method: "pca" }).drawn, DEFAULT_MAP_MAX_POINTS);
 * ```
 */
export const DEFAULT_MAP_MAX_POINTS = 5000;

/**
 * Rows a t-SNE embedding map draws at most when not given (t-SNE is
 * quadratic in the rows; UMAP and PCA draw {@linkcode DEFAULT_MAP_MAX_POINTS}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_MAP_MAX_POINTS, DEFAULT_TSNE_MAX_POINTS } from "./eval_config.ts";
 * assert.ok(DEFAULT_TSNE_MAX_POINTS < DEFAULT_MAP_MAX_POINTS);
 * assert.equal(DEFAULT_TSNE_MAX_POINTS, 2000);
 * ```
 */
export const DEFAULT_TSNE_MAX_POINTS = 2000;
