/**
 * Training-mode BatchNorm over the batch axis as one kernel each way for the
 * wasm backend, registered with the other fused kernels (`fused.ts`).
 * `lib/model/heads.ts` runs them instead of `tf.moments` and the normalising
 * chain: the three BatchNorms of the video heads took about 30 engine calls
 * forward and 100 backward on the `tiny` benchmark step.
 *
 * - `VattBatchNorm` `{x [N, C], gamma [C], beta [C]}`, attr `epsilon` →
 *   `[y, mean, variance]`: `y = (x − μ)·(σ² + ε)^(−½)·γ + β` with the batch
 *   mean `μ` and biased variance `σ²` of each column (as `tf.moments(x, 0)`),
 *   which are returned for the moving averages;
 * - `VattBatchNormGrad` `{x, gamma, dy}`, attr `epsilon` → `[dx, dgamma,
 *   dbeta]`, the gradient through the batch statistics too:
 *   `dx = r/N·(N·ĝ − Σĝ − x̂·Σĝx̂)` with `ĝ = dy·γ`, `x̂ = (x − μ)·r`,
 *   `r = (σ² + ε)^(−½)`.
 *
 * Sums in float64, each result rounded once: close to the chain's float32
 * results, not the same bits.
 *
 * @module
 */
import type { TensorInfo } from "@tensorflow/tfjs-core";
import { checkFloat, heapF32, type WasmKernelArgs } from "./_wasm_heap.ts";
import { BATCH_NORM_GRAD_KERNEL, BATCH_NORM_KERNEL } from "./names.ts";

/** A BatchNorm kernel's call. */
type KernelArgs = WasmKernelArgs<{ epsilon: number }>;

/**
 * Per column of `x` (`n × c`, row-major): the mean, the biased variance and `(σ² + ε)^(−½)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { columnStats } from "./batch_norm.ts";
 * const { mean, variance, rstd } = columnStats([1, 10, 3, 10], 2, 2, 0);
 * assert.deepEqual([...mean], [2, 10]);
 * assert.deepEqual([...variance], [1, 0]); // ((1 − 2)² + (3 − 2)²) / 2
 * assert.equal(rstd[0], 1);
 * ```
 */
export function columnStats(
  x: ArrayLike<number>,
  n: number,
  c: number,
  epsilon: number,
): { mean: Float64Array; variance: Float64Array; rstd: Float64Array } {
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  const rstd = new Float64Array(c);
  for (let i = 0; i < n; i++) for (let j = 0; j < c; j++) mean[j] += x[i * c + j];
  for (let j = 0; j < c; j++) mean[j] /= n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < c; j++) {
      const dev = x[i * c + j] - mean[j];
      variance[j] += dev * dev;
    }
  }
  for (let j = 0; j < c; j++) {
    variance[j] /= n;
    rstd[j] = 1 / Math.sqrt(variance[j] + epsilon);
  }
  return { mean, variance, rstd };
}

/** The sizes `[N, C]`, every input checked against them. */
function sizesOf(name: string, inputs: Record<string, TensorInfo>): [number, number] {
  const { x, gamma } = inputs;
  checkFloat(name, ...Object.values(inputs));
  const [n, c] = x.shape;
  const bad = x.shape.length !== 2 || gamma.shape.join() !== `${c}` ||
    (inputs.beta && inputs.beta.shape.join() !== `${c}`) ||
    (inputs.dy && inputs.dy.shape.join() !== `${n},${c}`);
  if (bad) {
    const shapes = Object.entries(inputs).map(([k, t]) => `${k} [${t.shape}]`).join(", ");
    throw new RangeError(`${name} needs x [N, C], gamma and beta [C], dy [N, C]; got ${shapes}`);
  }
  return [n, c];
}

/**
 * A kernel call's sizes, its three outputs (`[N, C]`, `[C]`, `[C]`) and views of the inputs
 * `names` and of the outputs (taken after allocating: the heap may have moved).
 */
function prepare(name: string, args: KernelArgs, names: string[]) {
  const [n, c] = sizesOf(name, args.inputs);
  const be = args.backend;
  const outs = [[n, c], [c], [c]].map((shape) => be.makeOutput(shape, "float32"));
  const ins = names.map((key) => heapF32(be, args.inputs[key]));
  return { n, c, outs, ins, views: outs.map((t) => heapF32(be, t)) };
}

/** `VattBatchNorm`: `[y, mean, variance]`. */
export function batchNorm(args: KernelArgs): TensorInfo[] {
  const { n, c, outs, ins: [x, gamma, beta], views: [y, meanOut, varianceOut] } = prepare(
    BATCH_NORM_KERNEL,
    args,
    ["x", "gamma", "beta"],
  );
  const { mean, variance, rstd } = columnStats(x, n, c, args.attrs.epsilon);
  for (let i = 0; i < n; i++) {
    for (let j = 0, o = i * c; j < c; j++) {
      y[o + j] = (x[o + j] - mean[j]) * rstd[j] * gamma[j] + beta[j];
    }
  }
  meanOut.set(mean);
  varianceOut.set(variance);
  return outs;
}

/** `VattBatchNormGrad`: `[dx, dgamma, dbeta]`. */
export function batchNormGrad(args: KernelArgs): TensorInfo[] {
  const { n, c, outs, ins: [x, gamma, dy], views: [dx, dgamma, dbeta] } = prepare(
    BATCH_NORM_GRAD_KERNEL,
    args,
    ["x", "gamma", "dy"],
  );
  const { mean, rstd } = columnStats(x, n, c, args.attrs.epsilon);
  const sumG = new Float64Array(c); // Σ_n ĝ
  const sumGX = new Float64Array(c); // Σ_n ĝ·x̂
  const sumDy = new Float64Array(c);
  const sumDyX = new Float64Array(c);
  for (let i = 0; i < n; i++) {
    for (let j = 0, o = i * c; j < c; j++) {
      const xhat = (x[o + j] - mean[j]) * rstd[j];
      sumDy[j] += dy[o + j];
      sumDyX[j] += dy[o + j] * xhat;
    }
  }
  for (let j = 0; j < c; j++) {
    sumG[j] = sumDy[j] * gamma[j];
    sumGX[j] = sumDyX[j] * gamma[j];
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0, o = i * c; j < c; j++) {
      const xhat = (x[o + j] - mean[j]) * rstd[j];
      dx[o + j] = rstd[j] / n * (n * dy[o + j] * gamma[j] - sumG[j] - xhat * sumGX[j]);
    }
  }
  dgamma.set(sumDyX);
  dbeta.set(sumDy);
  return outs;
}
