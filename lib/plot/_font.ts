/**
 * vatt's bitmap font for PNG plots (private to `lib/plot/`): proportional, mixed case, drawn
 * for this project. Each glyph is nine rows: rows 0–6 hold capitals and digits (cap height
 * 7), lower case sits on rows 2–6 (x-height 5), and rows 7–8 take the descenders of g, j, p,
 * q, y and the comma. A glyph is as wide as its inked columns (`i` one, `m` five); a blank
 * column separates glyphs. Characters it lacks are drawn as `?`.
 *
 * @module
 */

/** Rows of a glyph, top first: `#` inked, `.` blank. */
type Rows = readonly string[];

/** Glyph rows in all. */
export const GLYPH_ROWS = 9;
/** Cap height: the rows text is centred on (descenders hang below). */
export const CAP_ROWS = 7;
/** Width of a space, in font pixels. */
const SPACE_WIDTH = 3;

/** Capitals, digits and most punctuation on the cap rows (0–6), five columns before trimming. */
const CAPS: Record<string, string> = {
  "0": ".###. #...# #..## #.#.# ##..# #...# .###.",
  "1": "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.",
  "2": ".###. #...# ....# ...#. ..#.. .#... #####",
  "3": "##### ...#. ..#.. ...#. ....# #...# .###.",
  "4": "...#. ..##. .#.#. #..#. ##### ...#. ...#.",
  "5": "##### #.... ####. ....# ....# #...# .###.",
  "6": "..##. .#... #.... ####. #...# #...# .###.",
  "7": "##### ....# ...#. ..#.. .#... .#... .#...",
  "8": ".###. #...# #...# .###. #...# #...# .###.",
  "9": ".###. #...# #...# .#### ....# ...#. .##..",
  A: ".###. #...# #...# ##### #...# #...# #...#",
  B: "####. #...# #...# ####. #...# #...# ####.",
  C: ".###. #...# #.... #.... #.... #...# .###.",
  D: "###.. #..#. #...# #...# #...# #..#. ###..",
  E: "##### #.... #.... ####. #.... #.... #####",
  F: "##### #.... #.... ####. #.... #.... #....",
  G: ".###. #...# #.... #.### #...# #...# .####",
  H: "#...# #...# #...# ##### #...# #...# #...#",
  I: "### .#. .#. .#. .#. .#. ###",
  J: "..### ...#. ...#. ...#. ...#. #..#. .##..",
  K: "#...# #..#. #.#.. ##... #.#.. #..#. #...#",
  L: "#.... #.... #.... #.... #.... #.... #####",
  M: "#...# ##.## #.#.# #.#.# #...# #...# #...#",
  N: "#...# #...# ##..# #.#.# #..## #...# #...#",
  O: ".###. #...# #...# #...# #...# #...# .###.",
  P: "####. #...# #...# ####. #.... #.... #....",
  Q: ".###. #...# #...# #...# #.#.# #..#. .##.#",
  R: "####. #...# #...# ####. #.#.. #..#. #...#",
  S: ".#### #.... #.... .###. ....# ....# ####.",
  T: "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
  U: "#...# #...# #...# #...# #...# #...# .###.",
  V: "#...# #...# #...# #...# #...# .#.#. ..#..",
  W: "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.",
  X: "#...# #...# .#.#. ..#.. .#.#. #...# #...#",
  Y: "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..",
  Z: "##### ....# ...#. ..#.. .#... #.... #####",
  ".": ". . . . . . #",
  ":": ". . . # . . #",
  ";": ". . . .# . .# #.",
  "!": "# # # # # . #",
  "?": ".###. #...# ....# ...#. ..#.. ..... ..#..",
  "-": "... ... ... ### ... ... ...",
  "+": "..... ..#.. ..#.. ##### ..#.. ..#.. .....",
  "=": ".... .... #### .... #### .... ....",
  "×": "..... ..... #...# .#.#. ..#.. .#.#. #...#",
  "/": "....# ....# ...#. ..#.. .#... #.... #....",
  "%": "##..# ##..# ...#. ..#.. .#... #..## #..##",
  "'": "# # . . . . .",
  '"': "#.# #.# ... ... ... ... ...",
  "<": "...# ..#. .#.. #... .#.. ..#. ...#",
  ">": "#... .#.. ..#. ...# ..#. .#.. #...",
  "&": ".##.. #..#. #.#.. .#... #.#.# #..#. .##.#",
  "#": ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.",
  "*": "..... #.#.# .###. ##### .###. #.#.# .....",
  "→": "..... ..#.. ...#. ##### ...#. ..#.. .....",
  "·": ". . . # . . .",
};

/** Glyphs that use the descender rows, or differ from the caps grid: all nine rows. */
const FULL: Record<string, string> = {
  a: "..... ..... .###. ....# .#### #...# .#### ..... .....",
  b: "#.... #.... #.##. ##..# #...# #...# ####. ..... .....",
  c: ".... .... .### #... #... #... .### .... ....",
  d: "....# ....# .##.# #..## #...# #...# .#### ..... .....",
  e: "..... ..... .###. #...# ##### #.... .###. ..... .....",
  f: "..## .#.. #### .#.. .#.. .#.. .#.. .... ....",
  g: "..... ..... .#### #...# #...# #...# .#### ....# .###.",
  h: "#.... #.... #.##. ##..# #...# #...# #...# ..... .....",
  i: "# . # # # # # . .",
  j: "..# ... ..# ..# ..# ..# ..# ..# ##.",
  k: "#... #... #..# #.#. ##.. #.#. #..# .... ....",
  l: "#. #. #. #. #. #. .# .. ..",
  m: "..... ..... ##.#. #.#.# #.#.# #.#.# #.#.# ..... .....",
  n: "..... ..... #.##. ##..# #...# #...# #...# ..... .....",
  o: "..... ..... .###. #...# #...# #...# .###. ..... .....",
  p: "..... ..... ####. #...# #...# #...# ####. #.... #....",
  q: "..... ..... .#### #...# #...# #...# .#### ....# ....#",
  r: ".... .... #.## ##.. #... #... #... .... ....",
  s: ".... .... .### #... .##. ...# ###. .... ....",
  t: ".#. .#. ### .#. .#. .#. ..# ... ...",
  u: "..... ..... #...# #...# #...# #..## .##.# ..... .....",
  v: "..... ..... #...# #...# #...# .#.#. ..#.. ..... .....",
  w: "..... ..... #...# #...# #.#.# #.#.# .#.#. ..... .....",
  x: "..... ..... #...# .#.#. ..#.. .#.#. #...# ..... .....",
  y: "..... ..... #...# #...# #...# #...# .#### ....# .###.",
  z: "..... ..... ##### ...#. ..#.. .#... ##### ..... .....",
  ",": ".. .. .. .. .. .# .# #. ..",
  "_": "..... ..... ..... ..... ..... ..... ..... ##### .....",
  "(": "..# .#. #.. #.. #.. #.. #.. .#. ..#",
  ")": "#.. .#. ..# ..# ..# ..# ..# .#. #..",
  "[": "## #. #. #. #. #. #. #. ##",
  "]": "## .# .# .# .# .# .# .# ##",
  "|": "# # # # # # # # #",
};

/** `rows` without the columns that are blank in every row. */
function trim(rows: string[]): Rows {
  const width = Math.max(...rows.map((r) => r.length));
  const padded = rows.map((r) => r.padEnd(width, "."));
  const inked = (c: number) => padded.some((r) => r[c] === "#");
  let lo = 0;
  let hi = width - 1;
  while (lo <= hi && !inked(lo)) lo++;
  while (hi >= lo && !inked(hi)) hi--;
  return padded.map((r) => r.slice(lo, hi + 1));
}

const GLYPHS = new Map<string, Rows>();
for (const [ch, text] of Object.entries(CAPS)) {
  GLYPHS.set(ch, trim([...text.split(" "), "", ""]));
}
for (const [ch, text] of Object.entries(FULL)) GLYPHS.set(ch, trim(text.split(" ")));
GLYPHS.set(" ", Array.from({ length: GLYPH_ROWS }, () => ".".repeat(SPACE_WIDTH)));

/**
 * The rows of `ch` (nine strings of equal length, `#` inked), `?`'s for a character it lacks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { glyphRows } from "./_font.ts";
 * assert.deepEqual(glyphRows("i"), ["#", ".", "#", "#", "#", "#", "#", ".", "."]);
 * assert.equal(glyphRows("g")[8], ".###."); // a descender
 * assert.deepEqual(glyphRows("\u2603"), glyphRows("?"));
 * ```
 */
export function glyphRows(ch: string): Rows {
  return GLYPHS.get(ch) ?? GLYPHS.get("?")!;
}

/**
 * Width of `text` in font pixels: its glyphs' widths and a blank column between each two.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { textWidth } from "./_font.ts";
 * assert.equal(textWidth("il"), 1 + 1 + 2); // i, a blank column, l
 * assert.equal(textWidth("m"), 5);
 * assert.equal(textWidth(""), 0);
 * ```
 */
export function textWidth(text: string): number {
  const chars = [...text];
  if (chars.length === 0) return 0;
  return chars.reduce((w, ch) => w + glyphRows(ch)[0].length, 0) + chars.length - 1;
}
