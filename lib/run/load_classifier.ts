/**
 * Loading a fine-tuned classifier from a run: its spec (model config, head,
 * labels; stored in the checkpoint's metadata, untrusted until validated)
 * and its weights.
 *
 * @module
 */
import { MODALITIES, type Modality } from "../config/modality.ts";
import type { VattConfig, VattConfigInput } from "../config/vatt_config.ts";
import { resolveStoredVattConfig } from "../config/stored_vatt_config.ts";
import type { TensorSpec } from "../io/safetensors.ts";
import { Classifier, CLASSIFIER_FORMAT, type ClassifierSpec } from "../model/classifier.ts";
import type { FusionHeadName } from "../model/fusion/fusion_head.ts";
import { FUSION_HEADS } from "../model/fusion/registry.ts";
import { FormatError } from "../util/errors.ts";
import {
  assignWeights,
  readCheckpointConfig,
  readCheckpointWeights,
  resolveCheckpoint,
} from "./checkpoint.ts";

function bad(checkpoint: string, message: string): never {
  throw new FormatError(message, { path: checkpoint });
}

/**
 * Validates a classifier spec read from a checkpoint (untrusted); throws a
 * FormatError naming the problem (a pretrained model's config included).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseClassifierSpec } from "./load_classifier.ts";
 * assert.throws(
 *   () => parseClassifierSpec({ preset: "tiny", video: {}, audio: {}, text: {} }, "ckpt"),
 *   /this is a pretrained model, not a classifier/,
 * );
 * assert.throws(() => parseClassifierSpec({ format: "other" }, "ckpt"), /not a vatt classifier/);
 * ```
 */
export function parseClassifierSpec(raw: unknown, checkpoint: string): ClassifierSpec {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    bad(checkpoint, "checkpoint has no classifier config");
  }
  const r = raw as Record<string, unknown>;
  if (r.format !== CLASSIFIER_FORMAT) {
    if ("video" in r && "audio" in r && "text" in r) {
      bad(checkpoint, "this is a pretrained model, not a classifier; make one with vatt finetune");
    }
    bad(checkpoint, `not a vatt classifier (format ${JSON.stringify(r.format)})`);
  }
  let model: VattConfig;
  try {
    model = resolveStoredVattConfig(r.model as VattConfigInput);
  } catch (e) {
    bad(checkpoint, `classifier model config is invalid: ${(e as Error).message}`);
  }
  const modalities = r.modalities;
  if (
    !Array.isArray(modalities) || modalities.length === 0 ||
    !modalities.every((m) => MODALITIES.includes(m))
  ) {
    bad(checkpoint, "classifier modalities are invalid");
  }
  if (r.features !== "backbone" && r.features !== "common") {
    bad(checkpoint, "classifier features must be backbone or common");
  }
  const head = r.head as Record<string, unknown> | undefined;
  if (
    !head || !FUSION_HEADS.includes(head.name as FusionHeadName) ||
    typeof head.config !== "object" || head.config === null
  ) {
    bad(checkpoint, "classifier head is invalid");
  }
  const labels = r.labels as Record<string, unknown> | undefined;
  if (
    !labels || !Array.isArray(labels.names) || labels.names.length === 0 ||
    !labels.names.every((n) => typeof n === "string") || typeof labels.multiLabel !== "boolean"
  ) {
    bad(checkpoint, "classifier labels are invalid");
  }
  return {
    format: CLASSIFIER_FORMAT,
    model,
    modalities: modalities as Modality[],
    features: r.features,
    head: { name: head.name as FusionHeadName, config: head.config as Record<string, unknown> },
    labels: { names: labels.names as string[], multiLabel: labels.multiLabel },
  };
}

/**
 * Loads a classifier checkpoint's weights into `classifier`, after checking
 * every name, shape and dtype (a MismatchError names the first misfit).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { Classifier } from "../model/classifier.ts";
 * import { VattModel } from "../model/vatt.ts";
 * import { CHECKPOINT_FORMAT, saveCheckpoint } from "./checkpoint.ts";
 * import { loadClassifierWeights } from "./load_classifier.ts";
 * const make = (seed: number) =>
 *   Classifier.create(VattModel.create({ preset: "tiny" }), {
 *     modalities: ["audio"], features: "backbone", head: "vatt", seed,
 *     labels: { names: ["a", "b"], multiLabel: false },
 *   });
 * const [saved, loaded] = [make(1), make(2)];
 * const dir = Deno.makeTempDirSync();
 * const state = { format: CHECKPOINT_FORMAT, step: 0, data: { epoch: 0, offset: 0 }, seed: 1, kind: "finetune" } as const;
 * const ckpt = await saveCheckpoint(dir, { weights: saved.storedWeights(), config: saved.spec, optimizerState: {}, state });
 * await loadClassifierWeights(ckpt, loaded);
 * const name = Object.keys(loaded.head.variables)[0];
 * assert.deepEqual(await loaded.head.variables[name].data(), await saved.head.variables[name].data());
 * [saved, loaded].forEach((c) => c.dispose());
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function loadClassifierWeights(
  checkpoint: string,
  classifier: Classifier,
): Promise<void> {
  const weights = classifier.storedWeights();
  const expect: Record<string, TensorSpec> = {};
  for (const [name, w] of Object.entries(weights)) expect[name] = { dtype: "F32", shape: w.shape };
  const decoded = await readCheckpointWeights(checkpoint, {
    expect,
    misfit: "does not fit this classifier",
  });
  assignWeights(weights, decoded.tensors);
}

/**
 * Loads the classifier of a fine-tuned run (`RUN`: its newest checkpoint) or
 * of one checkpoint folder.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadClassifier } from "./load_classifier.ts";
 * // const { classifier } = await loadClassifier("runs/finetuned");
 * await assert.rejects(loadClassifier(Deno.makeTempDirSync()), /no complete checkpoint/);
 * ```
 */
export async function loadClassifier(
  from: string,
): Promise<{ classifier: Classifier; checkpoint: string }> {
  const checkpoint = await resolveCheckpoint(from);
  const spec = parseClassifierSpec(await readCheckpointConfig(checkpoint), checkpoint);
  let classifier: Classifier;
  try {
    classifier = Classifier.fromSpec(spec);
  } catch (e) {
    bad(checkpoint, `cannot rebuild the classifier: ${(e as Error).message}`);
  }
  try {
    await loadClassifierWeights(checkpoint, classifier);
  } catch (e) {
    classifier.dispose();
    throw e;
  }
  return { classifier, checkpoint };
}
