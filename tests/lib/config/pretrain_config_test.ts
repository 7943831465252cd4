import assert from "node:assert/strict";
import {
  defaultLearningRate,
  fitBatchToClips,
  resolvePretrainConfig,
} from "../../../lib/config/pretrain_config.ts";

Deno.test("fitBatchToClips lowers a batch larger than the dataset to its clip count, and only then", () => {
  const c = resolvePretrainConfig({ batchSize: 16, steps: 10 });
  const small = fitBatchToClips(c, 12);
  assert.equal(small.lowered, true);
  assert.equal(small.config.batchSize, 12);
  assert.equal(small.config.steps, 10); // nothing else changes
  assert.equal(c.batchSize, 16); // the given config is not modified
  assert.deepEqual(fitBatchToClips(c, 16), { config: c, lowered: false }); // equal: kept
  assert.deepEqual(fitBatchToClips(c, 1), { config: c, lowered: false }); // < 2 clips: the loader refuses
});

Deno.test("the default learning rate scales linearly with the batch from the preset's reference, floored at the paper's 1e-4", async (t) => {
  await t.step("tiny: 1e-3 at batch 16 (measured), so 2e-3 at 32 and 2.5e-4 at 4", () => {
    assert.equal(defaultLearningRate("tiny", 16).rate, 1e-3);
    assert.equal(defaultLearningRate("tiny", 32).rate, 2e-3);
    assert.equal(defaultLearningRate("tiny", 4).rate, 2.5e-4);
  });
  await t.step(
    "paper presets: 1e-4 at batch 2048 (paper), 2e-4 at 4096, the floor below 2048",
    () => {
      assert.equal(defaultLearningRate("base", 2048).rate, 1e-4);
      assert.equal(defaultLearningRate("large", 4096).rate, 2e-4);
      const small = defaultLearningRate("base", 16); // 1e-4 × 16/2048 = 7.8125e-7
      assert.equal(small.rate, 1e-4);
      assert.match(small.rule, /= 7\.8e-7, raised to the floor 0\.0001/);
    },
  );
  await t.step(
    "resolvePretrainConfig applies it with the preset, and the final rate is half",
    () => {
      const c = resolvePretrainConfig({ batchSize: 8 }, { preset: "tiny" });
      assert.equal(c.baseRate, 5e-4);
      assert.equal(c.finalRate, 2.5e-4);
      const given = resolvePretrainConfig({ batchSize: 8, baseRate: 3e-3 }, { preset: "tiny" });
      assert.equal(given.baseRate, 3e-3); // a given rate is kept as it is
      assert.equal(given.finalRate, 1.5e-3);
    },
  );
});
