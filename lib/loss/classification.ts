/**
 * Classification losses on soft targets, and the targets themselves:
 * softmax cross-entropy with label smoothing (single-label datasets) and
 * sigmoid binary cross-entropy (multi-label datasets).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/**
 * Target rows `[n, C]` (row-major) from labels: single-label class indices
 * `[n]` become `(1 − ε)·onehot + ε/C`; multi-hot rows `[n, C]` become
 * `(1 − ε)·t + ε/2` (the binary form of smoothing).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { smoothTargets } from "./classification.ts";
 * const t = smoothTargets(new Int32Array([1]), { numClasses: 4, smoothing: 0.2 });
 * assert.ok(Math.abs(t[1] - 0.85) < 1e-6 && Math.abs(t[0] - 0.05) < 1e-6);
 * ```
 */
export function smoothTargets(
  labels: Int32Array | Uint8Array,
  options: { numClasses: number; smoothing: number; multiLabel?: boolean },
): Float32Array {
  const c = options.numClasses;
  const e = options.smoothing;
  if (!Number.isInteger(c) || c < 1) {
    throw new RangeError(`numClasses must be a positive integer, got ${c}`);
  }
  if (!(e >= 0 && e < 1)) throw new RangeError(`smoothing must be in [0, 1), got ${e}`);
  const multi = options.multiLabel ?? labels instanceof Uint8Array;
  if (multi) {
    if (labels.length % c !== 0) {
      throw new RangeError(`${labels.length} multi-hot values do not split into rows of ${c}`);
    }
    return Float32Array.from(labels, (t) => (1 - e) * t + e / 2);
  }
  const out = new Float32Array(labels.length * c).fill(e / c);
  labels.forEach((y, i) => {
    if (!Number.isInteger(y) || y < 0 || y >= c) {
      throw new RangeError(`label ${y} of example ${i} is outside [0, ${c})`);
    }
    out[i * c + y] += 1 - e;
  });
  return out;
}

/**
 * Mean over the batch of `−Σ_c t_c · log softmax(z)_c`, for soft targets
 * `[B, C]` (rows summing to 1).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { softmaxCrossEntropy } from "./classification.ts";
 * const loss = softmaxCrossEntropy(tf.tensor2d([[0, 0]]), tf.tensor2d([[1, 0]]));
 * assert.ok(Math.abs((await loss.data())[0] - Math.LN2) < 1e-6);
 * ```
 */
export function softmaxCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  checkShapes(logits, targets, "softmaxCrossEntropy()");
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits); // [B, C]
    return tf.neg(tf.mean(tf.sum(tf.mul(targets, logp), 1))) as tf.Scalar;
  });
}

/**
 * Mean over batch and classes of the binary cross-entropy of `sigmoid(z)`
 * against targets in [0, 1], computed stably as
 * `max(z, 0) − z·t + log(1 + e^{−|z|})`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { sigmoidCrossEntropy } from "./classification.ts";
 * const loss = sigmoidCrossEntropy(tf.tensor2d([[0, 0]]), tf.tensor2d([[1, 0]]));
 * assert.ok(Math.abs((await loss.data())[0] - Math.LN2) < 1e-6);
 * ```
 */
export function sigmoidCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  checkShapes(logits, targets, "sigmoidCrossEntropy()");
  return tf.tidy(() => {
    const z = logits;
    const terms = tf.add(
      tf.sub(tf.relu(z), tf.mul(z, targets)),
      tf.log1p(tf.exp(tf.neg(tf.abs(z)))),
    ); // [B, C]
    return tf.mean(terms) as tf.Scalar;
  });
}

function checkShapes(logits: tf.Tensor, targets: tf.Tensor, what: string): void {
  if (logits.rank !== 2 || !tf.util.arraysEqual(logits.shape, targets.shape)) {
    throw new RangeError(
      `${what}: logits [${logits.shape}] and targets [${targets.shape}] must be equal [B, C]`,
    );
  }
}
