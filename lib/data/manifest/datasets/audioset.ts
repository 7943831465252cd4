/**
 * AudioSet (Gemmeke et al. 2017): 10 s YouTube segments with several of 527
 * sound labels each, split into `balanced_train` (~22k), `unbalanced_train`
 * (~2M) and `eval` (~20k).
 *
 * Layout (the CSVs as published, next to the downloaded segments):
 * ```
 * ROOT/class_labels_indices.csv         index,mid,display_name
 * ROOT/balanced_train_segments.csv      # YTID, start_seconds, end_seconds, positive_labels
 * ROOT/balanced_train/<file>            (or ROOT/balanced_train_segments/<file>; any depth)
 * ```
 * A segment file is found by its name without extension: `Y<YTID>`,
 * `<YTID>_<start>`, `<YTID>_<start>_<end>` (whole seconds, optionally padded
 * to 6 digits) are the trimmed segment (spanning `[0, end - start)`);
 * `<YTID>` is the whole video (the CSV times are used). Audio extensions
 * (`.wav`, `.flac`, …) give audio-only rows, anything else a video.
 *
 * @module
 */
import { join } from "node:path";
import { FormatError } from "../../../util/errors.ts";
import {
  type DatasetManifest,
  type DatasetOptions,
  type DatasetRow,
  indexMedia,
  isAudioFile,
  ManifestCollector,
  parseSeconds,
  readAnnotation,
  readCsv,
  timeWindowProblem,
} from "./_common.ts";

/** The segment lists of AudioSet. */
export const AUDIOSET_SPLITS = ["balanced_train", "unbalanced_train", "eval"] as const;
/** The split read when none is given. */
export const DEFAULT_AUDIOSET_SPLIT = "balanced_train";

/**
 * Reads `ROOT/<split>_segments.csv` (default split `balanced_train`) and
 * `ROOT/class_labels_indices.csv` into multi-label rows whose labels are the
 * display names. A row with an unknown label id, bad times or the wrong
 * number of fields is malformed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readAudioSet } from "./audioset.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${root}/class_labels_indices.csv`,
 *   'index,mid,display_name\n0,/m/09x0r,"Speech"\n1,/m/05zppz,"Male speech, man speaking"\n');
 * await Deno.writeTextFile(`${root}/balanced_train_segments.csv`,
 *   "# YTID, start_seconds, end_seconds, positive_labels\n" +
 *   '--PJHxphWEs, 30.000, 40.000, "/m/09x0r,/m/05zppz"\n');
 * const { rows } = await readAudioSet(root, { skipMissingCheck: true });
 * assert.deepEqual(rows[0].label, ["Speech", "Male speech, man speaking"]);
 * assert.deepEqual([rows[0].id, rows[0].start, rows[0].end], ["--PJHxphWEs_30", 0, 10]);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function readAudioSet(
  root: string,
  options: DatasetOptions = {},
): Promise<DatasetManifest> {
  const split = options.split ?? DEFAULT_AUDIOSET_SPLIT;
  if (!(AUDIOSET_SPLITS as readonly string[]).includes(split)) {
    throw new RangeError(
      `Cannot read AudioSet: split must be one of ${AUDIOSET_SPLITS.join(", ")}, got ${split}`,
    );
  }
  const names = await readClassNames(join(root, "class_labels_indices.csv"));
  const file = join(root, `${split}_segments.csv`);
  const text = await readAnnotation(file);
  const c = new ManifestCollector(file, options);
  const media = new Map<string, string>();
  if (c.checksMedia) {
    for (const dir of [`${split}_segments`, split]) {
      for (const [k, v] of await indexMedia(join(root, dir))) media.set(k, v);
    }
  }
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === "" || line.trimStart().startsWith("#")) continue;
    const row = segmentRow(line, names);
    if (typeof row === "string") {
      c.malformed(i + 1, row);
      continue;
    }
    const { ytid, start, end, labels } = row;
    const id = `${ytid}_${Math.round(start)}`;
    const clip: DatasetRow = { id, captions: [], label: labels, start: 0, end: end - start };
    if (!c.checksMedia) {
      await c.add({ ...clip, video: join(root, split, `${id}.mp4`) }, i + 1);
      continue;
    }
    const found = findSegment(media, ytid, start, end);
    if (!found) {
      c.missingFile(join(root, split, `${id}.*`), i + 1);
      continue;
    }
    const placed = isAudioFile(found.path) ? { audio: found.path } : { video: found.path };
    const times = found.trimmed ? {} : { start, end };
    await c.add({ ...clip, ...placed, ...times }, i + 1, { verified: true });
  }
  return c.finish();
}

/** `class_labels_indices.csv` as mid → display name. */
async function readClassNames(file: string): Promise<Map<string, string>> {
  const records = await readCsv(file);
  const header = records.shift()?.fields.map((f) => f.trim()).join(",");
  if (header !== "index,mid,display_name") {
    throw new FormatError("not AudioSet's class list: expected the header index,mid,display_name", {
      path: file,
    });
  }
  const names = new Map<string, string>();
  for (const { row, fields, error } of records) {
    if (error || fields.length !== 3) {
      throw new FormatError(`line ${row}: ${error ?? `has ${fields.length} fields, expected 3`}`, {
        path: file,
      });
    }
    names.set(fields[1].trim(), fields[2].trim());
  }
  return names;
}

interface Segment {
  ytid: string;
  start: number;
  end: number;
  labels: string[];
}

/** One segment line (`YTID, start, end, "mid,mid"`), or why it is malformed. */
function segmentRow(line: string, names: Map<string, string>): Segment | string {
  const fields = splitSegmentLine(line);
  if (typeof fields === "string") return fields;
  if (fields.length !== 4) return `has ${fields.length} fields, expected 4`;
  const [ytid, startText, endText, labelText] = fields;
  if (!/^[\w-]+$/.test(ytid)) return `bad YTID ${JSON.stringify(ytid)}`;
  const start = parseSeconds(startText);
  const end = parseSeconds(endText);
  const problem = timeWindowProblem(start, end);
  if (problem) return problem;
  const mids = labelText.split(",").map((m) => m.trim()).filter((m) => m !== "");
  if (mids.length === 0) return "no positive labels";
  const unknown = mids.find((m) => !names.has(m));
  if (unknown !== undefined) return `unknown label id ${JSON.stringify(unknown)}`;
  return { ytid, start: start!, end: end!, labels: mids.map((m) => names.get(m)!) };
}

/**
 * Splits a segment line: fields separated by `,` and optional spaces, a field
 * may be in double quotes (holding commas).
 */
function splitSegmentLine(line: string): string[] | string {
  const fields: string[] = [];
  let i = 0;
  while (true) {
    while (line[i] === " " || line[i] === "\t") i++;
    if (line[i] === '"') {
      const close = line.indexOf('"', i + 1);
      if (close < 0) return "quoted field is never closed";
      fields.push(line.slice(i + 1, close));
      i = close + 1;
      while (line[i] === " " || line[i] === "\t") i++;
      if (i < line.length && line[i] !== ",") return "text after a closing quote";
    } else {
      const comma = line.indexOf(",", i);
      const end = comma < 0 ? line.length : comma;
      fields.push(line.slice(i, end).trim());
      i = end;
    }
    if (i >= line.length) return fields;
    i++; // the comma
  }
}

/** The downloaded file of a segment, and whether it is trimmed to the segment. */
function findSegment(
  media: Map<string, string>,
  ytid: string,
  start: number,
  end: number,
): { path: string; trimmed: boolean } | undefined {
  const s = Math.round(start);
  const e = Math.round(end);
  const pad = (t: number) => String(t).padStart(6, "0");
  const trimmed = [`Y${ytid}`, `${ytid}_${s}`, `${ytid}_${s}_${e}`, `${ytid}_${pad(s)}_${pad(e)}`];
  for (const stem of trimmed) {
    const path = media.get(stem);
    if (path) return { path, trimmed: true };
  }
  const whole = media.get(ytid);
  return whole ? { path: whole, trimmed: false } : undefined;
}
