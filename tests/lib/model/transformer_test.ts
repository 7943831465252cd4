import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "../../../lib/backend/gradients.ts";
import { resolveVattConfig } from "../../../lib/config/vatt_config.ts";
import { t5Bucket } from "../../../lib/model/relative_position.ts";
import { attention, encode, t5PositionBias } from "../../../lib/model/transformer.ts";
import { weightSpecs } from "../../../lib/model/weight_specs.ts";
import { createWeights, type Weights } from "../../../lib/model/weights.ts";
import { Rng } from "../../../lib/util/rng.ts";

const T5 = { buckets: 8, maxDistance: 16 };

/** A tiny text backbone (2 layers, d 8, 2 heads) and its weights. */
function textModel(relativePosition: "t5-shared" | "t5", seed = 1) {
  const c = resolveVattConfig({
    preset: "tiny",
    text: {
      relativePosition,
      ...T5,
      backbone: { layers: 2, hidden: 8, mlp: 16, heads: 2 },
    },
  });
  return { c, w: createWeights(weightSpecs(c), { seed }) };
}

function run(
  c: ReturnType<typeof resolveVattConfig>,
  w: Weights,
  tokens: tf.Tensor3D,
  extra: Parameters<typeof encode>[3] extends infer O ? Partial<O> : never = {},
) {
  return encode(tokens, w["text/agg_token"], w, {
    prefix: "backbone/text",
    backbone: c.text.backbone,
    relative: c.text,
    ...extra,
  });
}

const tokens = () =>
  tf.tensor3d(Array.from({ length: 2 * 5 * 8 }, (_, i) => Math.sin(i)), [2, 5, 8]);

Deno.test("t5PositionBias() looks up bias[h, i, j] = table[bucket(j − i), h] by hand", async () => {
  const table = Array.from({ length: 8 }, (_, n) => [n, 10 - 2 * n]);
  const got = await t5PositionBias(4, tf.tensor2d(table), T5).array(); // [H, L, L]
  for (let h = 0; h < 2; h++) {
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) assert.equal(got[h][i][j], table[t5Bucket(j - i, T5)][h]);
    }
  }
});

Deno.test("attention() with a positionBias equals the per-layer T5 form with the same table", async () => {
  const x = tf.tensor3d([[[1, 0], [0, 1], [1, 1]]]);
  const w: Weights = {};
  for (const m of ["q", "k", "v", "o"]) {
    w[`a/${m}/kernel`] = tf.variable(tf.eye(2));
    w[`a/${m}/bias`] = tf.variable(tf.zeros([2]));
  }
  const table = tf.tensor2d(Array.from({ length: 8 }, (_, n) => [n * 0.3]));
  w["a/rel_bias"] = tf.variable(table);
  const relative = { relativePosition: "t5" as const, clipDistance: 1, ...T5 };
  const perLayer = await attention(x, w, "a", { heads: 1, relative }).data();
  const shared = await attention(x, w, "a", {
    heads: 1,
    relative: { ...relative, relativePosition: "t5-shared" },
    positionBias: t5PositionBias(3, table, T5),
  }).data();
  assert.deepEqual(shared, perLayer);
  assert.throws(
    () =>
      attention(x, w, "a", { heads: 1, relative: { ...relative, relativePosition: "t5-shared" } }),
    /without options.positionBias/,
  );
  tf.dispose([x, table, ...Object.values(w)]);
});

Deno.test("t5-shared: one table, used by every layer, and the gradient reaches it", async () => {
  const shared = textModel("t5-shared");
  const perLayer = textModel("t5");
  try {
    const names = Object.keys(shared.w).filter((n) => n.includes("rel_bias"));
    assert.deepEqual(names, ["backbone/text/rel_bias"]);
    // Same weights everywhere, and every per-layer table set to the shared one:
    // the outputs agree only if every layer adds the shared bias.
    for (const [n, v] of Object.entries(shared.w)) perLayer.w[n]?.assign(v);
    for (const l of ["00", "01"]) {
      perLayer.w[`backbone/text/layer_${l}/attn/rel_bias`].assign(
        shared.w["backbone/text/rel_bias"],
      );
    }
    const x = tokens();
    const a = await run(shared.c, shared.w, x).sequence.data();
    const b = await run(perLayer.c, perLayer.w, x).sequence.data();
    a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-5, `${i}: ${v} vs ${b[i]}`));
    // Changing layer 01's own table changes the per-layer model, not the shared one.
    perLayer.w["backbone/text/layer_01/attn/rel_bias"].assign(tf.zeros([8, 2]));
    const c = await run(perLayer.c, perLayer.w, x).sequence.data();
    assert.ok(c.some((v, i) => Math.abs(v - b[i]) > 1e-4));
    const table = shared.w["backbone/text/rel_bias"];
    const { value, grads } = tf.variableGrads(
      () => tf.sum(tf.square(run(shared.c, shared.w, x).aggregate)) as tf.Scalar,
      [table],
    );
    const norm = tf.norm(grads[table.name]);
    assert.ok((await norm.data())[0] > 0);
    tf.dispose([x, value, norm, ...Object.values(grads)]);
  } finally {
    tf.dispose([...Object.values(shared.w), ...Object.values(perLayer.w)]);
  }
});

Deno.test("encode() dropout: off without a source, seeded with one, rate 0 is no dropout", async () => {
  const { c, w } = textModel("t5-shared");
  const x = tokens();
  const pass = async (extra = {}) => {
    const out = run(c, w, x, extra);
    const data = await out.sequence.data();
    tf.dispose([out.sequence, out.aggregate]);
    return data;
  };
  const source = (seed: number, rate = 0.1) => ({ rate, rng: new Rng(seed) });
  try {
    const before = tf.memory().numTensors;
    const evalA = await pass();
    const evalB = await pass();
    assert.deepEqual(evalA, evalB); // evaluation is bit-identical
    const train1 = await pass({ dropout: source(7), attentionDropout: source(7) });
    const train1Again = await pass({ dropout: source(7), attentionDropout: source(7) });
    const train2 = await pass({ dropout: source(8), attentionDropout: source(8) });
    assert.deepEqual(train1, train1Again); // same seed, same masks
    assert.notDeepEqual(train1, train2);
    assert.notDeepEqual(train1, evalA);
    const rateZero = await pass({ dropout: source(7, 0), attentionDropout: source(7, 0) });
    assert.deepEqual(rateZero, evalA);
    // The final dropout zeroes whole values: about 10% of the output.
    const zeros = train1.filter((v) => v === 0).length / train1.length;
    assert.ok(zeros > 0.02 && zeros < 0.25, `zeros ${zeros}`);
    assert.equal(tf.memory().numTensors, before);
  } finally {
    tf.dispose([x, ...Object.values(w)]);
  }
});

Deno.test("encode() at inference holds one layer's activations at a time, not every layer's", async () => {
  const backbone = (layers: number) => ({ layers, hidden: 64, mlp: 256, heads: 4 });
  const peak = async (layers: number) => {
    const c = resolveVattConfig({ preset: "tiny", video: { backbone: backbone(layers) } });
    const w = createWeights(weightSpecs(c), { seed: 0 });
    const tokens = tf.randomNormal([8, 128, 64], 0, 1, "float32", 1) as tf.Tensor3D;
    const info = await tf.profile(() => {
      const out = encode(tokens, w["video/agg_token"], w, {
        prefix: "backbone/video",
        backbone: c.video.backbone,
      });
      tf.dispose([out.aggregate, out.sequence]);
      return [];
    });
    tf.dispose([tokens, ...Object.values(w)]);
    return info.peakBytes;
  };
  const one = await peak(1);
  const six = await peak(6);
  // Six layers' activations kept to the end would be about six times one layer's.
  assert.ok(six < 1.5 * one, `peak ${six} bytes with 6 layers, ${one} with 1`);
});
