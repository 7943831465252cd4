/**
 * ESC-50 (Piczak 2015): 2,000 five-second environmental sound clips in 50
 * classes, in five folds for cross-validation; ESC-10 is a 10-class subset.
 *
 * Layout (the GitHub repository `karolpiczak/ESC-50` as cloned or unzipped):
 * ```
 * ROOT/meta/esc50.csv     filename,fold,target,category,esc10,src_file,take
 * ROOT/audio/1-100032-A-0.wav
 * ```
 * Rows are audio-only (no `video`), labelled with `category`, spanning the
 * whole 5 s file. The protocol is 5-fold cross-validation: `fold` is the TEST
 * fold, `split: "test"` keeps that fold and `split: "train"` the other four.
 *
 * @module
 */
import { join } from "node:path";
import { FormatError } from "../../../util/errors.ts";
import {
  type DatasetManifest,
  type DatasetOptions,
  ManifestCollector,
  readCsv,
} from "./_common.ts";

const COLUMNS = ["filename", "fold", "target", "category", "esc10", "src_file", "take"];
/** Folds of ESC-50. */
export const ESC50_FOLDS = 5;

/**
 * Reads `ROOT/meta/esc50.csv` into audio-only rows. Without `fold`, every clip
 * (and `split` must be absent); with `fold` (1..5, the test fold), `split`
 * `"train"` (default: the four other folds) or `"test"` (that fold). `esc10`
 * keeps the ESC-10 subset. Throws `RangeError` for a bad fold or split.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readEsc50 } from "./esc50.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.mkdir(`${root}/meta`);
 * await Deno.writeTextFile(`${root}/meta/esc50.csv`,
 *   "filename,fold,target,category,esc10,src_file,take\n" +
 *   "1-100032-A-0.wav,1,0,dog,True,100032,A\n2-1-A-1.wav,2,1,rooster,False,1,A\n");
 * const test = await readEsc50(root, { fold: 1, split: "test", skipMissingCheck: true });
 * assert.deepEqual(test.rows.map((r) => [r.id, r.label, r.video]), [["1-100032-A-0", "dog", undefined]]);
 * const train = await readEsc50(root, { fold: 1, skipMissingCheck: true });
 * assert.deepEqual(train.rows.map((r) => r.label), ["rooster"]);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function readEsc50(
  root: string,
  options: DatasetOptions = {},
): Promise<DatasetManifest> {
  const keep = foldFilter(options);
  const file = join(root, "meta", "esc50.csv");
  const records = await readCsv(file);
  const c = new ManifestCollector(file, options);
  const header = records.shift();
  if (!header || header.fields.join(",").trim() !== COLUMNS.join(",")) {
    throw new FormatError(`not ESC-50's meta file: expected the header ${COLUMNS.join(",")}`, {
      path: file,
    });
  }
  for (const { row, fields, error } of records) {
    if (error) {
      c.malformed(row, error);
      continue;
    }
    if (fields.length !== COLUMNS.length) {
      c.malformed(row, `has ${fields.length} fields, expected ${COLUMNS.length}`);
      continue;
    }
    const [filename, foldText, target, category, esc10] = fields.map((f) => f.trim());
    const fold = Number(foldText);
    if (!/^[1-5]$/.test(foldText)) {
      c.malformed(row, `fold ${JSON.stringify(foldText)} is not 1..${ESC50_FOLDS}`);
    } else if (!/^\d+$/.test(target) || Number(target) > 49) {
      c.malformed(row, `target ${JSON.stringify(target)} is not a class index 0..49`);
    } else if (esc10 !== "True" && esc10 !== "False") {
      c.malformed(row, `esc10 ${JSON.stringify(esc10)} is not True or False`);
    } else if (!/\.wav$/i.test(filename) || filename.includes("/") || category === "") {
      c.malformed(row, `filename ${JSON.stringify(filename)} or category is not usable`);
    } else if (keep(fold) && (!options.esc10 || esc10 === "True")) {
      const id = filename.replace(/\.wav$/i, "");
      await c.add({ id, audio: join(root, "audio", filename), captions: [], label: category }, row);
    }
  }
  return c.finish();
}

/** Which folds the options keep. */
function foldFilter(options: DatasetOptions): (fold: number) => boolean {
  const { fold, split } = options;
  if (fold === undefined) {
    if (split !== undefined) {
      throw new RangeError(
        `Cannot read ESC-50: --split ${split} needs --fold 1..${ESC50_FOLDS} (the test fold)`,
      );
    }
    return () => true;
  }
  if (!Number.isInteger(fold) || fold < 1 || fold > ESC50_FOLDS) {
    throw new RangeError(`Cannot read ESC-50: fold must be 1..${ESC50_FOLDS}, got ${fold}`);
  }
  if (split === undefined || split === "train") return (f) => f !== fold;
  if (split === "test") return (f) => f === fold;
  throw new RangeError(`Cannot read ESC-50: split must be train or test, got ${split}`);
}
