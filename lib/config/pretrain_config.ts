/**
 * Settings of a pretraining run, with defaults and a validating resolver.
 *
 * @module
 */

/** Everything of a pretraining run that is not the model. */
export interface PretrainConfig {
  /** Optimisation steps. */
  steps: number;
  /** Clips per batch. */
  batchSize: number;
  /** Peak learning rate (paper: 1e-4). */
  baseRate: number;
  /** Final learning rate (paper: 5e-5). */
  finalRate: number;
  /** Linear warmup steps (paper: 10k). */
  warmupSteps: number;
  /** Decoupled weight decay (0 = off). */
  weightDecay: number;
  /** Clip gradients by global norm (0 = off). */
  clipNorm: number;
  /** NCE/MIL-NCE temperature τ. */
  temperature: number;
  /** Weight λ of the MIL-NCE term. */
  milWeight: number;
  /** Symmetric NCE (video→audio and audio→video averaged). */
  symmetric: boolean;
  /** Seed of data order and DropToken (the model's init has its own seed in the model config). */
  seed: number;
  /** Steps between checkpoints. */
  checkpointEvery: number;
  /** Checkpoints kept. */
  keep: number;
}

/** Defaults: the paper's optimiser settings, sized for a short run. */
export const DEFAULT_PRETRAIN_CONFIG: Readonly<PretrainConfig> = {
  steps: 500,
  batchSize: 16,
  baseRate: 1e-4,
  finalRate: 5e-5,
  warmupSteps: 50,
  weightDecay: 0,
  clipNorm: 0,
  temperature: 0.07,
  milWeight: 1,
  symmetric: false,
  seed: 0,
  checkpointEvery: 100,
  keep: 3,
};

/**
 * Merges `partial` over the defaults and validates.
 *
 * @example
 * ```ts
 * import { resolvePretrainConfig } from "./pretrain_config.ts";
 * console.assert(resolvePretrainConfig({ steps: 10, warmupSteps: 2 }).batchSize === 16);
 * ```
 */
export function resolvePretrainConfig(partial: Partial<PretrainConfig> = {}): PretrainConfig {
  const c = { ...DEFAULT_PRETRAIN_CONFIG, ...partial };
  const posInt = (v: number, what: string, min = 1) => {
    if (!Number.isInteger(v) || v < min) {
      throw new RangeError(`${what} must be an integer ≥ ${min}, got ${v}`);
    }
  };
  posInt(c.steps, "steps");
  posInt(c.batchSize, "batch size", 2);
  posInt(c.warmupSteps, "warmup steps", 0);
  posInt(c.seed, "seed", 0);
  posInt(c.checkpointEvery, "checkpoint interval");
  posInt(c.keep, "checkpoints kept");
  if (c.warmupSteps >= c.steps) {
    throw new RangeError(`warmup steps ${c.warmupSteps} must be fewer than steps ${c.steps}`);
  }
  if (!(c.baseRate > 0)) throw new RangeError(`learning rate must be positive, got ${c.baseRate}`);
  if (!(c.finalRate >= 0 && c.finalRate <= c.baseRate)) {
    throw new RangeError(`final learning rate must be in [0, ${c.baseRate}], got ${c.finalRate}`);
  }
  if (!(c.weightDecay >= 0)) throw new RangeError(`weight decay must be ≥ 0, got ${c.weightDecay}`);
  if (!(c.clipNorm >= 0)) throw new RangeError(`clip norm must be ≥ 0, got ${c.clipNorm}`);
  if (!(c.temperature > 0)) {
    throw new RangeError(`temperature must be positive, got ${c.temperature}`);
  }
  if (!(c.milWeight >= 0)) throw new RangeError(`MIL-NCE weight must be ≥ 0, got ${c.milWeight}`);
  return c;
}
