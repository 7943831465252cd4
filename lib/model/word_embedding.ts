/**
 * The word-vector text embedding (the paper's text input): ids look up a
 * FROZEN table of pretrained vectors `[V, D_wv]` (a non-trainable weight,
 * stored in the checkpoint like every other), out-of-vocabulary ids take one
 * TRAINED row, and a trained projection maps `D_wv` to the model width (the
 * official `pre_proj`: GELU, no bias, by default).
 *
 * Weights (stable names): `text/word_vectors/table` `[V, D_wv]` (not
 * trainable; row 0 is padding and row `V − 1` the OOV slot, both unused),
 * `text/word_vectors/oov` `[D_wv]`, `text/word_vectors/proj/kernel`
 * `[D_wv, d]` and, with `bias`, `text/word_vectors/proj/bias` `[d]`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { TextConfig } from "../config/vatt_config.ts";
import { dense, gatherRows, gelu } from "./_ops.ts";
import type { Weights } from "./weights.ts";

/** Name of the frozen table. */
export const WORD_VECTOR_TABLE = "text/word_vectors/table";
/** Name of the trained out-of-vocabulary row. */
export const WORD_VECTOR_OOV = "text/word_vectors/oov";
/** Prefix of the trained projection (`…/kernel`, `…/bias`). */
export const WORD_VECTOR_PROJ = "text/word_vectors/proj";

/**
 * Embeds text ids `[N]` through the word vectors: `x = table[id]` for known
 * ids, `x = oov` for the last id (and any id beyond the table), then
 * `act(x·W + b)`. Returns `[N, d]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { wordVectorTokens } from "./word_embedding.ts";
 * const text = { vocabSize: 3, wordVectors: { dim: 2, activation: "linear", bias: false } } as const;
 * const weights = {
 *   "text/word_vectors/table": tf.variable(tf.tensor2d([[0, 0], [1, 2], [0, 0]]), false),
 *   "text/word_vectors/oov": tf.variable(tf.tensor1d([5, 7])),
 *   "text/word_vectors/proj/kernel": tf.variable(tf.tensor2d([[1], [10]])),
 * };
 * const out = wordVectorTokens(tf.tensor1d([1, 2], "int32"), weights, text as never);
 * assert.deepEqual(await out.data(), new Float32Array([21, 75])); // 1 + 2·10, 5 + 7·10 (OOV)
 * ```
 */
export function wordVectorTokens(
  ids: tf.Tensor1D,
  weights: Weights,
  text: TextConfig,
): tf.Tensor2D {
  const wv = text.wordVectors;
  if (!wv) throw new TypeError("Cannot embed word vectors: text.wordVectors is not configured");
  return tf.tidy(() => {
    const oovId = text.vocabSize - 1;
    const clipped = tf.clipByValue(tf.cast(ids, "int32"), 0, oovId) as tf.Tensor1D; // [N]
    const isOov = tf.cast(tf.equal(clipped, oovId), "float32"); // [N]
    // The table's OOV slot is never read: its row is replaced by the trained one.
    const known = tf.mul(
      gatherRows(weights[WORD_VECTOR_TABLE] as tf.Tensor2D, clipped),
      tf.expandDims(tf.sub(1, isOov), 1),
    ); // [N, D_wv]
    const oov = tf.mul(tf.expandDims(isOov, 1), tf.expandDims(weights[WORD_VECTOR_OOV], 0)); // [N, D_wv]
    const projected = dense(
      tf.add(known, oov),
      weights[`${WORD_VECTOR_PROJ}/kernel`],
      wv.bias ? weights[`${WORD_VECTOR_PROJ}/bias`] : undefined,
    ); // [N, d]
    return (wv.activation === "gelu" ? gelu(projected) : projected) as tf.Tensor2D;
  });
}

/**
 * Puts a table of pretrained vectors, row-major `[vocabSize, D_wv]`, into
 * the frozen weight; `RangeError` when its size does not fit the config.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { setWordVectorTable } from "./word_embedding.ts";
 * const text = { vocabSize: 2, wordVectors: { dim: 2, activation: "gelu", bias: false } } as const;
 * const weights = { "text/word_vectors/table": tf.variable(tf.zeros([2, 2]), false) };
 * setWordVectorTable(weights, new Float32Array([0, 0, 3, 4]), text as never);
 * assert.deepEqual(await weights["text/word_vectors/table"].data(), new Float32Array([0, 0, 3, 4]));
 * assert.throws(() => setWordVectorTable(weights, new Float32Array(3), text as never), /4 values/);
 * ```
 */
export function setWordVectorTable(weights: Weights, table: Float32Array, text: TextConfig): void {
  const dim = text.wordVectors?.dim;
  const v = weights[WORD_VECTOR_TABLE];
  if (dim === undefined || !v) {
    throw new TypeError("Cannot set word vectors: this model has no word-vector table");
  }
  if (table.length !== text.vocabSize * dim) {
    throw new RangeError(
      `Cannot set word vectors: the model's table holds ${text.vocabSize}×${dim} = ${
        text.vocabSize * dim
      } values, got ${table.length}`,
    );
  }
  tf.tidy(() => v.assign(tf.tensor2d(table, [text.vocabSize, dim], "float32")));
}
