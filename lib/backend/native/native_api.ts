/**
 * The native kernels' interface (`native.ts` loads the library behind it):
 * each function's arguments and what it computes, the sizes and calls they
 * take, and the parts of the encoder layer that `layerPhases` times.
 *
 * @module
 */
import type { AdamScalars, MaskArgs } from "../simd/simd.ts";

/** The library's functions, each running the SIMD module's kernel of the same name. */
export interface NativeKernels {
  /** `y = x·Φ(x)`, `cdf = Φ(x)`. */
  gelu(x: Float32Array, y: Float32Array, cdf: Float32Array, n: number): void;
  /** `gelu`, `y` then multiplied by `dropout`'s mask of the same arguments. */
  geluDropout(
    x: Float32Array,
    y: Float32Array,
    cdf: Float32Array,
    n: number,
    ...mask: MaskArgs
  ): void;
  /** `dx = dy·(Φ(x) + x·φ(x))`. */
  geluGrad(x: Float32Array, cdf: Float32Array, dy: Float32Array, dx: Float32Array, n: number): void;
  /** `geluGrad` of `dy` multiplied by `dropout`'s mask of the same arguments. */
  geluGradDropout(
    x: Float32Array,
    cdf: Float32Array,
    dy: Float32Array,
    dx: Float32Array,
    n: number,
    ...mask: MaskArgs
  ): void;
  /** `y = x·mask` (counter-based bits, `lib/util/counter_bits.ts`). */
  dropout(x: Float32Array, y: Float32Array, n: number, ...mask: MaskArgs): void;
  /** One Adam(W) step; the outputs may be the inputs themselves. */
  adam(
    w: Float32Array,
    m: Float32Array,
    v: Float32Array,
    g: Float32Array,
    wOut: Float32Array,
    mOut: Float32Array,
    vOut: Float32Array,
    n: number,
    ...scalars: AdamScalars
  ): void;
  /**
   * `adam` in place on several tensors of the wasm heap `heap` in one call:
   * tensor i's weight, moments and gradient at the byte offsets
   * `at[4i .. 4i + 3]`, `sizes[i]` values, its decay `decays[i]`; the scalars
   * those of `adam` but the decay (the same bits as one call each).
   */
  adamMany(
    heap: Uint8Array,
    at: Uint32Array,
    sizes: Int32Array,
    decays: Float32Array,
    ...scalars: AdamManyScalars
  ): void;
  /** LayerNorm of `rows` rows of `d` values. */
  layerNorm(
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    y: Float32Array,
    rows: number,
    d: number,
    epsilon: number,
  ): void;
  /**
   * Attention of `q`, `k`, `v` `[b, l, d]` in `h` heads (`../kernels/attention.ts`'s
   * `VattAttention`): `z` `[b, l, d]` and `alpha` `[b, h, l, l]`; `bias`, `mask`,
   * `drop` may be `null`.
   */
  attention(
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    bias: Float32Array | null,
    mask: Float32Array | null,
    drop: Float32Array | null,
    z: Float32Array,
    alpha: Float32Array,
    sizes: AttentionSizes,
  ): void;
  /** Its gradients `dq`, `dk`, `dv` and, where `dbias` is not `null`, the bias's. */
  attentionGrad(
    dz: Float32Array,
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    alpha: Float32Array,
    drop: Float32Array | null,
    grads: { dq: Float32Array; dk: Float32Array; dv: Float32Array; dbias: Float32Array | null },
    sizes: AttentionSizes,
  ): void;
  /**
   * Binds the BLAS library the process loaded from `library` (a name or path
   * `Deno.dlopen` took) for {@linkcode NativeKernels.gemm}; `false` when it
   * is not loaded or has no `cblas_sgemm`.
   */
  bindBlas(library: string): boolean;
  /**
   * `cblas_sgemm` (row-major) split over the kernels' threads in bands of 16
   * rows or columns, each band on one BLAS thread (`gemm.c`); after `bindBlas`.
   */
  gemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    lda: number,
    b: Float32Array,
    ldb: number,
    beta: number,
    c: Float32Array,
    ldc: number,
  ): void;
  /**
   * One pre-LayerNorm encoder layer forward (`layer.c`'s `vatt_encoder_layer`),
   * its tensors at the byte offsets `call.at` of `heap` (the wasm heap);
   * after `bindBlas`.
   */
  encoderLayer(heap: Uint8Array, call: LayerCall): void;
  /** Its backward pass (`vatt_encoder_layer_grad`). */
  encoderLayerGrad(heap: Uint8Array, call: LayerCall): void;
  /** The floats of scratch the backward pass needs for `dims`. */
  encoderLayerScratch(dims: Int32Array, withBias: boolean): number;
  /** `dst` = `src` (`shape`, `bytes` a value) with axes `perm` (`permute.c`); false: rank > 16. */
  permute(
    src: Uint8Array,
    dst: Uint8Array,
    shape: Int32Array,
    perm: Int32Array,
    bytes: number,
  ): boolean;
  /** Whether the CPU is AMD's with AVX-512 (`blas_core.ts`). */
  cpuAmdAvx512(): boolean;
  /** Threads the kernels use (those of the native BLAS setting). */
  threads(): number;
  /**
   * For tests: a job of `runs.length` ranges in which the calling thread's ranges wait for the
   * pool's workers to run all the others (`pool.c`'s `vatt_pool_probe`); counts each range's
   * runs into `runs` and returns the ranges the calling thread ran.
   */
  poolProbe(runs: Int32Array): number;
  /**
   * Advises transparent huge pages over the wasm heap that `heap` views (`heap.c`); the bytes
   * advised, 0 where none could be, -1 where the system has no such advice.
   */
  hugePages(heap: Uint8Array): number;
  /** Sets the threads the kernels use, the caller's included (1–64; for comparisons and tests). */
  setThreads(n: number): void;
  /**
   * Switches the encoder layer's timing on or off (`phases.h`) and returns the nanoseconds
   * timed since the last call, one per {@linkcode LAYER_PHASES} entry, zeroing them.
   */
  layerPhases(on: boolean): BigInt64Array;
}

/**
 * The parts of the native encoder layer's passes that `layerPhases` times (`phases.h`'s
 * order): the forward parts and the backward ones by clips, summed over the threads; the
 * weights' gradients; then each pass's wall time on the calling thread.
 */
export const LAYER_PHASES = [
  "forward: LayerNorms",
  "forward: q, k, v products",
  "forward: attention",
  "forward: output product",
  "forward: MLP products",
  "forward: GELU (and dropout)",
  "forward: residuals (and dropout)",
  "backward: MLP products",
  "backward: GELU",
  "backward: LayerNorms",
  "backward: output product",
  "backward: attention",
  "backward: q, k, v products",
  "backward: residuals (and dropout)",
  "weights: products",
  "weights: LayerNorms, position bias",
  "wall: forward",
  "wall: backward",
  "wall: weights",
] as const;

/** `adam`'s scalars but the last, the decay, which `adamMany` takes per tensor. */
export type AdamManyScalars = AdamScalars extends [...infer Head, number] ? Head : never;

/** Sizes of an attention call: clips, tokens, width, heads, and the logits' scale. */
export interface AttentionSizes {
  b: number;
  l: number;
  d: number;
  h: number;
  scale: number;
}

/**
 * An encoder-layer call (`layer.c`): the tensors' byte offsets in its enum's
 * order (0: absent), its sizes `[B, L, D, H, M, parts]`, `[ε, scale, the three
 * dropouts' scales]` and the dropouts' `{on, offset, k1, k2, threshold}`.
 */
export interface LayerCall {
  at: Uint32Array;
  dims: Int32Array;
  reals: Float32Array;
  drops: Uint32Array;
}
