/**
 * Does this dataset fit this model: the frames, frame size, audio samples and
 * rate, caption length and vocabulary a dataset was tokenized with, against
 * what a model config expects.
 *
 * @module
 */
import type { VattConfig } from "../config/vatt_config.ts";
import { MismatchError } from "../util/errors.ts";
import type { DatasetIndex } from "./shards/dataset_index.ts";
import { wordVectorMisfits } from "./text/word_vector_table.ts";

/** What {@linkcode checkModelFitsData} reads of a dataset (a `Dataset` has it). */
export interface FitSubject {
  index: Pick<DatasetIndex, "settings" | "text">;
}

/**
 * Checks that the model's inputs are what the dataset stores; a
 * MismatchError lists every difference.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveVattConfig } from "../config/vatt_config.ts";
 * import { checkModelFitsData, type FitSubject } from "./fit.ts";
 * const model = resolveVattConfig({ preset: "tiny" });
 * const settings = {
 *   frames: model.video.frames, size: model.video.height, audioSamples: model.audio.samples,
 *   sampleRate: model.audio.sampleRate, maxLength: model.text.maxLength,
 * };
 * const data = { index: { settings, text: { vocabSize: 10 } } } as unknown as FitSubject;
 * checkModelFitsData(model, data); // fits: no error
 * const wider = { index: { settings: { ...settings, size: 64 }, text: { vocabSize: 10 } } };
 * assert.throws(() => checkModelFitsData(model, wider as unknown as FitSubject), /frames of 64²/);
 * ```
 */
export function checkModelFitsData(model: VattConfig, data: FitSubject): void {
  const s = data.index.settings;
  const problems: string[] = [];
  if (model.video.frames !== s.frames) {
    problems.push(`${s.frames} frames (model expects ${model.video.frames})`);
  }
  if (model.video.height !== s.size || model.video.width !== s.size) {
    problems.push(
      `frames of ${s.size}² (model expects ${model.video.height}×${model.video.width})`,
    );
  }
  if (model.audio.samples !== s.audioSamples) {
    problems.push(`${s.audioSamples} audio samples (model expects ${model.audio.samples})`);
  }
  if (model.audio.sampleRate !== s.sampleRate) {
    problems.push(`audio at ${s.sampleRate} Hz (model expects ${model.audio.sampleRate})`);
  }
  if (model.text.maxLength !== s.maxLength) {
    problems.push(`${s.maxLength} tokens per caption (model expects ${model.text.maxLength})`);
  }
  if (data.index.text.vocabSize > model.text.vocabSize) {
    problems.push(
      `a vocabulary of ${data.index.text.vocabSize} (model holds ${model.text.vocabSize})`,
    );
  }
  problems.push(...wordVectorMisfits(model, data.index.text));
  if (problems.length > 0) {
    throw new MismatchError(
      `the dataset does not fit the model: it has ${
        problems.join(", ")
      }; tokenize with the model's --preset or adjust the config`,
    );
  }
}
