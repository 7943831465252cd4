/**
 * The two-direction contrastive losses in float64, written from the official code's formulas
 * (`vatt/utils/train/objectives.py`, `AsymmetricNCE` and `SymmetricNCE`) clip by clip, for the
 * finite-difference checks of the loss tests. Independent of the code under test.
 *
 * @module
 */
import { dot, unit } from "./_backends.ts";

/** log Σ e^x in float64 (−Infinity for an empty list). */
export function lse(xs: readonly number[]): number {
  if (xs.length === 0) return -Infinity;
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((sum, x) => sum + Math.exp(x - m), 0));
}

/**
 * The "official" or "symmetric" loss of videos `v` `[B][D]` against captions `x` `[B][P][D]`
 * (audio: `P` = 1) with `mask` `[B][P]` (1 = real), both L2-normalised, temperature `tau`.
 */
export function referenceTwoWay(
  v: number[][],
  x: number[][][],
  options: { mask?: number[][]; form: "official" | "symmetric"; tau: number },
): number {
  const vv = v.map(unit);
  const xx = x.map((captions) => captions.map(unit));
  const mask = options.mask ?? x.map((captions) => captions.map(() => 1));
  const s = (i: number, j: number, p: number) => dot(vv[i], xx[j][p]) / options.tau;
  const clips = v.map((_, i) => i);
  const valid = clips.filter((i) => mask[i].some((m) => m > 0));
  if (valid.length === 0) return 0;
  let total = 0;
  for (const i of valid) {
    const realOf = (j: number) => mask[j].flatMap((m, p) => (m > 0 ? [p] : []));
    const pos = lse(realOf(i).map((p) => s(i, i, p)));
    const videoToText = clips.flatMap((j) => realOf(j).map((p) => s(i, j, p)));
    const textToVideo = clips.flatMap((j) => realOf(i).map((p) => s(j, i, p)));
    total += options.form === "official"
      ? lse([...videoToText, ...textToVideo]) - pos
      : lse(videoToText) - pos + lse(textToVideo) - pos;
  }
  return total / valid.length;
}
