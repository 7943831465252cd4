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

/** The inked (dark) pixels of `text` drawn alone at font size 12, as a set of "x,y". */
function inked(text: string): { cells: Set<string>; width: number } {
  const scene = {
    width: 200,
    height: 40,
    background: "#ffffff",
    shapes: [{
      kind: "text" as const,
      x: 10,
      y: 20,
      text,
      size: 12,
      color: "#000000",
      anchor: "start" as const,
    }],
    frame: { left: 0, top: 0, right: 200, bottom: 40 },
  };
  const img = decode(sceneToPng(scene));
  const cells = new Set<string>();
  let right = 0;
  for (let y = 0; y < 40; y++) {
    for (let x = 0; x < 200; x++) {
      if (pixel(img, x, y)[0] < 128) {
        cells.add(`${x},${y}`);
        right = Math.max(right, x);
      }
    }
  }
  return { cells, width: right - 10 + 1 };
}

Deno.test("PNG text is mixed case and proportional: lower case differs from capitals, i is narrower than m", () => {
  const lower = inked("loss");
  const upper = inked("LOSS");
  assert.notDeepEqual([...lower.cells].sort(), [...upper.cells].sort());
  assert.ok(lower.cells.size < upper.cells.size, "lower case is smaller than capitals");
  assert.ok(inked("iii").width < inked("mmm").width, "proportional widths");
  // A descender: g reaches below the baseline of o (the text's middle is y 20, cap height 7).
  const below = (t: string) => Math.max(...[...inked(t).cells].map((c) => Number(c.split(",")[1])));
  assert.ok(below("g") > below("o"), `g ends at ${below("g")}, o at ${below("o")}`);
  // Characters the font lacks are drawn as "?".
  assert.deepEqual([...inked("\u2603").cells].sort(), [...inked("?").cells].sort());
});

Deno.test("a scatter plot colours by label and shapes by modality together; a class named green is green", () => {
  const points: [number, number][] = [[0, 0], [10, 10], [0, 10], [10, 0]];
  const scene = scatterScene(points, {
    groups: ["green moving right", "red moving left", "green moving right", "red moving left"],
    markers: ["video", "video", "audio", "audio"],
    width: 320,
    height: 240,
    radius: 5,
  });
  const img = decode(sceneToPng(scene));
  const marks = scene.shapes.filter((s) => s.kind === "circle" && s.cx > 0 && s.r === 5);
  assert.equal(marks.length, 4);
  const green = parseHexColor("#2ca02c");
  const red = parseHexColor("#d62728");
  marks.forEach((m, i) => {
    if (m.kind !== "circle") return;
    assert.deepEqual(pixel(img, m.cx, m.cy), [...(i % 2 === 0 ? green : red), 255]);
    assert.equal(m.marker, i < 2 ? undefined : "square"); // video: discs, audio: squares
  });
  // A square (half side 4.5) fills the pixel at (+3, +3) from its centre; a disc of radius 5
  // leaves the pixel at (+4.2, +4.2) (its centre at least 5.2 away) mostly white.
  const [disc, , square] = marks;
  if (disc.kind === "circle" && square.kind === "circle") {
    assert.deepEqual(pixel(img, square.cx + 3, square.cy + 3), [...green, 255]);
    assert.ok(pixel(img, disc.cx + 4.2, disc.cy + 4.2)[0] > 180);
  }
  // The legend names the labels (colour swatches) and the modalities (markers).
  const legend = scene.shapes.filter((s) => s.kind === "text").map((s) =>
    s.kind === "text" ? s.text : ""
  );
  for (const name of ["green moving right", "red moving left", "video", "audio"]) {
    assert.ok(legend.includes(name), name);
  }
});
