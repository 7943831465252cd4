import assert from "node:assert/strict";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { Dataset } from "../../../../lib/data/shards/dataset.ts";
import { readDatasetLabels } from "../../../../lib/data/shards/split.ts";
import { loadTextTokenizer } from "../../../../lib/data/text/setup.ts";
import { encodeCaption } from "../../../../lib/data/tokenize/clip.ts";
import { exportEmbeddings } from "../../../../lib/eval/embeddings/export.ts";
import { readEmbeddings } from "../../../../lib/eval/embeddings/read.ts";
import { zeroShotClassify } from "../../../../lib/eval/classify/zero_shot.ts";
import { ensemblePrompts } from "../../../../lib/eval/classify/prompts.ts";
import { loadModel } from "../../../../lib/run/load_model.ts";
import { demoDataset } from "../../../_fixtures.ts";
import { pretrainTiny } from "../_tiny_run.ts";

/** Unit vector of `v`, in float64. */
function unit(v: ArrayLike<number>): number[] {
  const n = Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));
  return Array.from(v, (x) => x / n);
}

const dot = (a: number[], b: number[]) => a.reduce((s, x, j) => s + x * b[j], 0);

Deno.test("ensemblePrompts() averages unit prompt embeddings and renormalises (CLIP), by hand", () => {
  // 2 classes × 2 prompts × 2 dims. Class 0: (1, 0) and (0, 5) → units (1, 0), (0, 1) → mean
  // (0.5, 0.5) → (1/√2, 1/√2). Class 1: (−2, 0) twice → (−1, 0). A plain mean of the raw vectors
  // would give class 0 the direction (1, 5), not the diagonal.
  const t = ensemblePrompts(new Float32Array([1, 0, 0, 5, -2, 0, -2, 0]), {
    classes: 2,
    prompts: 2,
    dim: 2,
  });
  assert.ok(Math.abs(t[0] - Math.SQRT1_2) < 1e-7 && Math.abs(t[1] - Math.SQRT1_2) < 1e-7);
  assert.deepEqual([...t.subarray(2)], [-1, 0]);
  assert.throws(() => ensemblePrompts(new Float32Array(3), { classes: 1, prompts: 2, dim: 2 }));
});

Deno.test("zeroShotClassify() on a tiny pretrained run agrees with a hand computation", async (t) => {
  const fx = await demoDataset({ clips: 32 });
  const root = await Deno.makeTempDir({ prefix: "vatt-zero-shot-test-" });
  const run = await pretrainTiny(fx.data, path.join(root, "run"), { steps: 20, batch: 8 });
  const data = await Dataset.open(fx.data);
  const { model } = await loadModel(run);
  try {
    const prompts = ["a video of {label}", "{label}"];
    const before = tf.memory().numTensors;
    const r = await zeroShotClassify(model, data, { prompts, batchSize: 5 });
    assert.equal(tf.memory().numTensors, before);

    await t.step("reports clips, classes, chance and the prompts", async () => {
      const labels = await readDatasetLabels(data);
      assert.equal(r.report.clips, labels.labels.filter((y) => y >= 0).length);
      assert.deepEqual(r.report.classes, labels.names);
      assert.equal(r.report.classes.length, 8);
      assert.deepEqual(r.report.chance, { top1: 1 / 8, top5: 5 / 8 });
      assert.deepEqual(r.report.prompts, prompts);
      assert.equal(r.report.space, "vt");
      // Every word of the demo's class names is a caption word.
      assert.equal(r.report.vocabulary.classWords, 8 * 3);
      assert.equal(r.report.vocabulary.unknownClassWordCount, 0);
      assert.ok(r.report.top1! <= r.report.top5!);
    });

    await t.step(
      "scores and accuracies match exported video embeddings and class texts by hand",
      async () => {
        // Video: the vt embeddings `vatt export` writes.
        const file = path.join(root, "video-vt.jsonl");
        await exportEmbeddings(model, data, { out: file, space: "vt", modalities: ["video"] });
        const rows = await readEmbeddings(file);
        const video = new Map(rows.ids.map((id, i) => [id, unit(rows.vectors[i])]));
        // Class texts: each prompt embedded on its own, unit, averaged, unit again (float64).
        const tokenizer = await loadTextTokenizer(data.dir, data.index.text);
        const l = data.index.settings.maxLength;
        const classes = r.report.classes.map((name) => {
          const sum = new Array(model.config.heads.vtDim).fill(0);
          for (const p of prompts) {
            const ids = encodeCaption(tokenizer, p.replace("{label}", name), l);
            const out = model.apply({ text: tf.tensor2d(ids, [1, l], "int32") });
            unit(out.text!.vt.dataSync()).forEach((x, j) => sum[j] += x / prompts.length);
            tf.dispose([out.text!.vt, out.text!.representation]);
          }
          return unit(sum);
        });
        const c = classes.length;
        let top1 = 0, top5 = 0;
        r.ids.forEach((id, i) => {
          const s = classes.map((t) => dot(video.get(id)!, t));
          for (let k = 0; k < c; k++) {
            assert.ok(Math.abs(r.scores[i * c + k] - s[k]) < 1e-5, `${id} class ${k}`);
          }
          const y = r.labels[i];
          const above = s.filter((v, k) => k !== y && v >= s[y]).length; // ties count against
          if (above < 1) top1++;
          if (above < 5) top5++;
        });
        assert.equal(r.report.top1, top1 / r.ids.length);
        assert.equal(r.report.top5, top5 / r.ids.length);
        console.log(
          `zero-shot top-1 ${(100 * top1 / r.ids.length).toFixed(1)}% top-5 ${
            (100 * top5 / r.ids.length).toFixed(1)
          }% (chance 12.5% / 62.5%)`,
        );
      },
    );

    await t.step("a prompt without {label} is a RangeError before any work", async () => {
      await assert.rejects(
        zeroShotClassify(model, data, { prompts: ["a video"] }),
        (e) => e instanceof RangeError && /has no \{label\}/.test(e.message),
      );
    });
  } finally {
    model.dispose();
    data.close();
    await Deno.remove(root, { recursive: true });
  }
});
