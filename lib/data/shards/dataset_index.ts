/**
 * `index.json` of a dataset folder written by `vatt tokenize`: the contract
 * between tokenization and every later command. Read from untrusted folders,
 * so `parseDatasetIndex` validates every field.
 *
 * @module
 */
import { fail, int, str } from "./_index_fields.ts";
import { parseWordVectorsSpec, type WordVectorsSpec } from "./_word_vectors_spec.ts";
import { parseTokenizeSettings, type TokenizeSettings } from "./tokenize_settings.ts";

export type { WordVectorsSpec };
export { storedShape } from "./tokenize_settings.ts";
export type { StoredShape, TokenizeSettings } from "./tokenize_settings.ts";

/** The format name and version written in every index. */
export const DATASET_FORMAT = "vatt-dataset";
/**
 * Current version of the dataset format. Version 2 stores a span longer and
 * larger than the model's window (`storedFrames`, `storedSize`,
 * `storedAudioSamples`); version 1 datasets are read with the stored span
 * equal to the model's window. Version 3 shards hold `video_mask` (audio-only
 * clips); shards of older versions lack it and every clip of theirs has video.
 */
export const DATASET_VERSION = 3;

/** The text tokenizer a dataset was made with. */
export type TextSpec =
  | {
    kind: "vocab";
    file: string;
    vocabSize: number;
    sha256: string;
    wordVectors?: WordVectorsSpec;
  }
  | { kind: "hf"; file: string; vocabSize: number; sha256: string };

/** One shard of the dataset. */
export interface ShardEntry {
  /** File name inside the dataset folder. */
  file: string;
  /** Global shard number. */
  index: number;
  /** Clips stored. */
  clips: number;
  /** SHA-256 of the file, hex. */
  sha256: string;
  /** File size in bytes. */
  bytes: number;
}

/** An input that did not make it into the dataset. */
export interface SkippedInput {
  /** 1-based manifest row (line). */
  row: number;
  /** Clip id when known. */
  id?: string;
  /** The file at fault, when there is one. */
  file?: string;
  /** One-line reason. */
  reason: string;
}

/** The whole `index.json`. */
export interface DatasetIndex {
  format: typeof DATASET_FORMAT;
  version: number;
  settings: TokenizeSettings;
  text: TextSpec;
  labels: { names: string[]; multiLabel: boolean };
  /** Total number of shards of the whole dataset. */
  numShards: number;
  shards: ShardEntry[];
  /** Clips in all listed shards. */
  clips: number;
  skipped: SkippedInput[];
  /** Clips stored with padding (video or audio shorter than the window). */
  padded: { id: string; videoFrames: number; audioSamples: number }[];
  /** Captions dropped because they had no known word. */
  droppedCaptions: number;
  manifest: { file: string; sha256: string; rows: number };
  /** Present in the partial index of one slice (`--shard-index/--num-shards`). */
  slice?: { index: number; count: number };
}

/**
 * File name of shard `index` of `count`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shardFileName } from "./dataset_index.ts";
 * assert.equal(shardFileName(3, 8), "shard-00003-of-00008.safetensors");
 * assert.equal(shardFileName(3, 123456), "shard-000003-of-123456.safetensors");
 * ```
 */
export function shardFileName(index: number, count: number): string {
  const width = Math.max(5, String(count).length);
  return `shard-${String(index).padStart(width, "0")}-of-${
    String(count).padStart(width, "0")
  }.safetensors`;
}

/**
 * File name of the partial index of slice `index` of `count`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sliceIndexFileName } from "./dataset_index.ts";
 * assert.equal(sliceIndexFileName(1, 4), "index.slice-00001-of-00004.json");
 * ```
 */
export function sliceIndexFileName(index: number, count: number): string {
  return `index.slice-${String(index).padStart(5, "0")}-of-${String(count).padStart(5, "0")}.json`;
}

function plainFileName(v: unknown, what: string, path: string): string {
  const s = str(v, what, path);
  if (!/^[A-Za-z0-9._-]+$/.test(s) || s === "." || s === "..") {
    fail(
      path,
      `${what} must be a plain file name inside the dataset folder, got ${JSON.stringify(s)}`,
    );
  }
  return s;
}

function entry(v: unknown, what: string, path: string): Record<string, unknown> {
  if (!v || typeof v !== "object" || Array.isArray(v)) fail(path, `${what} must be an object`);
  return v as Record<string, unknown>;
}

/**
 * Checks an untrusted list of skipped inputs (from `index.json` or a shard's
 * metadata): objects with an integer `row`, a string `reason` and optional
 * string `id` and `file`. Throws `FormatError` naming the bad entry (`path`
 * prefixes the message when not empty).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSkippedList } from "./dataset_index.ts";
 * assert.equal(parseSkippedList([{ row: 3, reason: "no video" }], "skipped", "").length, 1);
 * ```
 */
export function parseSkippedList(value: unknown, what: string, path: string): SkippedInput[] {
  if (!Array.isArray(value)) fail(path, `${what} must be an array`);
  return value.map((e, i) => {
    const r = entry(e, `${what}[${i}]`, path);
    // Keys in the order the writer uses (row, id, file, reason), so a list read
    // back and written again gives the same bytes.
    const row = int(r.row, `${what}[${i}].row`, path);
    const id = r.id === undefined ? undefined : str(r.id, `${what}[${i}].id`, path);
    const file = r.file === undefined ? undefined : str(r.file, `${what}[${i}].file`, path);
    const reason = str(r.reason, `${what}[${i}].reason`, path);
    const out: SkippedInput = { row } as SkippedInput;
    if (id !== undefined) out.id = id;
    if (file !== undefined) out.file = file;
    out.reason = reason;
    return out;
  });
}

/**
 * Checks an untrusted list of padded clips: objects with a string `id` and
 * integer `videoFrames` and `audioSamples`. Throws `FormatError` naming the
 * bad entry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePaddedList } from "./dataset_index.ts";
 * assert.equal(parsePaddedList([{ id: "a", videoFrames: 3, audioSamples: 0 }], "padded", "").length, 1);
 * ```
 */
export function parsePaddedList(
  value: unknown,
  what: string,
  path: string,
): DatasetIndex["padded"] {
  if (!Array.isArray(value)) fail(path, `${what} must be an array`);
  return value.map((e, i) => {
    const r = entry(e, `${what}[${i}]`, path);
    return {
      id: str(r.id, `${what}[${i}].id`, path),
      videoFrames: int(r.videoFrames, `${what}[${i}].videoFrames`, path),
      audioSamples: int(r.audioSamples, `${what}[${i}].audioSamples`, path),
    };
  });
}

/** Checks the `text` object of an index. */
function parseTextSpec(t: Record<string, unknown>, path: string): TextSpec {
  if (t.kind !== "vocab" && t.kind !== "hf") {
    fail(path, `text.kind must be vocab or hf, got ${JSON.stringify(t.kind)}`);
  }
  return {
    kind: t.kind,
    file: plainFileName(t.file, "text.file", path),
    vocabSize: int(t.vocabSize, "text.vocabSize", path, 1),
    sha256: str(t.sha256, "text.sha256", path),
    ...(t.kind === "vocab" && t.wordVectors !== undefined
      ? { wordVectors: parseWordVectorsSpec(t.wordVectors, path) }
      : {}),
  };
}

/** Checks the `labels` object of an index. */
function parseLabels(l: Record<string, unknown>, path: string): DatasetIndex["labels"] {
  if (!Array.isArray(l.names)) fail(path, "labels.names must be an array");
  return {
    names: l.names.map((n, i) => str(n, `labels.names[${i}]`, path)),
    multiLabel: l.multiLabel === true,
  };
}

/** Checks the `shards` list of an index: plain, distinct file names and hex digests. */
function parseShards(value: unknown, path: string): ShardEntry[] {
  if (!Array.isArray(value)) fail(path, "shards must be an array");
  const seen = new Set<string>();
  return value.map((e: unknown, i: number) => {
    const r = (e ?? {}) as Record<string, unknown>;
    const file = plainFileName(r.file, `shards[${i}].file`, path);
    if (seen.has(file)) fail(path, `shards[${i}].file ${file} is listed twice`);
    seen.add(file);
    const sha = str(r.sha256, `shards[${i}].sha256`, path);
    if (!/^[0-9a-f]{64}$/.test(sha)) fail(path, `shards[${i}].sha256 is not a SHA-256 hex digest`);
    return {
      file,
      index: int(r.index, `shards[${i}].index`, path),
      clips: int(r.clips, `shards[${i}].clips`, path),
      sha256: sha,
      bytes: int(r.bytes, `shards[${i}].bytes`, path),
    };
  });
}

/** The index's JSON object, of this format and a version this code reads. */
function parseHeader(json: string, path: string): { o: Record<string, unknown>; version: number } {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    fail(path, `not valid JSON (${(e as Error).message})`);
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) fail(path, "not a JSON object");
  const o = raw as Record<string, unknown>;
  if (o.format !== DATASET_FORMAT) {
    fail(path, "not a vatt dataset index (format field missing or different)");
  }
  const version = int(o.version, "version", path, 1);
  if (version > DATASET_VERSION) {
    fail(path, `dataset format version ${version} is newer than this vatt (${DATASET_VERSION})`);
  }
  return { o, version };
}

/**
 * Parses and validates `index.json` text. Throws `FormatError` naming the
 * first bad field. File names must be plain names inside the folder.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDatasetIndex } from "./dataset_index.ts";
 * assert.throws(
 *   () => parseDatasetIndex('{"format": "other"}', { path: "index.json" }),
 *   /not a vatt dataset index/,
 * );
 * ```
 */
export function parseDatasetIndex(json: string, options: { path?: string } = {}): DatasetIndex {
  const path = options.path ?? "index.json";
  const { o, version } = parseHeader(json, path);
  const s = (o.settings ?? fail(path, "settings missing")) as Record<string, unknown>;
  const settings = parseTokenizeSettings(s, { path, version });
  const t = (o.text ?? fail(path, "text missing")) as Record<string, unknown>;
  const textSpec = parseTextSpec(t, path);
  const l = (o.labels ?? fail(path, "labels missing")) as Record<string, unknown>;
  const labels = parseLabels(l, path);
  const numShards = int(o.numShards, "numShards", path, 0);
  const shards = parseShards(o.shards, path);
  const clips = int(o.clips, "clips", path);
  if (clips !== shards.reduce((sum, e) => sum + e.clips, 0)) {
    fail(path, `clips ${clips} is not the sum of the shards' clips`);
  }
  const skipped = Array.isArray(o.skipped) ? parseSkippedList(o.skipped, "skipped", path) : [];
  const padded = Array.isArray(o.padded) ? parsePaddedList(o.padded, "padded", path) : [];
  const m = (o.manifest ?? {}) as Record<string, unknown>;
  const index: DatasetIndex = {
    format: DATASET_FORMAT,
    version,
    settings,
    text: textSpec,
    labels,
    numShards,
    shards,
    clips,
    skipped,
    padded,
    droppedCaptions: typeof o.droppedCaptions === "number" ? o.droppedCaptions : 0,
    manifest: {
      file: typeof m.file === "string" ? m.file : "",
      sha256: typeof m.sha256 === "string" ? m.sha256 : "",
      rows: typeof m.rows === "number" ? m.rows : 0,
    },
  };
  if (o.slice) {
    const sl = o.slice as Record<string, unknown>;
    index.slice = {
      index: int(sl.index, "slice.index", path),
      count: int(sl.count, "slice.count", path, 1),
    };
  }
  return index;
}
