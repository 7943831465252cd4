import assert from "node:assert/strict";
import { decode } from "fast-png";
import { sceneToPng } from "../../../lib/plot/png.ts";
import { lineChartScene, scatterScene } from "../../../lib/plot/scene.ts";
import { CATEGORICAL_PALETTE, parseHexColor } from "../../../lib/plot/palette.ts";

function pixel(img: { width: number; data: ArrayLike<number> }, x: number, y: number): number[] {
  const i = (Math.floor(y) * img.width + Math.floor(x)) * 4;
  return [img.data[i], img.data[i + 1], img.data[i + 2], img.data[i + 3]];
}

Deno.test("sceneToPng() of a scatterScene() decodes to the requested size with each point in its group colour", () => {
  const points: [number, number][] = [[0, 0], [10, 5], [3, 8], [7, 1]];
  const options = {
    groups: ["x", "y", "x", "z"],
    width: 320,
    height: 200,
    title: "Map",
    radius: 4,
  };
  const img = decode(sceneToPng(scatterScene(points, options)));
  assert.equal(img.width, 320);
  assert.equal(img.height, 200);
  assert.equal(img.channels, 4);
  assert.equal(img.depth, 8);
  const circles = scatterScene(points, options).shapes.filter((s) => s.kind === "circle");
  assert.equal(circles.length, 4);
  const expected = [0, 1, 0, 2].map((g) => parseHexColor(CATEGORICAL_PALETTE[g]));
  circles.forEach((c, i) => {
    if (c.kind !== "circle") return;
    assert.deepEqual(
      pixel(img, c.cx, c.cy),
      [...expected[i], 255],
      `point ${i} at ${c.cx},${c.cy}`,
    );
  });
  // the margin outside the frame is background
  assert.deepEqual(pixel(img, 1, 198), [255, 255, 255, 255]);
  // the title is drawn in the top band
  let dark = 0;
  for (let y = 0; y < 30; y++) for (let x = 0; x < 320; x++) if (pixel(img, x, y)[0] < 128) dark++;
  assert.ok(dark > 20, `title pixels: ${dark}`);
});

Deno.test("sceneToPng() of a scatterScene() without points is a blank framed plot", () => {
  const img = decode(sceneToPng(scatterScene([], { width: 100, height: 80 })));
  assert.equal(img.width * img.height * 4, img.data.length);
  const colours = new Set<string>();
  for (let i = 0; i < img.data.length; i += 4) {
    colours.add(`${img.data[i]},${img.data[i + 1]},${img.data[i + 2]}`);
  }
  for (const c of CATEGORICAL_PALETTE) assert.ok(!colours.has(parseHexColor(c).join(",")));
});

Deno.test("sceneToPng() of a lineChartScene() draws each series in its colour along its path", () => {
  const series = [
    { name: "loss", x: [0, 50, 100], y: [2, 1, 0.5] },
    { name: "acc", x: [0, 100], y: [0.1, 0.9], color: "#00aa00" },
  ];
  const options = { width: 400, height: 300, xLabel: "step", yLabel: "value" };
  const img = decode(sceneToPng(lineChartScene(series, options)));
  assert.equal(img.width, 400);
  assert.equal(img.height, 300);
  const lines = lineChartScene(series, options).shapes.filter((s) => s.kind === "polyline");
  assert.equal(lines.length, 2);
  const colours = [parseHexColor(CATEGORICAL_PALETTE[0]), parseHexColor("#00aa00")];
  lines.forEach((l, k) => {
    if (l.kind !== "polyline") return;
    // the stroke (2 px wide) fully covers a pixel next to the midpoint of the first segment
    const [[x0, y0], [x1, y1]] = l.points;
    const [mx, my] = [(x0 + x1) / 2, (y0 + y1) / 2];
    const near = [-1, 0, 1].flatMap((dy) =>
      [-1, 0, 1].map((dx) => pixel(img, mx + dx, my + dy).slice(0, 3))
    );
    assert.ok(near.some((p) => p.join() === colours[k].join()), `series ${k}: ${near.join(" ")}`);
  });
});
