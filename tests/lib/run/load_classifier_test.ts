import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { initBackend } from "../../../lib/backend/select.ts";
import { FormatError } from "../../../lib/util/errors.ts";
import { VattModel } from "../../../lib/model/vatt.ts";
import { Classifier, type ClassifierInputs } from "../../../lib/model/classifier.ts";
import { CHECKPOINT_FORMAT, saveCheckpoint } from "../../../lib/run/checkpoint.ts";
import { loadClassifier, parseClassifierSpec } from "../../../lib/run/load_classifier.ts";

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

Deno.test("a saved classifier loads back with the same logits", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const model = VattModel.create({ preset: "tiny", seed: 4 });
    const c = Classifier.create(model, {
      modalities: ["video", "audio"],
      features: "backbone",
      head: "tensor",
      headOptions: { fusionDim: 3, hiddenDim: 5 },
      seed: 2,
      labels: LABELS,
    });
    const stored = Object.keys(c.storedWeights());
    assert.ok(stored.includes("fusion/tensor/hidden/kernel"));
    assert.ok(!stored.some((n) => n.startsWith("text/") || n.startsWith("heads/")));
    const ckpt = await saveCheckpoint(`${dir}/checkpoints`, {
      weights: c.storedWeights(),
      config: c.spec,
      optimizerState: {},
      state: {
        format: CHECKPOINT_FORMAT,
        step: 3,
        data: { epoch: 0, offset: 0 },
        seed: 0,
        kind: "finetune",
      },
    });
    const x = inputs();
    const a = c.logits(x);
    const { classifier, checkpoint } = await loadClassifier(dir);
    assert.equal(checkpoint, ckpt);
    assert.deepEqual(classifier.spec, JSON.parse(JSON.stringify(c.spec)));
    const b = classifier.logits(x);
    assert.deepEqual(Array.from(await b.data()), Array.from(await a.data()));
    tf.dispose([a, b, ...Object.values(x)]);
    classifier.dispose();
    c.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseClassifierSpec() tells a pretrained model from a classifier", () => {
  const model = VattModel.create({ preset: "tiny" });
  assert.throws(
    () => parseClassifierSpec(model.config, "ckpt"),
    (e) => e instanceof FormatError && /pretrained model, not a classifier/.test(e.message),
  );
  assert.throws(
    () => parseClassifierSpec({ format: "vatt-classifier/1", model: model.config }, "c"),
    FormatError,
  );
  model.dispose();
});
