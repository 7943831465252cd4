/**
 * Chart layout shared by the SVG and PNG renderers: a scatter plot or a line chart is first laid
 * out as a {@linkcode Scene} (see `shapes.ts`), then `svg.ts` writes it as markup and `png.ts`
 * rasterises it. Both outputs therefore place every point and tick at the same pixel.
 *
 * @module
 */

import { frameScene } from "./_frame.ts";
import { linearAxis, logAxis } from "./_ticks.ts";
import { groupColors, paletteColor, parseHexColor } from "./palette.ts";
import { type Marker, MARKERS, type Scene, type Shape } from "./shapes.ts";
import type { LegendEntry } from "./_frame.ts";

/** Options of {@linkcode scatterScene}. */
export interface ScatterOptions {
  /**
   * Group of each point (a class name or id): points are coloured by group, first seen first;
   * a group named after a colour is drawn in it (`groupColors` in `palette.ts`).
   */
  groups?: ArrayLike<string | number>;
  /**
   * Marker group of each point (e.g. its modality): each group gets a shape of
   * {@linkcode MARKERS}, first seen first, so colour and shape tell two things apart at once.
   */
  markers?: ArrayLike<string>;
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

/** Options of {@linkcode lineChartScene}. */
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

function checkSize(width: number, height: number): void {
  for (const [name, v] of [["width", width], ["height", height]] as const) {
    if (!Number.isInteger(v) || v < 64 || v > 8192) {
      throw new RangeError(
        `Cannot draw a plot with ${name} ${v}: expected an integer in [64, 8192]`,
      );
    }
  }
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
 * import assert from "node:assert/strict";
 * import { scatterScene } from "./scene.ts";
 * const s = scatterScene([[0, 0], [1, 1]], { groups: ["a", "b"] });
 * assert.equal(s.shapes.filter((x) => x.kind === "circle").length, 2);
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
    const [name, arr] of [
      ["groups", options.groups],
      ["colors", options.colors],
      ["labels", options.labels],
      ["markers", options.markers],
    ] as const
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
  const { pointColor, pointMarker, legend } = pointStyles(options, n);
  const xs = Array.from({ length: n }, (_, i) => points[i][0]);
  const ys = Array.from({ length: n }, (_, i) => points[i][1]);
  const pad = ([lo, hi]: [number, number]): [number, number] => {
    const p = (hi - lo) * 0.05;
    return [lo - p, hi + p];
  };
  const { scene, sx, sy } = frameScene(
    { x: linearAxis(...pad(extent(xs))), y: linearAxis(...pad(extent(ys))) },
    { width, height, title: options.title, legend },
  );
  for (let i = 0; i < n; i++) {
    const circle: Shape = {
      kind: "circle",
      cx: sx(xs[i]),
      cy: sy(ys[i]),
      r: radius,
      fill: pointColor[i],
    };
    if (pointMarker[i] !== "circle") circle.marker = pointMarker[i];
    if (options.labels) circle.title = String(options.labels[i]);
    scene.shapes.push(circle);
  }
  return scene;
}

/** First-seen order of the distinct values of `keys` (one per point), and each point's index. */
function firstSeen(keys: ArrayLike<string | number>): { names: string[]; index: number[] } {
  const at = new Map<string, number>();
  const index = Array.from(keys, (k) => {
    const key = String(k);
    if (!at.has(key)) at.set(key, at.size);
    return at.get(key)!;
  });
  return { names: [...at.keys()], index };
}

/** Each point's colour and marker, and the legend: colour groups, then marker groups. */
function pointStyles(options: ScatterOptions, n: number) {
  const pointColor: string[] = new Array(n).fill(paletteColor(0));
  const pointMarker: Marker[] = new Array(n).fill("circle");
  const legend: LegendEntry[] = [];
  const show = options.legend !== false;
  if (options.groups) {
    const { names, index } = firstSeen(options.groups);
    const colors = groupColors(names);
    index.forEach((g, i) => pointColor[i] = colors[g]);
    if (show && !options.colors) {
      names.forEach((name, g) => legend.push({ name, color: colors[g] }));
    }
  }
  if (options.colors) {
    for (let i = 0; i < n; i++) pointColor[i] = options.colors[i];
    pointColor.forEach((c) => parseHexColor(c));
  }
  if (options.markers) {
    const { names, index } = firstSeen(options.markers);
    index.forEach((m, i) => pointMarker[i] = MARKERS[m % MARKERS.length]);
    if (show) {
      names.forEach((name, m) =>
        legend.push({ name, color: "#555555", marker: MARKERS[m % MARKERS.length] })
      );
    }
  }
  return { pointColor, pointMarker, legend };
}

/**
 * Lays out a line chart (for example, training curves from `metrics.jsonl`).
 *
 * @throws {RangeError} when a series' x and y differ in length or the size is bad;
 *   {TypeError} on a bad colour.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lineChartScene } from "./scene.ts";
 * const s = lineChartScene([{ name: "loss", x: [0, 1, 2], y: [3, 2, 1.5] }], { logY: true });
 * assert.ok(s.shapes.some((x) => x.kind === "polyline"));
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
  const { scene, sx, sy } = frameScene({ x: xAxis, y: yAxis }, {
    width,
    height,
    title: options.title,
    xLabel: options.xLabel,
    yLabel: options.yLabel,
    legend,
  });
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
