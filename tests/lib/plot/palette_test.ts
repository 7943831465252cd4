import assert from "node:assert/strict";
import { CATEGORICAL_PALETTE, groupColors, parseHexColor } from "../../../lib/plot/palette.ts";

/** Hue in degrees of a `#rrggbb` colour. */
function hue(color: string): number {
  const [r, g, b] = parseHexColor(color).map((v) => v / 255);
  const max = Math.max(r, g, b);
  const d = max - Math.min(r, g, b);
  if (d === 0) return NaN;
  const h = max === r ? ((g - b) / d) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
  return (h * 60 + 360) % 360;
}

Deno.test("the demo's eight classes are drawn in the colour they name, the two of a colour told apart", () => {
  // The demo's labels (lib/demo: `${colour} moving ${motion}`), in the order a map meets them.
  const names = [
    "green moving right",
    "blue moving left",
    "red moving left",
    "yellow moving right",
  ];
  const all = [
    ...names,
    ...names.map((n) => n.replace(/(left|right)$/, (m) => m === "left" ? "right" : "left")),
  ];
  const colors = groupColors(all);
  // Hue ranges of each colour word (degrees).
  const within: Record<string, [number, number]> = {
    red: [-15, 15],
    yellow: [40, 65],
    green: [90, 150],
    blue: [195, 250],
  };
  all.forEach((name, i) => {
    const [lo, hi] = within[name.split(" ")[0]];
    const h = hue(colors[i]) > 300 ? hue(colors[i]) - 360 : hue(colors[i]);
    assert.ok(h >= lo && h <= hi, `${name}: ${colors[i]} has hue ${h.toFixed(0)}`);
  });
  assert.equal(new Set(colors).size, 8, "every class has its own colour");
});

Deno.test("groups without a colour word take the palette in turn, skipping named colours used", () => {
  const colors = groupColors(["blue team", "cats", "dogs"]);
  assert.equal(colors[0], CATEGORICAL_PALETTE[0]); // blue
  assert.equal(colors[1], CATEGORICAL_PALETTE[1]); // blue is taken: orange
  assert.equal(colors[2], CATEGORICAL_PALETTE[2]);
  // A colour inside another word is not a colour word.
  assert.equal(groupColors(["bored", "shredded"])[0], CATEGORICAL_PALETTE[0]);
});
