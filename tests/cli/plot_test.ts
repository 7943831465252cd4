import assert from "node:assert/strict";
import * as path from "node:path";
import { decode } from "fast-png";
import { initBackend } from "../../lib/backend/select.ts";
import { Dataset } from "../../lib/data/shards/dataset.ts";
import { exportEmbeddings } from "../../lib/eval/embeddings/export.ts";
import { VattModel } from "../../lib/model/vatt.ts";
import { paletteColor, parseHexColor } from "../../lib/plot/palette.ts";
import { demoDataset } from "../_fixtures.ts";
import { tinyModelConfig } from "../lib/eval/_tiny_run.ts";
import { errorLines, runVatt } from "./_run.ts";

/** Pixels of the PNG at `file` whose colour is exactly `hex`. */
function countColor(png: ReturnType<typeof decode>, hex: string): number {
  const [r, g, b] = parseHexColor(hex);
  const c = png.channels;
  let n = 0;
  for (let i = 0; i < png.width * png.height; i++) {
    if (png.data[i * c] === r && png.data[i * c + 1] === g && png.data[i * c + 2] === b) n++;
  }
  return n;
}

Deno.test("vatt plot", async (t) => {
  const fx = await demoDataset({ clips: 32 });
  const dir = await Deno.makeTempDir({ prefix: "vatt-cli-plot-" });
  try {
    // Embeddings of a freshly initialised model, exported in every format.
    await initBackend("wasm");
    const model = VattModel.create(tinyModelConfig());
    const data = await Dataset.open(fx.data);
    let rows = 0;
    try {
      for (const f of ["npy", "safetensors", "parquet", "jsonl"]) {
        const r = await exportEmbeddings(model, data, { out: path.join(dir, `e.${f}`) });
        rows = r.rows.video + r.rows.audio;
      }
    } finally {
      model.dispose();
      data.close();
    }

    for (const f of ["npy", "safetensors", "parquet", "jsonl"]) {
      await t.step(`draws a PNG map of a ${f} file, coloured by modality`, async () => {
        const out = path.join(dir, `map-${f}.png`);
        const r = await runVatt([
          "plot",
          path.join(dir, `e.${f}`),
          "--out",
          out,
          "--method",
          "pca",
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(
          r.stdout,
          new RegExp(`pca map of ${rows} of ${rows} rows \\(32 video, 32 audio\\)`),
        );
        const png = decode(await Deno.readFile(out));
        assert.equal(png.width, 720);
        assert.equal(png.height, 560);
        // Both groups (video, audio) are drawn in their palette colours.
        assert.ok(countColor(png, paletteColor(0)) > 50);
        assert.ok(countColor(png, paletteColor(1)) > 50);
      });
    }

    await t.step("draws an SVG map by label with the dataset's class names", async () => {
      const out = path.join(dir, "labels.svg");
      const r = await runVatt([
        "plot",
        path.join(dir, "e.parquet"),
        "--out",
        out,
        "--color-by",
        "label",
        "--data",
        fx.data,
        "--modalities",
        "video",
      ]);
      assert.equal(r.code, 0, r.stderr);
      const svg = await Deno.readTextFile(out);
      assert.ok(svg.startsWith("<svg") && svg.trimEnd().endsWith("</svg>"));
      assert.equal(svg.match(/<circle /g)?.length, 32);
      const index = JSON.parse(await Deno.readTextFile(path.join(fx.data, "index.json")));
      for (const name of index.labels.names) assert.ok(svg.includes(`>${name}</text>`), name);
      assert.match(svg, /<title>clip-00000 video<\/title>/);
    });

    await t.step("draws a run's training curves", async () => {
      const runDir = path.join(dir, "run");
      await Deno.mkdir(runDir);
      const lines = Array.from({ length: 20 }, (_, i) =>
        JSON.stringify({
          step: i + 1,
          loss: 5 / (i + 1),
          nce: 2.5 / (i + 1),
          milNce: 2.5 / (i + 1),
          lr: 1e-3 * Math.min(1, (i + 1) / 5),
          clipsPerSec: 10,
          accVideoAudio: i / 20,
          accVideoText: i / 40,
          gradNorm: 3,
        }));
      // A half-written last line, as a run still writing leaves it.
      await Deno.writeTextFile(path.join(runDir, "metrics.jsonl"), lines.join("\n") + '\n{"st');
      const png = path.join(dir, "curves.png");
      const r = await runVatt(["plot", runDir, "--metrics", "--out", png]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /training curves of 20 rows/);
      const img = decode(await Deno.readFile(png));
      assert.equal(img.width, 720);
      assert.equal(img.height, 3 * 280);
      const svgPath = path.join(dir, "curves.svg");
      assert.equal((await runVatt(["plot", runDir, "--out", svgPath])).code, 0);
      const svg = await Deno.readTextFile(svgPath);
      for (const name of ["loss", "nce", "milNce", "accVideoAudio", "accVideoText", "lr"]) {
        assert.ok(svg.includes(`>${name}</text>`), name);
      }
      assert.ok(!svg.includes(">gradNorm<") && !svg.includes(">clipsPerSec<"));
      assert.equal(svg.match(/<polyline /g)?.length, 6);
    });

    await t.step("bad input: one line, a non-zero exit, nothing written", async () => {
      const e = path.join(dir, "e.jsonl");
      const out = path.join(dir, "bad.png");
      await Deno.writeTextFile(path.join(dir, "taken.svg"), "keep");
      const cases: [string[], number, RegExp][] = [
        [["plot", e, "--out", out, "--color-by", "label"], 2, /needs --data DATA/],
        [["plot", e, "--out", path.join(dir, "bad.jpg")], 2, /must end in \.png or \.svg/],
        [["plot", e, "--out", path.join(dir, "taken.svg")], 1, /already exists/],
        [["plot", e, "--metrics", "--out", out], 2, /needs a run folder/],
        [["plot", fx.data, "--out", out], 1, /no metrics\.jsonl/],
        [["plot", path.join(dir, "nothing.npy"), "--out", out], 1, /does not exist/],
        [["plot", e, "--out", out, "--modalities", "text"], 2, /no rows of text/],
      ];
      for (const [args, code, pattern] of cases) {
        const r = await runVatt(args);
        const lines = errorLines(r);
        assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
        assert.equal(lines.length, 1, r.stderr);
        assert.match(lines[0], pattern);
      }
      assert.equal(await Deno.readTextFile(path.join(dir, "taken.svg")), "keep");
      await assert.rejects(Deno.stat(out), Deno.errors.NotFound);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
