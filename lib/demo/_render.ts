/**
 * Renders the frames of a planned demo clip as raw RGB: a tinted, blotchy,
 * grainy background, grey distractors drifting mostly vertically, and the
 * coloured shape moving in its class's direction. A pure function of the plan.
 *
 * Private to `lib/demo/`.
 *
 * @module
 */
import { Rng } from "../util/rng.ts";
import type { DemoClipSpec, DemoShape } from "./_spec.ts";

const NOISE_TABLE = 8192; // power of two

/** Sub-pixel sample offsets for 4× supersampled shape edges. */
const SUBPIXELS: [number, number][] = [[-0.25, -0.25], [0.25, -0.25], [-0.25, 0.25], [
  0.25,
  0.25,
]];

/** Whether (dx, dy) from the centre lies inside the shape of circumradius r, rotated by `rot`. */
function inside(shape: DemoShape, dx: number, dy: number, r: number, cos: number, sin: number) {
  const lx = dx * cos + dy * sin;
  const ly = -dx * sin + dy * cos;
  if (shape === "circle") return lx * lx + ly * ly <= r * r;
  if (shape === "square") {
    const half = r * 0.85;
    return Math.abs(lx) <= half && Math.abs(ly) <= half;
  }
  // Equilateral triangle with circumradius 1.15 r, a vertex along -y.
  const R = r * 1.15;
  const y = ly / R;
  const x = lx / R;
  // Edges of the unit triangle with vertices (0,-1), (±√3/2, 1/2).
  return y <= 0.5 && Math.sqrt(3) * x - y <= 1 && -Math.sqrt(3) * x - y <= 1;
}

/** Paints a shape with anti-aliased edges into a float RGB frame. */
function paint(
  frame: Float32Array,
  width: number,
  height: number,
  shape: DemoShape,
  cx: number,
  cy: number,
  r: number,
  rotation: number,
  rgb: [number, number, number],
): void {
  const reach = r * 1.2 + 1;
  const x0 = Math.max(0, Math.floor(cx - reach));
  const x1 = Math.min(width - 1, Math.ceil(cx + reach));
  const y0 = Math.max(0, Math.floor(cy - reach));
  const y1 = Math.min(height - 1, Math.ceil(cy + reach));
  const cos = Math.cos(rotation);
  const sin = Math.sin(rotation);
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      let hits = 0;
      for (const [ox, oy] of SUBPIXELS) {
        if (inside(shape, x + 0.5 + ox - cx, y + 0.5 + oy - cy, r, cos, sin)) hits++;
      }
      if (hits === 0) continue;
      const w = hits / SUBPIXELS.length;
      const k = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) frame[k + c] = frame[k + c] * (1 - w) + rgb[c] * w;
    }
  }
}

/** The fixed background: tint + gradient + smooth blotches + grain, as floats. */
function background(spec: DemoClipSpec, rng: Rng): Float32Array {
  const { width, height } = spec;
  const v = spec.video;
  const cell = v.blotchCell;
  const gw = Math.ceil(width / cell) + 2;
  const gh = Math.ceil(height / cell) + 2;
  const grid = new Float32Array(gw * gh);
  for (let i = 0; i < grid.length; i++) grid[i] = rng.normal() * v.blotchAmplitude;
  const out = new Float32Array(width * height * 3);
  const cx = width / 2;
  const cy = height / 2;
  for (let y = 0; y < height; y++) {
    const gy = y / cell;
    const iy = Math.floor(gy);
    const fy = gy - iy;
    for (let x = 0; x < width; x++) {
      const gx = x / cell;
      const ix = Math.floor(gx);
      const fx = gx - ix;
      const blotch = (grid[iy * gw + ix] * (1 - fx) + grid[iy * gw + ix + 1] * fx) * (1 - fy) +
        (grid[(iy + 1) * gw + ix] * (1 - fx) + grid[(iy + 1) * gw + ix + 1] * fx) * fy;
      const shade = blotch + v.gradient[0] * (x - cx) + v.gradient[1] * (y - cy);
      const k = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        out[k + c] = v.backgroundRgb[c] + shade + rng.normal() * v.grain;
      }
    }
  }
  return out;
}

/**
 * Centre `[x, y]` (pixels) of the main shape at time `t` seconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planDemoClipSpecs } from "./_plan.ts";
 * import { shapeCentre } from "./_render.ts";
 * const [spec] = planDemoClipSpecs({ clips: 1, seed: 0, width: 64, height: 48, seconds: 2, fps: 10, sampleRate: 16000 });
 * const dx = shapeCentre(spec, 2)[0] - shapeCentre(spec, 0)[0];
 * assert.ok(spec.motion === "right" ? dx > 0 : dx < 0);
 * ```
 */
export function shapeCentre(spec: DemoClipSpec, t: number): [number, number] {
  const v = spec.video;
  return [
    v.x0 + v.vx * t,
    v.y0 + v.vy * t + v.bobAmplitude * Math.sin(2 * Math.PI * v.bobHz * t + v.bobPhase),
  ];
}

/**
 * All frames of a clip, `[frames, height, width, 3]` uint8 RGB, row-major.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planDemoClipSpecs } from "./_plan.ts";
 * import { renderClipFrames } from "./_render.ts";
 * const [spec] = planDemoClipSpecs({ clips: 1, seed: 0, width: 64, height: 48, seconds: 1, fps: 10, sampleRate: 16000 });
 * const frames = renderClipFrames(spec);
 * assert.equal(frames.length, 10 * 48 * 64 * 3);
 * ```
 */
export function renderClipFrames(spec: DemoClipSpec): Uint8Array {
  const { width, height, frames, fps } = spec;
  const v = spec.video;
  const rng = new Rng(v.noiseSeed);
  const base = background(spec, rng);
  const table = new Float32Array(NOISE_TABLE);
  for (let i = 0; i < NOISE_TABLE; i++) table[i] = rng.normal() * v.temporalNoise;
  const frameSize = width * height * 3;
  const out = new Uint8Array(frames * frameSize);
  const work = new Float32Array(frameSize);
  for (let f = 0; f < frames; f++) {
    const t = f / fps;
    work.set(base);
    for (const d of v.distractors) {
      paint(
        work,
        width,
        height,
        d.shape,
        d.x0 + d.vx * t,
        d.y0 + d.vy * t,
        d.radius,
        d.rotation,
        d.rgb,
      );
    }
    const [cx, cy] = shapeCentre(spec, t);
    paint(work, width, height, spec.shape, cx, cy, v.radius, v.rotation, v.rgb);
    const flicker = v.flickerAmplitude * Math.sin(2 * Math.PI * v.flickerHz * t);
    const offset = rng.nextInt(NOISE_TABLE);
    const stride = 2 * rng.nextInt(NOISE_TABLE / 2) + 1; // odd: visits the whole table
    const dst = out.subarray(f * frameSize, (f + 1) * frameSize);
    for (let i = 0; i < frameSize; i++) {
      const value = work[i] + flicker + table[(offset + i * stride) & (NOISE_TABLE - 1)];
      dst[i] = value <= 0 ? 0 : value >= 255 ? 255 : Math.round(value);
    }
  }
  return out;
}
