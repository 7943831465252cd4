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
 * assert.equal(DEFAULT_EVAL_BATCH_SIZE, 16); // what `--help` shows (tests/cli/defaults_test.ts)
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
 * assert.equal(DEFAULT_RETRIEVAL_PAIR, "text-video"); // what `--help` shows (tests/cli/defaults_test.ts)
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
 * assert.equal(DEFAULT_RETRIEVAL_WINDOWS, 1); // what `--help` shows (tests/cli/defaults_test.ts)
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
 * assert.equal(DEFAULT_EXPORT_SPACE, "va"); // what `--help` shows (tests/cli/defaults_test.ts)
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
 * assert.equal(DEFAULT_MAP_METHOD, "umap"); // what `--help` shows (tests/cli/defaults_test.ts)
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
 * assert.equal(DEFAULT_MAP_SEED, 0); // what `--help` shows (tests/cli/defaults_test.ts)
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
 * assert.equal(DEFAULT_MAP_COLOR_BY, "modality"); // what `--help` shows (tests/cli/defaults_test.ts)
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
 * assert.equal(DEFAULT_MAP_MAX_POINTS, 5000); // what `--help` shows (tests/cli/defaults_test.ts)
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
