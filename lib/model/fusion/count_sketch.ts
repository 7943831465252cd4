/**
 * Count Sketch projections (Charikar et al. 2002) as used by Multimodal Compact Bilinear
 * pooling: `Ψ(x)[k] = Σ_{i : h(i) = k} s(i)·x_i`, with a fixed hash `h: [D] → [0, d)` and signs
 * `s: [D] → ±1` drawn once from a seed.
 *
 * `Ψ` is computed as a product with a dense `[D, d]` matrix holding one `±1` per row: matmul
 * exists, with gradients, on every backend (the segment-sum kernel a scatter would need is
 * missing on wasm), at the price of `D·d` floats of memory.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { Rng } from "../../util/rng.ts";

/** A fixed Count Sketch `[D] → [d]`. */
export interface CountSketch {
  /** Input width `D`. */
  readonly inputDim: number;
  /** Output width `d`. */
  readonly outputDim: number;
  /** `h(i)` in [0, d) for each input index `i`. */
  readonly hash: Int32Array;
  /** `s(i)`, +1 or −1, for each input index `i`. */
  readonly sign: Int8Array;
}

/**
 * Draws a Count Sketch from `new Rng(seed).fork(label)`: the same seed and label give the same
 * sketch; the label (default `"count_sketch"`) keeps sketches of different modalities apart.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeCountSketch } from "./count_sketch.ts";
 * const a = makeCountSketch(5, 3, { seed: 1 });
 * const b = makeCountSketch(5, 3, { seed: 1 });
 * assert.ok(a.hash.join() === b.hash.join() && a.sign.every((s) => s === 1 || s === -1));
 * ```
 */
export function makeCountSketch(
  inputDim: number,
  outputDim: number,
  options: { seed: number; label?: string },
): CountSketch {
  for (const [what, n] of [["inputDim", inputDim], ["outputDim", outputDim]] as const) {
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new RangeError(`makeCountSketch() ${what} must be a positive integer, got ${n}`);
    }
  }
  if (!Number.isSafeInteger(options.seed)) {
    throw new TypeError(`makeCountSketch() seed must be an integer, got ${options.seed}`);
  }
  const rng = new Rng(options.seed).fork(options.label ?? "count_sketch");
  const hash = new Int32Array(inputDim);
  const sign = new Int8Array(inputDim);
  for (let i = 0; i < inputDim; i++) {
    hash[i] = rng.nextInt(outputDim);
    sign[i] = rng.nextFloat() < 0.5 ? -1 : 1;
  }
  return { inputDim, outputDim, hash, sign };
}

/**
 * The sketch as a dense `[D, d]` float32 matrix `P` with `P[i, h(i)] = s(i)`, so `Ψ(x) = x·P`.
 * The caller owns (and disposes) the result.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { countSketchMatrix, makeCountSketch } from "./count_sketch.ts";
 * const p = countSketchMatrix(makeCountSketch(4, 2, { seed: 0 }));
 * assert.ok((await p.data()).filter((v) => v !== 0).length === 4);
 * p.dispose();
 * ```
 */
export function countSketchMatrix(sketch: CountSketch): tf.Tensor2D {
  const { inputDim, outputDim, hash, sign } = sketch;
  const values = new Float32Array(inputDim * outputDim);
  for (let i = 0; i < inputDim; i++) values[i * outputDim + hash[i]] = sign[i];
  return tf.tensor2d(values, [inputDim, outputDim], "float32");
}

/**
 * `Ψ(x)` for each row of `x`: `[B, D]` → `[B, d]`. Pass `options.matrix` (from
 * {@linkcode countSketchMatrix}) to reuse a matrix across calls; otherwise one is built and
 * freed here. Differentiable with respect to `x`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { countSketch, makeCountSketch } from "./count_sketch.ts";
 * const sketch = makeCountSketch(3, 2, { seed: 4 });
 * const y = await countSketch(tf.tensor2d([[1, 2, 3]]), sketch).data();
 * const expected = [0, 0];
 * for (let i = 0; i < 3; i++) expected[sketch.hash[i]] += sketch.sign[i] * (i + 1);
 * assert.equal(y[0], expected[0]);
 * assert.equal(y[1], expected[1]);
 * ```
 */
export function countSketch(
  x: tf.Tensor2D,
  sketch: CountSketch,
  options: { matrix?: tf.Tensor2D } = {},
): tf.Tensor2D {
  if (x.rank !== 2 || x.shape[1] !== sketch.inputDim) {
    throw new RangeError(
      `countSketch() expects x of shape [B, ${sketch.inputDim}], got [${x.shape}]`,
    );
  }
  const { matrix } = options;
  if (matrix && (matrix.shape[0] !== sketch.inputDim || matrix.shape[1] !== sketch.outputDim)) {
    throw new RangeError(
      `countSketch() matrix must be [${sketch.inputDim}, ${sketch.outputDim}], got [${matrix.shape}]`,
    );
  }
  return tf.tidy(() => tf.matMul(x, matrix ?? countSketchMatrix(sketch))); // [B, d]
}
