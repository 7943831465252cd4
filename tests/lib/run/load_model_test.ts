import assert from "node:assert/strict";
import * as path from "node:path";
import { STEP_ZERO_STATE } from "../../_untrained_run.ts";
import { initBackend } from "../../../lib/backend/select.ts";
import { Classifier } from "../../../lib/model/classifier.ts";
import { LEGACY_ARCHITECTURE } from "../../../lib/config/stored_vatt_config.ts";
import { VattModel } from "../../../lib/model/vatt.ts";
import { saveCheckpoint } from "../../../lib/run/checkpoint.ts";
import { loadModel, readModelConfig } from "../../../lib/run/load_model.ts";
import { FormatError } from "../../../lib/util/errors.ts";

await initBackend("cpu");

const STATE = STEP_ZERO_STATE;

Deno.test("loadModel() loads a pretrained run's newest checkpoint with its weights", async () => {
  const dir = await Deno.makeTempDir();
  const saved = VattModel.create({ preset: "tiny", seed: 5 });
  await saveCheckpoint(path.join(dir, "checkpoints"), {
    weights: saved.weights,
    config: saved.config,
    optimizerState: {},
    state: STATE,
  });
  const { model, checkpoint } = await loadModel(dir);
  assert.ok(checkpoint.endsWith("step-0000000"));
  assert.deepEqual(model.config, saved.config);
  const name = "video/patch/kernel";
  assert.deepEqual(await model.weights[name].data(), await saved.weights[name].data());
  model.dispose();
  saved.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadModel() loads a checkpoint written before dropout, position LayerNorm and projection biases existed", async () => {
  const dir = await Deno.makeTempDir();
  const legacy = VattModel.create({ preset: "tiny", seed: 3, ...LEGACY_ARCHITECTURE });
  // The config as the earlier version wrote it: none of the newer fields.
  const { dropout: _d, attentionDropout: _a, positionNorm: _p, ...older } = legacy.config;
  const { projectionBias: _b, ...olderHeads } = legacy.config.heads;
  await saveCheckpoint(path.join(dir, "checkpoints"), {
    weights: legacy.weights,
    config: { ...older, heads: olderHeads },
    optimizerState: {},
    state: STATE,
  });
  const { model } = await loadModel(dir);
  assert.equal(model.config.dropout, 0);
  assert.equal(model.config.positionNorm, false);
  assert.equal(model.config.heads.projectionBias, false);
  assert.deepEqual(Object.keys(model.weights).sort(), Object.keys(legacy.weights).sort());
  model.dispose();
  legacy.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("readModelConfig() refuses a fine-tuned classifier's checkpoint", async () => {
  const dir = await Deno.makeTempDir();
  const c = Classifier.create(VattModel.create({ preset: "tiny" }), {
    modalities: ["audio"],
    features: "backbone",
    head: "vatt",
    seed: 0,
    labels: { names: ["a", "b"], multiLabel: false },
  });
  const ckpt = await saveCheckpoint(dir, {
    weights: c.storedWeights(),
    config: c.spec,
    optimizerState: {},
    state: { ...STATE, kind: "finetune" },
  });
  await assert.rejects(
    readModelConfig(ckpt),
    (e) =>
      e instanceof FormatError && /fine-tuned classifier, not a pretrained model/.test(e.message),
  );
  c.dispose();
  await Deno.remove(dir, { recursive: true });
});
