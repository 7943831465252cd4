/**
 * The learning-rate schedule of VATT pretraining: linear warmup, then quarter-period cosine decay.
 *
 * @module
 */

/** Settings of {@linkcode learningRate}. */
export interface ScheduleConfig {
  /** Learning rate reached at the end of warmup (peak). Default 1e-4 (VATT). */
  baseRate: number;
  /** Learning rate at `totalSteps` and after; `0 ≤ finalRate ≤ baseRate`. Default 5e-5 (VATT). */
  finalRate: number;
  /** Steps of linear warmup from 0 to `baseRate`; an integer ≥ 0. Default 10 000 (VATT). */
  warmupSteps: number;
  /** Steps of the whole run (warmup included); an integer above `warmupSteps`. No default. */
  totalSteps: number;
}

/** A partial {@linkcode ScheduleConfig}: every field but `totalSteps` has a default. */
export type ScheduleOptions = Partial<ScheduleConfig> & Pick<ScheduleConfig, "totalSteps">;

/** Defaults of {@linkcode ScheduleConfig} (VATT's pretraining values); `totalSteps` has none. */
export const DEFAULT_SCHEDULE_CONFIG: Readonly<Omit<ScheduleConfig, "totalSteps">> = {
  baseRate: 1e-4,
  finalRate: 5e-5,
  warmupSteps: 10_000,
};

/**
 * Merges {@linkcode DEFAULT_SCHEDULE_CONFIG} into `options` and validates the result.
 *
 * @throws {RangeError} naming the offending field and value: a rate that is not finite or is
 * below 0, `finalRate > baseRate`, a step count that is not an integer ≥ 0, or
 * `totalSteps ≤ warmupSteps`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveScheduleConfig } from "./schedule.ts";
 * const config = resolveScheduleConfig({ totalSteps: 500_000 });
 * assert.equal(config.baseRate, 1e-4);
 * assert.equal(config.warmupSteps, 10_000);
 * ```
 */
export function resolveScheduleConfig(options: ScheduleOptions): ScheduleConfig {
  const config: ScheduleConfig = {
    baseRate: options.baseRate ?? DEFAULT_SCHEDULE_CONFIG.baseRate,
    finalRate: options.finalRate ?? DEFAULT_SCHEDULE_CONFIG.finalRate,
    warmupSteps: options.warmupSteps ?? DEFAULT_SCHEDULE_CONFIG.warmupSteps,
    totalSteps: options.totalSteps,
  };
  for (const field of ["baseRate", "finalRate"] as const) {
    const value = config[field];
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      throw new RangeError(`schedule ${field} must be a finite number ≥ 0, got ${value}`);
    }
  }
  if (config.finalRate > config.baseRate) {
    throw new RangeError(
      `schedule finalRate ${config.finalRate} must not exceed baseRate ${config.baseRate}`,
    );
  }
  for (const field of ["warmupSteps", "totalSteps"] as const) {
    const value = config[field];
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`schedule ${field} must be an integer ≥ 0, got ${value}`);
    }
  }
  if (config.totalSteps <= config.warmupSteps) {
    throw new RangeError(
      `schedule totalSteps ${config.totalSteps} must exceed warmupSteps ${config.warmupSteps}` +
        " (lower warmupSteps for a short run)",
    );
  }
  return config;
}

/**
 * The learning rate at `step` (0-based: the rate used for the update that makes step `step + 1`).
 *
 * ```
 * step < warmup:  lr = base · step / warmup
 * otherwise:      lr = final + (base − final) · cos(π/2 · t),
 *                 t  = clip((step − warmup) / (total − warmup), 0, 1)
 * ```
 *
 * "Quarter-period cosine decay" (VATT) is read as the first quarter of a cosine period: the
 * cosine goes from cos 0 = 1 to cos(π/2) = 0 as `t` goes from 0 to 1, so the rate falls from
 * `baseRate` at the end of warmup to `finalRate` at `totalSteps`, steepest at the end, and
 * stays at `finalRate` after. (A half-period cosine, `(1 + cos πt)/2`, would instead flatten
 * out at both ends.) The two pieces meet at `step = warmup` with value `baseRate`.
 *
 * @param step the optimisation step, a finite number ≥ 0.
 * @param options the schedule; merged with {@linkcode DEFAULT_SCHEDULE_CONFIG} and validated.
 * @throws {RangeError} on a negative or non-finite step or an invalid schedule.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { learningRate } from "./schedule.ts";
 * const schedule = { warmupSteps: 100, totalSteps: 1100 };
 * assert.equal(learningRate(50, schedule), 5e-5); // halfway through warmup
 * assert.equal(learningRate(100, schedule), 1e-4); // peak
 * assert.ok(Math.abs(learningRate(1100, schedule) - 5e-5) < 1e-15); // final
 * ```
 */
export function learningRate(step: number, options: ScheduleOptions): number {
  if (typeof step !== "number" || !Number.isFinite(step) || step < 0) {
    throw new RangeError(`learningRate(): step must be a finite number ≥ 0, got ${step}`);
  }
  const { baseRate, finalRate, warmupSteps, totalSteps } = resolveScheduleConfig(options);
  if (step < warmupSteps) return (baseRate * step) / warmupSteps;
  const t = Math.min(1, (step - warmupSteps) / (totalSteps - warmupSteps));
  return finalRate + (baseRate - finalRate) * Math.cos((Math.PI / 2) * t);
}
