/**
 * Loading a pretrained model from a run: the model config a checkpoint
 * stores (read and validated in this one place), and the model with its
 * weights.
 *
 * @module
 */
import type { VattConfig, VattConfigInput } from "../config/vatt_config.ts";
import { resolveStoredVattConfig } from "../config/stored_vatt_config.ts";
import { VattModel } from "../model/vatt.ts";
import { FormatError } from "../util/errors.ts";
import { loadModelWeights, readCheckpointConfig, resolveCheckpoint } from "./checkpoint.ts";

/** A model loaded from a checkpoint. */
export interface LoadedModel {
  model: VattModel;
  /** The checkpoint folder it came from. */
  checkpoint: string;
}

/**
 * The resolved model config of a pretrained checkpoint; a FormatError when
 * it has none, holds a fine-tuned classifier, or its config is invalid.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readModelConfig } from "./load_model.ts";
 * await assert.rejects(readModelConfig(Deno.makeTempDirSync()), /model.safetensors is missing/);
 * ```
 */
export async function readModelConfig(checkpoint: string): Promise<VattConfig> {
  const raw = await readCheckpointConfig(checkpoint);
  if (!raw || typeof raw !== "object") {
    throw new FormatError("checkpoint has no model config", { path: checkpoint });
  }
  if ((raw as { format?: unknown }).format !== undefined) {
    throw new FormatError(
      "this checkpoint holds a fine-tuned classifier, not a pretrained model; use a pretrained run",
      { path: checkpoint },
    );
  }
  try {
    return resolveStoredVattConfig(raw as VattConfigInput);
  } catch (e) {
    throw new FormatError(`checkpoint model config is invalid: ${(e as Error).message}`, {
      path: checkpoint,
    });
  }
}

/**
 * Loads the model of `--from RUN` (its newest checkpoint) or
 * `--from RUN/checkpoints/step-N`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadModel } from "./load_model.ts";
 * await assert.rejects(loadModel(Deno.makeTempDirSync()), /no complete checkpoint/);
 * ```
 */
export async function loadModel(from: string): Promise<LoadedModel> {
  const checkpoint = await resolveCheckpoint(from);
  const model = VattModel.create(await readModelConfig(checkpoint));
  try {
    await loadModelWeights(checkpoint, { weights: model.weights, config: model.config });
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, checkpoint };
}
