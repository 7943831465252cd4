/**
 * Replacement kernels for the wasm backend that need no native library (one
 * uses it where it is built).
 *
 * `Transpose` of rank 5 and more: tfjs-backend-wasm 4.22 moves such tensors
 * element by element through a general index computation (3–4 million values
 * a second here, against over a billion for ranks up to 4), and the video
 * tokenizer's voxel-patch transpose is rank 6. This kernel merges axes that
 * stay neighbours, and when five or more remain copies the tensor in runs
 * along the output's last axis, on the wasm heap: natively where the native
 * kernels are built (`native/permute.c`, one `memcpy` a run; 0.28 → 0.06 ms a call
 * for the `tiny` video's patches), else in JavaScript. Lower ranks keep the
 * wasm kernel.
 *
 * `Identity`: the wasm kernel copies the tensor, and tfjs runs it on every
 * tensor it keeps for the backward pass (hundreds per training step). As the
 * cpu backend does, this one shares the data and counts a reference: tfjs
 * never writes into a tensor's data in place.
 *
 * `Sum` over every axis but the last (a bias's gradient, tens per training
 * step): the wasm kernel transposes the tensor first, then reduces its rows;
 * this one adds the rows into the output four lanes at a time
 * (`simd.ts`'s `sumRows`), in the same order. Other reductions keep the wasm
 * kernel.
 *
 * `GatherV2` of rows (a 2-D float32 or int32 table, 1-D indices, axis 0: token
 * embeddings and DropToken): the wasm kernel checks every index through a
 * closure and copies element by element; this one checks the indices and
 * copies whole rows. Other gathers keep the wasm kernel.
 *
 * @module
 */
import {
  GatherV2,
  getKernel,
  Identity,
  Sum,
  type TensorInfo,
  Transpose,
  util,
} from "@tensorflow/tfjs-core";
import { SWITCHES } from "../switches.ts";
import { heapOffset, type WasmBackendLike as HeapBackend } from "./_wasm_heap.ts";
import {
  countCall,
  defineKernelSet,
  kernelCallCounts,
  type KernelSet,
  originalKernel,
} from "./registry.ts";
import { simdKernelsOf } from "../simd/simd.ts";
import { nativeKernels } from "../native/native.ts";

/** The backend, with the reference count the copy-free `Identity` needs. */
type WasmBackendLike = HeapBackend & { incRef(dataId: object): void };

interface KernelArgs {
  inputs: { x: TensorInfo };
  backend: WasmBackendLike;
  attrs: { perm: number[] };
}

/**
 * `shape` and `perm` with size-1 axes dropped and neighbouring axes that stay
 * neighbours (in order) merged into one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { simplifyTranspose } from "./wasm.ts";
 * const s = simplifyTranspose([2, 1, 3, 4], [3, 1, 0, 2]); // axes 0 and 2 stay neighbours
 * assert.deepEqual(s, { shape: [6, 4], perm: [1, 0] });
 * ```
 */
export function simplifyTranspose(
  shape: readonly number[],
  perm: readonly number[],
): { shape: number[]; perm: number[] } {
  const kept = shape.map((_, i) => i).filter((i) => shape[i] !== 1);
  const rank = new Map(kept.map((axis, i) => [axis, i]));
  const p = perm.filter((axis) => shape[axis] !== 1).map((axis) => rank.get(axis)!);
  const s = kept.map((axis) => shape[axis]);
  // Groups of input axes that appear consecutively, in order, in the output.
  const groups: number[][] = [];
  for (const axis of p) {
    const last = groups.at(-1);
    if (last && last.at(-1)! + 1 === axis) last.push(axis);
    else groups.push([axis]);
  }
  const byFirst = [...groups].sort((a, b) => a[0] - b[0]);
  const newIndex = new Map(byFirst.map((g, i) => [g[0], i]));
  return {
    shape: byFirst.map((g) => g.reduce((n, axis) => n * s[axis], 1)),
    perm: groups.map((g) => newIndex.get(g[0])!),
  };
}

/** Copies `src` (row-major `shape`) into `dst` in the order `perm`. */
function permuteInto(
  src: Float32Array | Int32Array | Uint8Array,
  dst: Float32Array | Int32Array | Uint8Array,
  shape: number[],
  perm: number[],
): void {
  const r = shape.length;
  const inStrides = new Array<number>(r);
  let stride = 1;
  for (let d = r - 1; d >= 0; d--) {
    inStrides[d] = stride;
    stride *= shape[d];
  }
  const outShape = perm.map((axis) => shape[axis]);
  const strides = perm.map((axis) => inStrides[axis]); // input step per output axis
  const inner = outShape[r - 1];
  const innerStride = strides[r - 1];
  const runs = dst.length / inner;
  const index = new Int32Array(r - 1);
  let base = 0;
  let o = 0;
  for (let run = 0; run < runs; run++) {
    if (innerStride === 1) {
      for (let j = 0; j < inner; j++) dst[o + j] = src[base + j];
    } else {
      for (let j = 0, s = base; j < inner; j++, s += innerStride) dst[o + j] = src[s];
    }
    o += inner;
    for (let d = r - 2; d >= 0; d--) {
      base += strides[d];
      if (++index[d] < outShape[d]) break;
      base -= strides[d] * outShape[d];
      index[d] = 0;
    }
  }
}

function view(backend: WasmBackendLike, t: TensorInfo, size: number) {
  const offset = heapOffset(backend, t);
  const buffer = backend.wasm.HEAPU8.buffer;
  if (t.dtype === "float32") return new Float32Array(buffer, offset, size);
  if (t.dtype === "int32") return new Int32Array(buffer, offset, size);
  return new Uint8Array(buffer, offset, size);
}

function transpose(args: KernelArgs): TensorInfo {
  const x = args.inputs.x;
  const perm = args.attrs.perm;
  if (["float32", "int32", "bool"].includes(x.dtype) && x.shape.length >= 5) {
    const simple = simplifyTranspose(x.shape, perm);
    if (simple.shape.length >= 5) {
      countCall("wasm.js");
      const outShape = perm.map((axis) => x.shape[axis]);
      const size = outShape.reduce((n, s) => n * s, 1);
      const out = args.backend.makeOutput(outShape, x.dtype);
      // Views after makeOutput: allocating may have grown (moved) the heap.
      const from = view(args.backend, x, size), to = view(args.backend, out, size);
      const bytes = (v: typeof from) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      const copied = nativeKernels()?.permute(
        bytes(from),
        bytes(to),
        Int32Array.from(simple.shape),
        Int32Array.from(simple.perm),
        from.BYTES_PER_ELEMENT,
      );
      if (!copied) permuteInto(from, to, simple.shape, simple.perm);
      return out;
    }
  }
  countCall("wasm.wasm");
  return originalKernel<KernelArgs, TensorInfo>(Transpose, "wasm")(args);
}

function identity(args: { inputs: { x: TensorInfo }; backend: WasmBackendLike }): TensorInfo {
  const x = args.inputs.x;
  if (x.dtype === "string") return originalKernel<typeof args, TensorInfo>(Identity, "wasm")(args);
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

interface SumArgs {
  inputs: { x: TensorInfo };
  backend: WasmBackendLike;
  attrs: { axis: number | number[]; keepDims: boolean };
}

function sum(args: SumArgs): TensorInfo {
  const x = args.inputs.x;
  const rank = x.shape.length;
  const simd = x.dtype === "float32" && rank >= 2 ? simdKernelsOf(args.backend.wasm) : null;
  if (simd) {
    const axes = util.parseAxisParam(args.attrs.axis, x.shape).sort((a, b) => a - b);
    if (axes.length === rank - 1 && axes.every((axis, i) => axis === i)) {
      const cols = x.shape[rank - 1];
      const rows = util.sizeFromShape(x.shape) / cols;
      const shape = args.attrs.keepDims ? [...axes.map(() => 1), cols] : [cols];
      const out = args.backend.makeOutput(shape, "float32");
      simd.sumRows(heapOffset(args.backend, x), heapOffset(args.backend, out), rows, cols);
      return out;
    }
  }
  return originalKernel<SumArgs, TensorInfo>(Sum, "wasm")(args);
}

interface GatherArgs {
  inputs: { x: TensorInfo; indices: TensorInfo };
  backend: WasmBackendLike;
  attrs: { axis: number; batchDims?: number };
}

function gatherV2(args: GatherArgs): TensorInfo {
  const { x, indices } = args.inputs;
  const rows = x.shape.length === 2 && indices.shape.length === 1 &&
    (x.dtype === "float32" || x.dtype === "int32") && indices.dtype === "int32" &&
    util.parseAxisParam(args.attrs.axis, x.shape)[0] === 0 && (args.attrs.batchDims ?? 0) === 0;
  if (!rows) return originalKernel<GatherArgs, TensorInfo>(GatherV2, "wasm")(args);
  const [n, d] = x.shape;
  const k = indices.shape[0];
  const idx = view(args.backend, indices, k) as Int32Array;
  for (let i = 0; i < k; i++) {
    // tfjs's own message, before anything is allocated
    if (!(idx[i] >= 0 && idx[i] < n)) {
      throw new Error(`GatherV2: the index value ${idx[i]} is not in [0, ${n - 1}]`);
    }
  }
  const out = args.backend.makeOutput([k, d], x.dtype);
  // Views after makeOutput: allocating may have grown (moved) the heap.
  const table = view(args.backend, x, n * d) as Float32Array | Int32Array;
  const dst = view(args.backend, out, k * d) as Float32Array | Int32Array;
  const at = view(args.backend, indices, k) as Int32Array;
  for (let i = 0; i < k; i++) dst.set(table.subarray(at[i] * d, at[i] * d + d), i * d);
  return out;
}

/**
 * The replacement kernels on the wasm backend, in the place of its own
 * (`VATT_WASM_KERNELS=0` keeps tfjs's own); available once
 * `@tensorflow/tfjs-backend-wasm` is imported.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import "@tensorflow/tfjs-backend-wasm";
 * import { WASM_KERNEL_SET } from "./wasm.ts";
 * assert.equal(WASM_KERNEL_SET.register(), true);
 * WASM_KERNEL_SET.unregister();
 * assert.equal(WASM_KERNEL_SET.registered(), false);
 * ```
 */
export const WASM_KERNEL_SET: KernelSet = defineKernelSet({
  name: "wasm",
  backend: "wasm",
  switches: [SWITCHES.wasmKernels],
  kernels: { [Transpose]: transpose, [Identity]: identity, [Sum]: sum, [GatherV2]: gatherV2 },
  requires: () => getKernel(Transpose, "wasm") !== undefined,
});

/**
 * How many transposes ran in JavaScript and in the wasm kernel since the last
 * reset (`reset: true` zeroes the counts after reading them).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { wasmKernelCounts } from "./wasm.ts";
 * assert.deepEqual(wasmKernelCounts(), { js: 0, wasm: 0 });
 * ```
 */
export function wasmKernelCounts(options: { reset?: boolean } = {}): { js: number; wasm: number } {
  const counts = kernelCallCounts({ prefix: "wasm", reset: options.reset });
  return { js: counts.js ?? 0, wasm: counts.wasm ?? 0 };
}
