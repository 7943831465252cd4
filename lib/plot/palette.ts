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

/**
 * Shades of the colours a group name may say (`"green moving right"`): a group named after
 * a colour is drawn in it, so a plot's colours never contradict its class names.
 */
const NAMED_SHADES: Readonly<Record<string, readonly string[]>> = {
  red: ["#d62728", "#ff9896", "#843c39"],
  green: ["#2ca02c", "#98df8a", "#637939"],
  blue: ["#1f77b4", "#aec7e8", "#393b79"],
  yellow: ["#d4b000", "#f0dc6e", "#8c7a00"],
  orange: ["#ff7f0e", "#ffbb78"],
  purple: ["#9467bd", "#c5b0d5"],
  violet: ["#9467bd", "#c5b0d5"],
  brown: ["#8c564b", "#c49c94"],
  pink: ["#e377c2", "#f7b6d2"],
  grey: ["#7f7f7f", "#c7c7c7"],
  gray: ["#7f7f7f", "#c7c7c7"],
  cyan: ["#17becf", "#9edae5"],
  olive: ["#bcbd22", "#dbdb8d"],
  black: ["#000000", "#404040"],
};

/**
 * The colour of each group, in order: a group whose name contains a colour word (`red`,
 * `green`, `blue`, `yellow`, …, a whole word, any case) takes the next shade of that colour;
 * the others take the palette's colours in turn, skipping those already used.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { groupColors } from "./palette.ts";
 * const c = groupColors(["green moving right", "red moving left", "green moving left", "cats"]);
 * assert.equal(c[0], "#2ca02c"); // green, not the palette's first colour (blue)
 * assert.equal(c[1], "#d62728"); // red
 * assert.equal(c[2], "#98df8a"); // the second green class: light green
 * assert.equal(c[3], "#1f77b4"); // no colour word: the palette's first unused colour
 * assert.deepEqual(groupColors(["a", "b"]), ["#1f77b4", "#ff7f0e"]);
 * ```
 */
export function groupColors(names: readonly string[]): string[] {
  const used = new Set<string>();
  const taken = new Map<string, number>();
  const named = names.map((name) => {
    const word = name.toLowerCase().split(/[^a-z]+/).find((w) => Object.hasOwn(NAMED_SHADES, w));
    if (word === undefined) return undefined;
    const shades = NAMED_SHADES[word];
    const k = taken.get(word) ?? 0;
    taken.set(word, k + 1);
    const color = shades[k % shades.length];
    used.add(color);
    return color;
  });
  let next = 0;
  return named.map((color) => {
    if (color !== undefined) return color;
    while (used.has(paletteColor(next)) && next < CATEGORICAL_PALETTE.length) next++;
    const c = paletteColor(next++);
    used.add(c);
    return c;
  });
}
