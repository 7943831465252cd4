/**
 * The text input through frozen word vectors (the paper's 300-d word2vec): a
 * table of pretrained vectors that never trains, a trained row for
 * out-of-vocabulary words, and a trained projection to the model width.
 *
 * @module
 */
import { checkBoolean, checkInteger, checkOneOf } from "./validate.ts";

/** Activations after the projection of the word vectors. */
export type WordVectorActivation = "gelu" | "linear";

/** `text.wordVectors` of a model config; absent: a learned embedding table. */
export interface WordVectorsConfig {
  /** Dimension `D_wv` of the frozen vectors (300 for word2vec). */
  dim: number;
  /**
   * After the projection `D_wv → d`: `"gelu"` (the official code's
   * `pre_proj`, default) or `"linear"` (the paper's "linear projection").
   */
  activation: WordVectorActivation;
  /** Bias in the projection (the official `pre_proj` has none: default `false`). */
  bias: boolean;
  /**
   * SHA-256 of the `vocab.txt` the table rows belong to: set from the dataset
   * at pretraining, so a dataset tokenized with other vectors is refused
   * later. Absent: not checked.
   */
  vocabSha256?: string;
}

/**
 * The defaults of a word-vector input: word2vec's 300 dimensions and the
 * official projection (GELU, no bias).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_WORD_VECTORS } from "./word_vectors_config.ts";
 * assert.equal(DEFAULT_WORD_VECTORS.dim, 300);
 * ```
 */
export const DEFAULT_WORD_VECTORS: Readonly<WordVectorsConfig> = {
  dim: 300,
  activation: "gelu",
  bias: false,
};

/** The activations, for validation. */
const ACTIVATIONS: readonly WordVectorActivation[] = ["gelu", "linear"];

/** Largest vector dimension a config accepts. */
const MAX_DIM = 10_000;

/**
 * Completes `text.wordVectors` from {@linkcode DEFAULT_WORD_VECTORS} and
 * validates it, in place: a `null` or absent field is removed (a learned
 * embedding table), so configs without word vectors keep their old form.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveTextWordVectors } from "./word_vectors_config.ts";
 * const text: { wordVectors?: unknown } = { wordVectors: { dim: 50 } };
 * resolveTextWordVectors(text);
 * assert.deepEqual(text.wordVectors, { dim: 50, activation: "gelu", bias: false });
 * const none: { wordVectors?: unknown } = { wordVectors: null };
 * resolveTextWordVectors(none);
 * assert.ok(!("wordVectors" in none));
 * assert.throws(() => resolveTextWordVectors({ wordVectors: { dim: 0 } }), /text.wordVectors.dim/);
 * ```
 */
export function resolveTextWordVectors(text: { wordVectors?: unknown }): void {
  const given = text.wordVectors;
  if (given === undefined || given === null) {
    delete text.wordVectors;
    return;
  }
  if (typeof given !== "object" || Array.isArray(given)) {
    throw new TypeError(
      `text.wordVectors must be an object or null, got ${JSON.stringify(given)}`,
    );
  }
  const w = { ...DEFAULT_WORD_VECTORS, ...given } as WordVectorsConfig;
  checkInteger(w.dim, "text.wordVectors.dim", { min: 1, max: MAX_DIM });
  checkOneOf(w.activation, ACTIVATIONS, "text.wordVectors.activation");
  checkBoolean(w.bias, "text.wordVectors.bias");
  const out: WordVectorsConfig = { dim: w.dim, activation: w.activation, bias: w.bias };
  if (w.vocabSha256 !== undefined) {
    if (typeof w.vocabSha256 !== "string" || !/^[0-9a-f]{64}$/.test(w.vocabSha256)) {
      throw new TypeError(
        `text.wordVectors.vocabSha256 must be a SHA-256 in hex, got ${
          JSON.stringify(w.vocabSha256)
        }`,
      );
    }
    out.vocabSha256 = w.vocabSha256;
  }
  text.wordVectors = out;
}
