/**
 * A classifier built on a pretrained VATT: the model's per-modality features
 * (aggregation-token outputs or common-space embeddings) fed to a head from
 * `lib/model/fusion`. A fine-tuned run's checkpoints store the model weights
 * of the modules it uses ({@linkcode Classifier.storedWeights}), the head's
 * weights, and a {@linkcode ClassifierSpec} (model config, head config,
 * labels), so `vatt eval classify` can rebuild it from the run alone
 * (`lib/run/load_classifier.ts`).
 *
 * Missing modalities: a clip without audio, or without any caption, gets
 * mask 0 for that modality; each head handles masked inputs its own
 * documented way (zeros plus mask features, or the identity sketch).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { VattConfig } from "../config/vatt_config.ts";
import type { FusionHead, FusionHeadName } from "./fusion/fusion_head.ts";
import { createFusionHead, type FusionHeadInputs } from "./fusion/registry.ts";
import { VattModel } from "./vatt.ts";
import { moduleOf } from "./weight_specs.ts";
import type { Weights } from "./weights.ts";
import type { FeatureKind } from "../config/finetune_config.ts";
import type { Modality } from "../config/modality.ts";

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

/** A batch of model inputs (what `batchToTensors` of `lib/data/shards` makes). */
export interface ClassifierInputs {
  /** `[B, T, H, W, 3]` float in [−1, 1]. */
  video: tf.Tensor;
  /** `[B, A]` float in [−1, 1]. */
  audio: tf.Tensor2D;
  /** `[B]` float, 1 = has audio. */
  audioMask: tf.Tensor1D;
  /** `[B]` float, 1 = has video (0: an audio-only clip); absent: every clip has video. */
  videoMask?: tf.Tensor1D;
  /** `[B, P, L]` int32. */
  text: tf.Tensor3D;
  /** `[B, P]` float, 1 = real caption. */
  textMask: tf.Tensor2D;
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
 * import assert from "node:assert/strict";
 * import { resolveVattConfig } from "../config/vatt_config.ts";
 * import { featureDims } from "./classifier.ts";
 * const c = resolveVattConfig({ preset: "tiny" });
 * assert.deepEqual(featureDims(c, { modalities: ["video", "text"], features: "backbone" }), [64, 64]);
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
 * import assert from "node:assert/strict";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { VattModel } from "./vatt.ts";
 * import { Classifier } from "./classifier.ts";
 * const model = VattModel.create({ preset: "tiny" });
 * const c = Classifier.create(model, {
 *   modalities: ["audio"], features: "backbone", head: "vatt", seed: 0,
 *   labels: { names: ["a", "b"], multiLabel: false },
 * });
 * assert.equal(c.head.parameterCount(), (64 + 1) * 2 + 2);
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
  features(
    inputs: ClassifierInputs,
    options: { recompute?: boolean; recomputeParts?: number } = {},
  ): ClassifierFeatures {
    const want = new Set(this.spec.modalities);
    const common = this.spec.features === "common";
    return tf.tidy(() => {
      const out = this.model.apply({
        video: want.has("video") ? inputs.video : undefined,
        audio: want.has("audio") ? inputs.audio : undefined,
        text: want.has("text") ? inputs.text : undefined,
      }, { recompute: options.recompute, recomputeParts: options.recomputeParts });
      const b = inputs.audioMask.shape[0];
      const features: tf.Tensor2D[] = [];
      const masks: tf.Tensor1D[] = [];
      for (const m of this.spec.modalities) {
        if (m === "video") {
          features.push(common ? out.video!.va : out.video!.representation);
          masks.push((inputs.videoMask ? tf.clone(inputs.videoMask) : tf.ones([b])) as tf.Tensor1D);
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

  /** Logits `[B, C]` of a batch of model inputs (`recompute`, `recomputeParts`: as in `VattModel.apply`). */
  logits(
    inputs: ClassifierInputs,
    options: {
      training?: boolean;
      recompute?: boolean;
      recomputeParts?: number;
      shard?: { start: number; total: number };
    } = {},
  ): tf.Tensor2D {
    return tf.tidy(() => {
      const { features, masks } = this.features(inputs, {
        recompute: options.recompute,
        recomputeParts: options.recomputeParts,
      });
      const training = options.training ?? false;
      return this.head.apply(features, { masks, training, shard: options.shard });
    });
  }

  /** Frees the model and the head. */
  dispose(): void {
    this.head.dispose();
    this.model.dispose();
  }
}
