/**
 * Helpers of the UCF101, HMDB51, MSR-VTT and YouCook2 readers: the official
 * 3-split protocol of the action datasets (`split` 1..3 × `subset`
 * train/test), text list files with their line numbers, and finding an
 * annotation file or a media file among a dataset's usual layouts. Private
 * to this folder.
 *
 * @module
 */
import { join } from "node:path";
import { describeFileKind } from "../../../io/guard.ts";
import { FormatError } from "../../../util/errors.ts";
import { type DatasetOptions, readAnnotation } from "./_common.ts";

/** The official train/test splits of UCF101 and HMDB51. */
export const ACTION_SPLITS = ["1", "2", "3"] as const;
/** The split read when none is given (UCF101, HMDB51). */
export const DEFAULT_ACTION_SPLIT = "1";
/** The half of a split read when none is given (UCF101, HMDB51). */
export const DEFAULT_ACTION_SUBSET = "train";

/** One official split and its half. */
export interface ActionSplit {
  split: "1" | "2" | "3";
  subset: "train" | "test";
}

/**
 * The split (`options.split`, default {@link DEFAULT_ACTION_SPLIT}) and subset
 * (`options.subset`, default {@link DEFAULT_ACTION_SUBSET}) of a 3-split
 * action dataset; throws `RangeError` naming `dataset` for another value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { actionSplit } from "./_layout.ts";
 * assert.deepEqual(actionSplit("UCF101", {}), { split: "1", subset: "train" });
 * assert.deepEqual(actionSplit("UCF101", { split: "3", subset: "test" }), { split: "3", subset: "test" });
 * assert.throws(() => actionSplit("HMDB51", { split: "4" }), /HMDB51: split must be 1, 2 or 3/);
 * assert.throws(() => actionSplit("HMDB51", { subset: "val" }), /subset must be train or test/);
 * ```
 */
export function actionSplit(dataset: string, options: DatasetOptions): ActionSplit {
  const split = options.split ?? DEFAULT_ACTION_SPLIT;
  const subset = options.subset ?? DEFAULT_ACTION_SUBSET;
  if (!(ACTION_SPLITS as readonly string[]).includes(split)) {
    throw new RangeError(`Cannot read ${dataset}: split must be 1, 2 or 3, got ${split}`);
  }
  if (subset !== "train" && subset !== "test") {
    throw new RangeError(`Cannot read ${dataset}: subset must be train or test, got ${subset}`);
  }
  return { split: split as ActionSplit["split"], subset };
}

/** A non-blank line of a text list and its 1-based line number. */
export interface TextLine {
  line: number;
  /** The line without surrounding white space (and without `\r`). */
  text: string;
}

/**
 * The non-blank lines of a text annotation file (`\n` or `\r\n` line ends, as
 * UCF101's lists have), trimmed, with their 1-based line numbers; an absent
 * file throws `FormatError`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { textLines } from "./_layout.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/classInd.txt`, "1 ApplyEyeMakeup\r\n\r\n2 ApplyLipstick\r\n");
 * assert.deepEqual(await textLines(`${dir}/classInd.txt`), [
 *   { line: 1, text: "1 ApplyEyeMakeup" }, { line: 3, text: "2 ApplyLipstick" },
 * ]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function textLines(path: string): Promise<TextLine[]> {
  const text = await readAnnotation(path);
  const lines: TextLine[] = [];
  text.replace(/^\uFEFF/, "").split("\n").forEach((raw, i) => {
    const trimmed = raw.trim();
    if (trimmed.length > 0) lines.push({ line: i + 1, text: trimmed });
  });
  return lines;
}

/**
 * The first of `paths` that is a regular file; none → `FormatError` naming
 * `what` and every path tried.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { firstFile } from "./_layout.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/b.json`, "{}");
 * assert.equal(await firstFile("x", [`${dir}/a.json`, `${dir}/b.json`]), `${dir}/b.json`);
 * await assert.rejects(firstFile("MSR-VTT annotations", [`${dir}/a.json`]), /MSR-VTT annotations/);
 * await assert.rejects(firstFile("x", ["/dev/zero"]), /\/dev\/zero is a character device/);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function firstFile(what: string, paths: string[]): Promise<string> {
  for (const path of paths) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(path);
    } catch {
      continue;
    }
    if (info.isFile) return path;
    if (!info.isDirectory) {
      // A FIFO or device under the expected name is refused, never read nor passed over.
      throw new FormatError(
        `cannot read ${what}: ${path} is ${describeFileKind(info)}, not a regular file`,
      );
    }
  }
  throw new FormatError(`cannot find ${what}; looked for ${paths.join(", ")}`);
}

/**
 * The first of `dirs` that is a folder, or `fallback` when none is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { firstDir } from "./_layout.ts";
 * const dir = await Deno.makeTempDir();
 * assert.equal(await firstDir([`${dir}/UCF-101`, dir], "/x"), dir);
 * assert.equal(await firstDir([`${dir}/UCF-101`], "/x"), "/x");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function firstDir(dirs: string[], fallback: string): Promise<string> {
  for (const dir of dirs) if (await isKind(dir, "dir")) return dir;
  return fallback;
}

/** Video file extensions tried, in order, where a layout leaves the extension open. */
export const VIDEO_EXTENSIONS = ["mp4", "mkv", "webm", "avi"] as const;

/**
 * The first existing `<dir>/<stem>.<ext>` over `dirs` × `extensions`, or
 * `undefined`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findVideo } from "./_layout.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/GLd3aX16zBg.webm`, "");
 * assert.equal(await findVideo([`${dir}/no`, dir], "GLd3aX16zBg"), `${dir}/GLd3aX16zBg.webm`);
 * assert.equal(await findVideo([dir], "other"), undefined);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function findVideo(
  dirs: string[],
  stem: string,
  extensions: readonly string[] = VIDEO_EXTENSIONS,
): Promise<string | undefined> {
  for (const dir of dirs) {
    for (const ext of extensions) {
      const path = join(dir, `${stem}.${ext}`);
      if (await isKind(path, "file")) return path;
    }
  }
  return undefined;
}

/**
 * Parses a whole JSON annotation file; unreadable or invalid JSON throws
 * `FormatError` naming the file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readJson } from "./_layout.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.json`, '{"database": {}}');
 * assert.deepEqual(await readJson(`${dir}/a.json`), { database: {} });
 * await Deno.writeTextFile(`${dir}/b.json`, "{");
 * await assert.rejects(readJson(`${dir}/b.json`), /not valid JSON/);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readJson(path: string): Promise<unknown> {
  const text = await readAnnotation(path);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new FormatError(`not valid JSON: ${(e as Error).message}`, { path, cause: e });
  }
}

/**
 * Whether `value` is a plain JSON object (not an array, not null).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isObject } from "./_layout.ts";
 * assert.equal(isObject({ a: 1 }), true);
 * assert.equal(isObject([1]), false);
 * assert.equal(isObject(null), false);
 * ```
 */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

async function isKind(path: string, kind: "file" | "dir"): Promise<boolean> {
  try {
    const info = await Deno.stat(path);
    return kind === "file" ? info.isFile : info.isDirectory;
  } catch {
    return false;
  }
}
