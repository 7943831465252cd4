/**
 * YouCook2 (Zhou et al. 2018): 2,000 cooking videos of 89 recipes, cut into
 * segments with one imperative sentence each. The VATT paper reports
 * zero-shot text-to-video retrieval on the validation segments.
 *
 * Layout (the YouCook2 release, videos fetched with its download script):
 * ```
 * ROOT/annotations/youcookii_annotations_trainval.json
 *   {"database": {"GLd3aX16zBg": {"duration": 241.62, "subset": "training",
 *    "recipe_type": "113", "video_url": "…", "annotations": [{"segment": [90, 102],
 *    "id": 0, "sentence": "spread margarine on two slices of white bread"}, …]}, …}}
 * ROOT/raw_videos/training/113/GLd3aX16zBg.mp4       (or .mkv, .webm)
 * ```
 * The JSON may also sit directly in ROOT, and the subset folders too (no
 * `raw_videos/`). One row per segment: id `<video>_<segment id>`, its sentence
 * as the caption, `start`/`end` from `segment` (seconds in the whole video).
 * Rows are numbered by the video's 1-based position in `database`.
 *
 * @module
 */
import { join } from "node:path";
import { FormatError } from "../../../util/errors.ts";
import {
  type DatasetManifest,
  type DatasetOptions,
  type DatasetRow,
  ManifestCollector,
  timeWindowProblem,
} from "./_common.ts";
import { findVideo, firstFile, isObject, readJson } from "./_layout.ts";

/** The subsets with sentences (the test subset's are withheld). */
export const YOUCOOK2_SPLITS = ["training", "validation"] as const;
/** The split read when none is given: the paper's retrieval set. */
export const DEFAULT_YOUCOOK2_SPLIT = "validation";
/** Short names accepted for the subsets. */
const ALIASES: Record<string, string> = { train: "training", val: "validation" };
/** Every `subset` value of the annotation file. */
const SUBSETS = new Set(["training", "validation", "testing"]);

/**
 * Reads `youcookii_annotations_trainval.json` under `root` into one retrieval
 * row per segment of `split` (`training` or `validation`, default; `train` and
 * `val` too). A video entry without `subset`/`recipe_type`/`annotations`, an
 * unknown subset, or a segment with bad times or no sentence is malformed; a
 * missing video counts once and skips its segments. Throws `RangeError` for an
 * unknown split and `FormatError` when the file is absent or has no
 * `database`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readYouCook2 } from "./youcook2.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${root}/youcookii_annotations_trainval.json`, JSON.stringify({
 *   database: { GLd3aX16zBg: { duration: 241.62, subset: "validation", recipe_type: "113",
 *     annotations: [{ segment: [90, 102], id: 0, sentence: "spread margarine" }] } },
 * }));
 * const m = await readYouCook2(root, { skipMissingCheck: true });
 * assert.deepEqual(m.rows.map((r) => [r.id, r.captions, r.start, r.end]),
 *   [["GLd3aX16zBg_0", ["spread margarine"], 90, 102]]);
 * assert.equal(m.rows[0].video, `${root}/raw_videos/validation/113/GLd3aX16zBg.mp4`);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function readYouCook2(
  root: string,
  options: DatasetOptions = {},
): Promise<DatasetManifest> {
  const asked = options.split ?? DEFAULT_YOUCOOK2_SPLIT;
  const split = ALIASES[asked] ?? asked;
  if (!(YOUCOOK2_SPLITS as readonly string[]).includes(split)) {
    throw new RangeError(
      `Cannot read YouCook2: split must be training (train) or validation (val), got ${asked}`,
    );
  }
  const name = "youcookii_annotations_trainval.json";
  const file = await firstFile(`YouCook2's ${name}`, [
    join(root, "annotations", name),
    join(root, name),
  ]);
  const json = await readJson(file);
  if (!isObject(json) || !isObject(json.database)) {
    throw new FormatError('not YouCook2 annotations: expected {"database": {…}}', { path: file });
  }
  const c = new ManifestCollector(file, options);
  let row = 0;
  for (const [id, entry] of Object.entries(json.database)) {
    row++;
    if (
      !isObject(entry) || typeof entry.subset !== "string" ||
      typeof entry.recipe_type !== "string" || !Array.isArray(entry.annotations) ||
      !/^[\w-]+$/.test(id)
    ) {
      c.malformed(row, `video ${id}: needs subset, recipe_type and annotations`);
    } else if (!SUBSETS.has(entry.subset)) {
      c.malformed(row, `video ${id}: unknown subset ${JSON.stringify(entry.subset)}`);
    } else if (entry.subset === split) {
      const segments = segmentRows(c, id, entry.annotations, row);
      if (segments.length === 0) continue;
      const dirs = [
        join(root, "raw_videos", split, entry.recipe_type),
        join(root, split, entry.recipe_type),
      ];
      const video = c.checksMedia
        ? await findVideo(dirs, id, ["mp4", "mkv", "webm"])
        : join(dirs[0], `${id}.mp4`);
      if (video === undefined) c.missingFile(join(dirs[0], `${id}.mp4`), row);
      else for (const s of segments) await c.add({ ...s, video }, row, { verified: true });
    }
  }
  return c.finish();
}

/** The usable segments of one video (without `video`); bad ones counted as malformed at `row`. */
function segmentRows(
  c: ManifestCollector,
  id: string,
  annotations: unknown[],
  row: number,
): Omit<DatasetRow, "video">[] {
  const rows: Omit<DatasetRow, "video">[] = [];
  annotations.forEach((a, i) => {
    const where = `video ${id} annotations[${i}]`;
    if (!isObject(a) || !Array.isArray(a.segment) || a.segment.length !== 2) {
      c.malformed(row, `${where}: needs a segment [start, end]`);
      return;
    }
    const [s, e] = a.segment.map((
      t,
    ) => (typeof t === "number" && t >= 0 && Number.isFinite(t) ? t : undefined));
    const problem = timeWindowProblem(s, e);
    if (problem) c.malformed(row, `${where}: ${problem}`);
    else if (typeof a.sentence !== "string" || a.sentence.trim() === "") {
      c.malformed(row, `${where}: needs a sentence`);
    } else {
      const segmentId = Number.isSafeInteger(a.id) ? String(a.id) : String(i);
      rows.push({ id: `${id}_${segmentId}`, captions: [a.sentence.trim()], start: s, end: e });
    }
  });
  return rows;
}
