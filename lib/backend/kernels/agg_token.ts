/**
 * A tower's aggregation token in and out, as one kernel each way for the
 * wasm backend, registered with the fused kernels (`fused.ts`).
 * `lib/model/transformer.ts` runs them instead of a broadcast, an add and a
 * concat forward and a split, a sum and two reshapes backward (seven engine
 * calls a tower, two here) on the way in, and of a slice and a reshape each
 * way on the way out.
 *
 * - `VattPrependToken` `{x [B, N, d], token [d]}` → `[B, 1 + N, d]`: each
 *   clip's row 0 the token, rows 1… its tokens;
 * - `VattPrependTokenGrad` `{dy [B, 1 + N, d]}` → `[dx [B, N, d], dtoken [d]]`:
 *   `dx` rows 1… of `dy`, `dtoken` the sum of the clips' rows 0, in the clips'
 *   order (float32, as the broadcast's gradient sums);
 * - `VattFirstToken` `{x [B, L, d]}` → `[B, d]`: each clip's row 0;
 * - `VattFirstTokenGrad` `{dy [B, d]}`, attr `length` L → `[B, L, d]`: `dy` in
 *   rows 0, zeros elsewhere.
 *
 * @module
 */
import type { TensorInfo } from "@tensorflow/tfjs-core";
import { checkFloat, heapF32, type WasmKernelArgs } from "./_wasm_heap.ts";
import {
  FIRST_TOKEN_GRAD_KERNEL,
  FIRST_TOKEN_KERNEL,
  PREPEND_TOKEN_GRAD_KERNEL,
  PREPEND_TOKEN_KERNEL,
} from "./names.ts";

/** A kernel's call. */
type KernelArgs = WasmKernelArgs<{ length?: number } | undefined>;

/** `VattPrependToken`: `[B, 1 + N, d]`. */
export function prependToken(args: KernelArgs): TensorInfo {
  const { x, token } = args.inputs;
  checkFloat(PREPEND_TOKEN_KERNEL, x, token);
  const [b, n, d] = x.shape;
  if (x.shape.length !== 3 || token.shape.join() !== `${d}`) {
    throw new RangeError(
      `${PREPEND_TOKEN_KERNEL} needs x [B, N, d] and token [d]; got x [${x.shape}], token [${token.shape}]`,
    );
  }
  const out = args.backend.makeOutput([b, 1 + n, d], "float32");
  // Views after makeOutput: allocating may have grown (moved) the heap.
  const [from, t, to] = [x, token, out].map((v) => heapF32(args.backend, v));
  for (let i = 0; i < b; i++) {
    to.set(t, i * (1 + n) * d);
    to.set(from.subarray(i * n * d, (i + 1) * n * d), (i * (1 + n) + 1) * d);
  }
  return out;
}

/** `VattPrependTokenGrad`: `[dx, dtoken]`. */
export function prependTokenGrad(args: KernelArgs): TensorInfo[] {
  const { dy } = args.inputs;
  checkFloat(PREPEND_TOKEN_GRAD_KERNEL, dy);
  const [b, l, d] = dy.shape;
  if (dy.shape.length !== 3 || l < 1) {
    throw new RangeError(`${PREPEND_TOKEN_GRAD_KERNEL} needs dy [B, 1 + N, d]; got [${dy.shape}]`);
  }
  const n = l - 1;
  const outs = [[b, n, d], [d]].map((shape) => args.backend.makeOutput(shape, "float32"));
  const [g, dx, dtoken] = [dy, ...outs].map((v) => heapF32(args.backend, v));
  dtoken.fill(0);
  for (let i = 0; i < b; i++) {
    const row = i * l * d;
    for (let j = 0; j < d; j++) dtoken[j] += g[row + j];
    dx.set(g.subarray(row + d, row + l * d), i * n * d);
  }
  return outs;
}

/** `VattFirstToken`: `[B, d]`. */
export function firstToken(args: KernelArgs): TensorInfo {
  const { x } = args.inputs;
  checkFloat(FIRST_TOKEN_KERNEL, x);
  const [b, l, d] = x.shape;
  if (x.shape.length !== 3 || l < 1) {
    throw new RangeError(`${FIRST_TOKEN_KERNEL} needs x [B, L ≥ 1, d]; got [${x.shape}]`);
  }
  const out = args.backend.makeOutput([b, d], "float32");
  const [from, to] = [x, out].map((v) => heapF32(args.backend, v));
  for (let i = 0; i < b; i++) to.set(from.subarray(i * l * d, i * l * d + d), i * d);
  return out;
}

/** `VattFirstTokenGrad`: `[B, L, d]`. */
export function firstTokenGrad(args: KernelArgs): TensorInfo {
  const { dy } = args.inputs;
  checkFloat(FIRST_TOKEN_GRAD_KERNEL, dy);
  const [b, d] = dy.shape;
  const l = args.attrs?.length ?? 0;
  if (dy.shape.length !== 2 || !Number.isInteger(l) || l < 1) {
    throw new RangeError(
      `${FIRST_TOKEN_GRAD_KERNEL} needs dy [B, d] and a length ≥ 1; got [${dy.shape}], ${l}`,
    );
  }
  const out = args.backend.makeOutput([b, l, d], "float32");
  const [g, dx] = [dy, out].map((v) => heapF32(args.backend, v));
  dx.fill(0);
  for (let i = 0; i < b; i++) dx.set(g.subarray(i * d, (i + 1) * d), i * l * d);
  return out;
}
