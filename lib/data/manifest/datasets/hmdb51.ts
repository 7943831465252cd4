/**
 * HMDB51 (Kuehne et al. 2011): 6,766 clips of 51 human actions from films and
 * YouTube, with three official train/test splits (70 train and 30 test clips
 * per class in each); the VATT paper reports top-1 accuracy averaged over the
 * three.
 *
 * Layout (`hmdb51_org.rar` with its per-class archives unpacked, and
 * `test_train_splits.rar`):
 * ```
 * ROOT/testTrainMulti_7030_splits/brush_hair_test_split1.txt
 *        "April_09_brush_hair_u_nm_np1_ba_goo_0.avi 1 "  (1 train, 2 test, 0 unused)
 * ROOT/brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_0.avi
 * ```
 * The split files may also sit in `ROOT/test_train_splits/…` or in ROOT, and
 * the class folders in `ROOT/hmdb51_org/` or `ROOT/videos/`. The label of a
 * row is the class named by its split file (`<class>_test_split<N>.txt`).
 *
 * @module
 */
import { basename, extname, join } from "node:path";
import { FormatError } from "../../../util/errors.ts";
import { type DatasetManifest, type DatasetOptions, ManifestCollector } from "./_common.ts";
import { actionSplit, firstDir, textLines } from "./_layout.ts";

/** The id that marks a clip's half in a split file. */
const SUBSET_IDS = { train: "1", test: "2" } as const;

/**
 * Reads HMDB51's `<class>_test_split<N>.txt` files (`split` 1..3, default 1)
 * into labelled video rows of `subset` (train, default: id 1; test: id 2).
 * A line that is not `<video> 0|1|2` is malformed (its reason names the split
 * file; the row number is its line there). Throws `RangeError` for a bad split
 * or subset and `FormatError` when no split file is found.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readHmdb51 } from "./hmdb51.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.mkdir(`${root}/testTrainMulti_7030_splits`);
 * await Deno.writeTextFile(`${root}/testTrainMulti_7030_splits/brush_hair_test_split2.txt`,
 *   "a_brush_hair_0.avi 1 \nb_brush_hair_1.avi 2 \nc_brush_hair_2.avi 0 \n");
 * const m = await readHmdb51(root, { split: "2", subset: "test", skipMissingCheck: true });
 * assert.deepEqual(m.rows.map((r) => [r.id, r.label, r.video]),
 *   [["b_brush_hair_1", "brush_hair", `${root}/brush_hair/b_brush_hair_1.avi`]]);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function readHmdb51(
  root: string,
  options: DatasetOptions = {},
): Promise<DatasetManifest> {
  const { split, subset } = actionSplit("HMDB51", options);
  const splitDirs = [
    join(root, "testTrainMulti_7030_splits"),
    join(root, "test_train_splits", "testTrainMulti_7030_splits"),
    join(root, "test_train_splits"),
    root,
  ];
  const { dir, files } = await splitFiles(splitDirs, split);
  const media = await firstDir([join(root, "hmdb51_org"), join(root, "videos")], root);
  const c = new ManifestCollector(join(dir, `<class>_test_split${split}.txt`), options);
  for (const { name, label } of files) {
    for (const { line, text } of await textLines(join(dir, name))) {
      const fields = text.split(/\s+/);
      if (fields.length !== 2) {
        c.malformed(line, `${name}: has ${fields.length} columns, expected 2`);
      } else if (!/^[012]$/.test(fields[1])) {
        c.malformed(line, `${name}: split id ${JSON.stringify(fields[1])} is not 0, 1 or 2`);
      } else if (fields[0].includes("/") || fields[0].startsWith(".")) {
        c.malformed(line, `${name}: ${JSON.stringify(fields[0])} is not a file name`);
      } else if (fields[1] === SUBSET_IDS[subset]) {
        const video = fields[0];
        const id = basename(video, extname(video));
        await c.add({ id, video: join(media, label, video), captions: [], label }, line);
      }
    }
  }
  return c.finish();
}

/** The split files of split `n` in the first folder of `dirs` that has any, sorted by class. */
async function splitFiles(
  dirs: string[],
  n: string,
): Promise<{ dir: string; files: { name: string; label: string }[] }> {
  const pattern = new RegExp(`^(.+)_test_split${n}\\.txt$`);
  for (const dir of dirs) {
    let names: string[];
    try {
      names = (await Array.fromAsync(Deno.readDir(dir))).filter((e) => e.isFile).map((e) => e.name);
    } catch {
      continue;
    }
    const files = names.flatMap((name) => {
      const m = pattern.exec(name);
      return m ? [{ name, label: m[1] }] : [];
    }).sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
    if (files.length > 0) return { dir, files };
  }
  throw new FormatError(
    `cannot find HMDB51's <class>_test_split${n}.txt files; looked in ${dirs.join(", ")}`,
  );
}
