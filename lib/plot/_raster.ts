/**
 * A small RGBA raster canvas (private to `lib/plot/`): filled rectangles, anti-aliased discs
 * and strokes (coverage from the pixel centre's distance to the shape), and text in vatt's
 * proportional mixed-case bitmap font (`_font.ts`).
 *
 * @module
 */

import { CAP_ROWS, GLYPH_ROWS, glyphRows, textWidth } from "./_font.ts";

type Rgb = readonly [number, number, number];

/** An opaque RGBA image, row-major, 8 bits per channel. */
export class Canvas {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;

  constructor(width: number, height: number, background: Rgb) {
    this.width = width;
    this.height = height;
    this.data = new Uint8Array(width * height * 4);
    for (let i = 0; i < width * height; i++) {
      this.data.set([background[0], background[1], background[2], 255], i * 4);
    }
  }

  /** Blends `color` over pixel (x, y) with opacity `alpha` in [0, 1]; outside pixels are ignored. */
  blend(x: number, y: number, color: Rgb, alpha: number): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height || alpha <= 0) return;
    const a = Math.min(1, alpha);
    const i = (y * this.width + x) * 4;
    for (let c = 0; c < 3; c++) {
      this.data[i + c] = Math.round(this.data[i + c] * (1 - a) + color[c] * a);
    }
  }

  /** Fills the pixels whose centres lie in [x, x + w) × [y, y + h). */
  fillRect(x: number, y: number, w: number, h: number, color: Rgb): void {
    const x0 = Math.max(0, Math.round(x));
    const y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w));
    const y1 = Math.min(this.height, Math.round(y + h));
    for (let py = y0; py < y1; py++) for (let px = x0; px < x1; px++) this.blend(px, py, color, 1);
  }

  /** A filled, anti-aliased disc. */
  disc(cx: number, cy: number, r: number, color: Rgb): void {
    const x0 = Math.floor(cx - r - 1);
    const x1 = Math.ceil(cx + r + 1);
    const y0 = Math.floor(cy - r - 1);
    const y1 = Math.ceil(cy + r + 1);
    for (let py = y0; py <= y1; py++) {
      for (let px = x0; px <= x1; px++) {
        const d = Math.hypot(px + 0.5 - cx, py + 0.5 - cy);
        this.blend(px, py, color, r + 0.5 - d);
      }
    }
  }

  /**
   * Fills a convex polygon, anti-aliased by 4 × 4 samples per pixel.
   */
  polygon(points: readonly (readonly [number, number])[], color: Rgb): void {
    const xs = points.map((p) => p[0]);
    const ys = points.map((p) => p[1]);
    const inside = (x: number, y: number) => {
      let sign = 0;
      for (let i = 0; i < points.length; i++) {
        const [ax, ay] = points[i];
        const [bx, by] = points[(i + 1) % points.length];
        const cross = (bx - ax) * (y - ay) - (by - ay) * (x - ax);
        if (cross === 0) continue;
        if (sign === 0) sign = Math.sign(cross);
        else if (Math.sign(cross) !== sign) return false;
      }
      return true;
    };
    for (let py = Math.floor(Math.min(...ys)); py <= Math.ceil(Math.max(...ys)); py++) {
      for (let px = Math.floor(Math.min(...xs)); px <= Math.ceil(Math.max(...xs)); px++) {
        let hits = 0;
        for (let k = 0; k < 16; k++) {
          if (inside(px + ((k % 4) + 0.5) / 4, py + (Math.floor(k / 4) + 0.5) / 4)) hits++;
        }
        this.blend(px, py, color, hits / 16);
      }
    }
  }

  /**
   * Strokes an open polyline `width` pixels wide, anti-aliased. Coverage is the maximum over
   * the segments, so joints are not drawn twice.
   */
  polyline(points: readonly (readonly [number, number])[], width: number, color: Rgb): void {
    if (points.length === 0) return;
    const half = width / 2;
    let bx0 = Infinity, by0 = Infinity, bx1 = -Infinity, by1 = -Infinity;
    for (const [x, y] of points) {
      bx0 = Math.min(bx0, x);
      by0 = Math.min(by0, y);
      bx1 = Math.max(bx1, x);
      by1 = Math.max(by1, y);
    }
    const x0 = Math.max(0, Math.floor(bx0 - half - 1));
    const y0 = Math.max(0, Math.floor(by0 - half - 1));
    const x1 = Math.min(this.width - 1, Math.ceil(bx1 + half + 1));
    const y1 = Math.min(this.height - 1, Math.ceil(by1 + half + 1));
    if (x1 < x0 || y1 < y0) return;
    const w = x1 - x0 + 1;
    const cover = new Float32Array(w * (y1 - y0 + 1));
    const segments = points.length === 1
      ? [[points[0], points[0]]]
      : points.slice(1).map((p, i) => [points[i], p]);
    for (const [[ax, ay], [bx, by]] of segments) {
      const sx0 = Math.max(x0, Math.floor(Math.min(ax, bx) - half - 1));
      const sx1 = Math.min(x1, Math.ceil(Math.max(ax, bx) + half + 1));
      const sy0 = Math.max(y0, Math.floor(Math.min(ay, by) - half - 1));
      const sy1 = Math.min(y1, Math.ceil(Math.max(ay, by) + half + 1));
      const dx = bx - ax;
      const dy = by - ay;
      const len2 = dx * dx + dy * dy;
      for (let py = sy0; py <= sy1; py++) {
        for (let px = sx0; px <= sx1; px++) {
          const qx = px + 0.5 - ax;
          const qy = py + 0.5 - ay;
          const t = len2 > 0 ? Math.max(0, Math.min(1, (qx * dx + qy * dy) / len2)) : 0;
          const d = Math.hypot(qx - t * dx, qy - t * dy);
          const a = Math.min(1, half + 0.5 - d);
          const k = (py - y0) * w + (px - x0);
          if (a > cover[k]) cover[k] = a;
        }
      }
    }
    for (let py = y0; py <= y1; py++) {
      for (let px = x0; px <= x1; px++) this.blend(px, py, color, cover[(py - y0) * w + (px - x0)]);
    }
  }

  /**
   * Draws `text` in the bitmap font magnified `scale` times, anchored at (x, y) (y is the
   * vertical middle of the capitals; descenders hang below); `vertical` rotates it 90°
   * counter-clockwise around the anchor.
   */
  text(
    x: number,
    y: number,
    text: string,
    color: Rgb,
    options: { scale: number; anchor: "start" | "middle" | "end"; vertical?: boolean },
  ): void {
    const s = options.scale;
    const width = textWidth(text) * s;
    const u0 = options.anchor === "start" ? 0 : options.anchor === "end" ? -width : -width / 2;
    const v0 = -(CAP_ROWS * s) / 2;
    const ax = Math.round(x);
    const ay = Math.round(y);
    let left = 0;
    for (const ch of text) {
      const rows = glyphRows(ch);
      for (let r = 0; r < GLYPH_ROWS; r++) {
        for (let c = 0; c < rows[r].length; c++) {
          if (rows[r][c] !== "#") continue;
          const u = Math.round(u0 + (left + c) * s);
          const v = Math.round(v0 + r * s);
          if (options.vertical) this.fillRect(ax + v, ay - u - s, s, s, color);
          else this.fillRect(ax + u, ay + v, s, s, color);
        }
      }
      left += rows[0].length + 1;
    }
  }
}
