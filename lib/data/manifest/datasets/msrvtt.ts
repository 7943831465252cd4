/**
 * MSR-VTT (Xu et al. 2016): 10,000 web video clips with 20 captions each. The
 * VATT paper reports zero-shot text-to-video retrieval on the 1k-A test set
 * (JSFusion, Yu et al. 2018: 1,000 clips, one caption each).
 *
 * Layout (the official annotation JSON, or its merged `MSRVTT_data.json` as
 * distributed with CLIP4Clip, and the 1k-A list):
 * ```
 * ROOT/MSRVTT_data.json           {"videos": [{"video_id": "video0", "category": 9,
 *                                   "split": "train", …}], "sentences": [{"video_id":
 *                                   "video0", "caption": "…", "sen_id": 0}]}
 * ROOT/MSRVTT_JSFUSION_test.csv   key,vid_key,video_id,sentence
 * ROOT/MSRVTT_train.9k.csv        video_id (the 9k training list beside 1k-A)
 * ROOT/videos/all/video0.mp4
 * ```
 * The annotation files may also sit in `ROOT/msrvtt_data/` or
 * `ROOT/annotation/`; instead of `MSRVTT_data.json`, the official
 * `train_val_videodatainfo.json` + `test_videodatainfo.json` are read. Videos
 * may be in `ROOT/videos/all/`, `ROOT/MSRVTT/videos/all/`, `ROOT/videos/`,
 * `ROOT/TrainValVideo/`, `ROOT/TestVideo/` or ROOT, as mp4, mkv, webm or avi.
 *
 * Splits: `1k-A` (default; the CSV: one row per clip with its one query
 * caption), `train` (video0–6512), `val` (video6513–7009), `test`
 * (video7010–9999), `full` (all; these four with all 20 captions per clip),
 * `train-9k` (the clips of `MSRVTT_train.9k.csv`, the training set that goes
 * with the 1k-A test set, with all their captions; rows numbered by its lines).
 * A video's `split` field decides when present, its number otherwise. Rows
 * of the JSON are numbered by their 1-based position in `videos` (or
 * `sentences`), as the file is one line.
 *
 * @module
 */
import { basename, join } from "node:path";
import { FormatError } from "../../../util/errors.ts";
import {
  type DatasetManifest,
  type DatasetOptions,
  type DatasetRow,
  ManifestCollector,
  readCsv,
} from "./_common.ts";
import { findVideo, firstFile, isObject, readJson } from "./_layout.ts";

/** The splits of MSR-VTT this reader lists. */
export const MSRVTT_SPLITS = ["1k-A", "train", "val", "test", "full", "train-9k"] as const;
/** The split read when none is given: the paper's retrieval test set. */
export const DEFAULT_MSRVTT_SPLIT = "1k-A";
/** `split` values of the annotation JSON → the split they mean. */
const SPLIT_VALUES: Record<string, string> = { train: "train", validate: "val", test: "test" };

/**
 * Reads MSR-VTT's annotations under `root` into retrieval rows (id = video id,
 * captions, no label) of `split` (see the module doc). A bad CSV line, a video
 * or sentence entry without its fields, an unknown split value or a clip
 * without captions is malformed; throws `RangeError` for an unknown split and
 * `FormatError` when the annotation files are absent or not MSR-VTT's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readMsrvtt } from "./msrvtt.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${root}/MSRVTT_JSFUSION_test.csv`,
 *   "key,vid_key,video_id,sentence\nret0,msr9770,video9770,a person is connecting something to system\n");
 * const m = await readMsrvtt(root, { skipMissingCheck: true });
 * assert.deepEqual(m.rows.map((r) => [r.id, r.captions]),
 *   [["video9770", ["a person is connecting something to system"]]]);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function readMsrvtt(
  root: string,
  options: DatasetOptions = {},
): Promise<DatasetManifest> {
  const split = options.split ?? DEFAULT_MSRVTT_SPLIT;
  if (!(MSRVTT_SPLITS as readonly string[]).includes(split)) {
    throw new RangeError(
      `Cannot read MSR-VTT: split must be ${MSRVTT_SPLITS.join(", ")}, got ${split}`,
    );
  }
  const dirs = [root, join(root, "msrvtt_data"), join(root, "annotation")];
  const videoDirs = [
    join(root, "videos", "all"),
    join(root, "MSRVTT", "videos", "all"),
    join(root, "videos"),
    join(root, "TrainValVideo"),
    join(root, "TestVideo"),
    root,
  ];
  if (split === "1k-A") {
    const file = await firstFile(
      "MSR-VTT's 1k-A list MSRVTT_JSFUSION_test.csv",
      dirs.map((d) => join(d, "MSRVTT_JSFUSION_test.csv")),
    );
    return await read1kA(file, videoDirs, options);
  }
  const files = await annotationFiles(dirs);
  const c = new ManifestCollector(files.join(" + "), options);
  const listed = split === "train-9k" ? await read9kList(dirs, c) : undefined;
  const videos: { row: number; id: string }[] = [];
  const captions = new Map<string, string[]>();
  for (const file of files) {
    const prefix = files.length > 1 ? `${basename(file)} ` : "";
    const json = await readJson(file);
    if (!isObject(json) || !Array.isArray(json.videos) || !Array.isArray(json.sentences)) {
      throw new FormatError('not MSR-VTT annotations: expected {"videos": […], "sentences": […]}', {
        path: file,
      });
    }
    json.videos.forEach((v, i) => {
      const problem = videoProblem(v, listed ? "full" : split);
      if (problem === "other split") return;
      if (listed && !problem && !listed.has((v as { video_id: string }).video_id)) return;
      if (problem) c.malformed(i + 1, `${prefix}videos[${i}]: ${problem}`);
      else {
        videos.push({ row: i + 1, id: (v as { video_id: string }).video_id });
        captions.set((v as { video_id: string }).video_id, []);
      }
    });
    json.sentences.forEach((s, i) => {
      if (!isObject(s) || typeof s.video_id !== "string" || typeof s.caption !== "string") {
        c.malformed(i + 1, `${prefix}sentences[${i}]: needs string video_id and caption`);
      } else captions.get(s.video_id)?.push(s.caption.trim());
    });
  }
  if (listed) {
    // The list's order and line numbers; a listed clip the annotations lack is malformed.
    const known = new Set(videos.map((v) => v.id));
    for (const [id, line] of listed) {
      if (!known.has(id)) c.malformed(line, `MSRVTT_train.9k.csv: ${id} is not in the annotations`);
    }
    videos.splice(
      0,
      videos.length,
      ...[...listed].filter(([id]) => known.has(id)).map(([id, row]) => ({ id, row })),
    );
  }
  for (const { row, id } of videos) {
    const texts = captions.get(id)!;
    if (texts.length === 0) c.malformed(row, `video ${id} has no captions`);
    else await addVideo(c, { id, captions: texts }, videoDirs, row);
  }
  return c.finish();
}

/** `MSRVTT_data.json`, or the official train/val + test pair, in the first folder that has them. */
async function annotationFiles(dirs: string[]): Promise<string[]> {
  try {
    return [await firstFile("MSRVTT_data.json", dirs.map((d) => join(d, "MSRVTT_data.json")))];
  } catch {
    const trainVal = dirs.map((d) => join(d, "train_val_videodatainfo.json"));
    const test = dirs.map((d) => join(d, "test_videodatainfo.json"));
    try {
      return [await firstFile("", trainVal), await firstFile("", test)];
    } catch {
      throw new FormatError(
        `cannot find MSR-VTT's MSRVTT_data.json (or train_val_videodatainfo.json + ` +
          `test_videodatainfo.json) in ${dirs.join(", ")}`,
      );
    }
  }
}

/** Why a `videos` entry is unusable, "other split" when it is fine but not in `split`, or undefined. */
function videoProblem(v: unknown, split: string): string | undefined {
  if (!isObject(v) || typeof v.video_id !== "string" || !/^[\w.-]+$/.test(v.video_id)) {
    return "needs a video_id (a file name without extension)";
  }
  let own: string | undefined;
  if (v.split !== undefined) {
    own = typeof v.split === "string" ? SPLIT_VALUES[v.split] : undefined;
    if (own === undefined) return `unknown split ${JSON.stringify(v.split)}`;
  } else {
    const m = /^video(\d+)$/.exec(v.video_id);
    if (!m) return `no split field, and ${v.video_id} is not video<N>`;
    const n = Number(m[1]);
    own = n < 6513 ? "train" : n < 7010 ? "val" : n < 10000 ? "test" : undefined;
    if (own === undefined) return `no split field, and ${v.video_id} is past video9999`;
  }
  return split === "full" || own === split ? undefined : "other split";
}

/**
 * `MSRVTT_train.9k.csv` (header `video_id`): listed id → its 1-based line. A
 * bad line is malformed in `c` (its reason names the list file).
 */
async function read9kList(dirs: string[], c: ManifestCollector): Promise<Map<string, number>> {
  const file = await firstFile(
    "MSR-VTT's 9k training list MSRVTT_train.9k.csv",
    dirs.map((d) => join(d, "MSRVTT_train.9k.csv")),
  );
  const records = await readCsv(file);
  const header = records.shift()?.fields.map((f) => f.trim()) ?? [];
  const col = header.indexOf("video_id");
  if (col < 0) {
    throw new FormatError("not the 9k training list: expected a header with video_id", {
      path: file,
    });
  }
  const listed = new Map<string, number>();
  for (const { row, fields, error } of records) {
    const id = fields[col]?.trim() ?? "";
    if (error || !/^[\w.-]+$/.test(id)) {
      c.malformed(row, `MSRVTT_train.9k.csv: ${error ?? "needs a video_id"}`);
    } else if (!listed.has(id)) listed.set(id, row);
  }
  return listed;
}

/** The 1k-A list: one row per line (columns found by the header), its sentence the one caption. */
async function read1kA(
  file: string,
  videoDirs: string[],
  options: DatasetOptions,
): Promise<DatasetManifest> {
  const records = await readCsv(file);
  const header = records.shift()?.fields.map((f) => f.trim()) ?? [];
  const idCol = header.indexOf("video_id");
  const textCol = header.indexOf("sentence");
  if (idCol < 0 || textCol < 0) {
    throw new FormatError("not the 1k-A list: expected a header with video_id and sentence", {
      path: file,
    });
  }
  const c = new ManifestCollector(file, options);
  for (const { row, fields, error } of records) {
    if (error) c.malformed(row, error);
    else if (fields.length !== header.length) {
      c.malformed(row, `has ${fields.length} fields, expected ${header.length}`);
    } else if (!/^[\w.-]+$/.test(fields[idCol].trim()) || fields[textCol].trim() === "") {
      c.malformed(row, "needs a video_id and a sentence");
    } else {
      const id = fields[idCol].trim();
      await addVideo(c, { id, captions: [fields[textCol].trim()] }, videoDirs, row);
    }
  }
  return c.finish();
}

/** Adds the row with its video found under `videoDirs`, or counts it missing. */
async function addVideo(
  c: ManifestCollector,
  row: DatasetRow,
  videoDirs: string[],
  line: number,
): Promise<void> {
  if (!c.checksMedia) {
    await c.add({ ...row, video: join(videoDirs[0], `${row.id}.mp4`) }, line);
    return;
  }
  const video = await findVideo(videoDirs, row.id);
  if (video === undefined) c.missingFile(join(videoDirs[0], `${row.id}.mp4`), line);
  else await c.add({ ...row, video }, line, { verified: true });
}
