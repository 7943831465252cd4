/**
 * The three modalities of VATT, typed once for the whole library.
 *
 * @module
 */

/** A modality: video frames, an audio waveform, or a caption's text. */
export type Modality = "video" | "audio" | "text";

/**
 * The modalities in their canonical order (the order of a fusion head's
 * inputs, of exported embeddings, of everything listed per modality).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MODALITIES } from "./modality.ts";
 * assert.deepEqual([...MODALITIES], ["video", "audio", "text"]);
 * ```
 */
export const MODALITIES: readonly Modality[] = ["video", "audio", "text"];

/**
 * Whether `name` is a modality.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isModality } from "./modality.ts";
 * assert.ok(isModality("audio"));
 * assert.ok(!isModality("smell"));
 * ```
 */
export function isModality(name: unknown): name is Modality {
  return MODALITIES.includes(name as Modality);
}
