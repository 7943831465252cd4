/**
 * The views of a clip that multi-view classification averages (the paper's
 * protocol: K evenly spaced temporal windows × 3 spatial crops, logits
 * averaged per clip), as fixed views of `lib/data/shards/augment.ts`
 * (`ClipView`: where the window lies in a clip's spare frames, where the crop
 * lies in the spare width), which `batchToTensors` cuts out of each stored
 * clip.
 *
 * Windows are spaced as the official code's test sampling (`linspace` over
 * the possible starts, first and last included): fractions `k/(K−1)` of the
 * spare frames; a single window is the centre one. Three crops sit at the
 * left, centre and right of the stored width, vertically centred (the
 * official `multi_crop_image` slides its crops along the longer side; stored
 * frames are square, cut from landscape video by `vatt tokenize`, so they
 * slide across). A single crop is the centre one.
 *
 * @module
 */
import type { ClipView } from "../../data/shards/augment.ts";
import type { StoredShape } from "../../data/shards/dataset_index.ts";

/** One view of every clip, and how many of the K × C views it stands for. */
export interface WeightedView {
  view: ClipView;
  /** Views of the K × C that are this one (identical views are computed once). */
  weight: number;
}

/** The views of every clip: see {@linkcode planViews}. */
export interface ViewPlan {
  /** Windows and crops asked for. */
  windows: number;
  crops: number;
  /** The views to compute, with their weights (summing to `windows × crops`). */
  views: WeightedView[];
  /** The windows asked for are all the same window (the stored span is the model's). */
  windowsIdentical: boolean;
  /** The crops asked for are all the same crop (the stored frames are the model's size). */
  cropsIdentical: boolean;
}

/**
 * Where `count` evenly spaced windows lie in a clip's spare frames: `k/(count−1)`
 * (0 = first start, 1 = last); one window: the centre, 0.5.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { windowFractions } from "./views.ts";
 * assert.deepEqual(windowFractions(4), [0, 1 / 3, 2 / 3, 1]);
 * assert.deepEqual(windowFractions(1), [0.5]);
 * ```
 */
export function windowFractions(count: number): number[] {
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`windows must be a positive integer, got ${count}`);
  }
  if (count === 1) return [0.5];
  return Array.from({ length: count }, (_, k) => k / (count - 1));
}

/**
 * Where `count` (1 or 3) crops lie in the spare width: the centre, or the
 * left, centre and right.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cropFractions } from "./views.ts";
 * assert.deepEqual(cropFractions(3), [0, 0.5, 1]);
 * assert.deepEqual(cropFractions(1), [0.5]);
 * ```
 */
export function cropFractions(count: number): number[] {
  if (count !== 1 && count !== 3) throw new RangeError(`crops must be 1 or 3, got ${count}`);
  return count === 1 ? [0.5] : [0, 0.5, 1];
}

/**
 * The views of `windows × crops` for clips stored as `stored` when the model
 * takes `model`: every window with every crop, except that windows collapse
 * to one when nothing is stored beyond the model's window (frames and audio),
 * and crops to one when the stored frames are the model's size.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planViews } from "./views.ts";
 * const model = { frames: 8, size: 32, audioSamples: 800 };
 * const p = planViews({ frames: 12, size: 36, audioSamples: 1200 }, model, { windows: 2, crops: 3 });
 * assert.deepEqual(p.views.map((v) => [v.view.window, v.view.crop]), [
 *   [0, 0], [0, 0.5], [0, 1], [1, 0], [1, 0.5], [1, 1],
 * ]);
 * // Frames stored at the model's size: the three crops are one.
 * const same = planViews({ frames: 12, size: 32, audioSamples: 1200 }, model, { windows: 2, crops: 3 });
 * assert.equal(same.cropsIdentical, true);
 * assert.deepEqual(same.views.map((v) => v.weight), [3, 3]);
 * ```
 */
export function planViews(
  stored: StoredShape,
  model: StoredShape,
  options: { windows: number; crops: number },
): ViewPlan {
  const { windows, crops } = options;
  let ws = windowFractions(windows);
  let cs = cropFractions(crops);
  const windowsIdentical = windows > 1 && stored.frames <= model.frames &&
    stored.audioSamples <= model.audioSamples;
  const cropsIdentical = crops > 1 && stored.size <= model.size;
  if (windowsIdentical) ws = [0.5];
  if (cropsIdentical) cs = [0.5];
  const weight = (windows * crops) / (ws.length * cs.length);
  const views = ws.flatMap((window) => cs.map((crop) => ({ view: { window, crop }, weight })));
  return { windows, crops, views, windowsIdentical, cropsIdentical };
}
