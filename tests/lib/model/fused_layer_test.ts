/**
 * The whole-layer kernels (`VattEncoderLayer`, `lib/model/_fused_layer.ts`) compute exactly what
 * the layer's chain of fused operations computes: the same bits for the output and for every
 * gradient, with dropout on every branch, a padding mask and each form of position bias, in a
 * recomputed layer too. (The macro over the part kernels; the native layer computes the same up to
 * the order of sums: tests/lib/backend/kernels/encoder_layer_native_test.ts.)
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "../../../lib/backend/gradients.ts";
import { ENCODER_LAYER_KERNEL_SET } from "../../../lib/backend/kernels/encoder_layer.ts";
import { KERNEL_NAMES } from "../../../lib/backend/kernels/names.ts";
import { setNativeLayerEnabled } from "../../../lib/backend/kernels/encoder_layer_native.ts";
import { initBackend } from "../../../lib/backend/select.ts";
import { resolveVattConfig } from "../../../lib/config/vatt_config.ts";
import { encode } from "../../../lib/model/transformer.ts";
import { createWeights } from "../../../lib/model/weights.ts";
import { weightSpecs } from "../../../lib/model/weight_specs.ts";
import { Rng } from "../../../lib/util/rng.ts";
import { CASES, run } from "./_layer_cases.ts";

for (const c of CASES) {
  Deno.test(`VattEncoderLayer gives the chain's bits, value and gradients: ${c.name}`, async () => {
    await initBackend("wasm");
    const native = setNativeLayerEnabled(false); // the macro: encoder_layer_native_test.ts
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
      setNativeLayerEnabled(native);
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
