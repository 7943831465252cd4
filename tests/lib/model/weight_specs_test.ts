import assert from "node:assert/strict";
import "@tensorflow/tfjs-backend-cpu";
import { resolveVattConfig } from "../../../lib/config/vatt_config.ts";
import { countParameters, weightSpecs } from "../../../lib/model/weight_specs.ts";
import { VattModel } from "../../../lib/model/vatt.ts";

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

Deno.test("countParameters() of the video module is patch embedding + positions + aggregation token + transformer", () => {
  const c = resolveVattConfig({ preset: "base" });
  const d = 768;
  const perLayer = 4 * (d * d + d) + 2 * 2 * d + (d * 3072 + 3072) + (3072 * d + d);
  const expected = (4 * 16 * 16 * 3 * d + d) + (8 + 14 + 14) * d + d + 12 * perLayer + 2 * d;
  assert.equal(countParameters(c).video, expected);
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
