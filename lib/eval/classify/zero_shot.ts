/**
 * Zero-shot classification with a pretrained VATT (no fine-tuning): each
 * class name is written into one or more prompts (`"a video of {label}"`),
 * the prompts are encoded by the dataset's own text tokenizer and embedded by
 * the text tower in the video–text space (`vt`), and each labelled clip's
 * video is assigned the class whose text is most similar (cosine, S_vt).
 *
 * - **Class text**: `{label}` in every prompt is replaced by the class name,
 *   with `_` read as a space (`playing_guitar` → `playing guitar`). Words the
 *   dataset's vocabulary does not know are treated as in tokenization: dropped
 *   (or, for a word-vector vocabulary, given its one OOV id); the report
 *   counts them (class words and prompt words), and names the classes left
 *   with no known word of their own (nothing but the prompt tells them apart).
 * - **Several prompts** are ensembled as CLIP does: each prompt's text
 *   embedding is L2-normalised, the normalised embeddings of a class are
 *   averaged, and the mean is normalised again.
 * - **Scores**: the cosine similarity of the clip's video embedding and each
 *   class embedding; top-1 and top-K (K = min(5, C)) accuracy with ties
 *   counted against the clip (`topKAccuracy`), next to chance (1/C, K/C).
 *   Multi-label datasets get mAP and ROC-AUC over the same scores instead.
 * - **Clips**: every labelled clip with video (single-label: label ≥ 0). The model never
 *   saw the labels, but it may have been pretrained on these clips' captions.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { DEFAULT_EVAL_BATCH_SIZE, topKOf } from "../../config/eval_config.ts";
import type { Dataset } from "../../data/shards/dataset.ts";
import { labelledIndices, readDatasetLabels } from "../../data/shards/split.ts";
import { loadTextTokenizer } from "../../data/text/setup.ts";
import type { TextTokenizer } from "../../data/text/tokenizer.ts";
import { encodeCaption } from "../../data/tokenize/clip.ts";
import { checkModelFitsData } from "../../data/fit.ts";
import { MismatchError } from "../../util/errors.ts";
import type { VattModel } from "../../model/vatt.ts";
import { embedDataset } from "../embeddings/embed.ts";
import { meanAveragePrecision, rocAuc, topKAccuracy } from "./metrics.ts";
import {
  checkPrompts,
  cosineScores,
  ensemblePrompts,
  promptText,
  type VocabularyReport,
  vocabularyReport,
} from "./prompts.ts";

/** Options of {@linkcode classTextEmbeddings}. */
export interface ClassTextOptions {
  /** Caption length the model reads (the dataset's `maxLength`). */
  maxLength: number;
  /** Texts per forward pass. Default {@linkcode DEFAULT_EVAL_BATCH_SIZE}. */
  batchSize?: number;
}

/**
 * The `[C, vtDim]` unit class embeddings: every class in every prompt,
 * encoded by `tokenizer`, embedded by the text tower (`vt` space, inference
 * mode) and ensembled over prompts ({@linkcode ensemblePrompts}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { PRESETS } from "../../config/vatt_config.ts";
 * import { WordTokenizer } from "../../data/text/tokenizer.ts";
 * import { VattModel } from "../../model/vatt.ts";
 * import { classTextEmbeddings } from "./zero_shot.ts";
 * const model = VattModel.create(PRESETS.tiny);
 * const tok = new WordTokenizer(["a", "red", "blue", "ball"]);
 * const before = tf.memory().numTensors;
 * const t = await classTextEmbeddings(model, tok, ["red", "blue"], ["a {label} ball", "{label}"], { maxLength: 16 });
 * assert.equal(tf.memory().numTensors, before);
 * assert.equal(t.length, 2 * PRESETS.tiny.heads.vtDim);
 * assert.ok(Math.abs(t.slice(0, PRESETS.tiny.heads.vtDim).reduce((s, x) => s + x * x, 0) - 1) < 1e-5);
 * model.dispose();
 * ```
 */
export async function classTextEmbeddings(
  model: VattModel,
  tokenizer: TextTokenizer,
  names: readonly string[],
  prompts: readonly string[],
  options: ClassTextOptions,
): Promise<Float32Array> {
  checkPrompts(prompts);
  const l = options.maxLength;
  const bs = options.batchSize ?? DEFAULT_EVAL_BATCH_SIZE;
  if (!Number.isInteger(bs) || bs < 1) {
    throw new RangeError(`batch size must be a positive integer, got ${bs}`);
  }
  const texts = names.flatMap((name) => prompts.map((p) => promptText(p, name)));
  const ids = new Int32Array(texts.length * l);
  texts.forEach((text, i) => ids.set(encodeCaption(tokenizer, text, l), i * l));
  const dim = model.config.heads.vtDim;
  const raw = new Float32Array(texts.length * dim);
  for (let start = 0; start < texts.length; start += bs) {
    const n = Math.min(bs, texts.length - start);
    const input = tf.tensor2d(ids.subarray(start * l, (start + n) * l), [n, l], "int32");
    const out = model.apply({ text: input }); // vt: [n, vtDim]
    raw.set(await out.text!.vt.data() as Float32Array, start * dim);
    tf.dispose([input, out.text!.vt, out.text!.representation]);
  }
  return ensemblePrompts(raw, { classes: names.length, prompts: prompts.length, dim });
}

/** Options of {@linkcode zeroShotClassify}. */
export interface ZeroShotClassifyOptions {
  /** Prompts holding `{label}`. Default `[DEFAULT_ZERO_SHOT_PROMPT]` (`lib/config/eval_config.ts`). */
  prompts?: readonly string[];
  /** Clips (and texts) per forward pass. Default {@linkcode DEFAULT_EVAL_BATCH_SIZE}. */
  batchSize?: number;
  /** Called after each embedded batch of clips with (clips done, clips in all). */
  onProgress?: (done: number, total: number) => void;
}

/** The outcome of {@linkcode zeroShotClassify}. */
export interface ZeroShotReport {
  /** Always `vt`: video against class text in the video–text space. */
  space: "vt";
  prompts: string[];
  /** Class names, in label order. */
  classes: string[];
  multiLabel: boolean;
  /** Labelled clips scored. */
  clips: number;
  /** Top-1 accuracy (single-label). */
  top1?: number;
  /** Top-K accuracy, K = min(5, C) (single-label). */
  top5?: number;
  /** Mean average precision over classes with a positive (multi-label). */
  mAP?: number;
  /** Mean ROC-AUC (multi-label). */
  rocAuc?: number;
  /** What guessing scores: 1/C and K/C; or the mean class frequency (mAP) and 0.5. */
  chance: Record<string, number>;
  vocabulary: VocabularyReport;
}

/** The report, and what it was computed from (for exports and checks). */
export interface ZeroShotResult {
  report: ZeroShotReport;
  /** Clip positions in the dataset, and their ids. */
  indices: number[];
  ids: string[];
  /** `[N, C]` cosine similarities of each clip's video to each class's text. */
  scores: Float32Array;
  /** `[N]` classes or `[N, C]` multi-hot. */
  labels: Int32Array | Uint8Array;
}

/**
 * The labelled clips of `data` and its class names; a MismatchError when it
 * has no class names or no labelled clip.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Dataset } from "../../data/shards/dataset.ts";
 * import { zeroShotClips } from "./zero_shot.ts";
 * // A stand-in for a dataset tokenized from a manifest without labels.
 * const index = { labels: { names: [], multiLabel: false }, shards: [], settings: { captionsPerClip: 1 } };
 * const data = { dir: "d", size: 0, index, verifyAll: () => Promise.resolve() } as unknown as Dataset;
 * await assert.rejects(zeroShotClips(data), /dataset d has no labels/);
 * ```
 */
export async function zeroShotClips(
  data: Dataset,
): Promise<
  { indices: number[]; names: string[]; multiLabel: boolean; labels: Int32Array | Uint8Array }
> {
  const l = await readDatasetLabels(data);
  // Video against class text: audio-only clips (no video) are not classified.
  const indices = labelledIndices(l).filter((i) => (l.videoMask?.[i] ?? 1) === 1);
  if (l.names.length === 0 || indices.length === 0) {
    throw new MismatchError(
      `dataset ${data.dir} has no labels to classify against; ` +
        `give the manifest a "label" column and tokenize again`,
    );
  }
  return { indices, names: l.names, multiLabel: l.multiLabel, labels: l.labels };
}

/** The metrics of `scores` against `labels`. */
function scoreReport(
  scores: Float32Array,
  labels: Int32Array | Uint8Array,
  options: { classes: number; multiLabel: boolean },
): Pick<ZeroShotReport, "top1" | "top5" | "mAP" | "rocAuc" | "chance"> {
  const c = options.classes;
  if (options.multiLabel) {
    let positives = 0;
    for (const y of labels) positives += y;
    return {
      mAP: meanAveragePrecision(scores, labels, { numClasses: c }).mean,
      rocAuc: rocAuc(scores, labels, { numClasses: c }).mean,
      chance: { mAP: positives / labels.length, rocAuc: 0.5 },
    };
  }
  const k = topKOf(c);
  return {
    top1: topKAccuracy(scores, labels, { k: 1 }),
    top5: topKAccuracy(scores, labels, { k }),
    chance: { top1: 1 / c, top5: k / c },
  };
}

/**
 * Zero-shot classification of `data`'s labelled clips by `model` (see the
 * module documentation).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Dataset } from "../../data/shards/dataset.ts";
 * import type { VattModel } from "../../model/vatt.ts";
 * import { zeroShotClassify } from "./zero_shot.ts";
 * // Usually: await zeroShotClassify(model, await Dataset.open("data"), { prompts: ["a video of {label}"] })
 * // Prompts are checked first: each must hold {label}.
 * const model = {} as VattModel;
 * await assert.rejects(zeroShotClassify(model, {} as Dataset, { prompts: ["{label}", "a clip"] }), /has no \{label\}/);
 * ```
 */
export async function zeroShotClassify(
  model: VattModel,
  data: Dataset,
  options: ZeroShotClassifyOptions = {},
): Promise<ZeroShotResult> {
  const prompts = checkPrompts(options.prompts);
  checkModelFitsData(model.config, data);
  const clips = await zeroShotClips(data);
  const tokenizer = await loadTextTokenizer(data.dir, data.index.text);
  const c = clips.names.length;
  const classText = await classTextEmbeddings(model, tokenizer, clips.names, prompts, {
    maxLength: data.index.settings.maxLength,
    batchSize: options.batchSize,
  });
  const dim = model.config.heads.vtDim;
  const video = new Float32Array(clips.indices.length * dim);
  const ids: string[] = [];
  let at = 0;
  for await (
    const b of embedDataset(model, data, {
      modalities: ["video"],
      space: "vt",
      indices: clips.indices,
      batchSize: options.batchSize,
      onProgress: options.onProgress,
    })
  ) {
    video.set(b.video!, at * dim);
    ids.push(...b.ids);
    at += b.ids.length;
  }
  const scores = cosineScores(video, classText, dim);
  const labels = clips.multiLabel
    ? new Uint8Array(clips.indices.length * c)
    : new Int32Array(clips.indices.length);
  clips.indices.forEach((i, r) => {
    if (clips.multiLabel) labels.set(clips.labels.subarray(i * c, (i + 1) * c), r * c);
    else labels[r] = clips.labels[i];
  });
  const report: ZeroShotReport = {
    space: "vt",
    prompts,
    classes: clips.names,
    multiLabel: clips.multiLabel,
    clips: clips.indices.length,
    ...scoreReport(scores, labels, { classes: c, multiLabel: clips.multiLabel }),
    vocabulary: vocabularyReport(tokenizer, clips.names, prompts),
  };
  return { report, indices: clips.indices, ids, scores, labels };
}
