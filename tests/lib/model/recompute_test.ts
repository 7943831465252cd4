import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "../../../lib/backend/gradients.ts";
import type { VattConfigInput } from "../../../lib/config/vatt_config.ts";
import { VattModel } from "../../../lib/model/vatt.ts";
import { Rng } from "../../../lib/util/rng.ts";
import { onBackend } from "../../_backends.ts";

const B = 2;

/** A batch of the tiny preset's inputs, seeded; captions padded after 10 tokens. */
function batch(seed: number) {
  const r = new Rng(seed);
  const fill = (n: number) => Float32Array.from({ length: n }, () => r.nextFloat() * 2 - 1);
  return {
    video: tf.tensor(fill(B * 8 * 32 * 32 * 3), [B, 8, 32, 32, 3]),
    audio: tf.tensor(fill(B * 6400), [B, 6400]),
    text: tf.tensor(
      Int32Array.from({ length: B * 2 * 16 }, (_, i) => (i % 16 < 10 ? 1 + r.nextInt(1000) : 0)),
      [B, 2, 16],
      "int32",
    ),
  };
}

/** The gradients of every trainable weight of one training pass (loss: a sum over all outputs). */
async function gradients(
  config: VattConfigInput,
  options: { recompute: boolean; parts?: number },
): Promise<{ grads: Map<string, Float32Array>; loss: number; rngAfter: number[] }> {
  const model = VattModel.create(config);
  const inputs = batch(7);
  const rng = new Rng(11);
  try {
    const { value, grads } = tf.variableGrads(() => {
      const out = model.apply(inputs, {
        training: true,
        rng,
        recompute: options.recompute,
        recomputeParts: options.parts,
      });
      const parts = [out.video!.va, out.video!.vt, out.audio!.va, out.text!.vt];
      return tf.addN(parts.map((p, i) => tf.sum(tf.mul(tf.square(p), i + 1)))) as tf.Scalar;
    }, Object.values(model.trainableWeights()));
    const byName = new Map<string, Float32Array>();
    for (const [name, w] of Object.entries(model.trainableWeights())) {
      if (grads[w.name]) byName.set(name, await grads[w.name].data() as Float32Array);
    }
    const loss = (await value.data())[0];
    tf.dispose([value, ...Object.values(grads)]);
    return { grads: byName, loss, rngAfter: rng.state() };
  } finally {
    tf.dispose(Object.values(inputs));
    model.dispose();
  }
}

const variants: [string, VattConfigInput][] = [
  ["dropout and attention dropout on, t5-shared text positions", {
    preset: "tiny",
    dropout: 0.1,
    attentionDropout: 0.1,
  }],
  ["dropout on, no attention dropout (the fused attention kernel where there is one)", {
    preset: "tiny",
    dropout: 0.2,
    attentionDropout: 0,
  }],
  ["Shaw text positions, modality-agnostic backbone", {
    preset: "tiny",
    agnostic: true,
    dropout: 0.1,
    attentionDropout: 0.1,
    text: { relativePosition: "shaw" },
  }],
  ["per-layer T5 tables, no dropout", {
    preset: "tiny",
    dropout: 0,
    attentionDropout: 0,
    text: { relativePosition: "t5" },
  }],
];

// Deterministic backends only: the claim is bit-for-bit equality.
for (const backend of ["cpu", "wasm"] as const) {
  for (const [name, config] of variants) {
    Deno.test(`recomputed layers give bit-identical gradients on ${backend}: ${name}`, async () => {
      await onBackend(backend, async () => {
        const before = tf.memory().numTensors;
        const plain = await gradients(config, { recompute: false });
        const again = await gradients(config, { recompute: true });
        assert.equal(tf.memory().numTensors, before, "no tensor leaks");
        assert.equal(again.loss, plain.loss);
        assert.deepEqual([...again.grads.keys()].sort(), [...plain.grads.keys()].sort());
        for (const [w, g] of plain.grads) {
          const r = again.grads.get(w)!;
          const differ = g.findIndex((v, i) => !Object.is(v, r[i]));
          assert.equal(differ, -1, `${w}[${differ}]: ${g[differ]} vs ${r[differ]}`);
        }
        // The run's generator advances exactly as without recomputation.
        assert.deepEqual(again.rngAfter, plain.rngAfter);
      });
    });
  }
}

// In parts: each part draws its rows of the whole batch's masks (a part that drew other rows
// would change the loss by far more than rounding). On cpu each row's values are computed
// alike, so the loss is bit-identical; wasm's products block by the row count (rounding).
// The weights' gradients are sums over the parts: rounding only, with a floor of 1e-6 of the
// largest gradient for those that are zero in theory (attention key biases): rounding noise.
for (const backend of ["cpu", "wasm"] as const) {
  for (const [name, config] of variants) {
    Deno.test(`layers recomputed in parts give the same loss and gradients on ${backend}: ${name}`, async () => {
      await onBackend(backend, async () => {
        const before = tf.memory().numTensors;
        const plain = await gradients(config, { recompute: false });
        const parts = await gradients(config, { recompute: true, parts: 2 });
        assert.equal(tf.memory().numTensors, before, "no tensor leaks");
        if (backend === "cpu") assert.equal(parts.loss, plain.loss);
        assert.ok(Math.abs(parts.loss - plain.loss) <= 1e-6 * Math.abs(plain.loss));
        assert.deepEqual([...parts.grads.keys()].sort(), [...plain.grads.keys()].sort());
        const all = [...plain.grads.values()];
        const global = all.reduce((m, g) => g.reduce((n, v) => Math.max(n, Math.abs(v)), m), 0);
        for (const [w, g] of plain.grads) {
          const r = parts.grads.get(w)!;
          const scale = g.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-12);
          const worst = g.reduce((m, v, i) => Math.max(m, Math.abs(v - r[i])), 0);
          const bound = 1e-5 * scale + 1e-6 * global;
          assert.ok(worst <= bound, `${w}: off by ${worst} of ${scale} (largest ${global})`);
        }
        assert.deepEqual(parts.rngAfter, plain.rngAfter);
      });
    });
  }
}

Deno.test("recomputed layers lower the peak memory of a training pass", async () => {
  const config: VattConfigInput = {
    preset: "tiny",
    dropout: 0.1,
    attentionDropout: 0.1,
    video: { backbone: { layers: 6 } },
    audio: { backbone: { layers: 6 } },
    text: { backbone: { layers: 6 } },
  };
  const peak = async (recompute: boolean, parts?: number) => {
    const info = await tf.profile(async () => {
      await gradients(config, { recompute, parts });
      return [];
    });
    return info.peakBytes;
  };
  const plain = await peak(false);
  const again = await peak(true);
  // Six layers' activations against one layer's and six inputs: well under two thirds.
  assert.ok(again < plain * 0.67, `peak ${again} with recomputation, ${plain} without`);
  // In two parts: one layer's activations of one clip at a time.
  const inParts = await peak(true, 2);
  assert.ok(inParts < again * 0.9, `peak ${inParts} in two parts, ${again} in one`);
});
