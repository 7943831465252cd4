/**
 * Clips per inference pass (export, frozen features): the batch asked for,
 * or fewer when the inference plan (`lib/train/inference_plan.ts`) says the
 * backend's free memory cannot hold it, said in one line; a one-line error
 * when not even one clip fits.
 *
 * @module
 */
import type { Modality } from "../lib/config/modality.ts";
import type { VattConfig } from "../lib/config/vatt_config.ts";
import { estimateInference, largestInferenceBatch } from "../lib/train/inference_plan.ts";
import { gib, type MemoryLimit } from "../lib/train/memory_plan.ts";
import { CliError } from "./cli_error.ts";

/**
 * The clips one pass of `label` may take on `free` (the backend's memory
 * left once the weights are loaded), at most `asked`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveVattConfig } from "../lib/config/vatt_config.ts";
 * import { inferenceBatch } from "./_inference_batch.ts";
 * const tiny = resolveVattConfig({ preset: "tiny" });
 * const free = { backend: "wasm", bytes: 2 ** 32, detail: "test" };
 * assert.equal(inferenceBatch("export", tiny, ["video", "audio"], 16, free), 16);
 * const none = { ...free, bytes: 1000 };
 * assert.throws(() => inferenceBatch("export", tiny, ["video"], 16, none), /not even one clip/);
 * ```
 */
export function inferenceBatch(
  label: string,
  model: VattConfig,
  modalities: readonly Modality[],
  asked: number,
  free: MemoryLimit,
): number {
  const fit = largestInferenceBatch(model, modalities, free, asked);
  const need = (b: number) => gib(estimateInference(model, b, modalities));
  const has = `the ${free.backend} backend's ${gib(free.bytes)} left after the weights`;
  if (fit === 0) {
    throw new CliError(`${label}: not even one clip fits: it needs about ${need(1)} of ${has}`, 2);
  }
  if (fit < asked) {
    console.error(
      `${label}: ${fit} clips a pass (${asked} would need about ${need(asked)} of ${has})`,
    );
  }
  return fit;
}
