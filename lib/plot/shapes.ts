/**
 * What a chart is drawn from: a {@linkcode Scene}, a flat list of {@linkcode Shape}s (rectangles,
 * lines, polylines, circles and texts) in pixel coordinates, y pointing down. `scene.ts` lays
 * charts out as scenes; `svg.ts` writes a scene as markup and `png.ts` rasterises it.
 *
 * @module
 */

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
