/**
 * Settings of a fine-tuning run (classification on a pretrained VATT), with
 * defaults that depend on the mode, and a validating resolver.
 *
 * Modes:
 * - end-to-end (one modality, the default): the modality's backbone and a
 *   classifier are trained together, batch by batch from the shards;
 * - frozen (`frozen: true`, the default with several modalities, and always
 *   with `linearProbe`): the backbone is frozen, so its features are
 *   extracted once and only the head is trained on them (fast).
 *
 * @module
 */
import { DEFAULT_EVAL_BATCH_SIZE } from "./eval_config.ts";
import { FUSION_HEADS, type FusionHeadName } from "./fusion_config.ts";
import { isModality, MODALITIES, type Modality } from "./modality.ts";
import {
  AUGMENT_MODES,
  type AugmentMode,
  DEFAULT_AUGMENT,
  defaultWarmupSteps,
} from "./pretrain_config.ts";
import {
  checkAccumulate,
  checkRecompute,
  DEFAULT_ACCUMULATE,
  DEFAULT_RECOMPUTE,
  type RecomputeMode,
} from "./memory_config.ts";
import { checkInteger, checkNumber, checkOneOf } from "./validate.ts";

/**
 * Which representation feeds the head: the aggregation-token output of each
 * backbone (`backbone`), or the common-space embedding (`common`: video and
 * audio in the video–audio space, text in the video–text space).
 */
export type FeatureKind = "backbone" | "common";

/** Every feature kind. */
export const FEATURE_KINDS: readonly FeatureKind[] = ["backbone", "common"];

/** The optimisers a fine-tuning run can use. */
export type OptimizerName = "sgd" | "adam";

/** Every optimiser a fine-tuning run can use. */
export const OPTIMIZERS: readonly OptimizerName[] = ["sgd", "adam"];

/** Everything of a fine-tuning run that is not the data or the pretrained model. */
export interface FinetuneConfig {
  /** Modalities the classifier reads, in canonical order (video, audio, text). */
  modalities: Modality[];
  /**
   * The classification head (`lib/model/fusion`): `vatt` is a linear
   * classifier on the (concatenated) features; `concat` adds a ReLU hidden
   * layer; `tensor` and `mcb` need two modalities or more.
   */
  head: FusionHeadName;
  /** Head options passed through to the head's resolver (`hiddenDim`, `fusionDim`, `outputDim`). */
  headOptions: Record<string, number>;
  /** Features the head reads. */
  features: FeatureKind;
  /** Linear probe: a frozen backbone and a linear (`vatt`) head. */
  linearProbe: boolean;
  /** Backbone frozen: features are extracted once and only the head is trained. */
  frozen: boolean;
  /** Passes over the training split. */
  epochs: number;
  /** Clips per batch (the last incomplete batch of an epoch is dropped). */
  batchSize: number;
  /** The optimiser. */
  optimizer: OptimizerName;
  /** Peak learning rate, reached after warmup; the cosine ends at 0. */
  baseRate: number;
  /** Momentum of SGD. */
  momentum: number;
  /** Weight decay: L2 for SGD, decoupled for Adam (kernels only). */
  weightDecay: number;
  /** Linear warmup steps; `null`: 10% of the total steps. */
  warmupSteps: number | null;
  /**
   * Label smoothing ε in [0, 1): single-label targets `(1 − ε)·onehot + ε/C`;
   * multi-hot targets `(1 − ε)·t + ε/2`.
   */
  labelSmoothing: number;
  /** Mixup α (audio only): λ ~ Beta(α, α) per batch; 0 = off. */
  mixup: number;
  /** Clip gradients by global norm; 0 = off. */
  clipNorm: number;
  /** Fraction of labelled clips held out for validation (when no validation dataset is given). */
  valFraction: number;
  /**
   * Augmentation of each visit of a clip when batches come from the shards (end-to-end):
   * `"paper"` or `"none"` (as `PretrainConfig.augment`); a frozen backbone's
   * features are extracted once, from the centre window and crop.
   */
  augment: AugmentMode;
  /** Seed of the split, data order, mixup and the head's initialisation. */
  seed: number;
  /** Checkpoints kept. */
  keep: number;
  /** Clips per forward pass when extracting features or evaluating. */
  evalBatchSize: number;
  /** Recompute transformer layers in the backward pass (end-to-end): `none`, `layers` or `auto`. */
  recompute: RecomputeMode;
  /** Micro-batches per step: gradients of `batchSize / accumulate` clips summed, one update. */
  accumulate: number;
}

/** What a caller passes: the modalities, and any other field. */
export type FinetuneConfigInput = Partial<FinetuneConfig> & Pick<FinetuneConfig, "modalities">;

/** Defaults of the fields that do not depend on the mode. */
export const DEFAULT_FINETUNE_CONFIG = {
  epochs: 10,
  batchSize: 16,
  momentum: 0.9,
  weightDecay: 0,
  labelSmoothing: 0.1,
  mixup: 0,
  clipNorm: 0,
  valFraction: 0.2,
  augment: DEFAULT_AUGMENT,
  seed: 0,
  keep: 2,
  evalBatchSize: DEFAULT_EVAL_BATCH_SIZE,
  recompute: DEFAULT_RECOMPUTE,
  accumulate: DEFAULT_ACCUMULATE,
} as const;

/**
 * Default peak learning rate of each optimiser, for a frozen backbone (only
 * the head learns) and end-to-end. Measured on the demo dataset (tiny preset).
 */
export const DEFAULT_LEARNING_RATES: Readonly<
  Record<OptimizerName, { frozen: number; endToEnd: number }>
> = {
  sgd: { frozen: 0.1, endToEnd: 0.05 },
  adam: { frozen: 0.01, endToEnd: 0.001 },
};

/** The head when none is named: the linear classifier on VATT's features (`vatt`). */
export const DEFAULT_HEAD: FusionHeadName = "vatt";

const HEAD_OPTION_KEYS = ["hiddenDim", "fusionDim", "outputDim"];

/** The modalities, checked and in canonical order. */
function resolveModalities(modalities: readonly Modality[]): Modality[] {
  if (!Array.isArray(modalities) || modalities.length === 0) {
    throw new RangeError(`modalities must be a non-empty list, got ${String(modalities)}`);
  }
  for (const m of modalities) {
    if (!isModality(m)) {
      throw new RangeError(`Unknown modality ${JSON.stringify(m)}; expected video, audio or text`);
    }
  }
  if (new Set(modalities).size !== modalities.length) {
    throw new RangeError(`modalities ${modalities.join(",")} list one twice`);
  }
  return MODALITIES.filter((m) => modalities.includes(m));
}

/** The head, its options and its features, checked against the mode. */
function resolveHead(
  input: FinetuneConfigInput,
  modalities: Modality[],
  linearProbe: boolean,
): Pick<FinetuneConfig, "head" | "headOptions" | "features"> {
  const head = input.head ?? DEFAULT_HEAD;
  if (!FUSION_HEADS.includes(head)) {
    throw new RangeError(
      `Unknown fusion head ${JSON.stringify(head)}; expected one of ${FUSION_HEADS.join(", ")}`,
    );
  }
  if (linearProbe && head !== "vatt") {
    throw new RangeError(`a linear probe uses the linear (vatt) head, not ${head}`);
  }
  if ((head === "tensor" || head === "mcb") && modalities.length < 2) {
    throw new RangeError(`the ${head} head fuses two modalities or more, got ${modalities[0]}`);
  }
  const features = checkOneOf(
    input.features ?? (head === "vatt" && modalities.length > 1 ? "common" : "backbone"),
    FEATURE_KINDS,
    "features",
  );
  const headOptions = { ...(input.headOptions ?? {}) };
  for (const [k, v] of Object.entries(headOptions)) {
    if (!HEAD_OPTION_KEYS.includes(k)) {
      throw new TypeError(`Unknown head option ${JSON.stringify(k)}`);
    }
    checkInteger(v, `head option ${k}`, { min: 1 });
  }
  return { head, headOptions, features };
}

/** Checks the numeric fields of a filled-in config. */
function checkNumericFields(c: FinetuneConfig): void {
  checkInteger(c.epochs, "epochs", { min: 1 });
  checkInteger(c.batchSize, "batch size", { min: 1 });
  checkInteger(c.seed, "seed", { min: 0 });
  checkInteger(c.keep, "checkpoints kept", { min: 1 });
  checkInteger(c.evalBatchSize, "evaluation batch size", { min: 1 });
  if (c.warmupSteps !== null) checkInteger(c.warmupSteps, "warmup steps", { min: 0 });
  checkNumber(c.baseRate, "learning rate", { above: 0 });
  checkNumber(c.momentum, "momentum", { min: 0, below: 1 });
  checkNumber(c.weightDecay, "weight decay", { min: 0 });
  checkNumber(c.labelSmoothing, "label smoothing", { min: 0, below: 1 });
  checkNumber(c.mixup, "mixup alpha", { min: 0 });
  checkNumber(c.clipNorm, "clip norm", { min: 0 });
  checkNumber(c.valFraction, "validation fraction", { min: 0, below: 1 });
}

/**
 * Fills in the defaults and validates (RangeError/TypeError naming the value).
 *
 * Mode-dependent defaults: `head` `vatt`; `features` `common` for the `vatt`
 * head on several modalities, else `backbone`; `frozen` with several
 * modalities or a linear probe; `optimizer` `adam` when frozen, else `sgd`
 * (the paper's fine-tuning setting); `baseRate` from
 * {@linkcode DEFAULT_LEARNING_RATES}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveFinetuneConfig } from "./finetune_config.ts";
 * const c = resolveFinetuneConfig({ modalities: ["video"] });
 * assert.equal(c.head, "vatt");
 * assert.equal(c.frozen, false);
 * assert.equal(c.optimizer, "sgd");
 * const f = resolveFinetuneConfig({ modalities: ["text", "video"], head: "concat" });
 * assert.deepEqual(f.modalities, ["video", "text"]);
 * assert.equal(f.frozen, true);
 * assert.equal(f.features, "backbone");
 * assert.throws(() => resolveFinetuneConfig({ modalities: ["video"], epochs: 0 }), /epochs/);
 * ```
 */
export function resolveFinetuneConfig(input: FinetuneConfigInput): FinetuneConfig {
  const modalities = resolveModalities(input.modalities);
  const linearProbe = input.linearProbe ?? false;
  const head = resolveHead(input, modalities, linearProbe);
  if (linearProbe && input.frozen === false) {
    throw new RangeError("a linear probe keeps the backbone frozen");
  }
  const frozen = input.frozen ?? (linearProbe || modalities.length > 1);
  const optimizer = checkOneOf(
    input.optimizer ?? (frozen ? "adam" : "sgd"),
    OPTIMIZERS,
    "optimizer",
  );
  const c: FinetuneConfig = {
    ...DEFAULT_FINETUNE_CONFIG,
    ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)),
    modalities,
    ...head,
    linearProbe,
    frozen,
    optimizer,
    baseRate: input.baseRate ??
      DEFAULT_LEARNING_RATES[optimizer][frozen ? "frozen" : "endToEnd"],
    warmupSteps: input.warmupSteps ?? null,
  };
  checkNumericFields(c);
  checkOneOf(c.augment, AUGMENT_MODES, "augment");
  checkRecompute(c.recompute);
  checkAccumulate(c.accumulate, { batchSize: c.batchSize });
  if (c.mixup > 0 && (modalities.length !== 1 || modalities[0] !== "audio")) {
    throw new RangeError(`mixup is for audio alone, not ${modalities.join(",")}`);
  }
  return c;
}

/**
 * Steps of a run: `epochs × ⌊trainClips / batchSize⌋`, and the warmup (10%
 * of them when not set). Throws when the batch does not fit the split.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planSteps, resolveFinetuneConfig } from "./finetune_config.ts";
 * const c = resolveFinetuneConfig({ modalities: ["audio"], epochs: 4, batchSize: 8 });
 * assert.deepEqual(planSteps(c, { trainClips: 24 }), { stepsPerEpoch: 3, totalSteps: 12, warmupSteps: 1 });
 * ```
 */
export function planSteps(
  config: FinetuneConfig,
  options: { trainClips: number },
): { stepsPerEpoch: number; totalSteps: number; warmupSteps: number } {
  if (config.batchSize > options.trainClips) {
    throw new RangeError(
      `batch size ${config.batchSize} is larger than the training split (${options.trainClips} clips)`,
    );
  }
  const stepsPerEpoch = Math.floor(options.trainClips / config.batchSize);
  const totalSteps = stepsPerEpoch * config.epochs;
  const warmupSteps = config.warmupSteps ?? defaultWarmupSteps(totalSteps);
  if (warmupSteps >= totalSteps) {
    throw new RangeError(`warmup steps ${warmupSteps} must be fewer than the ${totalSteps} steps`);
  }
  return { stepsPerEpoch, totalSteps, warmupSteps };
}
