/**
 * The VATT model: three patch embeddings, three transformers (or one shared), and
 * the common-space heads, as one object holding named weights.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { resolveVattConfig, type VattConfig, type VattConfigInput } from "../config/vatt_config.ts";
import { audioTokenCount, videoTokenGrid } from "../config/token_counts.ts";
import { Rng } from "../util/rng.ts";
import { dropout, type DropoutSource } from "./dropout.ts";
import type { BatchShard } from "./batch_shard.ts";
import { type KeptTokens, keptTokens } from "./drop_token.ts";
import {
  applyBatchNormUpdates,
  audioHead,
  type BatchNormUpdate,
  textHead,
  videoHeads,
} from "./heads.ts";
import { audioTokens, textTokens, videoTokens } from "./patch_embed.ts";
import { encode } from "./transformer.ts";
import {
  backboneName,
  countParameters,
  type ParameterCounts,
  weightSpecs,
} from "./weight_specs.ts";
import { createWeights, type Weights } from "./weights.ts";

/** Inputs of a forward pass; any subset of the modalities. */
export interface VattInputs {
  /** Clips `[B, T, H, W, 3]`, float in [−1, 1], or their `videoPatches` `[B, N, t·h·w·3]`. */
  video?: tf.Tensor;
  /** Waveforms `[B, T']`, float in [−1, 1]. */
  audio?: tf.Tensor;
  /** Caption ids `[B, P, L]` (P captions per clip) or `[B, L]`, int32, 0 = padding. */
  text?: tf.Tensor;
}

/** Outputs of a forward pass, for the modalities given. */
export interface VattOutputs {
  video?: {
    /** Aggregation-token output `[B, d_v]`. */
    representation: tf.Tensor2D;
    /** Video–audio space `[B, vaDim]`. */
    va: tf.Tensor2D;
    /** Video–text space `[B, vtDim]`. */
    vt: tf.Tensor2D;
  };
  audio?: {
    /** Aggregation-token output `[B, d_a]`. */
    representation: tf.Tensor2D;
    /** Video–audio space `[B, vaDim]`. */
    va: tf.Tensor2D;
  };
  text?: {
    /** Aggregation-token output `[B, P, d_t]` (or `[B, d_t]` for 2-D input). */
    representation: tf.Tensor;
    /** Video–text space `[B, P, vtDim]` (or `[B, vtDim]`). */
    vt: tf.Tensor;
  };
}

/** Options of a forward pass. */
export interface ForwardOptions {
  /** Training mode: DropToken and dropout on, BatchNorm on batch statistics. Default `false`. */
  training?: boolean;
  /**
   * The step's generator for DropToken and dropout; required when training with
   * `dropToken`, `dropout` or `attentionDropout` above 0. Dropout draws from a
   * fork of its state, so DropToken's draws do not depend on the dropout rates.
   */
  rng?: Rng;
  /** Receives training-mode BatchNorm statistics; see {@linkcode VattModel.applyBatchNormUpdates}. */
  bnUpdates?: BatchNormUpdate[];
  /**
   * Recompute each transformer layer in the backward pass instead of keeping
   * its activations (`recompute.ts`): less memory, the same gradients. Default `false`.
   */
  recompute?: boolean;
  /**
   * Recomputed layers run on this many parts of the batch in turn (forward and
   * backward), one part's activations at a time: less memory again, the same
   * values, gradients equal up to the order of summation. Default 1.
   */
  recomputeParts?: number;
  /**
   * Data parallelism: the inputs are one rank's rows of a global batch;
   * DropToken and dropout draw the global batch's values, BatchNorm uses the
   * global batch's statistics (synchronized BatchNorm).
   */
  shard?: BatchShard;
}

/**
 * A VATT model.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { VattModel } from "./vatt.ts";
 * const model = VattModel.create({ preset: "tiny" });
 * const out = model.apply({ audio: tf.zeros([2, 6400]) });
 * assert.equal(out.audio!.va.shape.join(), "2,128");
 * model.dispose();
 * ```
 */
export class VattModel {
  /** The resolved config. */
  readonly config: VattConfig;
  /** Every weight by stable name (trainable and BatchNorm statistics). */
  readonly weights: Weights;

  private constructor(config: VattConfig, weights: Weights) {
    this.config = config;
    this.weights = weights;
  }

  /** Builds a model with freshly initialised weights (seeded by `config.seed`). */
  static create(input: VattConfigInput | VattConfig = {}): VattModel {
    const config = resolveVattConfig(input);
    return new VattModel(config, createWeights(weightSpecs(config), { seed: config.seed }));
  }

  /** The trainable weights (everything except BatchNorm moving statistics). */
  trainableWeights(): Weights {
    const out: Weights = {};
    for (const [name, w] of Object.entries(this.weights)) if (w.trainable) out[name] = w;
    return out;
  }

  /** Trainable parameters per module. */
  parameterCounts(): ParameterCounts {
    return countParameters(this.config);
  }

  /** The dropout sources of a pass: none at evaluation or with rates 0. */
  private dropoutSources(options: ForwardOptions): {
    dropout?: DropoutSource;
    attentionDropout?: DropoutSource;
  } {
    const c = this.config;
    if (!options.training || (c.dropout === 0 && c.attentionDropout === 0)) return {};
    if (!options.rng) throw new TypeError("Cannot apply dropout in training without options.rng");
    // A fork of a copy: the step's generator (DropToken's) is not advanced.
    const rng = Rng.fromState(options.rng.state()).fork("dropout");
    const shard = options.shard;
    return {
      dropout: c.dropout > 0 ? { rate: c.dropout, rng, shard } : undefined,
      attentionDropout: c.attentionDropout > 0
        ? { rate: c.attentionDropout, rng, shard }
        : undefined,
    };
  }

  /**
   * Runs the modalities present in `inputs`. Reads top to bottom: patch embedding
   * with positions, DropToken and dropout (training; dropping values after the
   * tokens are picked equals the official order in distribution, on fewer
   * values), encode, project to the common spaces.
   */
  apply(inputs: VattInputs, options: ForwardOptions = {}): VattOutputs {
    const c = this.config;
    const w = this.weights;
    const training = options.training ?? false;
    // DropToken's picks (training), made before the patch projection, which is per patch.
    const picks = (batch: number, n: number): KeptTokens | undefined => {
      if (!training || c.dropToken === 0) return undefined;
      if (!options.rng) {
        throw new TypeError("Cannot apply DropToken in training without options.rng");
      }
      return keptTokens(batch, n, { rate: c.dropToken, rng: options.rng, shard: options.shard });
    };
    const sources = {
      ...this.dropoutSources(options),
      recompute: options.recompute,
      recomputeParts: options.recomputeParts,
    };
    const embedDrop = (t: tf.Tensor3D) => dropout(t, sources.dropout) as tf.Tensor3D;
    return tf.tidy((): tf.TensorContainer => {
      const out: VattOutputs = {};
      if (inputs.video) {
        const kept = picks(inputs.video.shape[0], videoTokenGrid(c.video).count);
        const tokens = embedDrop(videoTokens(inputs.video, w, c, kept)); // [B, K_v, d_v]
        const { aggregate } = encode(tokens, w["video/agg_token"], w, {
          prefix: `backbone/${backboneName(c, "video")}`,
          backbone: c.video.backbone,
          ...sources,
        }); // [B, d_v]
        const { va, vt } = videoHeads(aggregate, w, {
          training,
          updates: options.bnUpdates,
          heads: c.heads,
          shard: options.shard,
        });
        out.video = { representation: aggregate, va, vt };
      }
      if (inputs.audio) {
        const kept = picks(inputs.audio.shape[0], audioTokenCount(c.audio));
        const tokens = embedDrop(audioTokens(inputs.audio, w, c, kept)); // [B, K_a, d_a]
        const { aggregate } = encode(tokens, w["audio/agg_token"], w, {
          prefix: `backbone/${backboneName(c, "audio")}`,
          backbone: c.audio.backbone,
          ...sources,
        }); // [B, d_a]
        out.audio = { representation: aggregate, va: audioHead(aggregate, w) };
      }
      if (inputs.text) {
        const lead = inputs.text.shape.slice(0, -1); // [B, P] or [B]
        const l = inputs.text.shape[inputs.text.rank - 1];
        const ids = tf.reshape(inputs.text, [-1, l]); // [B·P, L]
        const { tokens, mask } = textTokens(ids, w, c); // [B·P, L, d_t], [B·P, L]
        const { aggregate } = encode(embedDrop(tokens), w["text/agg_token"], w, {
          prefix: `backbone/${backboneName(c, "text")}`,
          backbone: c.text.backbone,
          mask,
          relative: c.text,
          ...sources,
        }); // [B·P, d_t]
        const vt = textHead(aggregate, w); // [B·P, vtDim]
        out.text = {
          representation: tf.reshape(aggregate, [...lead, c.text.backbone.hidden]),
          vt: tf.reshape(vt, [...lead, c.heads.vtDim]),
        };
      }
      return out as tf.TensorContainer;
    }) as VattOutputs;
  }

  /** Folds BatchNorm statistics recorded in training into the moving averages. */
  applyBatchNormUpdates(updates: BatchNormUpdate[]): void {
    applyBatchNormUpdates(updates, this.weights, { momentum: this.config.heads.bnMomentum });
  }

  /** Frees every weight. */
  dispose(): void {
    for (const v of Object.values(this.weights)) v.dispose();
  }
}
