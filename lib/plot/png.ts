/**
 * PNG output of plots, rasterised here and encoded with `fast-png`.
 *
 * The PNG shows what the SVG shows (same layout, from `scene.ts`) with two simplifications:
 * text is drawn in vatt's own proportional, mixed-case bitmap font (`_font.ts`: digits, both
 * cases and common punctuation; other characters appear as `?`), magnified twice for titles; and
 * point labels (SVG tooltips) are not drawn. Points are anti-aliased discs; lines are
 * anti-aliased strokes.
 *
 * @module
 */

import { encode } from "fast-png";
import { Canvas } from "./_raster.ts";
import { parseHexColor } from "./palette.ts";
import { markerPoints, type Scene } from "./shapes.ts";

/**
 * Rasterises a laid-out {@linkcode Scene} into RGBA pixels, `[height, width, 4]` row-major.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rasterizeScene } from "./png.ts";
 * import { scatterScene } from "./scene.ts";
 * const px = rasterizeScene(scatterScene([[0, 0]], { width: 100, height: 80 }));
 * assert.equal(px.length, 100 * 80 * 4);
 * ```
 */
export function rasterizeScene(scene: Scene): Uint8Array {
  const canvas = new Canvas(scene.width, scene.height, parseHexColor(scene.background));
  for (const s of scene.shapes) {
    switch (s.kind) {
      case "rect": {
        if (s.fill) canvas.fillRect(s.x, s.y, s.width, s.height, parseHexColor(s.fill));
        if (s.stroke) {
          const { x, y, width: w, height: h } = s;
          canvas.polyline(
            [[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]],
            1,
            parseHexColor(s.stroke),
          );
        }
        break;
      }
      case "line":
        canvas.polyline([[s.x1, s.y1], [s.x2, s.y2]], s.width, parseHexColor(s.stroke));
        break;
      case "polyline":
        canvas.polyline(s.points, s.width, parseHexColor(s.stroke));
        break;
      case "circle":
        if (s.marker === undefined || s.marker === "circle") {
          canvas.disc(s.cx, s.cy, s.r, parseHexColor(s.fill));
        } else canvas.polygon(markerPoints(s), parseHexColor(s.fill));
        break;
      case "text":
        canvas.text(s.x, s.y, s.text, parseHexColor(s.color), {
          scale: s.size >= 16 ? 2 : 1,
          anchor: s.anchor,
          vertical: s.vertical,
        });
        break;
    }
  }
  return canvas.data;
}

/**
 * Encodes a laid-out {@linkcode Scene} as PNG bytes (8-bit RGBA).
 *
 * @example
 * ```ts
 * import { sceneToPng } from "./png.ts";
 * import { scatterScene } from "./scene.ts";
 * const png = sceneToPng(scatterScene([[0, 0]], { width: 100, height: 80 }));
 * import assert from "node:assert/strict";
 * assert.equal(new TextDecoder().decode(png.subarray(1, 4)), "PNG");
 * ```
 */
export function sceneToPng(scene: Scene): Uint8Array {
  return encode({
    width: scene.width,
    height: scene.height,
    data: rasterizeScene(scene),
    channels: 4,
    depth: 8,
  });
}
