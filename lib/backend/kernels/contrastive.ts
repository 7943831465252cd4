/**
 * The two-direction contrastive losses (NCE between video and audio, MIL-NCE
 * between video and captions, in VATT's "official" and "symmetric" forms) as
 * one kernel each way for the wasm backend, registered with the other fused
 * kernels (`fused.ts`). `lib/loss/` runs them instead of its chain of ops (on
 * the `tiny` benchmark step, the two losses took about 110 engine calls
 * forward and 230 backward: normalisation, product, masks, transpose,
 * concatenation, log-sum-exps, their gradients):
 *
 * - `VattContrastive` `{v [B, D], x [B·P, D], mask [B, P], videoMask [B]}`,
 *   attrs `form`, `temperature`, `normalize` → the loss (a scalar);
 * - `VattContrastiveGrad` `{v, x, mask, videoMask, dy}`, the same attrs →
 *   `[dv, dx]`.
 *
 * The formula is `lib/loss/_two_way.ts`'s (`twoWayLoss`, after the rows are
 * L2-normalised as `l2Normalize` does and the scores divided by the
 * temperature); caption `p` of clip `j` is row `j·P + p` of `x` (audio:
 * `P = 1`). Masked captions and videos leave every log-sum-exp, as the −1e9
 * the chain adds to them makes them do. Computed in float64 and rounded once,
 * so it is close to the chain's float32 result, not the same bits. The
 * backward kernel recomputes the scores (a `[B, B·P]` product: small next to
 * the towers) instead of keeping them.
 *
 * @module
 */
import type { TensorInfo } from "@tensorflow/tfjs-core";
import { checkFloat, heapF32, sizeOf, type WasmKernelArgs } from "./_wasm_heap.ts";
import { CONTRASTIVE_GRAD_KERNEL, CONTRASTIVE_KERNEL } from "./names.ts";

/** The attributes of both kernels. */
export interface ContrastiveAttrs {
  /** `"official"` (VATT's `AsymmetricNCE`) or `"symmetric"` (`SymmetricNCE`). */
  form: "official" | "symmetric";
  /** τ: the scores are `v̂ᵢ·x̂_c / τ`. */
  temperature: number;
  /** L2-normalise the rows of `v` and `x` first (as `l2Normalize`: `rsqrt(max(Σx², 1e-12))`). */
  normalize: boolean;
}

/** The inputs as arrays: `v [B·D]`, `x [B·P·D]`, `mask [B·P]`, `videoMask [B]`, row-major. */
export interface ContrastiveInputs {
  v: ArrayLike<number>;
  x: ArrayLike<number>;
  mask: ArrayLike<number>;
  videoMask: ArrayLike<number>;
  /** Clips `B`, captions per clip `P`, width `D`. */
  b: number;
  p: number;
  d: number;
}

/** Smallest squared norm of a normalised row (`lib/loss/l2_normalize.ts`'s). */
const NORM_EPSILON = 1e-12;

/**
 * Rows of `a` (`rows × d`) L2-normalised in float64, with each row's squared norm `Σa²` and
 * factor `rsqrt(max(Σa², ε))`.
 */
function normalizeRows(a: ArrayLike<number>, rows: number, d: number, on: boolean) {
  const out = new Float64Array(rows * d);
  for (let i = 0; i < rows * d; i++) out[i] = a[i];
  const squared = new Float64Array(rows);
  const factor = new Float64Array(rows).fill(1);
  if (!on) return { out, squared, factor };
  for (let r = 0; r < rows; r++) {
    for (let k = r * d; k < (r + 1) * d; k++) squared[r] += out[k] * out[k];
    factor[r] = 1 / Math.sqrt(Math.max(squared[r], NORM_EPSILON));
    for (let k = r * d; k < (r + 1) * d; k++) out[k] *= factor[r];
  }
  return { out, squared, factor };
}

/** `log Σ exp` of `xs` (at least one entry). */
function logSumExp(xs: readonly number[]): number {
  let m = -Infinity;
  for (const x of xs) m = Math.max(m, x);
  let s = 0;
  for (const x of xs) s += Math.exp(x - m);
  return m + Math.log(s);
}

/** One log-sum-exp's entries: score indices into `s [B, B·P]` and their values. */
interface Terms {
  at: number[];
  values: number[];
}

function terms(s: Float64Array, at: number[]): Terms {
  return { at, values: at.map((k) => s[k]) };
}

/**
 * Per clip that counts (a real caption and a video): its log-sum-exp sets as
 * indices into the scores `s [B, B·P]`: the positives (its own real
 * captions), video→text (its video against every real caption) and
 * text→video (every video against its real captions).
 */
function clipSets(inp: ContrastiveInputs, s: Float64Array) {
  const { b, p, mask, videoMask } = inp;
  const q = b * p;
  const real: number[] = [];
  for (let c = 0; c < q; c++) if (mask[c] > 0) real.push(c);
  const sets = [];
  for (let i = 0; i < b; i++) {
    const own: number[] = [];
    for (let k = 0; k < p; k++) if (mask[i * p + k] > 0) own.push(i * p + k);
    if (own.length === 0 || !(videoMask[i] > 0)) continue;
    const byVideo: number[] = [];
    for (let j = 0; j < b; j++) {
      if (videoMask[j] > 0) {
        for (const c of own) byVideo.push(j * q + c);
      }
    }
    sets.push({
      positives: terms(s, own.map((c) => i * q + c)),
      videoToText: terms(s, real.map((c) => i * q + c)),
      textToVideo: terms(s, byVideo),
    });
  }
  return sets;
}

/** Normalised rows and the scores `s [B, B·P]` in float64. */
function scores(inp: ContrastiveInputs, attrs: ContrastiveAttrs) {
  const { b, p, d } = inp;
  const q = b * p;
  const v = normalizeRows(inp.v, b, d, attrs.normalize);
  const x = normalizeRows(inp.x, q, d, attrs.normalize);
  const s = new Float64Array(b * q);
  const [vs, xs] = [v.out, x.out];
  for (let i = 0; i < b; i++) {
    for (let c = 0; c < q; c++) {
      let dot = 0;
      for (let k = 0, vi = i * d, xc = c * d; k < d; k++) dot += vs[vi + k] * xs[xc + k];
      s[i * q + c] = dot / attrs.temperature;
    }
  }
  return { v, x, s };
}

/**
 * The loss in float64.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { contrastiveLoss } from "./contrastive.ts";
 * // Two clips, one caption each, every score 0: log(4 terms) − log(1 term) per clip (official).
 * const inputs = { v: [1, 0, 1, 0], x: [0, 1, 0, 1], mask: [1, 1], videoMask: [1, 1], b: 2, p: 1, d: 2 };
 * const official = contrastiveLoss(inputs, { form: "official", temperature: 1, normalize: true });
 * assert.ok(Math.abs(official - Math.log(4)) < 1e-12);
 * const symmetric = contrastiveLoss(inputs, { form: "symmetric", temperature: 1, normalize: true });
 * assert.ok(Math.abs(symmetric - 2 * Math.log(2)) < 1e-12);
 * ```
 */
export function contrastiveLoss(inp: ContrastiveInputs, attrs: ContrastiveAttrs): number {
  const { s } = scores(inp, attrs);
  const sets = clipSets(inp, s);
  let total = 0;
  for (const set of sets) {
    const pos = logSumExp(set.positives.values);
    total += attrs.form === "official"
      ? logSumExp([...set.videoToText.values, ...set.textToVideo.values]) - pos
      : logSumExp(set.videoToText.values) + logSumExp(set.textToVideo.values) - 2 * pos;
  }
  return total / Math.max(sets.length, 1);
}

/** Adds `weight · softmax(set)` to the gradient of the scores at the set's entries. */
function addSoftmax(g: Float64Array, weight: number, sets: Terms[]): void {
  const lse = logSumExp(sets.length === 1 ? sets[0].values : sets.flatMap((t) => t.values));
  for (const { at, values } of sets) {
    for (let n = 0; n < at.length; n++) g[at[n]] += weight * Math.exp(values[n] - lse);
  }
}

/** The gradient of normalised rows `dOut` back through the normalisation, in place. */
function normalizeGrad(
  a: ArrayLike<number>,
  norm: { squared: Float64Array; factor: Float64Array },
  dOut: Float64Array,
  rows: number,
  d: number,
  on: boolean,
): void {
  if (!on) return;
  for (let r = 0; r < rows; r++) {
    const f = norm.factor[r];
    let along = 0;
    for (let k = r * d; k < (r + 1) * d; k++) along += dOut[k] * a[k];
    // d(a·f)/da with f = (Σa²)^(−1/2) where Σa² ≥ ε (max() passes no gradient below it)
    const radial = norm.squared[r] >= NORM_EPSILON ? along * f * f * f : 0;
    for (let k = r * d; k < (r + 1) * d; k++) dOut[k] = f * dOut[k] - radial * a[k];
  }
}

/**
 * The gradient of `dy · loss` with respect to `v` and `x`, in float64.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { contrastiveLoss, contrastiveLossGrad } from "./contrastive.ts";
 * const inputs = { v: [0.3, -1, 2, 0.5], x: [1, 0.2, -0.4, 0.9], mask: [1, 1], videoMask: [1, 1], b: 2, p: 1, d: 2 };
 * const attrs = { form: "official" as const, temperature: 0.5, normalize: true };
 * const { dv } = contrastiveLossGrad(inputs, attrs, 1);
 * const h = 1e-6;
 * const moved = { ...inputs, v: inputs.v.map((a, i) => (i === 0 ? a + h : a)) };
 * const slope = (contrastiveLoss(moved, attrs) - contrastiveLoss(inputs, attrs)) / h;
 * assert.ok(Math.abs(dv[0] - slope) < 1e-5);
 * ```
 */
export function contrastiveLossGrad(
  inp: ContrastiveInputs,
  attrs: ContrastiveAttrs,
  dy: number,
): { dv: Float64Array; dx: Float64Array } {
  const { b, p, d } = inp;
  const q = b * p;
  const { v, x, s } = scores(inp, attrs);
  const sets = clipSets(inp, s);
  const g = new Float64Array(b * q); // d loss / d s
  const w = dy / Math.max(sets.length, 1);
  for (const set of sets) {
    if (attrs.form === "official") addSoftmax(g, w, [set.videoToText, set.textToVideo]);
    else {
      addSoftmax(g, w, [set.videoToText]);
      addSoftmax(g, w, [set.textToVideo]);
    }
    addSoftmax(g, attrs.form === "official" ? -w : -2 * w, [set.positives]);
  }
  const dv = new Float64Array(b * d);
  const dx = new Float64Array(q * d);
  const [vs, xs] = [v.out, x.out];
  for (let i = 0; i < b; i++) {
    for (let c = 0; c < q; c++) {
      const gic = g[i * q + c] / attrs.temperature;
      if (gic === 0) continue;
      for (let k = 0, vi = i * d, xc = c * d; k < d; k++) {
        dv[vi + k] += gic * xs[xc + k];
        dx[xc + k] += gic * vs[vi + k];
      }
    }
  }
  normalizeGrad(inp.v, v, dv, b, d, attrs.normalize);
  normalizeGrad(inp.x, x, dx, q, d, attrs.normalize);
  return { dv, dx };
}

/** A contrastive kernel's call. */
type KernelArgs = WasmKernelArgs<ContrastiveAttrs>;

/** The sizes `B`, `P`, `D` of a kernel call, its inputs checked against them. */
function sizesOf(name: string, args: KernelArgs): { b: number; p: number; d: number } {
  const { v, x, mask, videoMask } = args.inputs;
  checkFloat(name, v, x, mask, videoMask);
  const [b, d] = v.shape;
  const p = mask.shape[1];
  const fits = v.shape.length === 2 && mask.shape.length === 2 && mask.shape[0] === b &&
    x.shape.join() === `${b * p},${d}` && videoMask.shape.join() === `${b}`;
  if (!fits) {
    throw new RangeError(
      `${name}: v [${v.shape}], x [${x.shape}], mask [${mask.shape}], videoMask ` +
        `[${videoMask.shape}] do not fit (expected [B, D], [B·P, D], [B, P], [B])`,
    );
  }
  return { b, p, d };
}

/** The inputs as views of the heap (take them after `makeOutput`: the heap may move). */
function viewsOf(args: KernelArgs, sizes: { b: number; p: number; d: number }): ContrastiveInputs {
  const be = args.backend;
  const { v, x, mask, videoMask } = args.inputs;
  const [vs, xs, ms, vms] = [v, x, mask, videoMask].map((t) => heapF32(be, t));
  return { v: vs, x: xs, mask: ms, videoMask: vms, ...sizes };
}

/** `VattContrastive`: the loss as a float32 scalar. */
export function contrastiveKernel(args: KernelArgs): TensorInfo {
  const sizes = sizesOf(CONTRASTIVE_KERNEL, args);
  const out = args.backend.makeOutput([], "float32");
  heapF32(args.backend, out)[0] = contrastiveLoss(viewsOf(args, sizes), args.attrs);
  return out;
}

/** `VattContrastiveGrad`: `[dv, dx]` for the upstream gradient `dy` (a scalar). */
export function contrastiveGradKernel(args: KernelArgs): TensorInfo[] {
  const { v, x, dy } = args.inputs;
  const sizes = sizesOf(CONTRASTIVE_GRAD_KERNEL, args);
  checkFloat(CONTRASTIVE_GRAD_KERNEL, dy);
  if (sizeOf(dy.shape) !== 1) {
    throw new RangeError(`${CONTRASTIVE_GRAD_KERNEL}: dy must be a scalar, got [${dy.shape}]`);
  }
  const be = args.backend;
  const dvOut = be.makeOutput([...v.shape], "float32");
  const dxOut = be.makeOutput([...x.shape], "float32");
  const g = contrastiveLossGrad(viewsOf(args, sizes), args.attrs, heapF32(be, dy)[0]);
  heapF32(be, dvOut).set(g.dv);
  heapF32(be, dxOut).set(g.dx);
  return [dvOut, dxOut];
}
