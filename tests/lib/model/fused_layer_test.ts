/**
 * The whole-layer kernels (`VattEncoderLayer`, `lib/model/_fused_layer.ts`) compute exactly what
 * the layer's chain of fused operations computes: the same bits for the output and for every
 * gradient, with dropout on every branch, a padding mask and each form of position bias, in a
 * recomputed layer too.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "../../../lib/backend/gradients.ts";
import { ENCODER_LAYER_KERNEL_SET } from "../../../lib/backend/kernels/encoder_layer.ts";
import { KERNEL_NAMES } from "../../../lib/backend/kernels/names.ts";
import { initBackend } from "../../../lib/backend/select.ts";
import { resolveVattConfig } from "../../../lib/config/vatt_config.ts";
import { encode, type EncoderOptions } from "../../../lib/model/transformer.ts";
import { createWeights } from "../../../lib/model/weights.ts";
import { weightSpecs } from "../../../lib/model/weight_specs.ts";
import { Rng } from "../../../lib/util/rng.ts";

type Case = { name: string; text: boolean; relative?: "t5" | "t5-shared"; recompute?: boolean };

const CASES: Case[] = [
  { name: "video tower (no mask, no position bias)", text: false },
  { name: "text tower (padding mask, shared T5 bias)", text: true, relative: "t5-shared" },
  { name: "text tower (per-layer T5 bias)", text: true, relative: "t5" },
  { name: "recomputed video layers", text: false, recompute: true },
];

/** The encoder's output and the gradient of every weight, as arrays, for one case. */
async function run(c: Case): Promise<{ values: Float32Array[]; kernels: string[] }> {
  const config = resolveVattConfig({
    preset: "tiny",
    text: c.relative ? { relativePosition: c.relative } : {},
  });
  const weights = createWeights(weightSpecs(config), { seed: 2 });
  const [prefix, aggName] = c.text
    ? ["backbone/text", "text/agg_token"]
    : ["backbone/video", "video/agg_token"];
  const backbone = c.text ? config.text.backbone : config.video.backbone;
  const tokens = tf.randomNormal([3, 9, backbone.hidden], 0, 1, "float32", 7) as tf.Tensor3D;
  const mask = c.text
    ? tf.tensor2d(
      [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0],
      [3, 9],
    )
    : undefined;
  const rng = new Rng(11); // one generator for both sources: the order of draws matters
  const options: EncoderOptions = {
    prefix,
    backbone,
    mask: mask as tf.Tensor2D | undefined,
    relative: c.text ? config.text : undefined,
    dropout: { rate: 0.2, rng },
    attentionDropout: { rate: 0.1, rng },
    recompute: c.recompute,
  };
  const trainable = Object.entries(weights).filter(([name]) =>
    name.startsWith(prefix) || name === aggName
  ).map(([, w]) => w);
  const target = tf.randomNormal([3, 10, backbone.hidden], 0, 1, "float32", 8);
  const values: Float32Array[] = [];
  const profile = await tf.profile(() => {
    const { value, grads } = tf.variableGrads(() => {
      const out = encode(tokens, weights[aggName], weights, options);
      return tf.sum(tf.mul(out.sequence, target)) as tf.Scalar;
    }, trainable);
    values.push(value.dataSync() as Float32Array);
    for (const w of trainable) values.push(grads[w.name].dataSync() as Float32Array);
    tf.dispose([value, ...Object.values(grads)]);
  });
  tf.dispose([tokens, target, ...(mask ? [mask] : []), ...Object.values(weights)]);
  return { values, kernels: profile.kernels.map((k) => k.name) };
}

for (const c of CASES) {
  Deno.test(`VattEncoderLayer gives the chain's bits, value and gradients: ${c.name}`, async () => {
    await initBackend("wasm");
    try {
      assert.ok(ENCODER_LAYER_KERNEL_SET.register(), "the layer kernels are available on wasm");
      const fused = await run(c);
      assert.ok(fused.kernels.includes(KERNEL_NAMES.encoderLayer));
      assert.ok(fused.kernels.includes(KERNEL_NAMES.encoderLayerGrad));
      const layerNorms = (k: string[]) => k.filter((n) => n === KERNEL_NAMES.layerNorm).length;
      assert.equal(layerNorms(fused.kernels), 1, "only the stack's final LayerNorm runs outside");
      ENCODER_LAYER_KERNEL_SET.unregister();
      const chain = await run(c);
      assert.ok(!chain.kernels.includes(KERNEL_NAMES.encoderLayer));
      const passes = c.recompute ? 2 : 1; // a recomputed layer runs again in the backward pass
      assert.equal(
        layerNorms(chain.kernels),
        1 + 2 * 2 * passes,
        "two per layer and pass, the final one",
      );
      assert.equal(fused.values.length, chain.values.length);
      fused.values.forEach((v, t) => {
        assert.equal(v.length, chain.values[t].length);
        const differ = v.findIndex((x, i) => !Object.is(x, chain.values[t][i]));
        assert.equal(
          differ,
          -1,
          `output ${t}[${differ}]: ${v[differ]} vs ${chain.values[t][differ]}`,
        );
      });
      assert.ok(fused.values.slice(1).every((g) => g.some((x) => x !== 0)), "every weight learns");
    } finally {
      ENCODER_LAYER_KERNEL_SET.register();
      await tf.setBackend("cpu");
    }
  });
}

Deno.test("VattEncoderLayer leaves no tensor behind, training and at inference", async () => {
  await initBackend("wasm");
  try {
    const config = resolveVattConfig({ preset: "tiny" });
    const weights = createWeights(weightSpecs(config), { seed: 1 });
    const tokens = tf.randomNormal([2, 5, 64]) as tf.Tensor3D;
    const options = { prefix: "backbone/video", backbone: config.video.backbone };
    const before = tf.memory().numTensors;
    const out = encode(tokens, weights["video/agg_token"], weights, options);
    tf.dispose([out.aggregate, out.sequence]);
    const rng = new Rng(1);
    const { value, grads } = tf.variableGrads(() => {
      const o = encode(tokens, weights["video/agg_token"], weights, {
        ...options,
        dropout: { rate: 0.1, rng },
        attentionDropout: { rate: 0.1, rng },
      });
      return tf.sum(o.sequence) as tf.Scalar;
    });
    tf.dispose([value, ...Object.values(grads)]);
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([tokens, ...Object.values(weights)]);
  } finally {
    await tf.setBackend("cpu");
  }
});
