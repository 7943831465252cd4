import assert from "node:assert/strict";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../../../lib/backend/select.ts";
import { Dataset } from "../../../../lib/data/shards/dataset.ts";
import { classifyDataset } from "../../../../lib/eval/classify/classify.ts";
import { evaluateClassifier } from "../../../../lib/eval/classify/evaluate.ts";
import { Classifier } from "../../../../lib/model/classifier.ts";
import { VattModel } from "../../../../lib/model/vatt.ts";
import { MismatchError } from "../../../../lib/util/errors.ts";
import { demoDataset } from "../../../_fixtures.ts";
import { subsetManifest, tinyModelConfig, tokenizeTiny } from "../_tiny_run.ts";

Deno.test("evaluateClassifier() averages the logits of a clip's window entries <clip>#w<k>", async (t) => {
  await initBackend("wasm");
  // 8 demo clips as two windows each (0–0.8 s and 1–1.8 s): entries <clip>#w0, <clip>#w1.
  const fx = await demoDataset({ clips: 32 });
  const root = await Deno.makeTempDir({ prefix: "vatt-evaluate-test-" });
  const dir = path.join(root, "windows");
  await tokenizeTiny(await subsetManifest(fx.media, root, { clips: 8, windows: 2 }), dir);
  const data = await Dataset.open(dir);
  const classifier = Classifier.create(VattModel.create(tinyModelConfig()), {
    modalities: ["video"],
    features: "backbone",
    head: "vatt",
    seed: 0,
    labels: { names: data.index.labels.names, multiLabel: false },
  });
  try {
    await t.step("one clip per pair of entries, its logits the mean of theirs", async () => {
      const before = tf.memory().numTensors;
      const r = await evaluateClassifier(classifier, data, { windows: 2 });
      assert.equal(tf.memory().numTensors, before);
      assert.equal(r.report.clips, 8);
      assert.equal(r.views.windowSource, "entries");
      assert.equal(r.selection.source, "unknown"); // no run record given
      assert.ok(r.ids.every((id) => !id.includes("#w")));
      // By hand: every entry's logits (centre view), the two windows of a clip averaged in
      // float64, then the mean softmax cross-entropy against the clip's label.
      const each = await classifyDataset(classifier, data);
      const c = data.index.labels.names.length;
      let loss = 0;
      r.ids.forEach((clip) => {
        const rows = [0, 1].map((k) => each.ids.indexOf(`${clip}#w${k}`));
        const mean = Array.from(
          { length: c },
          (_, j) => (each.logits[rows[0] * c + j] + each.logits[rows[1] * c + j]) / 2,
        );
        const label = each.labels[rows[0]];
        assert.equal(each.labels[rows[1]], label);
        const max = Math.max(...mean);
        loss += max + Math.log(mean.reduce((s, v) => s + Math.exp(v - max), 0)) - mean[label];
      });
      assert.ok(Math.abs(r.report.loss - loss / 8) < 1e-5, `${r.report.loss} vs ${loss / 8}`);
    });
    await t.step("more windows than a clip has entries is a MismatchError", async () => {
      await assert.rejects(
        evaluateClassifier(classifier, data, { windows: 3 }),
        (e: Error) => e instanceof MismatchError && /lacks window 2/.test(e.message),
      );
    });
    await t.step("bad counts are RangeErrors before any work", async () => {
      await assert.rejects(evaluateClassifier(classifier, data, { windows: 0 }), RangeError);
      await assert.rejects(evaluateClassifier(classifier, data, { crops: 2 }), RangeError);
    });
  } finally {
    classifier.dispose();
    data.close();
    await Deno.remove(root, { recursive: true });
  }
});
