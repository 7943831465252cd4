import assert from "node:assert/strict";
import { escapeXml, sceneToSvg } from "../../../lib/plot/svg.ts";
import { lineChartScene, scatterScene } from "../../../lib/plot/scene.ts";
import { CATEGORICAL_PALETTE } from "../../../lib/plot/palette.ts";

/**
 * A small well-formedness check: tags balance, attribute values are quoted, and no raw `<`,
 * `>` or unescaped `&` appears in text or attributes. Returns the element names in order.
 */
function checkXml(xml: string): string[] {
  const names: string[] = [];
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w-]*)((?:\s+[\w:-]+="[^"<>]*")*)\s*(\/?)>/y;
  const entity = /&(amp|lt|gt|quot|apos);/y;
  let i = 0;
  while (i < xml.length) {
    if (xml[i] === "<") {
      tag.lastIndex = i;
      const m = tag.exec(xml);
      assert.ok(m, `malformed tag at ${i}: ${xml.slice(i, i + 40)}`);
      const [, close, name, attrs, selfClose] = m;
      for (const amp of attrs.matchAll(/&/g)) {
        entity.lastIndex = amp.index!;
        assert.ok(entity.test(attrs), `bad entity in attributes of <${name}>`);
      }
      if (close) assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
      else {
        names.push(name);
        if (!selfClose) stack.push(name);
      }
      i += m[0].length;
    } else if (xml[i] === "&") {
      entity.lastIndex = i;
      assert.ok(entity.test(xml), `bad entity at ${i}: ${xml.slice(i, i + 10)}`);
      i++;
    } else {
      assert.notEqual(xml[i], ">", `raw > at ${i}`);
      i++;
    }
  }
  assert.deepEqual(stack, [], "unclosed elements");
  assert.equal(names[0], "svg");
  return names;
}

const HOSTILE = `<script>alert("x")</script> & 'y'`;

Deno.test("escapeXml() escapes markup characters and drops characters XML forbids", () => {
  assert.equal(escapeXml(`<a href="x">&'`), "&lt;a href=&quot;x&quot;&gt;&amp;&apos;");
  assert.equal(escapeXml("a\u0000b\u0007c\td"), "a\ufffdb\ufffdc\td");
  assert.equal(escapeXml("\ud800x \ud83d\ude00"), "\ufffdx \ud83d\ude00");
});

Deno.test("sceneToSvg() of a scatterScene() is well-formed, draws every point and escapes untrusted text", () => {
  const points: [number, number][] = [[0, 0], [1, 1], [2, 0.5], [-1, 3]];
  const svg = sceneToSvg(scatterScene(points, {
    groups: ["a", HOSTILE, "a", "b&c"],
    labels: ["clip <1>", `"quoted"`, "x & y", HOSTILE],
    title: `Title <b>&"`,
  }));
  const names = checkXml(svg);
  assert.equal(names.filter((n) => n === "circle").length, 4);
  assert.equal(names.filter((n) => n === "script").length, 0);
  assert.ok(!svg.includes("<script"));
  assert.ok(svg.includes("Title &lt;b&gt;&amp;&quot;"));
  assert.ok(svg.includes("<title>clip &lt;1&gt;</title>"));
  assert.ok(svg.includes(">b&amp;c</text>"), "legend entry of group b&c");
  // groups coloured in order of first appearance
  const fills = [...svg.matchAll(/<circle [^>]*fill="(#[0-9a-f]+)"/g)].map((m) => m[1]);
  assert.deepEqual(fills, [
    CATEGORICAL_PALETTE[0],
    CATEGORICAL_PALETTE[1],
    CATEGORICAL_PALETTE[0],
    CATEGORICAL_PALETTE[2],
  ]);
});

Deno.test("sceneToSvg() of a scatterScene() rejects colours that are not hex and mismatched per-point arrays", () => {
  assert.throws(
    () => sceneToSvg(scatterScene([[0, 0]], { colors: [`red"/><script>`] })),
    TypeError,
  );
  assert.throws(
    () => sceneToSvg(scatterScene([[0, 0]], { groups: [1, 2] })),
    /groups has 2 entries for 1 points/,
  );
  assert.throws(() => sceneToSvg(scatterScene([[0, NaN]])), /not finite/);
  assert.throws(() => sceneToSvg(scatterScene([[0, 0]], { width: 10 })), RangeError);
});

Deno.test("sceneToSvg() of a lineChartScene() draws axes with ticks, a legend, gaps and a log axis", () => {
  const svg = sceneToSvg(lineChartScene(
    [
      { name: "train <loss>", x: [0, 1, 2, 3, 4], y: [10, 5, NaN, 2, 1] },
      { name: "val", x: [0, 2, 4], y: [8, 4, 3] },
    ],
    { title: "Curves", xLabel: "step & epoch", yLabel: "loss", logY: true },
  ));
  const names = checkXml(svg);
  // the NaN splits the first series in two: 3 polylines
  assert.equal(names.filter((n) => n === "polyline").length, 3);
  const texts = [...svg.matchAll(/<text [^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
  for (
    const label of ["1", "10", "Curves", "step &amp; epoch", "loss", "train &lt;loss&gt;", "val"]
  ) {
    assert.ok(texts.includes(label), `missing text ${label} in ${texts}`);
  }
  assert.ok(svg.includes(`transform="rotate(-90`), "y label is vertical");
  // linear axis: ticks at 0, 1, 2, 3, 4 on x
  const linear = sceneToSvg(lineChartScene([{ name: "s", x: [0, 4], y: [-1, 1] }]));
  const ticks = [...linear.matchAll(/<text [^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
  for (const label of ["0", "1", "2", "3", "4", "-1", "0.5"]) {
    assert.ok(ticks.includes(label), label);
  }
  assert.throws(
    () => sceneToSvg(lineChartScene([{ name: "bad", x: [1, 2], y: [1] }])),
    /2 x values, 1 y values/,
  );
});

Deno.test("sceneToSvg() draws marker groups as their shapes: discs, then squares, triangles, diamonds", () => {
  const points: [number, number][] = [[0, 0], [1, 1], [2, 0], [3, 1]];
  const svg = sceneToSvg(
    scatterScene(points, {
      groups: ["a", "a", "b", "b"],
      markers: ["video", "audio", "text", "video"],
      labels: ["p0", "p1", "p2", "p3"],
    }),
  );
  // Points: video discs (2), audio a square, text a triangle; the legend adds one of each marker.
  const polygons = [...svg.matchAll(/<polygon points="([^"]+)"/g)].map((m) =>
    m[1].split(" ").length
  );
  assert.deepEqual(polygons.sort(), [3, 3, 4, 4]);
  assert.ok(svg.includes("<title>p1</title></polygon>"));
  for (const name of ["a", "b", "video", "audio", "text"]) {
    assert.ok(svg.includes(`>${name}</text>`), name);
  }
});
