/**
 * The frame of a chart: the plotting area, the grid, tick marks and labels of both axes, the
 * title, the axis labels and the legend. Private to `lib/plot/`.
 *
 * @module
 */

import { type Axis, scale } from "./_ticks.ts";
import type { Marker, Scene, Shape } from "./shapes.ts";

const INK = "#222222";
const GRID = "#dddddd";
const FONT = 12;
const TITLE_FONT = 16;
/** Width of one character, for layout (the PNG font is 6 px wide per character at 12 px). */
const CHAR_W = 7;
const MAX_LEGEND = 20;

/** One line of a legend: a colour swatch (or a marker in the colour) and its name. */
export interface LegendEntry {
  name: string;
  color: string;
  /** Draw this point shape instead of a square swatch (a scatter plot's marker groups). */
  marker?: Marker;
}

/** The plotting area inside the axes, in pixels. */
type Frame = Scene["frame"];

/** What surrounds the plotting area: title, axis labels, legend. */
export interface FrameOptions {
  width: number;
  height: number;
  title?: string;
  xLabel?: string;
  yLabel?: string;
  legend: LegendEntry[];
}

/**
 * Lays out the frame, axes and legend; returns the scene and the scales into the frame.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linearAxis } from "./_ticks.ts";
 * import { frameScene } from "./_frame.ts";
 * const axis = linearAxis(0, 1);
 * const { scene, sx, sy } = frameScene({ x: axis, y: axis }, { width: 200, height: 100, legend: [] });
 * assert.equal(sx(0), scene.frame.left);
 * assert.equal(sy(0), scene.frame.bottom);
 * assert.ok(scene.shapes.some((s) => s.kind === "rect"));
 * ```
 */
export function frameScene(
  axes: { x: Axis; y: Axis },
  options: FrameOptions,
): { scene: Scene; sx: (v: number) => number; sy: (v: number) => number } {
  const { width, height } = options;
  const shown = options.legend.slice(0, MAX_LEGEND);
  const more = options.legend.length - shown.length;
  const legendTexts = shown.map((e) => e.name).concat(more > 0 ? [`+${more} more`] : []);
  const frame = placeFrame(axes.y, { ...options, legendTexts });
  const sx = scale(axes.x, frame.left, frame.right);
  const sy = scale(axes.y, frame.bottom, frame.top);
  const shapes: Shape[] = [
    ...tickShapes(axes, { frame, sx, sy }),
    {
      kind: "rect",
      x: frame.left + 0.5,
      y: frame.top + 0.5,
      width: frame.right - frame.left,
      height: frame.bottom - frame.top,
      stroke: INK,
    },
    ...labelShapes(frame, options),
    ...legendShapes(frame, { shown, texts: legendTexts }),
  ];
  return { scene: { width, height, background: "#ffffff", shapes, frame }, sx, sy };
}

/** Where the frame goes: room for the y tick labels, the title, the x label and the legend. */
function placeFrame(yAxis: Axis, options: FrameOptions & { legendTexts: string[] }): Frame {
  const { width, height, legendTexts } = options;
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
  return frame;
}

/** A horizontal text in the ink colour. */
function inkText(
  at: { x: number; y: number },
  options: { text: string; anchor: "start" | "middle" | "end"; size?: number },
): Shape {
  const { text, anchor, size = FONT } = options;
  return { kind: "text", x: at.x, y: at.y, text, size, color: INK, anchor };
}

/** A one-pixel line from (x1, y1) to (x2, y2). */
function hairline(ends: [x1: number, y1: number, x2: number, y2: number], stroke: string): Shape {
  const [x1, y1, x2, y2] = ends;
  return { kind: "line", x1, y1, x2, y2, stroke, width: 1 };
}

/** Grid line, tick mark and label of every tick: the x axis's, then the y axis's. */
function tickShapes(
  axes: { x: Axis; y: Axis },
  options: { frame: Frame; sx: (v: number) => number; sy: (v: number) => number },
): Shape[] {
  const { frame, sx, sy } = options;
  const shapes: Shape[] = [];
  for (const t of axes.x.ticks) {
    const x = Math.round(sx(t.value)) + 0.5;
    shapes.push(
      hairline([x, frame.top, x, frame.bottom], GRID),
      hairline([x, frame.bottom, x, frame.bottom + 4], INK),
      inkText({ x, y: frame.bottom + 6 + FONT / 2 }, { text: t.label, anchor: "middle" }),
    );
  }
  for (const t of axes.y.ticks) {
    const y = Math.round(sy(t.value)) + 0.5;
    shapes.push(
      hairline([frame.left, y, frame.right, y], GRID),
      hairline([frame.left - 4, y, frame.left, y], INK),
      inkText({ x: frame.left - 6, y }, { text: t.label, anchor: "end" }),
    );
  }
  return shapes;
}

/** The title, the x-axis label and the (vertical) y-axis label, when given. */
function labelShapes(frame: Frame, options: FrameOptions): Shape[] {
  const { width, height } = options;
  const shapes: Shape[] = [];
  if (options.title) {
    shapes.push(
      inkText({ x: width / 2, y: TITLE_FONT / 2 + 8 }, {
        text: options.title,
        anchor: "middle",
        size: TITLE_FONT,
      }),
    );
  }
  if (options.xLabel) {
    shapes.push(
      inkText({ x: (frame.left + frame.right) / 2, y: height - 8 - FONT / 2 }, {
        text: options.xLabel,
        anchor: "middle",
      }),
    );
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
  return shapes;
}

/** The legend right of the frame: a swatch and a name per entry, then `+N more`. */
function legendShapes(frame: Frame, legend: { shown: LegendEntry[]; texts: string[] }): Shape[] {
  const shapes: Shape[] = [];
  legend.texts.forEach((t, i) => {
    const y = frame.top + 8 + i * (FONT + 6);
    const x = frame.right + 14;
    const entry = legend.shown[i];
    if (entry?.marker !== undefined) {
      const { color: fill, marker } = entry;
      shapes.push({ kind: "circle", cx: x + 5, cy: y, r: 4, fill, marker });
    } else if (entry) {
      shapes.push({ kind: "rect", x, y: y - 5, width: 10, height: 10, fill: entry.color });
    }
    shapes.push(inkText({ x: x + 16, y }, { text: t, anchor: "start" }));
  });
  return shapes;
}
