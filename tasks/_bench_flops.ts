/**
 * The benchmark's arithmetic: multiply-adds of one pretraining step computed
 * from the config, and the machine's measured sgemm ceiling (OpenBLAS through
 * `lib/backend/blas.ts`), so that a step time reads as GFLOP/s and as a
 * fraction of what these cores can multiply.
 *
 * @module
 */
import type { NativeBlas } from "../lib/backend/blas.ts";
import { audioTokenCount, keptTokenCount, videoTokenGrid } from "../lib/config/token_counts.ts";
import type { BackboneConfig, VattConfig } from "../lib/config/vatt_config.ts";

/** Multiply-adds of one pass of an encoder over `sequences` of `length` tokens (aggregation token included). */
export function encoderMacs(b: BackboneConfig, sequences: number, length: number): number {
  const d = b.hidden;
  const tokens = sequences * length;
  const projections = 4 * tokens * d * d; // q, k, v, o
  const scores = 2 * sequences * length * length * d; // Q Kᵀ and α V over all heads
  const mlp = 2 * tokens * d * b.mlp;
  return b.layers * (projections + scores + mlp);
}

/** Multiply-adds of one step's forward pass, per part. */
export interface ForwardMacs {
  /** Video patch embedding, on the patches DropToken keeps (it picks before the projection). */
  videoEmbed: number;
  /** Audio patch embedding, on the kept patches. */
  audioEmbed: number;
  /** The three encoders, on the tokens DropToken keeps (plus the aggregation token). */
  video: number;
  audio: number;
  text: number;
  /** The common-space heads and the NCE / MIL-NCE similarity matrices. */
  heads: number;
  total: number;
}

/**
 * The matrix products' multiply-adds of one pretraining forward pass of
 * `batch` clips with `captions` captions each (embedding lookups, norms and
 * elementwise ops are not counted; text tokens are `maxLength`, the video and
 * audio tokens those DropToken keeps).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveVattConfig } from "../lib/config/vatt_config.ts";
 * import { forwardMacs } from "./_bench_flops.ts";
 * const m = forwardMacs(resolveVattConfig({ preset: "tiny" }), { batch: 8, captions: 4 });
 * assert.equal(m.total, m.videoEmbed + m.audioEmbed + m.video + m.audio + m.text + m.heads);
 * ```
 */
export function forwardMacs(
  c: VattConfig,
  options: { batch: number; captions: number },
): ForwardMacs {
  const b = options.batch;
  const v = c.video;
  const grid = videoTokenGrid(v).count;
  const audioTokens = audioTokenCount(c.audio);
  const patchVolume = v.patch[0] * v.patch[1] * v.patch[2] * 3;
  const keptVideo = keptTokenCount(grid, c.dropToken);
  const keptAudio = keptTokenCount(audioTokens, c.dropToken);
  const videoEmbed = b * keptVideo * patchVolume * v.backbone.hidden;
  const audioEmbed = b * keptAudio * c.audio.patch * c.audio.backbone.hidden;
  const video = encoderMacs(v.backbone, b, keptVideo + 1);
  const audio = encoderMacs(c.audio.backbone, b, keptAudio + 1);
  const texts = b * options.captions;
  const text = encoderMacs(c.text.backbone, texts, c.text.maxLength + 1);
  const { vaDim: va, vtDim: vt } = c.heads;
  const heads = b * (v.backbone.hidden * va + va * va + va * vt) + // video → va → vt
    b * c.audio.backbone.hidden * va + // audio → va
    texts * c.text.backbone.hidden * vt + // text → vt
    b * b * va + b * texts * vt; // similarities of NCE and MIL-NCE
  const total = videoEmbed + audioEmbed + video + audio + text + heads;
  return { videoEmbed, audioEmbed, video, audio, text, heads, total };
}

/**
 * Floating-point operations of one training step: forward and backward take
 * about three times the forward products (each product's backward is two
 * products of its size), two operations per multiply-add.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stepFlops } from "./_bench_flops.ts";
 * assert.equal(stepFlops({ total: 10 }), 60);
 * ```
 */
export function stepFlops(macs: Pick<ForwardMacs, "total">): number {
  return 2 * 3 * macs.total;
}

/** The measured sgemm rates of this machine, GFLOP/s. */
export interface SgemmCeiling {
  /** The product measured: `m×k · k×n`. */
  shape: [m: number, k: number, n: number];
  oneThread: number;
  allThreads: number;
  threads: number;
}

/** The best of `reps` timings of one product on `threads` threads, GFLOP/s. */
function sgemmRate(
  blas: NativeBlas,
  shape: [number, number, number],
  threads: number,
  reps: number,
) {
  const [m, k, n] = shape;
  const a = new Float32Array(m * k).fill(0.5);
  const b = new Float32Array(k * n).fill(0.25);
  const c = new Float32Array(m * n);
  blas.setThreads(threads);
  let best = Infinity;
  for (let r = 0; r < reps + 1; r++) { // the first run warms the threads and caches up
    const t0 = performance.now();
    blas.gemm({ m, n, k, a, b, c });
    const ms = performance.now() - t0;
    if (r > 0) best = Math.min(best, ms);
  }
  return (2 * m * n * k) / (best * 1e6);
}

/**
 * OpenBLAS's sgemm rate on one thread and on `threads`, best of `reps` runs of
 * a `544×2048 · 2048×512` product (the sizes of a `small` MLP product); the
 * library's thread setting is restored after.
 */
export function measureSgemmCeiling(
  blas: NativeBlas,
  threads: number,
  reps = 8,
): SgemmCeiling {
  const shape: [number, number, number] = [544, 2048, 512];
  const before = blas.threads();
  try {
    return {
      shape,
      oneThread: sgemmRate(blas, shape, 1, reps),
      allThreads: sgemmRate(blas, shape, threads, reps),
      threads,
    };
  } finally {
    blas.setThreads(before);
  }
}

/**
 * The better of two ceiling measurements, rate by rate (`null` where neither
 * was measured): the bench measures at its start and at its end, since one
 * measurement on a shared machine may find a core taken (a start-of-run two-
 * thread rate of 99 GFLOP/s against 203 an hour before made every `% ceiling`
 * of that run meaningless).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { betterCeiling } from "./_bench_flops.ts";
 * const shape: [number, number, number] = [544, 2048, 512];
 * const start = { shape, oneThread: 97, allThreads: 99, threads: 2 };
 * const end = { shape, oneThread: 95, allThreads: 190, threads: 2 };
 * assert.deepEqual(betterCeiling(start, end), { shape, oneThread: 97, allThreads: 190, threads: 2 });
 * assert.equal(betterCeiling(null, null), null);
 * assert.equal(betterCeiling(start, null), start);
 * ```
 */
export function betterCeiling(
  a: SgemmCeiling | null,
  b: SgemmCeiling | null,
): SgemmCeiling | null {
  if (!a || !b) return a ?? b;
  return {
    ...a,
    oneThread: Math.max(a.oneThread, b.oneThread),
    allThreads: Math.max(a.allThreads, b.allThreads),
  };
}
