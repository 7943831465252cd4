/**
 * Kinetics-400/600/700 (Kay et al. 2017; Carreira et al. 2018, 2019): 10 s
 * YouTube clips of human actions, one label each. All versions share the CSV
 * format `label,youtube_id,time_start,time_end,split` (Kinetics-400 adds
 * `is_cc`; test files of some versions lack `label`); columns are found by
 * the header.
 *
 * Layout (the CVDF download or the ActivityNet downloader):
 * ```
 * ROOT/annotations/train.csv   (or ROOT/train.csv; val: val.csv or validate.csv)
 * ROOT/train/<youtube_id>_<start:06d>_<end:06d>.mp4
 * ROOT/train/<label>/<youtube_id>_<start:06d>_<end:06d>.mp4   (any depth)
 * ROOT/train/<youtube_id>.mp4   (a whole video: start/end taken from the CSV)
 * ```
 * A trimmed clip (name with its times) spans `[0, time_end - time_start)`.
 *
 * @module
 */
import { join } from "node:path";
import { FormatError } from "../../../util/errors.ts";
import {
  type DatasetManifest,
  type DatasetOptions,
  indexMedia,
  ManifestCollector,
  parseSeconds,
  readCsv,
  timeWindowProblem,
} from "./_common.ts";
import { firstFile } from "./_layout.ts";

/** Split names → the names its files and folders go by. */
const SPLITS: Record<string, string[]> = {
  train: ["train"],
  val: ["val", "validate", "validation"],
  test: ["test"],
};
/** Values of the `split` column and the split they mean. */
const SPLIT_VALUES: Record<string, string> = {
  train: "train",
  val: "val",
  validate: "val",
  validation: "val",
  test: "test",
};
/** The split read when none is given. */
export const DEFAULT_KINETICS_SPLIT = "train";

/**
 * Reads the Kinetics CSV of `split` (`train`, default; `val`; `test`) under
 * `root` into labelled rows; rows of another split (a `split` column naming
 * one) are left out, an unknown split value is malformed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readKinetics } from "./kinetics.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.mkdir(`${root}/train/abseiling`, { recursive: true });
 * await Deno.writeTextFile(`${root}/train.csv`,
 *   "label,youtube_id,time_start,time_end,split\nabseiling,0347ZoDXyP0,14,24,train\n");
 * await Deno.writeTextFile(`${root}/train/abseiling/0347ZoDXyP0_000014_000024.mp4`, "");
 * const { rows } = await readKinetics(root, {});
 * assert.deepEqual(rows.map((r) => [r.id, r.label, r.start, r.end]),
 *   [["0347ZoDXyP0_000014_000024", "abseiling", 0, 10]]);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function readKinetics(
  root: string,
  options: DatasetOptions = {},
): Promise<DatasetManifest> {
  const split = options.split ?? DEFAULT_KINETICS_SPLIT;
  const names = SPLITS[split];
  if (!names) {
    throw new RangeError(`Cannot read Kinetics: split must be train, val or test, got ${split}`);
  }
  const file = await findAnnotation(root, names);
  const records = await readCsv(file);
  const header = records.shift();
  const columns = header?.fields.map((f) => f.trim()) ?? [];
  const col = (name: string) => columns.indexOf(name);
  if (col("youtube_id") < 0 || col("time_start") < 0 || col("time_end") < 0) {
    throw new FormatError(
      "not a Kinetics CSV: the header lacks youtube_id, time_start or time_end",
      { path: file },
    );
  }
  const c = new ManifestCollector(file, options);
  const media = new Map<string, string>();
  if (c.checksMedia) {
    for (const name of names.toReversed()) {
      for (const [k, v] of await indexMedia(join(root, name))) media.set(k, v);
    }
  }
  for (const { row, fields, error } of records) {
    if (error) c.malformed(row, error);
    else if (fields.length !== columns.length) {
      c.malformed(row, `has ${fields.length} fields, the header has ${columns.length}`);
    } else {
      const cell = (name: string) => col(name) < 0 ? "" : fields[col(name)].trim();
      await addClip(c, { row, cell, split, media, folder: join(root, names[0]) });
    }
  }
  return c.finish();
}

interface ClipInput {
  row: number;
  cell: (name: string) => string;
  split: string;
  media: Map<string, string>;
  folder: string;
}

/** Checks one CSV row and adds its clip. */
async function addClip(c: ManifestCollector, input: ClipInput): Promise<void> {
  const { row, cell } = input;
  const ytid = cell("youtube_id");
  const start = parseSeconds(cell("time_start"));
  const end = parseSeconds(cell("time_end"));
  const rowSplit = cell("split");
  const problem = timeWindowProblem(start, end);
  if (!/^[\w-]+$/.test(ytid)) return c.malformed(row, `bad youtube_id ${JSON.stringify(ytid)}`);
  if (problem) return c.malformed(row, problem);
  if (rowSplit !== "" && !(rowSplit in SPLIT_VALUES)) {
    return c.malformed(row, `unknown split ${JSON.stringify(rowSplit)}`);
  }
  if (rowSplit !== "" && SPLIT_VALUES[rowSplit] !== input.split) return; // another split's row
  const pad = (t: number) => String(Math.round(t)).padStart(6, "0");
  const id = `${ytid}_${pad(start!)}_${pad(end!)}`;
  const label = cell("label");
  const clip = { id, captions: [], ...(label === "" ? {} : { label }) };
  if (!c.checksMedia) {
    await c.add(
      { ...clip, video: join(input.folder, `${id}.mp4`), start: 0, end: end! - start! },
      row,
    );
    return;
  }
  const trimmed = input.media.get(id);
  const whole = input.media.get(ytid);
  if (trimmed) {
    await c.add({ ...clip, video: trimmed, start: 0, end: end! - start! }, row, { verified: true });
  } else if (whole) await c.add({ ...clip, video: whole, start, end }, row, { verified: true });
  else c.missingFile(join(input.folder, `${id}.mp4`), row);
}

/** The first of `ROOT/annotations/<name>.csv`, `ROOT/<name>.csv` that exists. */
function findAnnotation(root: string, names: string[]): Promise<string> {
  const paths = names.flatMap((name) => [
    join(root, "annotations", `${name}.csv`),
    join(root, `${name}.csv`),
  ]);
  return firstFile("a Kinetics annotation file", paths);
}
