/**
 * What every dataset reader of `lib/data/manifest/datasets/` shares: the row
 * and result shapes, the reader signature, and {@link ManifestCollector}, which
 * numbers malformed annotation rows, checks that media files exist and applies
 * `strict`. Private to this folder (the public face is `mod.ts`).
 *
 * Contract of a reader `(root, options) => Promise<DatasetManifest>`:
 * - it reads the dataset's annotation files as distributed, under `root`;
 * - an annotation file that is absent or not of the format at all throws
 *   `FormatError` (always, strict or not);
 * - a bad row (wrong column count, bad times, unknown split or label) is
 *   skipped and counted in `malformed` with its 1-based line; with `strict`
 *   the first one throws `FormatError("<file>:<line>: <reason>")`;
 * - a row whose media file is absent is skipped and counted in `missing`;
 *   with `strict` the first one throws `FormatError`;
 * - media paths in rows are absolute (resolved under `root`).
 *
 * @module
 */
import { resolve } from "node:path";
import { FormatError } from "../../../util/errors.ts";
import { type CsvRecord, csvRecords } from "../_csv.ts";
import { readLines } from "../_lines.ts";
import { checkInput, INPUT_LIMITS, readInputText } from "../../../io/input.ts";

/** One clip of a dataset manifest: the JSONL row `vatt tokenize` reads. */
export interface DatasetRow {
  /** Clip id, unique in the manifest. */
  id: string;
  /** Absolute video path; absent for audio-only data (ESC-50). */
  video?: string;
  /** Absolute audio path, when the audio is a separate file. */
  audio?: string;
  /** Captions (MIL-NCE positives for HowTo100M); possibly none. */
  captions: string[];
  /** Class label, or several (AudioSet) for multi-label data. */
  label?: string | string[];
  /** Start of the clip in seconds. */
  start?: number;
  /** End of the clip in seconds (greater than `start`). */
  end?: number;
}

/** Media files named by the annotations but absent under the root. */
export interface MissingFiles {
  /** How many annotation rows (HowTo100M: videos) were skipped because a media file is absent. */
  count: number;
  /** The first few absent paths (at most {@link LISTED_MISSING}). */
  first: string[];
}

/** Annotation rows that could not be used. */
export interface MalformedRows {
  /** How many rows were skipped as malformed. */
  count: number;
  /** Their 1-based line numbers in the annotation file (at most {@link LISTED_MALFORMED}). */
  rows: number[];
  /** One-line reason per listed row (same order as `rows`). */
  reasons: string[];
}

/** What a dataset reader returns. */
export interface DatasetManifest {
  /** Usable rows in annotation order. */
  rows: DatasetRow[];
  missing: MissingFiles;
  malformed: MalformedRows;
}

/** Options shared by every reader; each reader uses the ones that apply to it. */
export interface DatasetOptions {
  /** Which split (`train`, `val`, `test`, `1`…`3`, `balanced_train`, …); reader default when absent. */
  split?: string;
  /** UCF101/HMDB51: which half of the official split, `train` or `test`; reader default when absent. */
  subset?: string;
  /** ESC-50 test fold 1..5. */
  fold?: number;
  /** ESC-50: only the ESC-10 subset. */
  esc10?: boolean;
  /** HowTo100M: captions per clip (the caption and its nearest neighbours in time). */
  captionsPerClip?: number;
  /** Throw on the first malformed row or missing file instead of skipping it. */
  strict?: boolean;
  /** Do not check that media files exist (for listing a dataset not yet downloaded). */
  skipMissingCheck?: boolean;
}

/** A dataset reader: annotation files under `root` → manifest rows. */
export type DatasetReader = (root: string, options?: DatasetOptions) => Promise<DatasetManifest>;

/** How many missing paths a manifest lists. */
export const LISTED_MISSING = 5;
/** How many malformed row numbers a manifest lists. */
export const LISTED_MALFORMED = 100;

/**
 * Collects rows for one annotation file: malformed rows and missing media are
 * counted (or thrown with `strict`), good rows kept in order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ManifestCollector } from "./_common.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.wav`, "");
 * const c = new ManifestCollector("meta.csv", {});
 * c.malformed(3, "has 2 fields, expected 7");
 * await c.add({ id: "a", audio: `${dir}/a.wav`, captions: [] });
 * await c.add({ id: "b", audio: `${dir}/b.wav`, captions: [] });
 * const m = c.finish();
 * assert.deepEqual(m.rows.map((r) => r.id), ["a"]);
 * assert.deepEqual(m.missing, { count: 1, first: [`${dir}/b.wav`] });
 * assert.deepEqual(m.malformed.rows, [3]);
 * const strict = new ManifestCollector("meta.csv", { strict: true });
 * assert.throws(() => strict.malformed(4, "bad fold"), /meta\.csv:4: bad fold/);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class ManifestCollector {
  readonly #file: string;
  readonly #strict: boolean;
  readonly #check: boolean;
  readonly #rows: DatasetRow[] = [];
  readonly #ids = new Set<string>();
  readonly #missing: MissingFiles = { count: 0, first: [] };
  readonly #malformed: MalformedRows = { count: 0, rows: [], reasons: [] };

  /** `file` names the annotation file in messages. */
  constructor(file: string, options: DatasetOptions) {
    this.#file = file;
    this.#strict = options.strict ?? false;
    this.#check = !(options.skipMissingCheck ?? false);
  }

  /** Counts a malformed row (1-based `line`); throws `FormatError` when strict. */
  malformed(line: number, reason: string): void {
    if (this.#strict) throw new FormatError(`${this.#file}:${line}: ${reason}`);
    this.#malformed.count++;
    if (this.#malformed.rows.length < LISTED_MALFORMED) {
      this.#malformed.rows.push(line);
      this.#malformed.reasons.push(reason);
    }
  }

  /**
   * Adds `row` when its media files (`video`, `audio`) exist (checked with
   * `stat` unless `options.verified`); otherwise counts it as missing (throws
   * `FormatError` when strict). A repeated id is malformed at `line`.
   * Returns whether the row was kept.
   */
  async add(row: DatasetRow, line = 0, options: { verified?: boolean } = {}): Promise<boolean> {
    if (this.#ids.has(row.id)) {
      this.malformed(line, `duplicate clip id ${JSON.stringify(row.id)}`);
      return false;
    }
    if (this.#check && !options.verified) {
      for (const path of [row.video, row.audio]) {
        if (path === undefined || await isFile(path)) continue;
        this.missingFile(path, line);
        return false;
      }
    }
    this.#ids.add(row.id);
    this.#rows.push(row);
    return true;
  }

  /**
   * Counts a row skipped because its media file `path` (or a description of
   * the names tried) is absent; throws `FormatError` when strict. Does
   * nothing when the existence check is off.
   */
  missingFile(path: string, line = 0): void {
    if (!this.#check) return;
    if (this.#strict) {
      throw new FormatError(`media file not found: ${path} (${this.#file}:${line})`);
    }
    this.#missing.count++;
    if (this.#missing.first.length < LISTED_MISSING) this.#missing.first.push(path);
  }

  /** Whether media existence is checked (not `skipMissingCheck`). */
  get checksMedia(): boolean {
    return this.#check;
  }

  /** The collected manifest. */
  finish(): DatasetManifest {
    return { rows: this.#rows, missing: this.#missing, malformed: this.#malformed };
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/**
 * Reads a whole annotation file as text; an absent or unreadable file throws
 * `FormatError` naming it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readAnnotation } from "./_common.ts";
 * await assert.rejects(readAnnotation("/no/such/caption.json"), /caption\.json/);
 * ```
 */
export async function readAnnotation(path: string): Promise<string> {
  try {
    return await readInputText(path, { maxBytes: INPUT_LIMITS.manifest, label: "annotation file" });
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw new FormatError(`cannot read annotation file: ${(e as Error).message}`, {
      path,
      cause: e,
    });
  }
}

/**
 * Splits an RFC 4180 CSV annotation file into records with their 1-based
 * line numbers (blank lines skipped; quoted fields may hold commas). An
 * absent file throws `FormatError`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readCsv } from "./_common.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/k.csv`, 'label,youtube_id\n"a, b",x\n\nc,y\n');
 * const records = await readCsv(`${dir}/k.csv`);
 * assert.deepEqual(records.map((r) => [r.row, r.fields]), [
 *   [1, ["label", "youtube_id"]], [2, ["a, b", "x"]], [4, ["c", "y"]],
 * ]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readCsv(path: string): Promise<CsvRecord[]> {
  try {
    await checkInput(path, { label: "annotation file" });
  } catch (e) {
    if (e instanceof FormatError) throw e; // it names the path and what is there
    throw new FormatError(`cannot read annotation file: ${(e as Error).message}`, {
      path,
      cause: e,
    });
  }
  const maxBytes = 1 << 20;
  return await Array.fromAsync(csvRecords(readLines(resolve(path), maxBytes, path), maxBytes));
}

/**
 * Parses a time in seconds (`"30.000"`, `"12"`); `undefined` when the text is
 * not a finite non-negative number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSeconds } from "./_common.ts";
 * assert.equal(parseSeconds(" 30.000"), 30);
 * assert.equal(parseSeconds("-1"), undefined);
 * assert.equal(parseSeconds("ten"), undefined);
 * assert.equal(parseSeconds(""), undefined);
 * ```
 */
export function parseSeconds(text: string): number | undefined {
  const t = text.trim();
  if (!/^\+?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/**
 * Checks a `[start, end)` window: the reason it is bad, or `undefined`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { timeWindowProblem } from "./_common.ts";
 * assert.equal(timeWindowProblem(0, 10), undefined);
 * assert.match(timeWindowProblem(5, 5)!, /end 5 must be greater than start 5/);
 * assert.match(timeWindowProblem(undefined, 5)!, /start/);
 * ```
 */
export function timeWindowProblem(
  start: number | undefined,
  end: number | undefined,
): string | undefined {
  if (start === undefined) return "start time is not a non-negative number";
  if (end === undefined) return "end time is not a non-negative number";
  if (end <= start) return `end ${end} must be greater than start ${start}`;
  return undefined;
}

/**
 * Lists the files under `dir` (recursively) by file name without extension →
 * absolute path, so a reader can match annotation rows to media whatever the
 * sub-folders (`train/<label>/x.mp4` or `train/x.mp4`). The first file of a
 * name wins; an absent `dir` gives an empty map. Names starting with `.` are
 * ignored.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { indexMedia } from "./_common.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/train/abseiling`, { recursive: true });
 * await Deno.writeTextFile(`${dir}/train/abseiling/x_000001_000011.mp4`, "");
 * const index = await indexMedia(`${dir}/train`);
 * assert.equal(index.get("x_000001_000011"), `${dir}/train/abseiling/x_000001_000011.mp4`);
 * assert.equal((await indexMedia(`${dir}/nope`)).size, 0);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function indexMedia(dir: string): Promise<Map<string, string>> {
  const index = new Map<string, string>();
  const pending = [resolve(dir)];
  while (pending.length > 0) {
    const folder = pending.shift()!;
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(folder));
    } catch {
      continue; // absent or unreadable: its files count as missing
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith(".")) continue;
      const path = `${folder}/${entry.name}`;
      if (entry.isDirectory) pending.push(path);
      else if (entry.isFile) {
        const dot = entry.name.lastIndexOf(".");
        const stem = dot > 0 ? entry.name.slice(0, dot) : entry.name;
        if (!index.has(stem)) index.set(stem, path);
      }
    }
  }
  return index;
}

/** File extensions read as audio-only media (anything else is video with its sound track). */
const AUDIO_EXTENSIONS = new Set([".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".aac"]);

/**
 * Whether `path` names an audio-only file (by extension), so that a row puts
 * it under `audio` instead of `video`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isAudioFile } from "./_common.ts";
 * assert.equal(isAudioFile("a/Y--PJHxphWEs.WAV"), true);
 * assert.equal(isAudioFile("a/x.mp4"), false);
 * ```
 */
export function isAudioFile(path: string): boolean {
  const dot = path.lastIndexOf(".");
  return dot >= 0 && AUDIO_EXTENSIONS.has(path.slice(dot).toLowerCase());
}
