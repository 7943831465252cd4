import assert from "node:assert/strict";
import "@tensorflow/tfjs-backend-cpu";
import { resolveVattConfig } from "../../../lib/config/vatt_config.ts";
import { resolveStoredVattConfig } from "../../../lib/config/stored_vatt_config.ts";
import { countParameters, weightSpecs } from "../../../lib/model/weight_specs.ts";
import { VattModel } from "../../../lib/model/vatt.ts";

// The paper's Table (VATT, NeurIPS 2021): video backbone parameters of ViT-Small/Base/Medium/Large.
const PAPER_VIDEO_PARAMS = { small: 20.9e6, base: 87.9e6, medium: 155e6, large: 306.1e6 } as const;

Deno.test("countParameters() matches the paper's video backbone sizes within 2%", async (t) => {
  for (const [preset, paper] of Object.entries(PAPER_VIDEO_PARAMS)) {
    await t.step(preset, () => {
      const counts = countParameters(
        resolveVattConfig({ preset: preset as keyof typeof PAPER_VIDEO_PARAMS }),
      );
      const rel = Math.abs(counts.video - paper) / paper;
      assert.ok(rel < 0.02, `${preset}: ${counts.video} vs ${paper} (${(rel * 100).toFixed(2)}%)`);
    });
  }
});

Deno.test("countParameters() of the video module is patch embedding + positions (+ their LayerNorm) + aggregation token + transformer", () => {
  const d = 768;
  const perLayer = 4 * (d * d + d) + 2 * 2 * d + (d * 3072 + 3072) + (3072 * d + d);
  const withoutNorm = (4 * 16 * 16 * 3 * d + d) + (8 + 14 + 14) * d + d + 12 * perLayer + 2 * d;
  const base = resolveVattConfig({ preset: "base" });
  assert.equal(countParameters(base).video, withoutNorm + 2 * d); // gamma and beta of the position LN
  assert.equal(
    countParameters(resolveVattConfig({ preset: "base", positionNorm: false })).video,
    withoutNorm,
  );
});

const names = (input: Parameters<typeof resolveVattConfig>[0]) =>
  weightSpecs(resolveVattConfig(input)).map((s) => s.name);

Deno.test("weightSpecs() names the new weights: position LN, projection biases, one shared T5 table", () => {
  const now = names({ preset: "tiny", positionNorm: true });
  for (
    const n of [
      "video/pos/ln/gamma",
      "video/pos/ln/beta",
      "audio/pos/ln/gamma",
      "audio/pos/ln/beta",
      "heads/audio_va/bias",
      "heads/text_vt/bias",
      "backbone/text/rel_bias",
    ]
  ) assert.ok(now.includes(n), n);
  // One table for the whole text backbone, none per layer.
  assert.equal(now.filter((n) => n.endsWith("rel_bias")).length, 1);
  const spec = weightSpecs(resolveVattConfig({ preset: "tiny" })).find((s) =>
    s.name === "backbone/text/rel_bias"
  )!;
  assert.deepEqual(spec.shape, [32, 4]); // [buckets, heads]
  const agnostic = names({ preset: "tiny", agnostic: true });
  assert.ok(agnostic.includes("backbone/shared/rel_bias"));
  // The per-layer form keeps today's names, one table per layer.
  const perLayer = names({ preset: "tiny", text: { relativePosition: "t5" } });
  assert.deepEqual(perLayer.filter((n) => n.endsWith("rel_bias")), [
    "backbone/text/layer_00/attn/rel_bias",
    "backbone/text/layer_01/attn/rel_bias",
  ]);
});

const TINY = { layers: 2, hidden: 64, mlp: 128, heads: 4 };

Deno.test("a config stored before the new fields resolves to the old weight names exactly", () => {
  // The model config of a tiny demo run written before issue 13 (its checkpoint's metadata).
  const stored = {
    preset: "tiny",
    agnostic: false,
    dropToken: 0.5,
    seed: 0,
    video: { frames: 8, height: 32, width: 32, patch: [2, 8, 8], fps: 10, backbone: TINY },
    audio: { sampleRate: 8000, samples: 6400, patch: 128, backbone: TINY },
    text: {
      vocabSize: 1024,
      maxLength: 16,
      relativePosition: "t5",
      clipDistance: 8,
      buckets: 32,
      maxDistance: 64,
      backbone: TINY,
    },
    heads: { vaDim: 128, vtDim: 64, bnMomentum: 0.9, bnEpsilon: 1e-05 },
  } as const;
  const resolved = resolveStoredVattConfig(structuredClone(stored) as never);
  assert.equal(resolved.dropout, 0);
  assert.equal(resolved.attentionDropout, 0);
  const legacy = weightSpecs(resolved).map((s) => s.name);
  const now = resolveVattConfig({
    preset: "tiny",
    positionNorm: true,
    text: { relativePosition: "t5" },
  });
  const added = /pos\/ln\/|heads\/(audio_va|text_vt)\/bias|^backbone\/\w+\/rel_bias$/;
  assert.ok(!legacy.some((n) => added.test(n)), legacy.filter((n) => added.test(n)).join());
  // Everything else is unchanged: the new config's names less the new weights.
  const current = weightSpecs(now).map((s) => s.name).filter((n) => !added.test(n));
  assert.deepEqual(legacy, current);
});

Deno.test("countParameters() equals the sizes of the allocated trainable weights (tiny)", () => {
  const model = VattModel.create({ preset: "tiny" });
  try {
    const allocated = Object.values(model.trainableWeights()).reduce((s, w) => s + w.size, 0);
    assert.equal(model.parameterCounts().total, allocated);
    assert.equal(Object.keys(model.weights).length, weightSpecs(model.config).length);
  } finally {
    model.dispose();
  }
});

Deno.test("the agnostic variant has one shared backbone and fewer parameters", () => {
  const specific = countParameters(resolveVattConfig({ preset: "tiny" }));
  const agnostic = countParameters(resolveVattConfig({ preset: "tiny", agnostic: true }));
  assert.equal(specific.shared, 0);
  assert.ok(agnostic.shared > 0);
  assert.ok(agnostic.total < specific.total);
  const names = weightSpecs(resolveVattConfig({ preset: "tiny", agnostic: true })).map((s) =>
    s.name
  );
  assert.ok(names.some((n) => n.startsWith("backbone/shared/")));
  assert.ok(!names.some((n) => /^backbone\/(video|audio|text)\//.test(n)));
});
