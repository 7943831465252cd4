import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../../lib/backend/select.ts";
import { resolveVattConfig } from "../../../lib/config/vatt_config.ts";
import { Dataset } from "../../../lib/data/shards/dataset.ts";
import { pretrain } from "../../../lib/train/pretrain.ts";
import { resolvePretrainConfig } from "../../../lib/config/pretrain_config.ts";
import { prepareRunFolder } from "../../../lib/run/run_folder.ts";
import { demoDataset } from "../../_fixtures.ts";

const fixture = await demoDataset({ clips: 32 });

Deno.test("pretrain() on wasm keeps the live-tensor count flat over 50 steps", async () => {
  await initBackend("wasm"); // with the native and fused kernels when present
  const model = resolveVattConfig({ preset: "tiny" });
  const train = resolvePretrainConfig({
    steps: 50,
    batchSize: 4,
    warmupSteps: 5,
    checkpointEvery: 25,
    clipNorm: 1,
  });
  const runDir = await Deno.makeTempDir({ prefix: "vatt-no-growth-" });
  const data = await Dataset.open(fixture.data);
  try {
    await prepareRunFolder(runDir, { config: { model, train }, resume: false, force: false });
    const counts: number[] = [];
    const bytes: number[] = [];
    await pretrain({
      runDir,
      model,
      train,
      data,
      onStep: () => {
        counts.push(tf.memory().numTensors);
        bytes.push(tf.memory().numBytes);
      },
    });
    assert.equal(counts.length, 50);
    // Step 1 may create lazily built state; from step 2 on nothing may accumulate
    // (the checkpoints at steps 25 and 50 included).
    assert.equal(counts[49], counts[1], `tensors per step: ${counts.join(" ")}`);
    assert.equal(bytes[49], bytes[1]);
    assert.ok(counts.slice(1).every((n) => n === counts[1]), `tensors: ${counts.join(" ")}`);
  } finally {
    data.close();
    await tf.setBackend("cpu");
    await Deno.remove(runDir, { recursive: true });
  }
});
