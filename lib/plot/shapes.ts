/**
 * What a chart is drawn from: a {@linkcode Scene}, a flat list of {@linkcode Shape}s (rectangles,
 * lines, polylines, circles and texts) in pixel coordinates, y pointing down. `scene.ts` lays
 * charts out as scenes; `svg.ts` writes a scene as markup and `png.ts` rasterises it.
 *
 * @module
 */

/** The point shapes of a scatter plot, given to marker groups (e.g. modalities) in this order. */
export const MARKERS = ["circle", "square", "triangle", "diamond"] as const;

/** One of {@linkcode MARKERS}. */
export type Marker = (typeof MARKERS)[number];

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
  | {
    kind: "circle";
    cx: number;
    cy: number;
    r: number;
    fill: string;
    title?: string;
    /** The point's shape, inside the circle of radius `r`; default a disc. */
    marker?: Marker;
  }
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

/**
 * The corners of a non-disc marker of a point shape (square, triangle pointing up, diamond),
 * sized to look about as large as a disc of radius `r`, clockwise from the top.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { markerPoints } from "./shapes.ts";
 * const sq = markerPoints({ cx: 10, cy: 10, r: 5, marker: "square" });
 * assert.deepEqual(sq, [[5.5, 5.5], [14.5, 5.5], [14.5, 14.5], [5.5, 14.5]]);
 * assert.equal(markerPoints({ cx: 0, cy: 0, r: 4, marker: "diamond" }).length, 4);
 * assert.equal(markerPoints({ cx: 0, cy: 0, r: 4, marker: "triangle" }).length, 3);
 * ```
 */
export function markerPoints(
  p: { cx: number; cy: number; r: number; marker?: Marker },
): [number, number][] {
  const { cx, cy, r } = p;
  switch (p.marker) {
    case "square": {
      const h = 0.9 * r;
      return [[cx - h, cy - h], [cx + h, cy - h], [cx + h, cy + h], [cx - h, cy + h]];
    }
    case "triangle": {
      const R = 1.3 * r;
      const s = R * Math.sqrt(3) / 2;
      return [[cx, cy - R], [cx + s, cy + R / 2], [cx - s, cy + R / 2]];
    }
    case "diamond": {
      const R = 1.25 * r;
      return [[cx, cy - R], [cx + R, cy], [cx, cy + R], [cx - R, cy]];
    }
    default:
      throw new RangeError(`No corners for a ${p.marker ?? "circle"} marker`);
  }
}
