/**
 * Chart layout shared by the SVG and PNG renderers: a scatter plot or a line chart is first laid
 * out as a {@linkcode Scene} (a flat list of rectangles, lines, polylines, circles and texts in
 * pixel coordinates, y pointing down), then `svg.ts` writes it as markup and `png.ts` rasterises
 * it. Both outputs therefore place every point and tick at the same pixel.
 *
 * @module
 */

import { type Axis, linearAxis, logAxis, scale } from "./_ticks.ts";
import { paletteColor, parseHexColor } from "./palette.ts";

/** One drawing primitive, in pixels; colours are `#rgb` / `#rrggbb`. */
export type Shape =
  | {
    kind: "rect";
    x: number;
    y: number;
    width: number;
    height: number;
    fill?: string;
    stroke?: string;
  }
  | { kind: "line"; x1: number; y1: number; x2: number; y2: number; stroke: string; width: number }
  | { kind: "polyline"; points: [number, number][]; stroke: string; width: number }
  | { kind: "circle"; cx: number; cy: number; r: number; fill: string; title?: string }
  | {
    kind: "text";
    /** Anchor point; `y` is the vertical middle of the text. */
    x: number;
    y: number;
    text: string;
    /** Font size in pixels. */
    size: number;
    color: string;
    anchor: "start" | "middle" | "end";
    /** Rotated 90° counter-clockwise around (x, y), for a y-axis label. */
    vertical?: boolean;
  };

/** A laid-out chart. */
export interface Scene {
  width: number;
  height: number;
  background: string;
  shapes: Shape[];
  /** The plotting area inside the axes. */
  frame: { left: number; top: number; right: number; bottom: number };
}

/** Options of a scatter plot (`scatterSvg`, `scatterPng`). */
export interface ScatterOptions {
  /** Group of each point (a class name or id): points are coloured by group, first seen first. */
  groups?: ArrayLike<string | number>;
  /** Colour of each point (`#rgb` / `#rrggbb`); overrides the group colours. */
  colors?: ArrayLike<string>;
  /** Text of each point, shown as a tooltip in SVG (not drawn in PNG). */
  labels?: ArrayLike<string>;
  /** Title above the plot. */
  title?: string;
  /** Image width in pixels. Default 640. */
  width?: number;
  /** Image height in pixels. Default 480. */
  height?: number;
  /** Draw a legend of the groups (when there are groups). Default true. */
  legend?: boolean;
  /** Point radius in pixels. Default 3. */
  radius?: number;
}

/** One curve of a line chart. */
export interface LineSeries {
  /** Legend text. */
  name: string;
  /** X values (for example, steps). */
  x: ArrayLike<number>;
  /** Y values; a non-finite value (or a non-positive one with `logY`) leaves a gap. */
  y: ArrayLike<number>;
  /** Colour (`#rgb` / `#rrggbb`); default the palette colour of the series index. */
  color?: string;
}

/** Options of a line chart (`lineChartSvg`, `lineChartPng`). */
export interface LineChartOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Image width in pixels. Default 640. */
  width?: number;
  /** Image height in pixels. Default 400. */
  height?: number;
  /** Base-10 logarithmic y axis. Default false. */
  logY?: boolean;
  /** Draw a legend of the series. Default true. */
  legend?: boolean;
}

const INK = "#222222";
const GRID = "#dddddd";
const FONT = 12;
const TITLE_FONT = 16;
/** Width of one character, for layout (the PNG font is 6 px wide per character at 12 px). */
const CHAR_W = 7;
const MAX_LEGEND = 20;

function checkSize(width: number, height: number): void {
  for (const [name, v] of [["width", width], ["height", height]] as const) {
    if (!Number.isInteger(v) || v < 64 || v > 8192) {
      throw new RangeError(
        `Cannot draw a plot with ${name} ${v}: expected an integer in [64, 8192]`,
      );
    }
  }
}

interface Entry {
  name: string;
  color: string;
}

/** Lays out the frame, axes and legend; returns the scene and the scales into the frame. */
function frameScene(
  options: { width: number; height: number; title?: string; xLabel?: string; yLabel?: string },
  xAxis: Axis,
  yAxis: Axis,
  legend: Entry[],
): { scene: Scene; sx: (v: number) => number; sy: (v: number) => number } {
  const { width, height } = options;
  const shown = legend.slice(0, MAX_LEGEND);
  const more = legend.length - shown.length;
  const legendTexts = shown.map((e) => e.name).concat(more > 0 ? [`+${more} more`] : []);
  const legendW = legendTexts.length > 0
    ? Math.min(width / 3, 28 + CHAR_W * Math.max(...legendTexts.map((t) => t.length)))
    : 0;
  const left = 16 + CHAR_W * Math.max(...yAxis.ticks.map((t) => t.label.length), 1) +
    (options.yLabel ? FONT + 8 : 0);
  const frame = {
    left: Math.round(left),
    top: options.title ? TITLE_FONT + 20 : 14,
    right: Math.round(width - 14 - legendW),
    bottom: height - (options.xLabel ? 2 * FONT + 22 : FONT + 16),
  };
  if (frame.right - frame.left < 16 || frame.bottom - frame.top < 16) {
    throw new RangeError(
      `Cannot fit a plot in ${width} × ${height} pixels: too small for its labels`,
    );
  }
  const sx = scale(xAxis, frame.left, frame.right);
  const sy = scale(yAxis, frame.bottom, frame.top);
  const shapes: Shape[] = [];
  const text = (x: number, y: number, t: string, anchor: "start" | "middle" | "end", size = FONT) =>
    shapes.push({ kind: "text", x, y, text: t, size, color: INK, anchor });
  for (const t of xAxis.ticks) {
    const x = Math.round(sx(t.value)) + 0.5;
    shapes.push({
      kind: "line",
      x1: x,
      y1: frame.top,
      x2: x,
      y2: frame.bottom,
      stroke: GRID,
      width: 1,
    });
    shapes.push({
      kind: "line",
      x1: x,
      y1: frame.bottom,
      x2: x,
      y2: frame.bottom + 4,
      stroke: INK,
      width: 1,
    });
    text(x, frame.bottom + 6 + FONT / 2, t.label, "middle");
  }
  for (const t of yAxis.ticks) {
    const y = Math.round(sy(t.value)) + 0.5;
    shapes.push({
      kind: "line",
      x1: frame.left,
      y1: y,
      x2: frame.right,
      y2: y,
      stroke: GRID,
      width: 1,
    });
    shapes.push({
      kind: "line",
      x1: frame.left - 4,
      y1: y,
      x2: frame.left,
      y2: y,
      stroke: INK,
      width: 1,
    });
    text(frame.left - 6, y, t.label, "end");
  }
  shapes.push({
    kind: "rect",
    x: frame.left + 0.5,
    y: frame.top + 0.5,
    width: frame.right - frame.left,
    height: frame.bottom - frame.top,
    stroke: INK,
  });
  if (options.title) text(width / 2, TITLE_FONT / 2 + 8, options.title, "middle", TITLE_FONT);
  if (options.xLabel) {
    text((frame.left + frame.right) / 2, height - 8 - FONT / 2, options.xLabel, "middle");
  }
  if (options.yLabel) {
    shapes.push({
      kind: "text",
      x: 8 + FONT / 2,
      y: (frame.top + frame.bottom) / 2,
      text: options.yLabel,
      size: FONT,
      color: INK,
      anchor: "middle",
      vertical: true,
    });
  }
  legendTexts.forEach((t, i) => {
    const y = frame.top + 8 + i * (FONT + 6);
    const x = frame.right + 14;
    if (i < shown.length) {
      shapes.push({ kind: "rect", x, y: y - 5, width: 10, height: 10, fill: shown[i].color });
    }
    text(x + 16, y, t, "start");
  });
  return { scene: { width, height, background: "#ffffff", shapes, frame }, sx, sy };
}

function extent(values: Iterable<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/**
 * Lays out a scatter plot of 2-D points (for example, from `embed2d`).
 *
 * @throws {RangeError} on a non-finite coordinate, per-point arrays of the wrong length or a
 *   bad size; {TypeError} on a colour that is not `#rgb` / `#rrggbb`.
 *
 * @example
 * ```ts
 * import { scatterScene } from "./scene.ts";
 * const s = scatterScene([[0, 0], [1, 1]], { groups: ["a", "b"] });
 * console.assert(s.shapes.filter((x) => x.kind === "circle").length === 2);
 * ```
 */
export function scatterScene(
  points: ArrayLike<readonly [number, number]>,
  options: ScatterOptions = {},
): Scene {
  const width = options.width ?? 640;
  const height = options.height ?? 480;
  const radius = options.radius ?? 3;
  checkSize(width, height);
  if (!(radius > 0 && radius <= 50)) throw new RangeError(`Cannot draw points of radius ${radius}`);
  const n = points.length;
  for (
    const [name, arr] of [["groups", options.groups], ["colors", options.colors], [
      "labels",
      options.labels,
    ]] as const
  ) {
    if (arr !== undefined && arr.length !== n) {
      throw new RangeError(
        `Cannot draw a scatter plot: ${name} has ${arr.length} entries for ${n} points`,
      );
    }
  }
  for (let i = 0; i < n; i++) {
    const [x, y] = points[i];
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      throw new RangeError(`Cannot draw point ${i}: coordinates (${x}, ${y}) are not finite`);
    }
  }
  const groupIndex = new Map<string, number>();
  const pointColor: string[] = [];
  for (let i = 0; i < n; i++) {
    let color = paletteColor(0);
    if (options.groups) {
      const key = String(options.groups[i]);
      if (!groupIndex.has(key)) groupIndex.set(key, groupIndex.size);
      color = paletteColor(groupIndex.get(key)!);
    }
    if (options.colors) {
      color = options.colors[i];
      parseHexColor(color);
    }
    pointColor.push(color);
  }
  const legend = options.groups && options.legend !== false && !options.colors
    ? [...groupIndex.keys()].map((name, i) => ({ name, color: paletteColor(i) }))
    : [];
  const xs = Array.from({ length: n }, (_, i) => points[i][0]);
  const ys = Array.from({ length: n }, (_, i) => points[i][1]);
  const pad = ([lo, hi]: [number, number]): [number, number] => {
    const p = (hi - lo) * 0.05;
    return [lo - p, hi + p];
  };
  const xAxis = linearAxis(...pad(extent(xs)));
  const yAxis = linearAxis(...pad(extent(ys)));
  const { scene, sx, sy } = frameScene(
    { width, height, title: options.title },
    xAxis,
    yAxis,
    legend,
  );
  for (let i = 0; i < n; i++) {
    const circle: Shape = {
      kind: "circle",
      cx: sx(xs[i]),
      cy: sy(ys[i]),
      r: radius,
      fill: pointColor[i],
    };
    if (options.labels) circle.title = String(options.labels[i]);
    scene.shapes.push(circle);
  }
  return scene;
}

/**
 * Lays out a line chart (for example, training curves from `metrics.jsonl`).
 *
 * @throws {RangeError} when a series' x and y differ in length or the size is bad;
 *   {TypeError} on a bad colour.
 *
 * @example
 * ```ts
 * import { lineChartScene } from "./scene.ts";
 * const s = lineChartScene([{ name: "loss", x: [0, 1, 2], y: [3, 2, 1.5] }], { logY: true });
 * console.assert(s.shapes.some((x) => x.kind === "polyline"));
 * ```
 */
export function lineChartScene(
  series: readonly LineSeries[],
  options: LineChartOptions = {},
): Scene {
  const width = options.width ?? 640;
  const height = options.height ?? 400;
  checkSize(width, height);
  const logY = options.logY ?? false;
  const usable = (x: number, y: number) =>
    Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0);
  const xs: number[] = [];
  const ys: number[] = [];
  series.forEach((s, k) => {
    if (s.x.length !== s.y.length) {
      throw new RangeError(
        `Cannot draw series ${k} (${s.name}): ${s.x.length} x values, ${s.y.length} y values`,
      );
    }
    if (s.color !== undefined) parseHexColor(s.color);
    for (let i = 0; i < s.x.length; i++) {
      if (usable(s.x[i], s.y[i])) {
        xs.push(s.x[i]);
        ys.push(s.y[i]);
      }
    }
  });
  const xAxis = linearAxis(...extent(xs));
  const [ylo, yhi] = extent(ys);
  const yAxis = logY ? logAxis(ylo, yhi) : linearAxis(ylo, yhi, { nice: true });
  const legend = options.legend === false
    ? []
    : series.map((s, k) => ({ name: s.name, color: s.color ?? paletteColor(k) }));
  const { scene, sx, sy } = frameScene(
    { width, height, title: options.title, xLabel: options.xLabel, yLabel: options.yLabel },
    xAxis,
    yAxis,
    legend,
  );
  series.forEach((s, k) => {
    const stroke = s.color ?? paletteColor(k);
    let run: [number, number][] = [];
    const flush = () => {
      if (run.length === 1) {
        scene.shapes.push({ kind: "circle", cx: run[0][0], cy: run[0][1], r: 2, fill: stroke });
      }
      if (run.length > 1) scene.shapes.push({ kind: "polyline", points: run, stroke, width: 2 });
      run = [];
    };
    for (let i = 0; i < s.x.length; i++) {
      if (usable(s.x[i], s.y[i])) run.push([sx(s.x[i]), sy(s.y[i])]);
      else flush();
    }
    flush();
  });
  return scene;
}
