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

/**
 * Temporal windows whose logits `vatt eval classify` averages per clip when
 * none is given: 1, the centre window. The paper evaluates video
 * classification on {@linkcode PAPER_CLASSIFY_WINDOWS} windows ×
 * {@linkcode PAPER_CLASSIFY_CROPS} crops.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_CLASSIFY_WINDOWS, PAPER_CLASSIFY_WINDOWS } from "./eval_config.ts";
 * assert.equal(DEFAULT_CLASSIFY_WINDOWS, 1); // what `--help` shows
 * assert.equal(PAPER_CLASSIFY_WINDOWS, 4);
 * ```
 */
export const DEFAULT_CLASSIFY_WINDOWS = 1;

/**
 * Spatial crops whose logits `vatt eval classify` averages per window when
 * none is given: 1, the centre crop.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CLASSIFY_CROPS, DEFAULT_CLASSIFY_CROPS } from "./eval_config.ts";
 * assert.equal(DEFAULT_CLASSIFY_CROPS, 1); // what `--help` shows
 * assert.ok(CLASSIFY_CROPS.includes(DEFAULT_CLASSIFY_CROPS));
 * ```
 */
export const DEFAULT_CLASSIFY_CROPS = 1;

/**
 * The crop counts `vatt eval classify --crops` takes: the centre crop, or
 * three crops along a side (the paper's and the official code's
 * `multi_crop`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CLASSIFY_CROPS } from "./eval_config.ts";
 * assert.deepEqual([...CLASSIFY_CROPS], [1, 3]);
 * ```
 */
export const CLASSIFY_CROPS = [1, 3] as const;

/**
 * The paper's video classification protocol: logits averaged over 4 evenly
 * spaced windows × 3 crops (VATT, Akbari et al. 2021, §4.2; the official
 * `num_windows_test` and `multi_crop`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PAPER_CLASSIFY_CROPS, PAPER_CLASSIFY_WINDOWS } from "./eval_config.ts";
 * assert.equal(PAPER_CLASSIFY_WINDOWS * PAPER_CLASSIFY_CROPS, 12);
 * ```
 */
export const PAPER_CLASSIFY_WINDOWS = 4;

/**
 * The paper's crops per window for video classification: 3 (see
 * {@linkcode PAPER_CLASSIFY_WINDOWS}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PAPER_CLASSIFY_CROPS } from "./eval_config.ts";
 * assert.equal(PAPER_CLASSIFY_CROPS, 3);
 * ```
 */
export const PAPER_CLASSIFY_CROPS = 3;

/**
 * The prompt `vatt eval zero-shot` puts each class name into when no
 * `--prompt` is given; `{label}` stands for the class name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_ZERO_SHOT_PROMPT } from "./eval_config.ts";
 * assert.equal(DEFAULT_ZERO_SHOT_PROMPT, "a video of {label}"); // what `--help` shows
 * ```
 */
export const DEFAULT_ZERO_SHOT_PROMPT = "a video of {label}";

/** The K of top-K accuracy when a dataset has at least that many classes. */
export const TOP_K = 5;

/**
 * The K of the top-K accuracy every command reports for `numClasses`
 * classes: {@linkcode TOP_K}, or all classes when there are fewer (so 3
 * classes give top-3, in `eval classify`, `eval zero-shot` and `finetune` alike).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { topKOf } from "./eval_config.ts";
 * assert.equal(topKOf(3), 3);
 * assert.equal(topKOf(10), 5);
 * ```
 */
export function topKOf(numClasses: number): number {
  return Math.min(TOP_K, numClasses);
}
