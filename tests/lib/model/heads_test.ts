import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "../../../lib/backend/gradients.ts";
import { audioHead, textHead } from "../../../lib/model/heads.ts";
import { VattModel } from "../../../lib/model/vatt.ts";

Deno.test("audioHead() and textHead() are x·W + b by hand (the official Dense layers' bias)", async () => {
  const w = {
    "heads/audio_va/kernel": tf.variable(tf.tensor2d([[1, 0, 2], [0, 1, -1]])),
    "heads/audio_va/bias": tf.variable(tf.tensor1d([0.5, -0.5, 1])),
    "heads/text_vt/kernel": tf.variable(tf.tensor2d([[2], [3]])),
    "heads/text_vt/bias": tf.variable(tf.tensor1d([-1])),
  };
  // [1, 2]·[[1,0,2],[0,1,-1]] = [1, 2, 0]; + b = [1.5, 1.5, 1]
  assert.deepEqual(await audioHead(tf.tensor2d([[1, 2]]), w).array(), [[1.5, 1.5, 1]]);
  // [B, P, d] = [1, 2, 2]: [1,1]→5−1, [0,2]→6−1
  assert.deepEqual(await textHead(tf.tensor3d([[[1, 1], [0, 2]]]), w).array(), [[[4], [5]]]);
  tf.dispose(Object.values(w));
});

Deno.test("the projection biases are weights of the model, trained, and absent with projectionBias false", async () => {
  const model = VattModel.create({ preset: "tiny", dropout: 0, attentionDropout: 0 });
  try {
    const audio = tf.ones([2, 6400]);
    const text = tf.ones([2, 16], "int32");
    const biases = [model.weights["heads/audio_va/bias"], model.weights["heads/text_vt/bias"]];
    assert.deepEqual(biases.map((b) => b.shape), [[128], [64]]);
    assert.ok(biases.every((b) => b.trainable));
    const { value, grads } = tf.variableGrads(() => {
      const out = model.apply({ audio, text });
      return tf.add(tf.sum(out.audio!.va), tf.sum(tf.square(out.text!.vt))) as tf.Scalar;
    }, biases);
    // d/db Σ va = batch size 2 per coordinate.
    assert.deepEqual(await grads[biases[0].name].data(), new Float32Array(128).fill(2));
    const norm = tf.norm(grads[biases[1].name]);
    assert.ok((await norm.data())[0] > 0);
    tf.dispose([audio, text, value, norm, ...Object.values(grads)]);
  } finally {
    model.dispose();
  }
  const without = VattModel.create({ preset: "tiny", heads: { projectionBias: false } });
  assert.ok(!("heads/audio_va/bias" in without.weights));
  assert.ok(!("heads/text_vt/bias" in without.weights));
  without.dispose();
});
