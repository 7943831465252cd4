/**
 * The fixed categorical palette used by every plot, and colour parsing.
 *
 * Twenty colours: the ten of the widely used "category10" scheme followed by ten lighter or
 * darker companions, so that up to 20 groups get distinct colours; beyond that colours repeat.
 *
 * @module
 */

/** Twenty distinct `#rrggbb` colours, in the order groups receive them. */
export const CATEGORICAL_PALETTE: readonly string[] = Object.freeze([
  "#1f77b4", // blue
  "#ff7f0e", // orange
  "#2ca02c", // green
  "#d62728", // red
  "#9467bd", // purple
  "#8c564b", // brown
  "#e377c2", // pink
  "#7f7f7f", // grey
  "#bcbd22", // olive
  "#17becf", // cyan
  "#aec7e8", // light blue
  "#ffbb78", // light orange
  "#98df8a", // light green
  "#ff9896", // light red
  "#c5b0d5", // light purple
  "#c49c94", // light brown
  "#f7b6d2", // light pink
  "#393b79", // navy
  "#637939", // dark olive
  "#843c39", // dark red
]);

/**
 * The palette colour of group `index` (wrapping around after the last one).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CATEGORICAL_PALETTE, paletteColor } from "./palette.ts";
 * assert.equal(paletteColor(0), "#1f77b4");
 * assert.equal(paletteColor(CATEGORICAL_PALETTE.length), paletteColor(0));
 * ```
 */
export function paletteColor(index: number): string {
  if (!Number.isInteger(index) || index < 0) {
    throw new RangeError(`Cannot pick palette colour ${index}: expected a non-negative integer`);
  }
  return CATEGORICAL_PALETTE[index % CATEGORICAL_PALETTE.length];
}

const HEX = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i;

/**
 * Parses `#rgb` or `#rrggbb` into `[r, g, b]` (0–255). The only colour syntax plots accept,
 * so a colour string can never inject markup into an SVG.
 *
 * @throws {TypeError} for anything else.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseHexColor } from "./palette.ts";
 * const [r, g, b] = parseHexColor("#ff8000");
 * assert.equal(r, 255);
 * assert.equal(g, 128);
 * assert.equal(b, 0);
 * assert.equal(parseHexColor("#fff")[2], 255);
 * ```
 */
export function parseHexColor(color: string): [number, number, number] {
  const m = HEX.exec(color);
  if (m === null) {
    throw new TypeError(`Cannot parse colour ${JSON.stringify(color)}: expected #rgb or #rrggbb`);
  }
  const hex = m[1].length === 3 ? [...m[1]].map((c) => c + c).join("") : m[1];
  return [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
}
