/**
 * Running a classifier over a dataset, and the classification report shared
 * by `vatt finetune` (validation after each epoch) and `vatt eval classify`:
 * top-1/top-5 accuracy (single-label) or mAP and ROC-AUC (multi-label), the
 * unsmoothed cross-entropy, chance levels and, on request, the confusion
 * matrix.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { DEFAULT_EVAL_BATCH_SIZE, topKOf } from "../../config/eval_config.ts";
import { batchToTensors } from "../../data/shards/batches.ts";
import type { ClipBatch, Dataset } from "../../data/shards/dataset.ts";
import { MismatchError } from "../../util/errors.ts";
import type { Classifier } from "../../model/classifier.ts";
import {
  type DatasetLabels,
  hasAnyModality,
  labelledIndices,
  readDatasetLabels,
  requireLabels,
  requireModalities,
} from "../../data/shards/split.ts";
import { checkModelFitsData } from "../../data/fit.ts";
import {
  argmaxRows,
  confusionMatrix,
  meanAveragePrecision,
  rocAuc,
  topKAccuracy,
} from "./metrics.ts";
import type { ViewPlan } from "./views.ts";

/** Metrics of a classifier on a set of clips. */
export interface ClassificationReport {
  /** Clips evaluated. */
  clips: number;
  numClasses: number;
  multiLabel: boolean;
  /** Mean cross-entropy (softmax, or sigmoid per class), without label smoothing. */
  loss: number;
  /** Top-1 accuracy (single-label). */
  top1?: number;
  /** Top-K accuracy with K = min(5, C) (single-label). */
  top5?: number;
  /** Mean average precision over classes with a positive (multi-label). */
  mAP?: number;
  /** Mean ROC-AUC over classes with both positives and negatives (multi-label). */
  rocAuc?: number;
  /**
   * The same metrics for a classifier that guesses: `1/C` and `min(5, C)/C`
   * (single-label); the mean class frequency as mAP and 0.5 as ROC-AUC
   * (multi-label).
   */
  chance: Record<string, number>;
  /** `confusion[t][p]`: clips of true class t predicted as p (single-label, on request). */
  confusion?: number[][];
}

/**
 * The report of logits `[N, C]` against labels (`[N]` classes or `[N, C]`
 * multi-hot).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { classificationReport } from "./classify.ts";
 * const r = classificationReport(new Float32Array([2, 0, 0, 1]), new Int32Array([0, 0]), {
 *   numClasses: 2, multiLabel: false, confusion: true,
 * });
 * assert.equal(r.top1, 0.5);
 * assert.equal(r.confusion![0][1], 1);
 * assert.equal(r.chance.top1, 0.5);
 * ```
 */
export function classificationReport(
  logits: Float32Array,
  labels: Int32Array | Uint8Array,
  options: { numClasses: number; multiLabel: boolean; confusion?: boolean },
): ClassificationReport {
  const c = options.numClasses;
  const n = logits.length / c;
  if (!Number.isInteger(n) || n === 0) {
    throw new RangeError(`${logits.length} logits do not split into rows of ${c} classes`);
  }
  if (options.multiLabel) {
    let loss = 0;
    let positives = 0;
    for (let i = 0; i < logits.length; i++) {
      const z = logits[i];
      loss += Math.max(z, 0) - z * labels[i] + Math.log1p(Math.exp(-Math.abs(z)));
      positives += labels[i];
    }
    return {
      clips: n,
      numClasses: c,
      multiLabel: true,
      loss: loss / logits.length,
      mAP: meanAveragePrecision(logits, labels, { numClasses: c }).mean,
      rocAuc: rocAuc(logits, labels, { numClasses: c }).mean,
      chance: { mAP: positives / logits.length, rocAuc: 0.5 },
    };
  }
  let loss = 0;
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let j = 0; j < c; j++) max = Math.max(max, logits[i * c + j]);
    let sum = 0;
    for (let j = 0; j < c; j++) sum += Math.exp(logits[i * c + j] - max);
    loss += max + Math.log(sum) - logits[i * c + labels[i]];
  }
  const k = topKOf(c);
  const report: ClassificationReport = {
    clips: n,
    numClasses: c,
    multiLabel: false,
    loss: loss / n,
    top1: topKAccuracy(logits, labels, { k: 1 }),
    top5: topKAccuracy(logits, labels, { k }),
    chance: { top1: 1 / c, top5: k / c },
  };
  if (options.confusion) {
    report.confusion = confusionMatrix(argmaxRows(logits, { numClasses: c }), labels, c);
  }
  return report;
}

/** Logits of a classifier on some clips of a dataset. */
export interface ClassifiedClips {
  /** Clip positions in the dataset. */
  indices: number[];
  ids: string[];
  /** `[n, C]`. */
  logits: Float32Array;
  /** `[n]` or `[n, C]`, as stored. */
  labels: Int32Array | Uint8Array;
}

/** The logits `[n, C]` of a batch: of the clips as stored, or averaged over the plan's views. */
async function viewLogits(
  classifier: Classifier,
  batch: ClipBatch,
  options: { settings: Dataset["index"]["settings"]; plan?: ViewPlan },
): Promise<Float32Array> {
  const { settings, plan } = options;
  const views = plan?.views ?? [{ view: {}, weight: 1 }];
  const total = views.reduce((n, v) => n + v.weight, 0);
  let sum: Float64Array | undefined;
  for (const { view, weight } of views) {
    const inputs = batchToTensors(batch, settings, { view });
    let row: Float32Array;
    try {
      const out = classifier.logits(inputs);
      row = await out.data() as Float32Array;
      out.dispose();
    } finally {
      tf.dispose(Object.values(inputs));
    }
    if (views.length === 1) return row;
    sum ??= new Float64Array(row.length);
    for (let i = 0; i < row.length; i++) sum[i] += weight * row[i];
  }
  return Float32Array.from(sum!, (v) => v / total);
}

/**
 * Runs `classifier` on clips `indices` of `data` (default: all), in batches,
 * in inference mode; with `views`, each clip's logits are the mean of its
 * views' logits (the official fine-tuning evaluation averages logits, then
 * takes the softmax: `PredictionAggregator` in `modeling/backbones/video/factory.py`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import type { ClipBatch, Dataset } from "../../data/shards/dataset.ts";
 * import type { Classifier } from "../../model/classifier.ts";
 * import { classifyDataset } from "./classify.ts";
 * // Stand-ins: a classifier that scores every clip [1, 0]; a dataset of three 1-pixel clips.
 * const classifier = {
 *   spec: { labels: { names: ["cat", "dog"] } },
 *   logits: (x: { video: tf.Tensor }) => tf.tile(tf.tensor2d([[1, 0]]), [x.video.shape[0], 1]),
 * } as unknown as Classifier;
 * const settings = { frames: 1, size: 1, audioSamples: 1, captionsPerClip: 1, maxLength: 1 };
 * const data = {
 *   size: 3,
 *   index: { settings, labels: { multiLabel: false } },
 *   readClips: (indices: number[]) =>
 *     Promise.resolve({
 *       count: indices.length,
 *       ids: indices.map((i) => `clip${i}`),
 *       video: new Uint8Array(indices.length * 3),
 *       audio: new Float32Array(indices.length),
 *       audioMask: new Uint8Array(indices.length),
 *       text: new Int32Array(indices.length),
 *       textMask: new Uint8Array(indices.length),
 *       label: Int32Array.from(indices, (i) => i % 2),
 *     }),
 * } as unknown as Dataset;
 * const out = await classifyDataset(classifier, data, { batchSize: 2 });
 * assert.deepEqual(out.ids, ["clip0", "clip1", "clip2"]);
 * assert.deepEqual([...out.logits], [1, 0, 1, 0, 1, 0]);
 * assert.deepEqual([...out.labels], [0, 1, 0]);
 * ```
 */
export async function classifyDataset(
  classifier: Classifier,
  data: Dataset,
  options: {
    indices?: number[];
    batchSize?: number;
    /** Views of each clip whose logits are averaged (default: the clip as stored). */
    views?: ViewPlan;
    onProgress?: (done: number, total: number) => void;
  } = {},
): Promise<ClassifiedClips> {
  const all = options.indices ?? Array.from({ length: data.size }, (_, i) => i);
  const bs = options.batchSize ?? DEFAULT_EVAL_BATCH_SIZE;
  if (!Number.isInteger(bs) || bs < 1) {
    throw new RangeError(`batch size must be a positive integer, got ${bs}`);
  }
  const c = classifier.spec.labels.names.length;
  const multi = data.index.labels.multiLabel;
  const logits = new Float32Array(all.length * c);
  const labels = multi ? new Uint8Array(all.length * c) : new Int32Array(all.length);
  const ids: string[] = [];
  for (let start = 0; start < all.length; start += bs) {
    const indices = all.slice(start, start + bs);
    const batch = await data.readClips(indices);
    logits.set(
      await viewLogits(classifier, batch, { settings: data.index.settings, plan: options.views }),
      start * c,
    );
    labels.set(batch.label, multi ? start * c : start);
    ids.push(...batch.ids);
    options.onProgress?.(Math.min(start + bs, all.length), all.length);
  }
  return { indices: all, ids, logits, labels };
}

/**
 * Checks that `data` suits `classifier` (model inputs, the same classes, the
 * modalities it reads present, labels to score against) and returns the
 * positions of its labelled clips.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PRESETS } from "../../config/vatt_config.ts";
 * import type { ClipBatch, Dataset } from "../../data/shards/dataset.ts";
 * import type { Classifier } from "../../model/classifier.ts";
 * import { MismatchError } from "../../util/errors.ts";
 * import { labelledClipsFor } from "./classify.ts";
 * // Usually: const indices = await labelledClipsFor(classifier, await Dataset.open("data"));
 * // A dataset tokenized at another frame size does not suit the tiny model:
 * const classifier = { model: { config: PRESETS.tiny } } as unknown as Classifier;
 * const settings = { frames: 8, size: 64, audioSamples: 6400, sampleRate: 8000, maxLength: 16 };
 * const data = { dir: "data", index: { settings, text: { vocabSize: 10 } } } as unknown as Dataset;
 * await assert.rejects(labelledClipsFor(classifier, data), MismatchError);
 * ```
 */
export async function labelledClipsFor(classifier: Classifier, data: Dataset): Promise<number[]> {
  return (await checkedLabels(classifier, data)).indices;
}

/**
 * {@linkcode labelledClipsFor}, with the dataset's labels and ids it read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Classifier } from "../../model/classifier.ts";
 * import type { Dataset } from "../../data/shards/dataset.ts";
 * import { checkedLabels } from "./classify.ts";
 * // Usually: const { labels, indices } = await checkedLabels(classifier, await Dataset.open("data"));
 * await assert.rejects(checkedLabels({} as Classifier, {} as Dataset), TypeError);
 * ```
 */
export async function checkedLabels(
  classifier: Classifier,
  data: Dataset,
): Promise<{ labels: DatasetLabels; indices: number[] }> {
  checkModelFitsData(classifier.model.config, data);
  const labels = await readDatasetLabels(data);
  requireLabels(labels, `dataset ${data.dir}`);
  const spec = classifier.spec.labels;
  if (
    JSON.stringify(labels.names) !== JSON.stringify(spec.names) ||
    labels.multiLabel !== spec.multiLabel
  ) {
    throw new MismatchError(
      `dataset ${data.dir} has other classes (${labels.names.length}) than the classifier (${spec.names.length}: ${
        spec.names.slice(0, 3).join(", ")
      }${spec.names.length > 3 ? ", …" : ""})`,
    );
  }
  requireModalities(labels, {
    modalities: classifier.spec.modalities,
    where: `dataset ${data.dir}`,
  });
  // A clip with none of the classifier's modalities (an audio-only clip of a video classifier) is not scored.
  const modalities = classifier.spec.modalities;
  const indices = labelledIndices(labels).filter((i) => hasAnyModality(labels, modalities, i));
  return { labels, indices };
}
