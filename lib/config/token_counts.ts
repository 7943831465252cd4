/**
 * How many tokens a config's inputs give: the video grid, the audio
 * sequence, and what DropToken keeps of them.
 *
 * @module
 */
import type { AudioConfig, VideoConfig } from "./vatt_config.ts";

/**
 * Number of video tokens: `ceil(T/t)·ceil(H/h)·ceil(W/w)`, and the grid.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { videoTokenGrid } from "./token_counts.ts";
 * const grid = videoTokenGrid({ frames: 8, height: 30, width: 32, patch: [2, 8, 8] });
 * assert.deepEqual(grid, { nt: 4, nh: 4, nw: 4, count: 64 });
 * ```
 */
export function videoTokenGrid(v: Pick<VideoConfig, "frames" | "height" | "width" | "patch">): {
  nt: number;
  nh: number;
  nw: number;
  count: number;
} {
  const nt = Math.ceil(v.frames / v.patch[0]);
  const nh = Math.ceil(v.height / v.patch[1]);
  const nw = Math.ceil(v.width / v.patch[2]);
  return { nt, nh, nw, count: nt * nh * nw };
}

/**
 * Number of audio tokens: `ceil(T'/t')`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { audioTokenCount } from "./token_counts.ts";
 * assert.equal(audioTokenCount({ samples: 6400, patch: 128 }), 50);
 * assert.equal(audioTokenCount({ samples: 6401, patch: 128 }), 51);
 * ```
 */
export function audioTokenCount(a: Pick<AudioConfig, "samples" | "patch">): number {
  return Math.ceil(a.samples / a.patch);
}

/**
 * Number of tokens kept by DropToken out of `n` (at least one).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { keptTokenCount } from "./token_counts.ts";
 * assert.equal(keptTokenCount(64, 0.5), 32);
 * assert.equal(keptTokenCount(1, 0.9), 1);
 * ```
 */
export function keptTokenCount(n: number, dropRate: number): number {
  return Math.max(1, Math.floor(n * (1 - dropRate)));
}
