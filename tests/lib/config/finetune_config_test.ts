import assert from "node:assert/strict";
import {
  DEFAULT_LEARNING_RATES,
  planSteps,
  resolveFinetuneConfig,
} from "../../../lib/config/finetune_config.ts";

Deno.test("resolveFinetuneConfig() picks mode-dependent defaults", async (t) => {
  await t.step("one modality: end-to-end, linear head, backbone features, SGD", () => {
    const c = resolveFinetuneConfig({ modalities: ["video"] });
    assert.equal(c.frozen, false);
    assert.equal(c.head, "vatt");
    assert.equal(c.features, "backbone");
    assert.equal(c.optimizer, "sgd");
    assert.equal(c.baseRate, DEFAULT_LEARNING_RATES.sgd.endToEnd);
    assert.equal(c.labelSmoothing, 0.1);
  });
  await t.step("linear probe: frozen, Adam at the frozen rate", () => {
    const c = resolveFinetuneConfig({ modalities: ["audio"], linearProbe: true });
    assert.equal(c.frozen, true);
    assert.equal(c.optimizer, "adam");
    assert.equal(c.baseRate, DEFAULT_LEARNING_RATES.adam.frozen);
  });
  await t.step("several modalities: frozen; vatt on common features, others on backbone", () => {
    const v = resolveFinetuneConfig({ modalities: ["text", "audio", "video"] });
    assert.deepEqual(v.modalities, ["video", "audio", "text"]);
    assert.equal(v.frozen, true);
    assert.equal(v.features, "common");
    const m = resolveFinetuneConfig({ modalities: ["video", "audio"], head: "mcb" });
    assert.equal(m.features, "backbone");
    const e = resolveFinetuneConfig({
      modalities: ["video", "audio"],
      head: "concat",
      frozen: false,
    });
    assert.equal(e.frozen, false);
  });
});

Deno.test("resolveFinetuneConfig() rejects inconsistent settings, naming them", () => {
  const bad: [Parameters<typeof resolveFinetuneConfig>[0], RegExp][] = [
    [{ modalities: [] }, /non-empty/],
    [{ modalities: ["video", "video"] }, /twice/],
    [{ modalities: ["smell" as "video"] }, /smell/],
    [{ modalities: ["video"], head: "tensor" }, /two modalities/],
    [{ modalities: ["video", "audio"], head: "concat", linearProbe: true }, /linear probe/],
    [{ modalities: ["video"], linearProbe: true, frozen: false }, /frozen/],
    [{ modalities: ["video"], mixup: 0.2 }, /mixup/],
    [{ modalities: ["audio"], labelSmoothing: 1 }, /label smoothing/],
    [{ modalities: ["audio"], valFraction: 1 }, /validation fraction/],
    [{ modalities: ["audio"], epochs: 0 }, /epochs/],
    [{ modalities: ["audio"], baseRate: 0 }, /learning rate/],
    [
      { modalities: ["video", "audio"], head: "tensor", headOptions: { fusionDim: 0 } },
      /fusionDim/,
    ],
    [{ modalities: ["video", "audio"], head: "concat", headOptions: { width: 3 } }, /width/],
  ];
  for (const [input, message] of bad) {
    assert.throws(() => resolveFinetuneConfig(input), message, JSON.stringify(input));
  }
  resolveFinetuneConfig({ modalities: ["audio"], mixup: 0.4 });
});

Deno.test("planSteps() counts whole batches per epoch and checks batch and warmup", () => {
  const c = resolveFinetuneConfig({ modalities: ["audio"], epochs: 5, batchSize: 8 });
  assert.deepEqual(planSteps(c, { trainClips: 30 }), {
    stepsPerEpoch: 3,
    totalSteps: 15,
    warmupSteps: 1,
  });
  assert.throws(() => planSteps(c, { trainClips: 7 }), /larger than the training split \(7/);
  const w = resolveFinetuneConfig({
    modalities: ["audio"],
    epochs: 1,
    batchSize: 8,
    warmupSteps: 3,
  });
  assert.throws(() => planSteps(w, { trainClips: 24 }), /warmup steps 3/);
});
