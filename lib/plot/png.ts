/**
 * PNG output of plots, rasterised here and encoded with `fast-png`.
 *
 * The PNG shows what the SVG shows (same layout, from `scene.ts`) with two simplifications:
 * text is drawn in a built-in 5×7 bitmap font (digits, A–Z with lower case shown as upper case,
 * and common punctuation; other characters appear as `?`), magnified twice for titles; and
 * point labels (SVG tooltips) are not drawn. Points are anti-aliased discs; lines are
 * anti-aliased strokes.
 *
 * @module
 */

import { encode } from "fast-png";
import { Canvas } from "./_raster.ts";
import { parseHexColor } from "./palette.ts";
import {
  type LineChartOptions,
  lineChartScene,
  type LineSeries,
  type ScatterOptions,
  scatterScene,
  type Scene,
} from "./scene.ts";

export type { LineChartOptions, LineSeries, ScatterOptions } from "./scene.ts";

/**
 * Rasterises a laid-out {@linkcode Scene} into RGBA pixels, `[height, width, 4]` row-major.
 *
 * @example
 * ```ts
 * import { rasterizeScene } from "./png.ts";
 * import { scatterScene } from "./scene.ts";
 * const px = rasterizeScene(scatterScene([[0, 0]], { width: 100, height: 80 }));
 * console.assert(px.length === 100 * 80 * 4);
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
        canvas.disc(s.cx, s.cy, s.r, parseHexColor(s.fill));
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
 * console.assert(png[1] === 0x50 && png[2] === 0x4e && png[3] === 0x47); // "PNG"
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

/**
 * A scatter plot as PNG bytes: one disc per point, coloured by group (palette order) or by
 * `colors`, with a legend of the groups and a title. `labels` are ignored (see the module doc).
 *
 * @param points `[x, y]` per point, all finite.
 *
 * @example
 * ```ts
 * import { scatterPng } from "./png.ts";
 * const png = scatterPng([[0, 0], [1, 2], [2, 1]], { groups: [0, 1, 0], title: "Audio" });
 * console.assert(png.length > 100);
 * ```
 */
export function scatterPng(
  points: ArrayLike<readonly [number, number]>,
  options: ScatterOptions = {},
): Uint8Array {
  return sceneToPng(scatterScene(points, options));
}

/**
 * A line chart as PNG bytes: one stroke per series (gaps at missing values), axes with ticks and
 * grid lines, axis labels, a legend and a title; `logY` for a base-10 y axis.
 *
 * @example
 * ```ts
 * import { lineChartPng } from "./png.ts";
 * const png = lineChartPng([{ name: "loss", x: [0, 1, 2], y: [3, 2, 1] }], { xLabel: "step" });
 * console.assert(png.length > 100);
 * ```
 */
export function lineChartPng(
  series: readonly LineSeries[],
  options: LineChartOptions = {},
): Uint8Array {
  return sceneToPng(lineChartScene(series, options));
}
