/**
 * Settings of a pretraining run, with defaults and a validating resolver.
 *
 * @module
 */
import { checkRecompute, DEFAULT_RECOMPUTE, type RecomputeMode } from "./memory_config.ts";
import { checkInteger, checkNumber, checkOneOf } from "./validate.ts";

/** Everything of a pretraining run that is not the model. */
export interface PretrainConfig {
  /** Optimisation steps. */
  steps: number;
  /** Clips per batch. */
  batchSize: number;
  /** Peak learning rate (paper: 1e-4 at batch 2048; default {@linkcode defaultLearningRate}). */
  baseRate: number;
  /** Final learning rate (paper: 5e-5; default half the peak). */
  finalRate: number;
  /** Linear warmup steps (paper: 10k; default 10% of the steps, see {@linkcode defaultWarmupSteps}). */
  warmupSteps: number;
  /** Decoupled weight decay (0 = off). */
  weightDecay: number;
  /** Clip gradients by global norm (0 = off). */
  clipNorm: number;
  /** NCE/MIL-NCE temperature τ. */
  temperature: number;
  /** Weight λ of the MIL-NCE term. */
  milWeight: number;
  /**
   * Form of NCE and MIL-NCE (README "Losses"): `"official"` (VATT's `AsymmetricNCE`: one
   * denominator per clip holding both directions), `"one-way"` (video against every
   * audio/caption only) or `"symmetric"` (VATT's `SymmetricNCE`: the sum of the two directions).
   */
  lossForm: LossForm;
  /** With `lossForm` `"one-way"` only: NCE is video→audio and audio→video averaged. */
  symmetric: boolean;
  /**
   * Augmentation of each visit of a clip (`lib/data/shards/augment.ts`): `"paper"` (a random
   * window, scale-jitter crop, flip, colour jitter, audio gain and noise, all drawn from
   * `(seed, step, clip)`) or `"none"` (the centre window and crop).
   */
  augment: AugmentMode;
  /** Seed of data order, augmentation and DropToken (the model's init has its own seed in the model config). */
  seed: number;
  /** Steps between checkpoints. */
  checkpointEvery: number;
  /** Checkpoints kept. */
  keep: number;
  /** Recompute transformer layers in the backward pass: `none`, `layers`, or `auto` (the memory plan decides). */
  recompute: RecomputeMode;
}

/** The forms of NCE and MIL-NCE a run can train with ({@linkcode PretrainConfig.lossForm}). */
export const LOSS_FORMS = ["official", "one-way", "symmetric"] as const;

/** One of {@linkcode LOSS_FORMS}. */
export type LossForm = (typeof LOSS_FORMS)[number];

/** The loss form of a run when none is given: the official code's `AsymmetricNCE`. */
export const DEFAULT_LOSS_FORM: LossForm = "official";

/** The augmentation modes of a training run (`--augment`). */
export const AUGMENT_MODES = ["paper", "none"] as const;

/** One of {@linkcode AUGMENT_MODES}. */
export type AugmentMode = (typeof AUGMENT_MODES)[number];

/** Augmentation of training runs when none is given: the official pipeline's. */
export const DEFAULT_AUGMENT: AugmentMode = "paper";

/** The contrastive temperature τ of NCE and MIL-NCE (the paper's 0.07). */
export const DEFAULT_TEMPERATURE = 0.07;

/** The most warmup steps {@linkcode defaultWarmupSteps} gives: the paper's 10k. */
export const MAX_DEFAULT_WARMUP_STEPS = 10_000;

/**
 * Warmup steps of a run of `steps` steps when none are given: 10% of them,
 * at most `max`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultWarmupSteps } from "./pretrain_config.ts";
 * assert.equal(defaultWarmupSteps(500), 50);
 * assert.equal(defaultWarmupSteps(19), 1);
 * assert.equal(defaultWarmupSteps(10_000_000, { max: 10_000 }), 10_000);
 * ```
 */
export function defaultWarmupSteps(steps: number, options: { max?: number } = {}): number {
  return Math.min(options.max ?? Infinity, Math.floor(steps / 10));
}

/**
 * The learning rate each preset's default scales from: `rate` at `batch`
 * clips. The paper's presets take the paper's 1e-4 at batch 2048; `tiny`
 * takes 1e-3 at batch 16, the rate measured to learn on small data (README
 * "Learning rate": at batch 16 the paper's 1e-4 learned less in 60 steps, and
 * the paper's rate scaled down linearly to 7.8e-7 learned nothing).
 */
export const REFERENCE_RATES: Readonly<Record<string, { rate: number; batch: number }>> = {
  tiny: { rate: 1e-3, batch: 16 },
  small: { rate: 1e-4, batch: 2048 },
  base: { rate: 1e-4, batch: 2048 },
  medium: { rate: 1e-4, batch: 2048 },
  large: { rate: 1e-4, batch: 2048 },
};

/** The lowest default learning rate: the paper's 1e-4 (smaller batches never go below it). */
export const MIN_DEFAULT_RATE = 1e-4;

/** The final learning rate is this fraction of the base rate when not given (the paper's 5e-5 / 1e-4). */
export const FINAL_RATE_FRACTION = 0.5;

/**
 * The default learning rate of `preset` at `batch` clips: linear scaling
 * from the preset's reference ({@linkcode REFERENCE_RATES}; a custom config
 * uses `tiny`'s), never below {@linkcode MIN_DEFAULT_RATE}, with the rule in
 * words for the run's first lines.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultLearningRate } from "./pretrain_config.ts";
 * assert.equal(defaultLearningRate("tiny", 16).rate, 1e-3);
 * assert.equal(defaultLearningRate("tiny", 8).rate, 5e-4); // 1e-3 × 8/16
 * assert.equal(defaultLearningRate("tiny", 2).rate, 1.25e-4);
 * assert.equal(defaultLearningRate("base", 2048).rate, 1e-4); // the paper
 * assert.equal(defaultLearningRate("base", 16).rate, 1e-4); // 7.8e-7 by the linear rule: the floor
 * assert.equal(defaultLearningRate("tiny", 8).rule, "default: 0.001 × batch 8/16, tiny's reference");
 * ```
 */
export function defaultLearningRate(preset: string, batch: number): { rate: number; rule: string } {
  const name = Object.hasOwn(REFERENCE_RATES, preset) ? preset : "tiny";
  const ref = REFERENCE_RATES[name];
  const scaled = ref.rate * batch / ref.batch;
  const rule = `default: ${ref.rate} × batch ${batch}/${ref.batch}, ${name}'s reference`;
  if (scaled < MIN_DEFAULT_RATE) {
    return {
      rate: MIN_DEFAULT_RATE,
      rule: `${rule} = ${scaled.toPrecision(2)}, raised to the floor ${MIN_DEFAULT_RATE}`,
    };
  }
  return { rate: scaled, rule };
}

/**
 * Defaults: the paper's optimiser settings, sized for a short run. The
 * warmup (`null` here) follows the steps: {@linkcode defaultWarmupSteps},
 * at most {@linkcode MAX_DEFAULT_WARMUP_STEPS}; the learning rates (`null`)
 * follow the preset and batch: {@linkcode defaultLearningRate}, the final
 * one {@linkcode FINAL_RATE_FRACTION} of the base.
 */
export const DEFAULT_PRETRAIN_CONFIG: Readonly<
  & Omit<PretrainConfig, "warmupSteps" | "baseRate" | "finalRate">
  & { warmupSteps: null; baseRate: null; finalRate: null }
> = {
  steps: 500,
  batchSize: 16,
  baseRate: null,
  finalRate: null,
  warmupSteps: null,
  weightDecay: 0,
  clipNorm: 0,
  temperature: DEFAULT_TEMPERATURE,
  milWeight: 1,
  lossForm: DEFAULT_LOSS_FORM,
  symmetric: false,
  augment: DEFAULT_AUGMENT,
  seed: 0,
  checkpointEvery: 100,
  keep: 3,
  recompute: DEFAULT_RECOMPUTE,
};

/**
 * Merges `partial` over the defaults and validates (RangeError/TypeError
 * naming the value).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolvePretrainConfig } from "./pretrain_config.ts";
 * const c = resolvePretrainConfig({ steps: 200 });
 * assert.equal(c.batchSize, 16);
 * assert.equal(c.baseRate, 1e-3); // tiny's reference at batch 16 (defaultLearningRate)
 * assert.equal(c.finalRate, 5e-4); // half of it
 * assert.equal(resolvePretrainConfig({ batchSize: 64 }, { preset: "base" }).baseRate, 1e-4);
 * assert.equal(c.warmupSteps, 20); // 10% of the steps
 * assert.throws(() => resolvePretrainConfig({ batchSize: 1 }), /batch size must be at least 2/);
 * assert.equal(c.lossForm, "official");
 * assert.equal(c.augment, "paper");
 * assert.throws(() => resolvePretrainConfig({ symmetric: true }), /needs loss form "one-way"/);
 * ```
 */
export function resolvePretrainConfig(
  partial: Partial<PretrainConfig> = {},
  options: { preset?: string } = {},
): PretrainConfig {
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  const merged = { ...DEFAULT_PRETRAIN_CONFIG, ...defined };
  const steps = checkInteger(merged.steps, "steps", { min: 1 });
  checkInteger(merged.batchSize, "batch size", { min: 2 });
  const baseRate = merged.baseRate ??
    defaultLearningRate(options.preset ?? "tiny", merged.batchSize).rate;
  const c: PretrainConfig = {
    ...merged,
    baseRate,
    finalRate: merged.finalRate ?? Math.min(baseRate * FINAL_RATE_FRACTION, baseRate),
    warmupSteps: merged.warmupSteps ?? defaultWarmupSteps(steps, { max: MAX_DEFAULT_WARMUP_STEPS }),
  };
  checkInteger(c.warmupSteps, "warmup steps", { min: 0 });
  checkInteger(c.seed, "seed", { min: 0 });
  checkInteger(c.checkpointEvery, "checkpoint interval", { min: 1 });
  checkInteger(c.keep, "checkpoints kept", { min: 1 });
  if (c.warmupSteps >= c.steps) {
    throw new RangeError(`warmup steps ${c.warmupSteps} must be fewer than steps ${c.steps}`);
  }
  checkNumber(c.baseRate, "learning rate", { above: 0 });
  checkNumber(c.finalRate, "final learning rate", { min: 0, max: c.baseRate });
  checkNumber(c.weightDecay, "weight decay", { min: 0 });
  checkNumber(c.clipNorm, "clip norm", { min: 0 });
  checkNumber(c.temperature, "temperature", { above: 0 });
  checkNumber(c.milWeight, "MIL-NCE weight", { min: 0 });
  checkOneOf(c.lossForm, LOSS_FORMS, "loss form");
  checkOneOf(c.augment, AUGMENT_MODES, "augment");
  checkRecompute(c.recompute);
  if (c.symmetric && c.lossForm !== "one-way") {
    throw new RangeError(
      `symmetric (the one-way NCE averaged over both directions) needs loss form "one-way", ` +
        `got "${c.lossForm}"`,
    );
  }
  return c;
}

/**
 * `config` with its batch size at most `clips` (a dataset smaller than the
 * batch trains on all of it each step), and whether it was lowered. Below 2
 * clips nothing is changed: the data loader then refuses the dataset.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fitBatchToClips, resolvePretrainConfig } from "./pretrain_config.ts";
 * const c = resolvePretrainConfig({ batchSize: 64 });
 * const fitted = fitBatchToClips(c, 12);
 * assert.equal(fitted.config.batchSize, 12);
 * assert.equal(fitted.lowered, true);
 * assert.equal(fitBatchToClips(c, 100).config.batchSize, 64);
 * assert.equal(fitBatchToClips(c, 100).lowered, false);
 * ```
 */
export function fitBatchToClips(
  config: PretrainConfig,
  clips: number,
): { config: PretrainConfig; lowered: boolean } {
  if (config.batchSize <= clips || clips < 2) return { config, lowered: false };
  return { config: { ...config, batchSize: clips }, lowered: true };
}
