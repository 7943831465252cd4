import * as tf from "@tensorflow/tfjs-core";
import "../../../lib/backend/gradients.ts";
import assert from "node:assert/strict";
import { initBackend } from "../../../lib/backend/select.ts";
import { VattModel } from "../../../lib/model/vatt.ts";
import { Classifier, type ClassifierInputs, featureDims } from "../../../lib/model/classifier.ts";

// wasm: the fastest backend here (the model's gradients work on it too).
await initBackend("wasm");

const LABELS = { names: ["a", "b", "c"], multiLabel: false };

/** Three clips: clip 1 has no audio and no caption; clip 2 has one caption. */
function inputs(): ClassifierInputs {
  return tf.tidy(() => ({
    video: tf.randomUniform([3, 8, 32, 32, 3], -1, 1, "float32", 1),
    audio: tf.randomUniform([3, 6400], -1, 1, "float32", 2) as tf.Tensor2D,
    audioMask: tf.tensor1d([1, 0, 1]),
    text: tf.tensor3d(
      Int32Array.from({ length: 3 * 4 * 16 }, (_, k) => (k % 16 < 5 ? 1 + (k % 7) : 0)),
      [3, 4, 16],
      "int32",
    ),
    textMask: tf.tensor2d([[1, 1, 0, 0], [0, 0, 0, 0], [1, 0, 0, 0]]),
  })) as unknown as ClassifierInputs;
}

Deno.test("Classifier.features() gives [B, D_m] features and the clip masks", async () => {
  const model = VattModel.create({ preset: "tiny" });
  const c = Classifier.create(model, {
    modalities: ["video", "audio", "text"],
    features: "backbone",
    head: "concat",
    headOptions: { hiddenDim: 8 },
    seed: 0,
    labels: LABELS,
  });
  const x = inputs();
  const before = tf.memory().numTensors;
  const { features, masks } = c.features(x);
  assert.deepEqual(features.map((f) => f.shape), [[3, 64], [3, 64], [3, 64]]);
  assert.deepEqual(Array.from(await masks[0].data()), [1, 1, 1]);
  assert.deepEqual(Array.from(await masks[1].data()), [1, 0, 1]);
  assert.deepEqual(Array.from(await masks[2].data()), [1, 0, 1]);
  // Text: the mean of the clip's real captions' aggregation tokens; zeros without a caption.
  const reps = model.apply({ text: x.text }).text!.representation; // [3, 4, 64]
  const r = await reps.array() as number[][][];
  const t = await features[2].array();
  for (let d = 0; d < 64; d++) {
    assert.ok(Math.abs(t[0][d] - (r[0][0][d] + r[0][1][d]) / 2) < 1e-5);
    assert.equal(t[1][d], 0);
    assert.ok(Math.abs(t[2][d] - r[2][0][d]) < 1e-5);
  }
  tf.dispose([...features, ...masks]);
  assert.equal(tf.memory().numTensors, before + 2); // reps and its companion vt output
  tf.dispose([reps]);
  tf.dispose(Object.values(x));
  c.dispose();
});

Deno.test("every head classifies clips with a missing modality without NaN", async (t) => {
  const x = inputs();
  for (const head of ["vatt", "concat", "tensor", "mcb"] as const) {
    await t.step(head, async () => {
      const model = VattModel.create({ preset: "tiny" });
      const c = Classifier.create(model, {
        modalities: ["video", "audio", "text"],
        features: head === "vatt" ? "common" : "backbone",
        head,
        headOptions: head === "tensor"
          ? { fusionDim: 4, hiddenDim: 8 }
          : head === "mcb"
          ? { outputDim: 64 }
          : {},
        seed: 1,
        labels: LABELS,
      });
      c.logits(x).dispose(); // mcb builds its DFT basis on first use and keeps it
      const before = tf.memory().numTensors;
      const logits = c.logits(x);
      assert.deepEqual(logits.shape, [3, 3]);
      assert.ok((await logits.data()).every(Number.isFinite));
      logits.dispose();
      assert.equal(tf.memory().numTensors, before);
      c.dispose();
    });
  }
  tf.dispose(Object.values(x));
});

Deno.test("end-to-end gradients reach every trainable weight of the modality and the head", () => {
  const model = VattModel.create({ preset: "tiny" });
  const c = Classifier.create(model, {
    modalities: ["audio"],
    features: "common",
    head: "vatt",
    seed: 0,
    labels: LABELS,
  });
  const trainable = { ...c.modelWeights({ trainable: true }), ...c.head.variables };
  const names = Object.keys(trainable);
  assert.ok(names.some((n) => n.startsWith("backbone/audio/")));
  assert.ok(names.includes("heads/audio_va/kernel"));
  assert.ok(!names.some((n) => n.startsWith("video/") || n.startsWith("backbone/text/")));
  const x = inputs();
  const { grads } = tf.variableGrads(
    () => tf.sum(c.logits(x, { training: true })) as tf.Scalar,
    Object.values(trainable),
  );
  for (const [name, w] of Object.entries(trainable)) {
    assert.ok(grads[w.name] !== undefined, `no gradient for ${name}`);
  }
  tf.dispose(Object.values(grads));
  tf.dispose(Object.values(x));
  c.dispose();
});

Deno.test("featureDims() follows the feature kind", () => {
  const model = VattModel.create({ preset: "tiny" });
  assert.deepEqual(
    featureDims(model.config, { modalities: ["video", "audio", "text"], features: "common" }),
    [128, 128, 64],
  );
  model.dispose();
});
