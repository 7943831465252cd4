import assert from "node:assert/strict";
import { fitBatchToClips, resolvePretrainConfig } from "../../../lib/config/pretrain_config.ts";

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
