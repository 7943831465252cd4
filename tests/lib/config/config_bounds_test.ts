import assert from "node:assert/strict";
import {
  checkModelSize,
  estimateModelSize,
  unknownConfigKeys,
} from "../../../lib/config/config_bounds.ts";
import { PRESETS, resolveVattConfig } from "../../../lib/config/vatt_config.ts";
import { weightSpecs } from "../../../lib/model/weight_specs.ts";

function realParameters(preset: keyof typeof PRESETS): number {
  return weightSpecs(PRESETS[preset]).reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0);
}

Deno.test("estimateModelSize() of the tiny preset, counted by hand", () => {
  // Per layer (d = 64, mlp = 128): 4d² + 2·d·mlp + 9d + mlp = 16384 + 16384 + 576 + 128 = 33472;
  // 2 layers × 3 backbones = 200832. Embeddings: video patch 2·8·8·3·64 = 24576, 65 video
  // positions · 64 = 4160, audio patch 128·64 = 8192, 51 audio positions · 64 = 3264, vocabulary
  // 1024·64 = 65536. Heads: (64 + 64)·128 + (128 + 64)·64 = 28672. Total 335232.
  assert.equal(estimateModelSize(PRESETS.tiny).parameters, 335232);
});

Deno.test("estimateModelSize() is within 10% of the real weight count of every preset", () => {
  for (const p of ["tiny", "small", "base", "medium", "large"] as const) {
    const est = estimateModelSize(PRESETS[p]).parameters;
    const real = realParameters(p);
    assert.ok(Math.abs(est - real) / real < 0.1, `${p}: estimate ${est}, real ${real}`);
  }
});

Deno.test("checkModelSize() accepts every preset and refuses absurd configs with the estimate", () => {
  for (const p of Object.values(PRESETS)) checkModelSize(p);
  const layers = resolveVattConfig({ video: { backbone: { layers: 1_000_000 } } });
  assert.throws(() => checkModelSize(layers), /about 3\.3e\+10 parameters, over the limit/);
  const wide = resolveVattConfig({
    text: { backbone: { hidden: 1 << 20, heads: 1, mlp: 1 } },
  });
  assert.throws(() => checkModelSize(wide), RangeError);
  // Small widths but a huge input: one clip's attention maps alone are 16 · (262144 + 1)² floats.
  const tall = resolveVattConfig({
    preset: "large",
    video: { frames: 64, height: 2048, width: 2048, patch: [1, 16, 16] },
  });
  assert.throws(() => checkModelSize(tall), /GiB of activations, over the limit of 16 GiB/);
});

Deno.test("unknownConfigKeys() names misplaced and misspelt keys at every depth", () => {
  assert.deepEqual(
    unknownConfigKeys({
      layers: 4, // belongs in video.backbone
      video: { backbone: { layer: 2 }, fps: 10, patchSize: 8 },
      text: { wordVectors: { dim: 300, activaton: "gelu" } },
      heads: { vaDim: 16 },
      seed: 3,
    }),
    ["layers", "video.backbone.layer", "video.patchSize", "text.wordVectors.activaton"],
  );
  assert.deepEqual(unknownConfigKeys(PRESETS.base), []);
  assert.deepEqual(
    unknownConfigKeys(JSON.parse('{"__proto__": 1, "constructor": 2}')),
    ["__proto__", "constructor"],
  );
});
