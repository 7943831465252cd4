/**
 * `vatt eval classify` as a library call: the paper's evaluation of a
 * fine-tuned classifier. Each clip's logits are averaged over K temporal
 * windows × C spatial crops (paper: 4 × 3), then scored; only clips the
 * classifier did not train on are scored unless asked otherwise
 * (`held_out.ts`).
 *
 * Windows come from one of two places. A dataset whose entries are
 * `<clip>#w<k>` (k = 0…K−1, one entry per window, as retrieval averages them:
 * `lib/eval/retrieval/windows.ts`) gives each clip its K entries. Otherwise
 * each stored clip is cut into K evenly spaced windows of the model's length
 * (`views.ts`), which differ only where `vatt tokenize` stored a span longer
 * than the model's window.
 *
 * @module
 */
import type { Dataset } from "../../data/shards/dataset.ts";
import { type StoredShape, storedShape } from "../../data/shards/dataset_index.ts";
import type { Classifier } from "../../model/classifier.ts";
import type { RunRecord } from "../../run/trained_on.ts";
import { MismatchError } from "../../util/errors.ts";
import { groupWindows, meanOfGroups } from "../retrieval/windows.ts";
import {
  checkedLabels,
  type ClassificationReport,
  classificationReport,
  classifyDataset,
} from "./classify.ts";
import { chooseEvalClips, dataIdentity, type EvalClips } from "./held_out.ts";
import { planViews, type ViewPlan } from "./views.ts";
import { DEFAULT_CLASSIFY_CROPS, DEFAULT_CLASSIFY_WINDOWS } from "../../config/eval_config.ts";

/** Options of {@linkcode evaluateClassifier}. */
export interface EvaluateOptions {
  /** The run's record (`readRunRecord`); undefined: unknown, every labelled clip is scored. */
  run?: RunRecord;
  /** Temporal windows per clip. Default {@linkcode DEFAULT_CLASSIFY_WINDOWS}. */
  windows?: number;
  /** Spatial crops per window, 1 or 3. Default {@linkcode DEFAULT_CLASSIFY_CROPS}. */
  crops?: number;
  /** Score the clips the classifier trained on too. */
  includeTrain?: boolean;
  batchSize?: number;
  confusion?: boolean;
  /** Progress in dataset entries. */
  onProgress?: (done: number, total: number) => void;
}

/** How each clip's views were formed. */
export interface ViewSummary {
  windows: number;
  crops: number;
  /** Where the windows come from: dataset entries `<clip>#w<k>`, or cuts of each stored clip. */
  windowSource: "entries" | "stored-span";
  /** The windows (stored-span) are all the same: the stored span is the model's window. */
  windowsIdentical: boolean;
  /** The crops are all the same: the stored frames are the model's size, or the classifier reads no video. */
  cropsIdentical: boolean;
  /** Stored clips and what the model takes. */
  stored: StoredShape;
  model: StoredShape;
}

/** Outcome of {@linkcode evaluateClassifier}. */
export interface ClassifyEvaluation {
  report: ClassificationReport;
  /** The scored clips' ids (`<clip>` when windows are entries). */
  ids: string[];
  /** Which dataset entries were scored, and why. */
  selection: EvalClips;
  views: ViewSummary;
}

/** Checks `--windows` / `--crops` values; a RangeError names the bad one. */
function checkCounts(windows: number, crops: number): void {
  if (!Number.isInteger(windows) || windows < 1) {
    throw new RangeError(`windows must be a positive integer, got ${windows}`);
  }
  if (crops !== 1 && crops !== 3) throw new RangeError(`crops must be 1 or 3, got ${crops}`);
}

const WINDOW_ID = /#w\d+$/;

/** Labels of each group's first member, after checking every member has the same. */
function groupLabels(
  labels: Int32Array | Uint8Array,
  options: { members: number[][]; width: number; ids: string[] },
): Int32Array | Uint8Array {
  const { members, width: c } = options;
  const out = labels instanceof Uint8Array
    ? new Uint8Array(members.length * c)
    : new Int32Array(members.length * c);
  members.forEach((rows, g) => {
    const first = labels.subarray(rows[0] * c, rows[0] * c + c);
    for (const r of rows) {
      if (labels.subarray(r * c, r * c + c).some((v, j) => v !== first[j])) {
        throw new MismatchError(
          `the windows of clip ${JSON.stringify(options.ids[g])} have different labels`,
        );
      }
    }
    out.set(first, g * c);
  });
  return out;
}

/**
 * Scores `classifier` on the clips of `data` it did not train on (see the
 * module), each clip's logits averaged over its windows × crops.
 *
 * @throws {RangeError} for bad `windows`/`crops`; {MismatchError} when the
 *   data does not suit the classifier, or is its training data with nothing
 *   held out (without `includeTrain`), or its windows are incomplete.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Classifier } from "../../model/classifier.ts";
 * import type { Dataset } from "../../data/shards/dataset.ts";
 * import { evaluateClassifier } from "./evaluate.ts";
 * // Usually: await evaluateClassifier(classifier, data, { run, windows: 4, crops: 3 });
 * await assert.rejects(
 *   evaluateClassifier({} as Classifier, {} as Dataset, { crops: 2 }),
 *   /crops must be 1 or 3, got 2/,
 * );
 * ```
 */
export async function evaluateClassifier(
  classifier: Classifier,
  data: Dataset,
  options: EvaluateOptions = {},
): Promise<ClassifyEvaluation> {
  const windows = options.windows ?? DEFAULT_CLASSIFY_WINDOWS;
  const crops = options.crops ?? DEFAULT_CLASSIFY_CROPS;
  checkCounts(windows, crops);
  const { labels, indices: labelled } = await checkedLabels(classifier, data);
  const entries = windows > 1 && labelled.every((i) => WINDOW_ID.test(labels.ids[i]));
  const selection = chooseEvalClips(options.run, labels, {
    labelled,
    data: dataIdentity(data),
    clipOf: entries ? (id) => id.replace(WINDOW_ID, "") : undefined,
    includeTrain: options.includeTrain,
  });
  const settings = data.index.settings;
  const model = {
    frames: settings.frames,
    size: settings.size,
    audioSamples: settings.audioSamples,
  };
  // Crops cut video only: a classifier without video sees one view per window.
  const cropsUsed = classifier.spec.modalities.includes("video") ? crops : 1;
  const stored = storedShape(settings);
  const plan: ViewPlan = planViews(stored, model, {
    windows: entries ? 1 : windows,
    crops: cropsUsed,
  });
  const out = await classifyDataset(classifier, data, {
    indices: selection.indices,
    batchSize: options.batchSize,
    views: plan,
    onProgress: options.onProgress,
  });
  const c = classifier.spec.labels.names.length;
  const groups = groupWindows(out.ids, entries ? windows : 1);
  const logits = meanOfGroups(out.logits, { dim: c, members: groups.members }).vectors;
  const multiLabel = classifier.spec.labels.multiLabel;
  const grouped = groupLabels(out.labels, {
    members: groups.members,
    width: multiLabel ? c : 1,
    ids: groups.clipIds,
  });
  const report = classificationReport(logits, grouped, {
    numClasses: c,
    multiLabel,
    confusion: options.confusion,
  });
  return {
    report,
    ids: groups.clipIds,
    selection,
    views: {
      windows,
      crops,
      windowSource: entries ? "entries" : "stored-span",
      windowsIdentical: !entries && plan.windowsIdentical,
      cropsIdentical: plan.cropsIdentical || crops > cropsUsed,
      stored,
      model,
    },
  };
}
