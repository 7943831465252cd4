import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "../../../lib/backend/gradients.ts";
import { resolveVattConfig, type VattConfig } from "../../../lib/config/vatt_config.ts";
import { VattModel } from "../../../lib/model/vatt.ts";
import { countParameters, weightSpecs } from "../../../lib/model/weight_specs.ts";
import {
  setWordVectorTable,
  WORD_VECTOR_OOV,
  WORD_VECTOR_PROJ,
  WORD_VECTOR_TABLE,
  wordVectorTokens,
} from "../../../lib/model/word_embedding.ts";
import { CHECKPOINT_FORMAT, saveCheckpoint } from "../../../lib/run/checkpoint.ts";
import { loadModel } from "../../../lib/run/load_model.ts";
import { Adam } from "../../../lib/train/optimizer.ts";

/** Tiny model reading 4-d word vectors over 6 ids (padding, 4 words, OOV). */
function wordVectorConfig(wv: Partial<{ activation: "gelu" | "linear"; bias: boolean }> = {}) {
  return resolveVattConfig({
    preset: "tiny",
    text: { vocabSize: 6, wordVectors: { dim: 4, activation: "gelu", bias: false, ...wv } },
  });
}

/** A table whose rows are easy to recognise: row i = [i, i+0.5, −i, 1] (rows 0 and 5 zero). */
function knownTable(): Float32Array {
  const t = new Float32Array(6 * 4);
  for (let i = 1; i < 5; i++) t.set([i, i + 0.5, -i, 1], i * 4);
  return t;
}

Deno.test("wordVectorTokens() reads the frozen rows for known ids and the OOV row for the rest", async (t) => {
  // Hand-computed: table rows [0,0], [1,2], [3,4], OOV slot; OOV row [5,7]; W = [[1,0],[0,1]].
  const text = { vocabSize: 4, wordVectors: { dim: 2, activation: "linear", bias: true } };
  const w = {
    [WORD_VECTOR_TABLE]: tf.variable(tf.tensor2d([[0, 0], [1, 2], [3, 4], [9, 9]]), false),
    [WORD_VECTOR_OOV]: tf.variable(tf.tensor1d([5, 7])),
    [`${WORD_VECTOR_PROJ}/kernel`]: tf.variable(tf.tensor2d([[1, 0], [0, 1]])),
    [`${WORD_VECTOR_PROJ}/bias`]: tf.variable(tf.tensor1d([1, -1])),
  };
  try {
    await t.step(
      "ids 1, 2 are rows 1, 2; id 3 (the OOV id) and id 9 (beyond) are the OOV row",
      async () => {
        const before = tf.memory().numTensors;
        const ids = tf.tensor1d([1, 3, 2, 0, 9], "int32");
        const out = wordVectorTokens(ids, w, text as unknown as VattConfig["text"]);
        assert.deepEqual(await out.array(), [[2, 1], [6, 6], [4, 3], [1, -1], [6, 6]]); // + bias [1, −1]
        tf.dispose([ids, out]);
        assert.equal(tf.memory().numTensors, before, "no tensor leaks");
      },
    );
    await t.step("GELU after the projection (the official pre_proj)", async () => {
      const gelu = { ...text, wordVectors: { dim: 2, activation: "gelu", bias: false } };
      const ids = tf.tensor1d([1], "int32");
      const out = wordVectorTokens(ids, w, gelu as unknown as VattConfig["text"]);
      const [a, b] = await out.data();
      // gelu(1) = Φ(1) = 0.8413447; gelu(2) = 2·Φ(2) = 1.9544997.
      assert.ok(Math.abs(a - 0.8413447) < 1e-5 && Math.abs(b - 1.9544997) < 1e-5, `${a}, ${b}`);
      tf.dispose([ids, out]);
    });
  } finally {
    tf.dispose(Object.values(w));
  }
});

Deno.test("weightSpecs(): word vectors replace text/embedding with a frozen table, an OOV row and a projection", () => {
  const c = wordVectorConfig({ bias: true });
  const specs = new Map(weightSpecs(c).map((s) => [s.name, s]));
  assert.ok(!specs.has("text/embedding"));
  assert.deepEqual(specs.get(WORD_VECTOR_TABLE)?.shape, [6, 4]);
  assert.equal(specs.get(WORD_VECTOR_TABLE)?.trainable, false);
  assert.equal(specs.get(WORD_VECTOR_OOV)?.trainable, true);
  assert.deepEqual(specs.get(`${WORD_VECTOR_PROJ}/kernel`)?.shape, [4, 64]);
  assert.deepEqual(specs.get(`${WORD_VECTOR_PROJ}/bias`)?.shape, [64]);
  const plain = countParameters(resolveVattConfig({ preset: "tiny", text: { vocabSize: 6 } }));
  const counts = countParameters(c);
  // Text: 6·64 learned embedding out; 4 (OOV) + 4·64 + 64 (projection) in; the table is frozen.
  assert.equal(counts.text, plain.text - 6 * 64 + 4 + 4 * 64 + 64);
  assert.equal(counts.nonTrainable, plain.nonTrainable + 6 * 4);
});

Deno.test("training steps change the projection and the OOV row, never the frozen table", () => {
  const model = VattModel.create(wordVectorConfig());
  const table = knownTable();
  setWordVectorTable(model.weights, table, model.config.text);
  const trainable = model.trainableWeights();
  assert.ok(!(WORD_VECTOR_TABLE in trainable), "the table is not handed to the optimizer");
  const optimizer = new Adam(trainable);
  const kernel0 = model.weights[`${WORD_VECTOR_PROJ}/kernel`].dataSync().slice();
  const oov0 = model.weights[WORD_VECTOR_OOV].dataSync().slice();
  // Captions with known words (1–4), an unknown one (5) and padding.
  const ids = tf.tensor3d([[[1, 5, 2, 0]], [[3, 4, 5, 5]]], undefined, "int32");
  try {
    for (let step = 0; step < 3; step++) {
      const { value, grads } = tf.variableGrads(() => {
        const out = model.apply({ text: ids });
        return tf.sum(tf.square(tf.sub(out.text!.vt, 1))) as tf.Scalar;
      }, Object.values(trainable));
      const byName: Record<string, tf.Tensor> = {};
      for (const [name, v] of Object.entries(trainable)) {
        if (grads[v.name]) byName[name] = grads[v.name];
      }
      assert.ok(byName[WORD_VECTOR_OOV], "the OOV row gets a gradient");
      optimizer.step(byName, 1e-2);
      tf.dispose([value, ...Object.values(grads)]);
    }
    assert.deepEqual(model.weights[WORD_VECTOR_TABLE].dataSync(), table, "table unchanged");
    assert.notDeepEqual(model.weights[`${WORD_VECTOR_PROJ}/kernel`].dataSync(), kernel0);
    assert.notDeepEqual(model.weights[WORD_VECTOR_OOV].dataSync(), oov0);
  } finally {
    tf.dispose(ids);
    optimizer.dispose();
    model.dispose();
  }
});

Deno.test("a checkpoint stores the frozen table and loads it back with the model", async () => {
  const dir = await Deno.makeTempDir();
  const model = VattModel.create(wordVectorConfig());
  setWordVectorTable(model.weights, knownTable(), model.config.text);
  try {
    const state = {
      format: CHECKPOINT_FORMAT,
      step: 1,
      data: { epoch: 0, offset: 0 },
      seed: 0,
      kind: "pretrain",
    } as const;
    await saveCheckpoint(`${dir}/checkpoints`, {
      weights: model.weights,
      config: model.config,
      optimizerState: {},
      state,
    });
    const { model: loaded } = await loadModel(dir);
    try {
      assert.deepEqual(loaded.config.text.wordVectors, model.config.text.wordVectors);
      assert.deepEqual(loaded.weights[WORD_VECTOR_TABLE].dataSync(), knownTable());
      const ids = tf.tensor2d([[1, 5, 0]], undefined, "int32");
      const a = model.apply({ text: ids }).text!.vt;
      const b = loaded.apply({ text: ids }).text!.vt;
      assert.deepEqual(await b.data(), await a.data(), "same text features after the round trip");
      tf.dispose([ids, a, b]);
    } finally {
      loaded.dispose();
    }
  } finally {
    model.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("setWordVectorTable() refuses a table of the wrong size", () => {
  const model = VattModel.create(wordVectorConfig());
  try {
    assert.throws(
      () => setWordVectorTable(model.weights, new Float32Array(5 * 4), model.config.text),
      /6×4 = 24 values, got 20/,
    );
  } finally {
    model.dispose();
  }
});
