/**
 * A tower's aggregation token put before its tokens as one kernel each way
 * for the wasm backend, registered with the fused kernels (`fused.ts`).
 * `lib/model/transformer.ts` runs them instead of a broadcast, an add and a
 * concat forward and a split, a sum and two reshapes backward: seven engine
 * calls a tower, two here.
 *
 * - `VattPrependToken` `{x [B, N, d], token [d]}` → `[B, 1 + N, d]`: each
 *   clip's row 0 the token, rows 1… its tokens;
 * - `VattPrependTokenGrad` `{dy [B, 1 + N, d]}` → `[dx [B, N, d], dtoken [d]]`:
 *   `dx` rows 1… of `dy`, `dtoken` the sum of the clips' rows 0, in the clips'
 *   order (float32, as the broadcast's gradient sums).
 *
 * @module
 */
import type { TensorInfo } from "@tensorflow/tfjs-core";
import { checkFloat, heapF32, type WasmBackendLike } from "./_wasm_heap.ts";
import { PREPEND_TOKEN_GRAD_KERNEL, PREPEND_TOKEN_KERNEL } from "./names.ts";

/** A kernel's call. */
interface KernelArgs {
  inputs: Record<string, TensorInfo>;
  backend: WasmBackendLike;
}

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
