/**
 * What a fine-tuning run trained on, recorded in its `config.json` under
 * `trainedOn` so that evaluation can score only clips the classifier never
 * saw: the training dataset's fingerprint (its shards' checksums, so a copy
 * of the folder is recognised too), and the ids of that dataset's clips held
 * out for validation (none when the run validated on separate `--val` data).
 *
 * @module
 */
import * as path from "node:path";
import type { DatasetIndex } from "../data/shards/dataset_index.ts";
import { sha256Bytes } from "../io/sha256.ts";
import { INPUT_LIMITS, readInputText } from "../io/input.ts";
import { FormatError } from "../util/errors.ts";

/** The key of `config.json` that holds {@linkcode TrainedOn}. */
export const TRAINED_ON_KEY = "trainedOn";

/** What a fine-tuning run trained on. */
export interface TrainedOn {
  /** {@linkcode datasetFingerprint} of the training dataset. */
  data: string;
  /** Clips trained on. */
  trainClips: number;
  /** Ids of the training dataset's clips held out for validation (its split); `[]` with `--val` data. */
  heldOut: string[];
}

/**
 * A dataset's fingerprint: the SHA-256 of its shards' SHA-256s in order
 * (read from `index.json`, no shard is opened). Equal fingerprints mean the
 * same stored clips, wherever the folder is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { datasetFingerprint } from "./trained_on.ts";
 * const a = datasetFingerprint({ shards: [{ sha256: "aa" }, { sha256: "bb" }] });
 * assert.equal(a.length, 64);
 * assert.notEqual(a, datasetFingerprint({ shards: [{ sha256: "bb" }, { sha256: "aa" }] }));
 * ```
 */
export function datasetFingerprint(
  index: { shards: readonly Pick<DatasetIndex["shards"][number], "sha256">[] },
): string {
  return sha256Bytes(index.shards.map((s) => s.sha256).join("\n"));
}

/**
 * The record of a run that trained on clips `train` of a dataset (positions
 * in `ids`, its clip ids in order) and held out clips `heldOut` of it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { trainedOnRecord } from "./trained_on.ts";
 * const index = { shards: [{ sha256: "aa" }] };
 * const r = trainedOnRecord(index, { ids: ["a", "b", "c"], train: [0, 2], heldOut: [1] });
 * assert.deepEqual(r.heldOut, ["b"]);
 * assert.equal(r.trainClips, 2);
 * ```
 */
export function trainedOnRecord(
  index: { shards: readonly Pick<DatasetIndex["shards"][number], "sha256">[] },
  split: { ids: readonly string[]; train: readonly number[]; heldOut: readonly number[] },
): TrainedOn {
  return {
    data: datasetFingerprint(index),
    trainClips: split.train.length,
    heldOut: split.heldOut.map((i) => split.ids[i]),
  };
}

/** What evaluation reads of a fine-tuning run's `config.json`. */
export interface RunRecord {
  /** The run folder. */
  dir: string;
  /** The training dataset's folder, as recorded. */
  dataDir?: string;
  /** The validation dataset's folder (`--val`), as recorded. */
  valDir?: string;
  /** The split's settings (runs written before `trainedOn` existed). */
  split?: { valFraction: number; seed: number };
  trainedOn?: TrainedOn;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `trainedOn` of a parsed `config.json`, validated; undefined when absent. */
function parseTrainedOn(raw: unknown, file: string): TrainedOn | undefined {
  if (raw === undefined) return undefined;
  const ok = isRecord(raw) && typeof raw.data === "string" &&
    Number.isSafeInteger(raw.trainClips) && Array.isArray(raw.heldOut) &&
    raw.heldOut.every((id) => typeof id === "string");
  if (!ok) throw new FormatError(`${TRAINED_ON_KEY} is not valid`, { path: file });
  return raw as unknown as TrainedOn;
}

/**
 * The record of the fine-tuning run that holds `checkpoint`
 * (`RUN/checkpoints/step-N`): undefined when there is no fine-tuning run's
 * `config.json` beside its `checkpoints/` (a checkpoint copied out of its run).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readRunRecord } from "./trained_on.ts";
 * const run = Deno.makeTempDirSync();
 * Deno.mkdirSync(`${run}/checkpoints/step-0000001`, { recursive: true });
 * const trainedOn = { data: "f", trainClips: 3, heldOut: ["b"] };
 * Deno.writeTextFileSync(`${run}/config.json`, JSON.stringify({
 *   kind: "finetune", data: { dir: "/d" }, val: null, finetune: { valFraction: 0.2, seed: 0 }, trainedOn,
 * }));
 * const r = await readRunRecord(`${run}/checkpoints/step-0000001`);
 * assert.deepEqual(r?.trainedOn, trainedOn);
 * assert.equal(r?.dataDir, "/d");
 * assert.equal(await readRunRecord(Deno.makeTempDirSync()), undefined);
 * ```
 */
export async function readRunRecord(checkpoint: string): Promise<RunRecord | undefined> {
  const dir = path.dirname(path.dirname(path.resolve(checkpoint)));
  const file = path.join(dir, "config.json");
  let raw: unknown;
  try {
    raw = JSON.parse(
      await readInputText(file, { maxBytes: INPUT_LIMITS.json, label: "config.json" }),
    );
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    if (e instanceof FormatError) throw e;
    throw new FormatError(`cannot read config.json: ${(e as Error).message}`, { path: file });
  }
  if (!isRecord(raw)) throw new FormatError("config.json is not an object", { path: file });
  // Another kind of run's folder (a checkpoint copied into it) records nothing about this one.
  if (raw.kind !== "finetune") return undefined;
  const dirOf = (v: unknown) => isRecord(v) && typeof v.dir === "string" ? v.dir : undefined;
  const ft = raw.finetune;
  const split = isRecord(ft) && typeof ft.valFraction === "number" && typeof ft.seed === "number"
    ? { valFraction: ft.valFraction, seed: ft.seed }
    : undefined;
  return {
    dir,
    dataDir: dirOf(raw.data),
    valDir: dirOf(raw.val),
    split,
    trainedOn: parseTrainedOn(raw[TRAINED_ON_KEY], file),
  };
}
