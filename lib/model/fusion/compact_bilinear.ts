/**
 * Compact bilinear pooling (Gao et al. 2016; Fukui et al. 2016): the Count Sketch of an outer
 * product equals the circular convolution of the Count Sketches,
 * `Ψ(x ⊗ q) = Ψ_x(x) ⊛ Ψ_q(q) = FFT⁻¹(FFT(Ψ_x(x)) ⊙ FFT(Ψ_q(q)))`, with the joint hash
 * `h(i, j) = (h_x(i) + h_q(j)) mod d` and sign `s_x(i)·s_q(j)`. Chained over three or more
 * modalities it sketches the higher-order outer product the same way.
 *
 * Two ways to compute the circular convolution, chosen by {@linkcode FftMode}:
 * - `"fft"`: `tf.spectral.fft`/`ifft` on complex tensors, O(d log d) arithmetic. TensorFlow.js
 *   registers no gradient for its FFT kernels, so this path carries its own (`tf.customGrad`:
 *   the gradient of a circular convolution is a circular correlation, also computed by FFT).
 *   Needs the FFT, IFFT, Complex, Real and Imag kernels: present on `cpu` and `webgpu`,
 *   absent on `wasm`.
 * - `"dft"`: the discrete Fourier transform of a real signal as two matmuls with precomputed
 *   `[d, ⌊d/2⌋+1]` cos/sin matrices, and the inverse likewise. O(d²) time and memory, plain
 *   matmuls only, so it runs (and differentiates) on every backend. `d` is capped at
 *   {@linkcode MAX_DFT_SIZE}.
 * - `"auto"` (the default): `"dft"` when `d ≤` {@linkcode AUTO_DFT_MAX_SIZE} or when the
 *   current backend (`tf.getBackend()`) lacks the FFT kernels (wasm), else `"fft"`. The
 *   threshold is measured, not asymptotic: on the `cpu` backend (Deno 2.9, tfjs 4.22, batch
 *   8) the FFT kernel took 250 ms vs 39 ms for the DFT matmuls at d = 256, 2.7 s vs 0.12 s at
 *   d = 1024 and 8.9 s vs 2.1 s at d = 4096; the DFT basis costs `8·d²` bytes (33 MB at
 *   2048), which bounds how far it is worth taking.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { type CountSketch, countSketch } from "./count_sketch.ts";

/** How a circular convolution is computed; see the module documentation. */
export type FftMode = "auto" | "fft" | "dft";

/** The accepted {@linkcode FftMode} values. */
export const FFT_MODES: readonly FftMode[] = ["auto", "fft", "dft"];

/** Largest `d` for the matmul DFT path: its four basis matrices hold about `2·d²` floats. */
export const MAX_DFT_SIZE = 4096;

/** Largest `d` for which `"auto"` picks the DFT path even where FFT kernels exist. */
export const AUTO_DFT_MAX_SIZE = 2048;

const FFT_KERNELS = ["FFT", "IFFT", "Complex", "Real", "Imag"];

/**
 * Whether `backend` (default: the current one) has every kernel the FFT path needs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { hasFftKernels } from "./compact_bilinear.ts";
 * assert.ok(hasFftKernels("cpu"));
 * ```
 */
export function hasFftKernels(backend: string = tf.getBackend()): boolean {
  return FFT_KERNELS.every((name) => tf.getKernel(name, backend) !== undefined);
}

/**
 * The concrete path for `mode` and signal length `size` on the current backend (see the
 * module documentation for the `"auto"` rule). Throws a RangeError for `"fft"` on a backend
 * without FFT kernels (such as `wasm`), and when no path fits (`size` above
 * {@linkcode MAX_DFT_SIZE} there, or with `"dft"`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { resolveFftMode } from "./compact_bilinear.ts";
 * await tf.setBackend("cpu");
 * assert.equal(resolveFftMode("auto", { size: 1024 }), "dft");
 * assert.equal(resolveFftMode("auto", { size: 8192 }), "fft");
 * ```
 */
export function resolveFftMode(mode: FftMode, options: { size: number }): "fft" | "dft" {
  if (!FFT_MODES.includes(mode)) {
    throw new RangeError(`fftMode must be one of ${FFT_MODES.join(", ")}, got ${String(mode)}`);
  }
  const { size } = options;
  const backend = tf.getBackend();
  const available = hasFftKernels(backend);
  if (mode === "fft" && !available) {
    throw new RangeError(
      `fftMode "fft" needs FFT kernels, which backend "${backend}" lacks; use "dft" or "auto"`,
    );
  }
  const dft = mode === "dft" || (mode === "auto" && (!available || size <= AUTO_DFT_MAX_SIZE));
  if (dft && size > MAX_DFT_SIZE) {
    throw new RangeError(
      `Cannot convolve signals of length ${size} by DFT matmuls (at most ${MAX_DFT_SIZE})` +
        (available ? '; use fftMode "fft"' : ` and backend "${backend}" has no FFT kernels`),
    );
  }
  return dft ? "dft" : "fft";
}

/** Precomputed real-DFT matrices for signals of length `size`, `K = ⌊size/2⌋ + 1`. */
export interface DftBasis {
  /** Signal length `d`. */
  readonly size: number;
  /** `[d, K]`: `cos(2πnk/d)`; `x·forwardCos` is the real part of the spectrum. */
  readonly forwardCos: tf.Tensor2D;
  /** `[d, K]`: `−sin(2πnk/d)`; `x·forwardSin` is the imaginary part of the spectrum. */
  readonly forwardSin: tf.Tensor2D;
  /** `[K, d]`: `w_k·cos(2πkn/d)/d`, with `w_k = 1` for k = 0 and k = d/2, else 2. */
  readonly inverseCos: tf.Tensor2D;
  /** `[K, d]`: `−w_k·sin(2πkn/d)/d`. */
  readonly inverseSin: tf.Tensor2D;
  /** Frees the four matrices. */
  dispose(): void;
}

/**
 * Builds the {@linkcode DftBasis} for length `size` (the angles are reduced mod `size` in
 * double precision before rounding to float32).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createDftBasis } from "./compact_bilinear.ts";
 * const basis = createDftBasis(8);
 * assert.equal(basis.forwardCos.shape[1], 5);
 * basis.dispose();
 * ```
 */
export function createDftBasis(size: number): DftBasis {
  if (!Number.isSafeInteger(size) || size < 1 || size > MAX_DFT_SIZE) {
    throw new RangeError(
      `createDftBasis() size must be an integer in [1, ${MAX_DFT_SIZE}], got ${size}`,
    );
  }
  const k = Math.floor(size / 2) + 1;
  const fc = new Float32Array(size * k);
  const fs = new Float32Array(size * k);
  const ic = new Float32Array(k * size);
  const is = new Float32Array(k * size);
  for (let n = 0; n < size; n++) {
    for (let f = 0; f < k; f++) {
      const angle = (2 * Math.PI * ((n * f) % size)) / size;
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      fc[n * k + f] = c;
      fs[n * k + f] = -s;
      const w = (f === 0 || 2 * f === size ? 1 : 2) / size;
      ic[f * size + n] = w * c;
      is[f * size + n] = -w * s;
    }
  }
  const basis = {
    size,
    forwardCos: tf.tensor2d(fc, [size, k], "float32"),
    forwardSin: tf.tensor2d(fs, [size, k], "float32"),
    inverseCos: tf.tensor2d(ic, [k, size], "float32"),
    inverseSin: tf.tensor2d(is, [k, size], "float32"),
    dispose() {
      basis.forwardCos.dispose();
      basis.forwardSin.dispose();
      basis.inverseCos.dispose();
      basis.inverseSin.dispose();
    },
  };
  return basis;
}

interface Spectrum {
  re: tf.Tensor2D;
  im: tf.Tensor2D;
}

function multiply(a: Spectrum, b: Spectrum): Spectrum {
  return {
    re: tf.sub(tf.mul(a.re, b.re), tf.mul(a.im, b.im)),
    im: tf.add(tf.mul(a.re, b.im), tf.mul(a.im, b.re)),
  };
}

function fftSpectrum(x: tf.Tensor2D): Spectrum {
  const spectrum = tf.spectral.fft(tf.complex(x, tf.zerosLike(x))); // complex [B, d]
  return { re: tf.real(spectrum) as tf.Tensor2D, im: tf.imag(spectrum) as tf.Tensor2D };
}

function fftInverse(s: Spectrum): tf.Tensor2D {
  return tf.real(tf.spectral.ifft(tf.complex(s.re, s.im))) as tf.Tensor2D; // [B, d]
}

/** Circular convolution of all `signals` by FFT, with a hand-written gradient. */
function fftConvolution(signals: tf.Tensor2D[]): tf.Tensor2D {
  const convolve = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const xs = args.slice(0, -1) as tf.Tensor2D[];
    save(xs);
    const value = fftInverse(xs.map(fftSpectrum).reduce(multiply));
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      // y = x_j ⊛ r_j with r_j the convolution of the others, so
      // ∂L/∂x_j = dy ⋆ r_j (circular correlation) = FFT⁻¹(FFT(dy) ⊙ conj(FFT(r_j))).
      const spectra = (saved as tf.Tensor2D[]).map(fftSpectrum);
      const upstream = fftSpectrum(dy as tf.Tensor2D);
      return spectra.map((_, j) => {
        const others = spectra.filter((__, m) => m !== j);
        if (others.length === 0) return tf.clone(dy);
        const r = others.reduce(multiply);
        return fftInverse({
          re: tf.add(tf.mul(upstream.re, r.re), tf.mul(upstream.im, r.im)),
          im: tf.sub(tf.mul(upstream.im, r.re), tf.mul(upstream.re, r.im)),
        });
      });
    };
    return { value, gradFunc };
  });
  return convolve(...signals) as tf.Tensor2D;
}

/** Circular convolution of all `signals` by real DFT matmuls. */
function dftConvolution(signals: tf.Tensor2D[], basis: DftBasis): tf.Tensor2D {
  const spectra = signals.map((x): Spectrum => ({
    re: tf.matMul(x, basis.forwardCos), // [B, K]
    im: tf.matMul(x, basis.forwardSin), // [B, K]
  }));
  const product = spectra.reduce(multiply);
  return tf.add(
    tf.matMul(product.re, basis.inverseCos),
    tf.matMul(product.im, basis.inverseSin),
  ); // [B, d]
}

/**
 * Circular convolution, row by row, of one or more `[B, d]` signals:
 * `y[n] = Σ x_1[k_1]·…·x_M[k_M]` over `k_1 + … + k_M ≡ n (mod d)`. Differentiable with respect
 * to every signal on both paths. `options.mode` picks the path (default `"auto"`, see the
 * module documentation); `options.basis` reuses a {@linkcode DftBasis} of size `d` on the DFT
 * path (otherwise one is built and freed here).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { circularConvolution } from "./compact_bilinear.ts";
 * const y = circularConvolution([tf.tensor2d([[1, 2, 0, 0]]), tf.tensor2d([[0, 1, 0, 1]])], { mode: "dft" });
 * // (1 + 2z)(z + z³) mod (z⁴ − 1) = 2 + z + 2z² + z³
 * const v = await y.data();
 * assert.ok([2, 1, 2, 1].every((e, i) => Math.abs(v[i] - e) < 1e-5));
 * ```
 */
export function circularConvolution(
  signals: tf.Tensor2D[],
  options: { mode?: FftMode; basis?: DftBasis } = {},
): tf.Tensor2D {
  if (!Array.isArray(signals) || signals.length === 0) {
    throw new RangeError(`circularConvolution() needs at least one signal, got ${signals}`);
  }
  const [batch, size] = signals[0].shape;
  signals.forEach((s, m) => {
    if (s.rank !== 2 || s.shape[0] !== batch || s.shape[1] !== size) {
      throw new RangeError(
        `circularConvolution() signals[${m}] must have shape [${batch}, ${size}], got [${s.shape}]`,
      );
    }
  });
  const mode = resolveFftMode(options.mode ?? "auto", { size });
  const { basis } = options;
  if (mode === "dft" && basis && basis.size !== size) {
    throw new RangeError(
      `circularConvolution() basis has size ${basis.size}, signals have length ${size}`,
    );
  }
  return tf.tidy(() => {
    if (signals.length === 1) return tf.clone(signals[0]);
    if (mode === "fft") return fftConvolution(signals);
    return dftConvolution(signals, basis ?? createDftBasis(size));
  });
}

/**
 * Compact bilinear pooling of one `[B, D_m]` tensor per modality with that modality's Count
 * Sketch (all sketches must share `outputDim` d): `Ψ_1(x_1) ⊛ … ⊛ Ψ_M(x_M)`, `[B, d]`, which
 * equals the Count Sketch of the outer product `x_1 ⊗ … ⊗ x_M` under the joint hash
 * `(Σ h_m(i_m)) mod d` and sign `Π s_m(i_m)`. `options` as for {@linkcode circularConvolution}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { compactBilinear } from "./compact_bilinear.ts";
 * import { makeCountSketch } from "./count_sketch.ts";
 * const sketches = [makeCountSketch(3, 8, { seed: 0, label: "a" }), makeCountSketch(2, 8, { seed: 0, label: "b" })];
 * const y = compactBilinear([tf.ones([4, 3]), tf.ones([4, 2])], sketches, { mode: "auto" });
 * assert.equal(y.shape[0], 4);
 * assert.equal(y.shape[1], 8);
 * ```
 */
export function compactBilinear(
  xs: tf.Tensor2D[],
  sketches: CountSketch[],
  options: { mode?: FftMode; basis?: DftBasis } = {},
): tf.Tensor2D {
  if (!Array.isArray(xs) || !Array.isArray(sketches) || xs.length !== sketches.length) {
    throw new RangeError(
      `compactBilinear() needs one sketch per input, got ${xs?.length} inputs and ${sketches?.length} sketches`,
    );
  }
  if (xs.length === 0) throw new RangeError("compactBilinear() needs at least one input");
  const d = sketches[0].outputDim;
  sketches.forEach((s, m) => {
    if (s.outputDim !== d) {
      throw new RangeError(
        `compactBilinear() sketches[${m}] has outputDim ${s.outputDim}, sketches[0] has ${d}`,
      );
    }
  });
  return tf.tidy(() => circularConvolution(xs.map((x, m) => countSketch(x, sketches[m])), options));
}
