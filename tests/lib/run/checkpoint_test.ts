import assert from "node:assert/strict";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { STEP_ZERO_STATE } from "../../_untrained_run.ts";
import { initBackend } from "../../../lib/backend/select.ts";
import { VattModel } from "../../../lib/model/vatt.ts";
import {
  loadModelWeights,
  loadOptimizerTensors,
  saveCheckpoint,
} from "../../../lib/run/checkpoint.ts";
import { loadModel } from "../../../lib/run/load_model.ts";
import { FormatError } from "../../../lib/util/errors.ts";

await initBackend("cpu");

const STATE = STEP_ZERO_STATE;

Deno.test("a checkpoint whose weights hold NaN or Infinity is refused on load, naming the tensor", async () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    const dir = await Deno.makeTempDir();
    const saved = VattModel.create({ preset: "tiny", seed: 5 });
    const name = "video/patch/kernel";
    const w = saved.weights[name];
    tf.tidy(() => {
      const values = w.dataSync().slice();
      values[3] = bad;
      w.assign(tf.tensor(values, w.shape, "float32"));
    });
    await saveCheckpoint(path.join(dir, "checkpoints"), {
      weights: saved.weights,
      config: saved.config,
      optimizerState: {},
      state: STATE,
    });
    await assert.rejects(
      loadModel(dir),
      (e) =>
        e instanceof FormatError &&
        e.message.endsWith(
          `model.safetensors: tensor "${name}" holds ${bad} at element 3: not a usable checkpoint`,
        ),
    );
    const fresh = VattModel.create({ preset: "tiny", seed: 6 });
    const checkpoint = path.join(dir, "checkpoints", "step-0000000");
    await assert.rejects(
      loadModelWeights(checkpoint, { weights: fresh.weights, config: fresh.config }),
      /holds/,
    );
    fresh.dispose();
    saved.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an optimizer state holding NaN is refused on load, naming the tensor", async () => {
  const dir = await Deno.makeTempDir();
  const saved = VattModel.create({ preset: "tiny", seed: 5 });
  const m = tf.tensor1d([0, NaN, 1]);
  await saveCheckpoint(path.join(dir, "checkpoints"), {
    weights: saved.weights,
    config: saved.config,
    optimizerState: { "adam/m/x": m },
    state: STATE,
  });
  await assert.rejects(
    loadOptimizerTensors(path.join(dir, "checkpoints", "step-0000000")),
    /optimizer\.safetensors: tensor "adam\/m\/x" holds NaN at element 1/,
  );
  m.dispose();
  saved.dispose();
  await Deno.remove(dir, { recursive: true });
});
