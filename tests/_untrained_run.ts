/**
 * A "pretrained" run folder for tests that only need one to exist: the tiny
 * model at its initialisation, saved as step 0 (the commands' checks do not
 * care how it was trained).
 */
import * as path from "node:path";
import { initBackend } from "../lib/backend/select.ts";
import { VattModel } from "../lib/model/vatt.ts";
import { CHECKPOINT_FORMAT, saveCheckpoint } from "../lib/run/checkpoint.ts";

/** The training state of a pretraining checkpoint at step 0. */
export const STEP_ZERO_STATE = {
  format: CHECKPOINT_FORMAT,
  step: 0,
  data: { epoch: 0, offset: 0 },
  seed: 0,
  kind: "pretrain",
} as const;

/** Writes `runDir/checkpoints/step-0000000` with the untrained tiny model (on the cpu backend). */
export async function writeUntrainedRun(runDir: string): Promise<void> {
  await initBackend("cpu");
  const model = VattModel.create({ preset: "tiny" });
  await saveCheckpoint(path.join(runDir, "checkpoints"), {
    weights: model.weights,
    config: model.config,
    optimizerState: {},
    state: STEP_ZERO_STATE,
  });
  model.dispose();
}
