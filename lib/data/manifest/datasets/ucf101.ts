/**
 * UCF101 (Soomro et al. 2012): 13,320 YouTube clips of 101 human actions,
 * with three official train/test splits; the VATT paper reports top-1
 * accuracy averaged over the three.
 *
 * Layout (`UCF101.rar` and `UCF101TrainTestSplits-RecognitionTask.zip`
 * unpacked side by side):
 * ```
 * ROOT/ucfTrainTestlist/classInd.txt      "1 ApplyEyeMakeup" (index, class; CRLF line ends)
 * ROOT/ucfTrainTestlist/trainlist01.txt   "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1"
 * ROOT/ucfTrainTestlist/testlist01.txt    "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi"
 * ROOT/UCF-101/ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi
 * ```
 * The lists may also sit directly in ROOT, and the class folders too (no
 * `UCF-101/`). Rows are labelled with the class name: from the index column
 * (checked against the folder) in the train lists, from the folder in the test
 * lists, which have no index column.
 *
 * @module
 */
import { basename, dirname, extname, join } from "node:path";
import { FormatError } from "../../../util/errors.ts";
import { type DatasetManifest, type DatasetOptions, ManifestCollector } from "./_common.ts";
import { actionSplit, firstDir, firstFile, type TextLine, textLines } from "./_layout.ts";

export { ACTION_SPLITS, DEFAULT_ACTION_SPLIT, DEFAULT_ACTION_SUBSET } from "./_layout.ts";

/**
 * Reads UCF101's `trainlist0N.txt` or `testlist0N.txt` (`split` 1..3, default
 * 1; `subset` train, default, or test) with `classInd.txt` into labelled video
 * rows. A line with the wrong column count, a class not in `classInd.txt`, or
 * an index that does not match its folder is malformed; throws `RangeError`
 * for a bad split or subset and `FormatError` when the lists are absent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readUcf101 } from "./ucf101.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.mkdir(`${root}/ucfTrainTestlist`);
 * await Deno.writeTextFile(`${root}/ucfTrainTestlist/classInd.txt`, "1 ApplyEyeMakeup\r\n2 YoYo\r\n");
 * await Deno.writeTextFile(`${root}/ucfTrainTestlist/testlist01.txt`,
 *   "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi\r\nYoYo/v_YoYo_g02_c01.avi\r\n");
 * const m = await readUcf101(root, { split: "1", subset: "test", skipMissingCheck: true });
 * assert.deepEqual(m.rows.map((r) => [r.id, r.label]),
 *   [["v_ApplyEyeMakeup_g01_c01", "ApplyEyeMakeup"], ["v_YoYo_g02_c01", "YoYo"]]);
 * assert.equal(m.rows[1].video, `${root}/YoYo/v_YoYo_g02_c01.avi`);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function readUcf101(
  root: string,
  options: DatasetOptions = {},
): Promise<DatasetManifest> {
  const { split, subset } = actionSplit("UCF101", options);
  const listDirs = [
    join(root, "ucfTrainTestlist"),
    join(root, "UCF101TrainTestSplits-RecognitionTask", "ucfTrainTestlist"),
    root,
  ];
  const classFile = await firstFile(
    "UCF101's classInd.txt",
    listDirs.map((d) => join(d, "classInd.txt")),
  );
  const classes = await readClassInd(classFile);
  const file = join(dirname(classFile), `${subset}list0${split}.txt`);
  const lines = await textLines(file);
  const media = await firstDir([join(root, "UCF-101"), join(root, "UCF101")], root);
  const c = new ManifestCollector(file, options);
  for (const line of lines) {
    const parsed = parseListLine(line, subset === "train" ? 2 : 1, classes);
    if (typeof parsed === "string") {
      c.malformed(line.line, parsed);
      continue;
    }
    const id = basename(parsed.path, extname(parsed.path));
    await c.add(
      { id, video: join(media, parsed.path), captions: [], label: parsed.label },
      line.line,
    );
  }
  return c.finish();
}

/** `classInd.txt`: index (1-based) → class name. Any bad line makes it not UCF101's file. */
async function readClassInd(path: string): Promise<Map<number, string>> {
  const classes = new Map<number, string>();
  for (const { line, text } of await textLines(path)) {
    const m = /^(\d+)\s+(\S+)$/.exec(text);
    if (!m || classes.has(Number(m[1]))) {
      throw new FormatError(
        `line ${line}: expected "<index> <ClassName>", got ${JSON.stringify(text)}`,
        {
          path,
        },
      );
    }
    classes.set(Number(m[1]), m[2]);
  }
  if (classes.size === 0) throw new FormatError("no classes listed", { path });
  return classes;
}

/** One list line → its relative path and label, or why it is malformed. */
function parseListLine(
  { text }: TextLine,
  columns: number,
  classes: Map<number, string>,
): { path: string; label: string } | string {
  const fields = text.split(/\s+/);
  if (fields.length !== columns) return `has ${fields.length} columns, expected ${columns}`;
  const path = fields[0];
  const parts = path.split("/");
  if (parts.length !== 2 || parts[0] === "" || parts[1] === "" || parts.includes("..")) {
    return `path ${JSON.stringify(path)} is not <Class>/<video>`;
  }
  const folder = parts[0];
  if (![...classes.values()].includes(folder)) {
    return `class ${JSON.stringify(folder)} is not in classInd.txt`;
  }
  if (columns === 2) {
    const index = /^\d+$/.test(fields[1]) ? Number(fields[1]) : NaN;
    const name = classes.get(index);
    if (name !== folder) {
      return `class index ${JSON.stringify(fields[1])} is ${
        name === undefined ? "not in classInd.txt" : `${name}, not the folder ${folder}`
      }`;
    }
  }
  return { path, label: folder };
}
