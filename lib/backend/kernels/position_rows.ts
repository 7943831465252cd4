/**
 * Tokens plus their positions' rows of one or more position tables, as one
 * kernel each way for the wasm backend, registered with the fused kernels
 * (`fused.ts`). `lib/model/patch_embed.ts` runs them for the tokens DropToken
 * keeps: the video's factorized positions (`e_temporal_t + e_vertical_h +
 * e_horizontal_w`) were a broadcast sum of the three tables, a gather and an
 * add forward and a scatter, four sums and a dozen reshapes backward.
 *
 * - `VattPositionRows` `{x [R, d], index [R, K] int32, table0 … table(K−1)
 *   [n_k, d]}` → `[R, d]`: `x_r + ((table0[i_r0] + table1[i_r1]) + …)`, each
 *   addition rounded to float32 (the broadcast sums' order, then the add);
 * - `VattPositionRowsGrad` `{dy [R, d], index}`, attr `sizes` `[n_0 … n_(K−1)]`
 *   → the tables' gradients `[n_k, d]`: the rows of `dy` summed into the rows
 *   they read, in row order (float32). `x`'s gradient is `dy` itself.
 *
 * @module
 */
import type { TensorInfo } from "@tensorflow/tfjs-core";
import { checkFloat, heapF32, heapOffset, type WasmBackendLike } from "./_wasm_heap.ts";
import { POSITION_ROWS_GRAD_KERNEL, POSITION_ROWS_KERNEL } from "./names.ts";

/** A kernel's call. */
interface KernelArgs {
  inputs: Record<string, TensorInfo>;
  backend: WasmBackendLike;
  attrs?: { sizes?: number[] };
}

/**
 * The index `[R, K]`, checked: int32, each value of column k below `sizes[k]`. A view of the
 * heap: take it after the kernel's `makeOutput` calls (allocating may move the heap).
 */
function indexOf(name: string, args: KernelArgs, rows: number, sizes: number[]): Int32Array {
  const { index } = args.inputs;
  const k = sizes.length;
  if (index.dtype !== "int32" || index.shape.join() !== `${rows},${k}`) {
    throw new RangeError(`${name} needs an int32 index [${rows}, ${k}]; got [${index.shape}]`);
  }
  const heap = args.backend.wasm.HEAPU8.buffer;
  const values = new Int32Array(heap, heapOffset(args.backend, index), rows * k);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= 0 && v < sizes[i % k])) {
      throw new RangeError(
        `${name}: index ${v} (row ${Math.floor(i / k)}) is outside [0, ${sizes[i % k]})`,
      );
    }
  }
  return values;
}

/** `VattPositionRows`: `[R, d]`. */
export function positionRows(args: KernelArgs): TensorInfo {
  const { x, index: _index, ...named } = args.inputs;
  const tables = Object.keys(named).sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)))
    .map((key) => named[key]);
  checkFloat(POSITION_ROWS_KERNEL, x, ...tables);
  const [rows, d] = x.shape;
  if (x.shape.length !== 2 || tables.some((t) => t.shape.length !== 2 || t.shape[1] !== d)) {
    throw new RangeError(`${POSITION_ROWS_KERNEL} needs x [R, d] and tables [n, d]`);
  }
  const out = args.backend.makeOutput([rows, d], "float32");
  // Views after makeOutput: allocating may have grown (moved) the heap.
  const index = indexOf(POSITION_ROWS_KERNEL, args, rows, tables.map((t) => t.shape[0]));
  const [from, to, ...t] = [x, out, ...tables].map((v) => heapF32(args.backend, v));
  const k = t.length;
  const sum = new Float32Array(d);
  for (let r = 0; r < rows; r++) {
    sum.set(t[0].subarray(index[r * k] * d, (index[r * k] + 1) * d));
    for (let c = 1; c < k; c++) {
      const row = t[c], at = index[r * k + c] * d;
      for (let j = 0; j < d; j++) sum[j] += row[at + j];
    }
    for (let j = 0, o = r * d; j < d; j++) to[o + j] = from[o + j] + sum[j];
  }
  return out;
}

/** `VattPositionRowsGrad`: the tables' gradients. */
export function positionRowsGrad(args: KernelArgs): TensorInfo[] {
  const { dy } = args.inputs;
  checkFloat(POSITION_ROWS_GRAD_KERNEL, dy);
  const sizes = args.attrs?.sizes ?? [];
  const [rows, d] = dy.shape;
  if (dy.shape.length !== 2 || sizes.length < 1) {
    throw new RangeError(`${POSITION_ROWS_GRAD_KERNEL} needs dy [R, d] and the tables' sizes`);
  }
  const outs = sizes.map((n) => args.backend.makeOutput([n, d], "float32"));
  const index = indexOf(POSITION_ROWS_GRAD_KERNEL, args, rows, sizes);
  const [g, ...dt] = [dy, ...outs].map((v) => heapF32(args.backend, v));
  dt.forEach((t) => t.fill(0));
  const k = sizes.length;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < k; c++) {
      const acc = dt[c], at = index[r * k + c] * d;
      for (let j = 0, o = r * d; j < d; j++) acc[at + j] += g[o + j];
    }
  }
  return outs;
}
