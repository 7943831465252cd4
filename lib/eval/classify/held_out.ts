/**
 * Which clips `vatt eval classify` scores: only clips the classifier did not
 * train on. On the very dataset a run trained on, that is the part it held
 * out for validation (recorded in the run's `config.json`, see
 * `lib/run/trained_on.ts`; runs written before that record are split again
 * from their recorded fraction and seed); on any other dataset, every
 * labelled clip. Scoring training clips is opt-in, and counted.
 *
 * @module
 */
import * as path from "node:path";
import { type DatasetLabels, splitByClip } from "../../data/shards/split.ts";
import { datasetFingerprint, type RunRecord } from "../../run/trained_on.ts";
import { MismatchError } from "../../util/errors.ts";

/** How the scored clips were chosen. */
export type EvalClipSource =
  /** The held-out part of the data the run trained on. */
  | "held-out"
  /** Data other than the run's training data: every labelled clip. */
  | "other-data"
  /** The run's training data, training clips included on request. */
  | "include-train"
  /** The run records no training data (a checkpoint outside its run): every labelled clip. */
  | "unknown";

/** The clips chosen for scoring. */
export interface EvalClips {
  /** Dataset positions to score, in dataset order. */
  indices: number[];
  source: EvalClipSource;
  /** Scored clips that the classifier trained on (only with `includeTrain`). */
  trainingClips: number;
}

/** Options of {@linkcode chooseEvalClips}. */
export interface ChooseOptions {
  /** Positions of the labelled clips (candidates). */
  labelled: number[];
  /** The dataset's fingerprint (`datasetFingerprint(data.index)`) and folder. */
  data: { fingerprint: string; dir: string };
  /** The clip an entry belongs to (`<clip>#w<k>` → `<clip>` when windows are entries). */
  clipOf?: (id: string) => string;
  /** Score training clips too. */
  includeTrain?: boolean;
}

/** The held-out ids of the run when `data` is its training data; `undefined` when it is not. */
function heldOutIds(
  run: RunRecord,
  labels: DatasetLabels,
  data: ChooseOptions["data"],
): Set<string> | undefined {
  const t = run.trainedOn;
  const samePath = run.dataDir !== undefined &&
    path.resolve(run.dataDir) === path.resolve(data.dir);
  if (t && (t.data === data.fingerprint || samePath)) return new Set(t.heldOut);
  if (t || !samePath) return undefined;
  // A run from before `trainedOn`: its split is a function of the data, the fraction and the seed.
  if (run.valDir !== undefined || !run.split || run.split.valFraction === 0) return new Set();
  const { val } = splitByClip(labels, run.split);
  return new Set(val.map((i) => labels.ids[i]));
}

/** The refusal when `data` is the training data and nothing of it is held out. */
function noHeldOut(run: RunRecord, dir: string): MismatchError {
  const where = run.valDir !== undefined
    ? `it validated on ${run.valDir}; evaluate on that`
    : "it held none out; evaluate on other data";
  return new MismatchError(
    `${dir} is the data ${run.dir} was trained on and no held-out part of it is recorded (${where}, or pass --include-train to score training clips)`,
  );
}

/**
 * The clips to score of a dataset whose labels are `labels`, for the run
 * `run` (undefined: no record): see the module.
 *
 * @throws {MismatchError} when the dataset is the run's training data, no
 *   labelled clip of it was held out and `includeTrain` is not set.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chooseEvalClips } from "./held_out.ts";
 * const m = new Uint8Array(4);
 * const labels = { ids: ["a", "b", "c", "d"], labels: Int32Array.of(0, 1, 0, 1), names: ["x", "y"],
 *   multiLabel: false, audioMask: m, captionMask: m };
 * const run = { dir: "/runs/ft", trainedOn: { data: "f", trainClips: 2, heldOut: ["b", "d"] } };
 * const data = { fingerprint: "f", dir: "/data" };
 * const held = chooseEvalClips(run, labels, { labelled: [0, 1, 2, 3], data });
 * assert.deepEqual(held.indices, [1, 3]);
 * const all = chooseEvalClips(run, labels, { labelled: [0, 1, 2, 3], data, includeTrain: true });
 * assert.equal(all.trainingClips, 2);
 * const other = chooseEvalClips(run, labels, { labelled: [0, 1, 2, 3], data: { fingerprint: "g", dir: "/v" } });
 * assert.equal(other.source, "other-data");
 * ```
 */
export function chooseEvalClips(
  run: RunRecord | undefined,
  labels: DatasetLabels,
  options: ChooseOptions,
): EvalClips {
  const { labelled } = options;
  if (!run) return { indices: labelled, source: "unknown", trainingClips: 0 };
  const held = heldOutIds(run, labels, options.data);
  if (!held) return { indices: labelled, source: "other-data", trainingClips: 0 };
  const clipOf = options.clipOf ?? ((id: string) => id);
  const trained = new Set<string>();
  for (const i of labelled) if (!held.has(labels.ids[i])) trained.add(clipOf(labels.ids[i]));
  const isTrained = (i: number) => trained.has(clipOf(labels.ids[i]));
  if (options.includeTrain) {
    const scored = new Set(labelled.map((i) => clipOf(labels.ids[i])));
    const trainingClips = [...scored].filter((c) => trained.has(c)).length;
    return { indices: labelled, source: "include-train", trainingClips };
  }
  const indices = labelled.filter((i) => !isTrained(i));
  if (indices.length === 0) throw noHeldOut(run, options.data.dir);
  return { indices, source: "held-out", trainingClips: 0 };
}

/**
 * The fingerprint and folder of a dataset, as {@linkcode chooseEvalClips}
 * compares them with a run's record.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dataIdentity } from "./held_out.ts";
 * const id = dataIdentity({ dir: "d", index: { shards: [{ sha256: "aa" }] } });
 * assert.equal(id.dir, "d");
 * assert.equal(id.fingerprint.length, 64);
 * ```
 */
export function dataIdentity(
  data: { dir: string; index: Parameters<typeof datasetFingerprint>[0] },
): ChooseOptions["data"] {
  return { fingerprint: datasetFingerprint(data.index), dir: data.dir };
}
