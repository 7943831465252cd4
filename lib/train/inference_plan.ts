/**
 * The memory plan of an inference pass (export, frozen features for probes
 * and fine-tuning heads): how many clips one forward pass may take on the
 * backend's free memory. Each transformer layer's intermediates are freed at
 * its end (`encode`), so a pass holds its inputs and one layer's activations
 * at full length (no DropToken) at a time; the weights are already loaded, so
 * the limit to give is the backend's free memory after loading them.
 *
 * @module
 */
import type { Modality } from "../config/modality.ts";
import { audioTokenCount, videoTokenGrid } from "../config/token_counts.ts";
import type { BackboneConfig, VattConfig } from "../config/vatt_config.ts";
import { attentionKernelActive } from "./memory_limit.ts";
import { type MemoryLimit, PLAN_FILL } from "./memory_plan.ts";

/**
 * Floats per token, per unit of width and of MLP width, that one layer of an
 * inference pass holds at its end (input, layer norms, q/k/v, attention output,
 * projections, residuals; the MLP's inner layer and GELU). Measured: `large`
 * at the paper's inputs, 2 → 4 clips a pass grew the wasm heap by 0.25 GiB a
 * clip, which this plan counts as 0.31 (one layer 0.25, the video copies 0.05).
 */
const PER_TOKEN_D = 10;
const PER_TOKEN_MLP = 2;
/** Copies of the raw video while it is cut into patches (clip, padded, transposed). */
const VIDEO_COPIES = 3;
/** Copies of the attention scores `[B, H, L, L]` of the composite ops (logits, scaled, masked, softmax). */
const COMPOSITE_SCORE_COPIES = 4;

/** Floats of one layer of `b` for `sequences` sequences of `length` tokens. */
function layerFloats(b: BackboneConfig, sequences: number, length: number): number {
  const scores = (attentionKernelActive() ? 1 : COMPOSITE_SCORE_COPIES) * sequences * b.heads *
    length * length;
  return sequences * length * (PER_TOKEN_D * b.hidden + PER_TOKEN_MLP * b.mlp) + scores;
}

/**
 * The estimated peak bytes of an inference pass of `batch` clips over
 * `modalities`, beyond the loaded weights: the batch's inputs, and the
 * largest one layer's activations of any modality.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveVattConfig } from "../config/vatt_config.ts";
 * import { estimateInference } from "./inference_plan.ts";
 * const large = resolveVattConfig({ preset: "large" });
 * const one = estimateInference(large, 1, ["video", "audio", "text"]);
 * // A clip of 32×224² at full length (1,569 tokens) costs a few hundred MB, and twice as much for two.
 * assert.ok(one > 1e8 && one < 1e9);
 * assert.ok(Math.abs(estimateInference(large, 2, ["video", "audio", "text"]) - 2 * one) < 1e6);
 * ```
 */
export function estimateInference(
  model: VattConfig,
  batch: number,
  modalities: readonly Modality[],
  captionsPerClip = 4,
): number {
  const v = model.video;
  const video = batch * v.frames * v.height * v.width * 3;
  const inputs = (modalities.includes("video") ? VIDEO_COPIES * video : 0) +
    (modalities.includes("audio") ? batch * model.audio.samples : 0);
  const layers = modalities.map((m) =>
    m === "video"
      ? layerFloats(v.backbone, batch, videoTokenGrid(v).count + 1)
      : m === "audio"
      ? layerFloats(model.audio.backbone, batch, audioTokenCount(model.audio) + 1)
      : layerFloats(model.text.backbone, batch * captionsPerClip, model.text.maxLength + 1)
  );
  return 4 * (inputs + Math.max(0, ...layers));
}

/**
 * The largest number of clips (at most `asked`) whose inference pass fits
 * `PLAN_FILL` of `free` (the backend's memory left after the weights); 0
 * when not even one does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveVattConfig } from "../config/vatt_config.ts";
 * import { estimateInference, largestInferenceBatch } from "./inference_plan.ts";
 * const large = resolveVattConfig({ preset: "large" });
 * const all = ["video", "audio", "text"] as const;
 * const free = { backend: "wasm", bytes: 3 * estimateInference(large, 1, all), detail: "test" };
 * assert.equal(largestInferenceBatch(large, all, free, 16), 2); // 80 % of 3 clips' worth
 * assert.equal(largestInferenceBatch(large, all, free, 1), 1);
 * ```
 */
export function largestInferenceBatch(
  model: VattConfig,
  modalities: readonly Modality[],
  free: MemoryLimit,
  asked: number,
): number {
  let b = asked;
  while (b > 0 && estimateInference(model, b, modalities) > PLAN_FILL * free.bytes) b--;
  return b;
}
