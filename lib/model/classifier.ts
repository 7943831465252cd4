/**
 * A classifier built on a pretrained VATT: the model's per-modality features
 * (aggregation-token outputs or common-space embeddings) fed to a head from
 * `lib/model/fusion`. Also its checkpoints: a fine-tuned run stores the model
 * weights of the modules it uses, the head's weights, and a
 * {@linkcode ClassifierSpec} (model config, head config, labels) in the
 * metadata, so `vatt eval classify` can rebuild it from the run alone.
 *
 * Missing modalities: a clip without audio, or without any caption, gets
 * mask 0 for that modality; each head handles masked inputs its own
 * documented way (zeros plus mask features, or the identity sketch).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as path from "node:path";
import { resolveVattConfig, type VattConfig, type VattConfigInput } from "../config/vatt_config.ts";
import type { BatchTensors } from "../data/shards/batches.ts";
import { FormatError, MismatchError } from "../util/errors.ts";
import { readSafetensors, type TensorSpec } from "../io/safetensors.ts";
import type { FusionHead, FusionHeadName } from "./fusion/fusion_head.ts";
import { createFusionHead, FUSION_HEADS, type FusionHeadInputs } from "./fusion/registry.ts";
import { VattModel } from "./vatt.ts";
import { moduleOf } from "./weight_specs.ts";
import type { Weights } from "./weights.ts";
import { readCheckpointConfig, resolveCheckpoint } from "../run/checkpoint.ts";
import { type FeatureKind, MODALITIES, type Modality } from "../config/finetune_config.ts";

/** Format tag of a classifier's spec (in its checkpoints' metadata). */
export const CLASSIFIER_FORMAT = "vatt-classifier/1";

/** Everything needed to rebuild a classifier besides its weights. */
export interface ClassifierSpec {
  format: typeof CLASSIFIER_FORMAT;
  /** The pretrained model's resolved config. */
  model: VattConfig;
  /** Modalities read, in canonical order (the head's input order). */
  modalities: Modality[];
  features: FeatureKind;
  /** The head and its resolved config. */
  head: { name: FusionHeadName; config: Record<string, unknown> };
  /** The class names (logit order) and whether labels are multi-hot. */
  labels: { names: string[]; multiLabel: boolean };
}

/** Per-modality features `[B, D_m]` and masks `[B]` (1 = present). */
export interface ClassifierFeatures {
  features: tf.Tensor2D[];
  masks: tf.Tensor1D[];
}

/**
 * The width of each modality's features.
 *
 * @example
 * ```ts
 * import { resolveVattConfig } from "../config/vatt_config.ts";
 * import { featureDims } from "./classifier.ts";
 * const c = resolveVattConfig({ preset: "tiny" });
 * console.assert(featureDims(c, { modalities: ["video", "text"], features: "backbone" }).join() === "64,64");
 * ```
 */
export function featureDims(
  model: VattConfig,
  options: { modalities: Modality[]; features: FeatureKind },
): number[] {
  return options.modalities.map((m) => {
    if (options.features === "backbone") return model[m].backbone.hidden;
    return m === "text" ? model.heads.vtDim : model.heads.vaDim;
  });
}

/**
 * A pretrained model and a classification head.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { VattModel } from "./vatt.ts";
 * import { Classifier } from "./classifier.ts";
 * const model = VattModel.create({ preset: "tiny" });
 * const c = Classifier.create(model, {
 *   modalities: ["audio"], features: "backbone", head: "vatt", seed: 0,
 *   labels: { names: ["a", "b"], multiLabel: false },
 * });
 * console.assert(c.head.parameterCount() === (64 + 1) * 2 + 2);
 * c.dispose();
 * ```
 */
export class Classifier {
  readonly spec: ClassifierSpec;
  readonly model: VattModel;
  readonly head: FusionHead;

  private constructor(spec: ClassifierSpec, model: VattModel, head: FusionHead) {
    this.spec = spec;
    this.model = model;
    this.head = head;
  }

  /** A new head (seeded) on `model`; the classifier owns the model from now on. */
  static create(
    model: VattModel,
    options: {
      modalities: Modality[];
      features: FeatureKind;
      head: FusionHeadName;
      headOptions?: Record<string, number>;
      seed: number;
      labels: { names: string[]; multiLabel: boolean };
    },
  ): Classifier {
    const inputDims = featureDims(model.config, options);
    const input = {
      ...(options.headOptions ?? {}),
      inputDims,
      numClasses: options.labels.names.length,
      seed: options.seed,
    };
    const head = createFusionHead(options.head, input as FusionHeadInputs[typeof options.head]);
    const resolved = (head as unknown as { config?: Record<string, unknown> }).config ?? input;
    const spec: ClassifierSpec = {
      format: CLASSIFIER_FORMAT,
      model: model.config,
      modalities: [...options.modalities],
      features: options.features,
      head: { name: options.head, config: { ...resolved } },
      labels: { names: [...options.labels.names], multiLabel: options.labels.multiLabel },
    };
    return new Classifier(spec, model, head);
  }

  /** Rebuilds the classifier of `spec` (fresh weights; load them after). */
  static fromSpec(spec: ClassifierSpec): Classifier {
    const model = VattModel.create(spec.model);
    try {
      const head = createFusionHead(
        spec.head.name,
        spec.head.config as unknown as FusionHeadInputs[FusionHeadName],
      );
      return new Classifier(spec, model, head);
    } catch (e) {
      model.dispose();
      throw e;
    }
  }

  /** Whether the classifier's features depend on model weight `name`. */
  uses(name: string): boolean {
    const module = moduleOf(name);
    if (module === "shared") return this.model.config.agnostic;
    if (module !== "heads") return this.spec.modalities.includes(module);
    if (this.spec.features !== "common") return false;
    const head = { video: "heads/video_va/", audio: "heads/audio_va/", text: "heads/text_vt/" };
    return this.spec.modalities.some((m) => name.startsWith(head[m]));
  }

  /** The model's weights the features depend on (`trainable`: only the trainable ones). */
  modelWeights(options: { trainable: boolean }): Weights {
    const out: Weights = {};
    for (const [name, w] of Object.entries(this.model.weights)) {
      if (this.uses(name) && (!options.trainable || w.trainable)) out[name] = w;
    }
    return out;
  }

  /** What a checkpoint stores: the used model weights and the head's weights. */
  storedWeights(): Weights {
    return { ...this.modelWeights({ trainable: false }), ...this.head.variables };
  }

  /**
   * Features and masks of a batch (inference mode of the backbone: no
   * DropToken, BatchNorm on its moving statistics; gradients still flow).
   * Text features average the clip's real captions.
   */
  features(inputs: BatchTensors): ClassifierFeatures {
    const want = new Set(this.spec.modalities);
    const common = this.spec.features === "common";
    return tf.tidy(() => {
      const out = this.model.apply({
        video: want.has("video") ? inputs.video : undefined,
        audio: want.has("audio") ? inputs.audio : undefined,
        text: want.has("text") ? inputs.text : undefined,
      });
      const b = inputs.audioMask.shape[0];
      const features: tf.Tensor2D[] = [];
      const masks: tf.Tensor1D[] = [];
      for (const m of this.spec.modalities) {
        if (m === "video") {
          features.push(common ? out.video!.va : out.video!.representation);
          masks.push(tf.ones([b]) as tf.Tensor1D);
        } else if (m === "audio") {
          features.push(common ? out.audio!.va : out.audio!.representation);
          masks.push(tf.clone(inputs.audioMask));
        } else {
          const t = (common ? out.text!.vt : out.text!.representation) as tf.Tensor3D; // [B, P, D]
          const w = tf.expandDims(inputs.textMask, 2); // [B, P, 1]
          const count = tf.sum(inputs.textMask, 1, true); // [B, 1]
          const pooled = tf.div(tf.sum(tf.mul(t, w), 1), tf.maximum(count, 1)); // [B, D]
          features.push(pooled as tf.Tensor2D);
          masks.push(tf.cast(tf.greater(tf.reshape(count, [b]), 0), "float32") as tf.Tensor1D);
        }
      }
      return { features, masks } as unknown as tf.TensorContainer;
    }) as unknown as ClassifierFeatures;
  }

  /** Logits `[B, C]` of a batch of model inputs. */
  logits(inputs: BatchTensors, options: { training?: boolean } = {}): tf.Tensor2D {
    return tf.tidy(() => {
      const { features, masks } = this.features(inputs);
      return this.head.apply(features, { masks, training: options.training ?? false });
    });
  }

  /** Frees the model and the head. */
  dispose(): void {
    this.head.dispose();
    this.model.dispose();
  }
}

function bad(checkpoint: string, message: string): never {
  throw new FormatError(message, { path: checkpoint });
}

/**
 * Validates a classifier spec read from a checkpoint (untrusted); throws a
 * FormatError naming the problem (a pretrained model's config included).
 *
 * @example
 * ```ts
 * import { parseClassifierSpec } from "./classifier.ts";
 * let message = "";
 * try { parseClassifierSpec({ preset: "tiny", video: {}, audio: {}, text: {} }, "ckpt"); } catch (e) { message = (e as Error).message; }
 * console.assert(message.includes("not a classifier"));
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
    model = resolveVattConfig(r.model as VattConfigInput);
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
 * import { loadClassifierWeights } from "./classifier.ts";
 * // await loadClassifierWeights("run/checkpoints/step-0000030", classifier);
 * console.assert(typeof loadClassifierWeights === "function");
 * ```
 */
export async function loadClassifierWeights(
  checkpoint: string,
  classifier: Classifier,
): Promise<void> {
  const file = path.join(checkpoint, "model.safetensors");
  const weights = classifier.storedWeights();
  const expect: Record<string, TensorSpec> = {};
  for (const [name, w] of Object.entries(weights)) expect[name] = { dtype: "F32", shape: w.shape };
  let decoded;
  try {
    decoded = await readSafetensors(file, { expect });
  } catch (e) {
    if (e instanceof MismatchError) {
      throw new MismatchError(
        `checkpoint ${checkpoint} does not fit this classifier: ${e.message}`,
      );
    }
    throw e;
  }
  for (const [name, arr] of Object.entries(decoded.tensors)) {
    tf.tidy(() => weights[name].assign(tf.tensor(arr.data as Float32Array, arr.shape, "float32")));
  }
}

/**
 * Loads the classifier of a fine-tuned run (`RUN`: its newest checkpoint) or
 * of one checkpoint folder.
 *
 * @example
 * ```ts
 * import { loadClassifier } from "./classifier.ts";
 * // const { classifier } = await loadClassifier("runs/finetuned");
 * console.assert(typeof loadClassifier === "function");
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
