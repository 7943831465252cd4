/**
 * Reading clip manifests (JSONL or CSV) and turning clip ids into safe file
 * names.
 *
 * A manifest lists one clip per row: `id`, `video` and/or `audio` (a row
 * with only one of them is a video-only or audio-only clip), `captions`,
 * optional `label`, `start` and `end`. Manifests are untrusted:
 * a bad row becomes an entry in `errors` (with its 1-based line number) while
 * the good rows are still returned; only a file that is not a manifest at all
 * throws {@link FormatError}.
 *
 * @module
 */
import { dirname, extname, resolve } from "node:path";
import { FormatError } from "../../util/errors.ts";
import { checkInput } from "../../io/input.ts";
import { csvRecords } from "./_csv.ts";
import { checkLabel, checkPath, checkSeconds, kindOf } from "./_fields.ts";
import { type Line, lineProblem, prepend, readLines } from "./_lines.ts";

export { safeFileName, type SafeFileNameOptions } from "./safe_file_name.ts";

/** One valid clip of a manifest. */
export interface ManifestRow {
  /** 1-based line of the file where the row starts. */
  row: number;
  /** Clip id, unique in the manifest. */
  id: string;
  /** Video path resolved against the manifest's folder (absolute); absent for an audio-only clip. */
  video?: string;
  /** Video path as written in the manifest, when given. */
  videoRaw?: string;
  /** Audio path resolved against the manifest's folder, when given. */
  audio?: string;
  /** Audio path as written in the manifest, when given. */
  audioRaw?: string;
  /** Captions of the clip (possibly none). */
  captions: string[];
  /** Class label, or several for multi-label data. */
  label?: string | string[];
  /** Start of the clip in seconds (non-negative). */
  start?: number;
  /** End of the clip in seconds (greater than `start`). */
  end?: number;
}

/** A row that was skipped and why. */
export interface ManifestError {
  /** 1-based line of the file where the row starts. */
  row: number;
  /** One-line reason. */
  reason: string;
  /** The row's clip id, when it has a usable one. */
  id?: string;
}

/** What {@link readManifest} returns. */
export interface Manifest {
  /** The format the file was read as. */
  format: ManifestFormat;
  /** Valid rows in file order. */
  rows: ManifestRow[];
  /** Rejected rows in file order. */
  errors: ManifestError[];
}

/** Manifest formats. */
export type ManifestFormat = "jsonl" | "csv";

/** Options of {@link readManifest}. */
export interface ReadManifestOptions {
  /** Force a format instead of choosing by extension (`.jsonl`, `.ndjson`, `.csv`) or content. */
  format?: ManifestFormat;
  /** Longest accepted line (CSV: record) in bytes; longer rows become errors. Default 1 MiB. */
  maxLineBytes?: number;
}

const DEFAULT_MAX_LINE_BYTES = 1 << 20;
const REQUIRED_COLUMNS = ["id", "captions"] as const;
/** A CSV manifest needs at least one of these columns. */
const MEDIA_COLUMNS = ["video", "audio"] as const;
/** Captions in a CSV cell are separated by `||`, with or without spaces around it. */
const CAPTION_SEPARATOR = "||";

/**
 * Reads a JSONL (one JSON object per line) or CSV (RFC 4180, header line)
 * manifest. In CSV, `captions` holds captions separated by `||` (spaces around it
 * optional: `a||b` and `a || b` are both two captions) or a JSON
 * array of strings, and `label` may be `a|b` for several labels; empty cells
 * are absent values. Paths are resolved against the manifest's folder.
 *
 * Bad rows (invalid UTF-8, wrong types, missing fields, wrong field counts,
 * duplicate ids, over-long lines) are reported in `errors`. Throws
 * {@link FormatError} when the file is empty, binary, a CSV without the
 * columns `id`, `captions` and one of `video`, `audio`, or a JSONL file without a single JSON
 * object line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readManifest } from "./manifest.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/m.csv`,
 *   'id,video,captions,label\nc1,clips/a.mp4,"a dog || a puppy",dog\nc2,b.mp4,x,\n');
 * const { rows, errors } = await readManifest(`${dir}/m.csv`);
 * assert.equal(rows.length, 2);
 * assert.equal(errors.length, 0);
 * assert.equal(rows[0].video, `${dir}/clips/a.mp4`);
 * assert.equal(rows[0].captions.length, 2);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readManifest(
  path: string,
  options: ReadManifestOptions = {},
): Promise<Manifest> {
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  if (!Number.isSafeInteger(maxLineBytes) || maxLineBytes < 1) {
    throw new RangeError(
      `Cannot read manifest: maxLineBytes must be a positive integer, got ${maxLineBytes}`,
    );
  }
  const absolute = resolve(path);
  const base = dirname(absolute);
  await checkInput(path, { label: "manifest" }).catch((e) => {
    if (e instanceof FormatError) throw e;
    throw new FormatError(`cannot read manifest: ${(e as Error).message}`, { path, cause: e });
  });

  const lines = readLines(absolute, maxLineBytes, path);
  try {
    const first = await lines.next();
    if (first.done) throw new FormatError("manifest is empty", { path });
    const format = options.format ?? formatOf(absolute, first.value);
    const all = prepend(first.value, lines);
    const ctx: RowContext = { base, seen: new Map(), rows: [], errors: [] };
    if (format === "jsonl") await readJsonl(all, ctx, path, maxLineBytes);
    else await readCsv(all, ctx, path, maxLineBytes);
    return { format, rows: ctx.rows, errors: ctx.errors };
  } finally {
    await lines.return(undefined); // closes the file when reading stopped early
  }
}

interface RowContext {
  base: string;
  /** id → row where it was first seen. */
  seen: Map<string, number>;
  rows: ManifestRow[];
  errors: ManifestError[];
}

function formatOf(path: string, first: Line): ManifestFormat {
  const ext = extname(path).toLowerCase();
  if (ext === ".jsonl" || ext === ".ndjson") return "jsonl";
  if (ext === ".csv") return "csv";
  return first.text.trimStart().startsWith("{") ? "jsonl" : "csv";
}

// ---------------------------------------------------------------- JSONL

async function readJsonl(
  lines: AsyncGenerator<Line>,
  ctx: RowContext,
  path: string,
  maxBytes: number,
): Promise<void> {
  let objects = 0;
  let firstError: ManifestError | undefined;
  for await (const line of lines) {
    if (!line.overlong && !line.badUtf8 && line.text.trim() === "") continue;
    const problem = lineProblem(line, maxBytes);
    if (problem) {
      addError(ctx, line.line, problem);
      firstError ??= { row: line.line, reason: problem };
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(line.text);
    } catch (e) {
      const reason = `not valid JSON: ${oneLine((e as Error).message)}`;
      addError(ctx, line.line, reason);
      firstError ??= { row: line.line, reason };
      continue;
    }
    if (!isRecord(value)) {
      const reason = `expected a JSON object, got ${kindOf(value)}`;
      addError(ctx, line.line, reason);
      firstError ??= { row: line.line, reason };
      continue;
    }
    objects++;
    addRow(ctx, line.line, value);
  }
  if (objects === 0) {
    throw new FormatError(
      firstError
        ? `not a JSONL manifest: no line is a JSON object (line ${firstError.row}: ${firstError.reason})`
        : "manifest is empty",
      { path },
    );
  }
}

async function readCsv(
  lines: AsyncGenerator<Line>,
  ctx: RowContext,
  path: string,
  maxBytes: number,
): Promise<void> {
  const records = csvRecords(lines, maxBytes);
  const head = await records.next();
  if (head.done) throw new FormatError("manifest is empty", { path });
  if (head.value.error) {
    throw new FormatError(`CSV header (line ${head.value.row}): ${head.value.error}`, { path });
  }
  const columns = head.value.fields.map((f) => f.trim());
  const index = new Map<string, number>();
  columns.forEach((name, i) => {
    if (index.has(name)) {
      throw new FormatError(`CSV header names column ${JSON.stringify(name)} twice`, { path });
    }
    index.set(name, i);
  });
  const missing: string[] = REQUIRED_COLUMNS.filter((c) => !index.has(c));
  if (!MEDIA_COLUMNS.some((c) => index.has(c))) missing.splice(1, 0, MEDIA_COLUMNS.join(" or "));
  if (missing.length > 0) {
    const shown = columns.slice(0, 8).map((c) => JSON.stringify(c.slice(0, 40))).join(", ");
    throw new FormatError(
      `not a CSV manifest: the header lacks column(s) ${missing.join(", ")} (header: ${shown})`,
      { path },
    );
  }
  for await (const record of records) {
    if (record.error) {
      addError(ctx, record.row, record.error);
      continue;
    }
    if (record.fields.length !== columns.length) {
      addError(
        ctx,
        record.row,
        `has ${record.fields.length} fields, the header has ${columns.length}`,
      );
      continue;
    }
    const cell = (name: string): string | undefined => {
      const i = index.get(name);
      return i === undefined ? undefined : record.fields[i];
    };
    const value = csvToObject(cell);
    if (typeof value === "string") addError(ctx, record.row, value);
    else addRow(ctx, record.row, value);
  }
}

/** Turns CSV cells into the JSONL shape; a string is the reason the row is bad. */
function csvToObject(cell: (name: string) => string | undefined): Record<string, unknown> | string {
  const out: Record<string, unknown> = {};
  const trimmed = (name: string) => {
    const v = cell(name)?.trim();
    return v === undefined || v === "" ? undefined : v;
  };
  out.id = trimmed("id") ?? "";
  out.video = trimmed("video");
  out.audio = trimmed("audio");
  const captions = (cell("captions") ?? "").trim();
  if (captions.startsWith("[")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(captions);
    } catch {
      parsed = undefined; // a caption that happens to start with "[": split as text
    }
    out.captions = parsed === undefined ? splitCaptions(captions) : parsed;
  } else {
    out.captions = splitCaptions(captions);
  }
  const label = trimmed("label");
  if (label !== undefined) {
    const labels = label.split("|").map((l) => l.trim()).filter((l) => l.length > 0);
    out.label = labels.length === 1 ? labels[0] : labels;
  }
  for (const key of ["start", "end"]) {
    const text = trimmed(key);
    if (text === undefined) continue;
    const n = Number(text);
    if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) || !Number.isFinite(n)) {
      return `${key} ${JSON.stringify(text.slice(0, 40))} is not a number`;
    }
    out[key] = n;
  }
  return out;
}

function splitCaptions(text: string): string[] {
  return text.split(CAPTION_SEPARATOR).map((c) => c.trim()).filter((c) => c.length > 0);
}

// ---------------------------------------------------------------- rows

function addError(ctx: RowContext, row: number, reason: string, id?: unknown): void {
  const named = typeof id === "string" && id.trim() !== "" ? { id } : {};
  ctx.errors.push({ row, reason, ...named });
}

/** Validates one object and adds it to rows or errors (naming its id when it has one). */
function addRow(ctx: RowContext, row: number, obj: Record<string, unknown>): void {
  const result = validate(obj, ctx.base);
  if (typeof result === "string") return addError(ctx, row, result, obj.id);
  const first = ctx.seen.get(result.id);
  if (first !== undefined) {
    const reason = `duplicate id ${JSON.stringify(result.id)} (first on line ${first})`;
    return addError(ctx, row, reason, result.id);
  }
  ctx.seen.set(result.id, row);
  ctx.rows.push({ row, ...result });
}

/** A checked row, or the reason it is bad. */
function validate(obj: Record<string, unknown>, base: string): Omit<ManifestRow, "row"> | string {
  const { id, video, audio, captions, label, start, end } = obj;
  if (id === undefined || id === null || id === "") return "missing id";
  if (typeof id !== "string") return `id must be a string, got ${kindOf(id)}`;
  if (id.trim() === "") return "id is blank";
  const given = (v: unknown) => v !== undefined && v !== null && v !== "";
  if (!given(video) && !given(audio)) return "missing video (and audio: a row needs one or both)";
  const out: Omit<ManifestRow, "row"> = { id, captions: [] };
  if (given(video)) {
    const videoPath = checkPath("video", video);
    if (videoPath.error) return videoPath.error;
    out.video = resolve(base, videoPath.raw!);
    out.videoRaw = videoPath.raw!;
  }
  if (given(audio)) {
    const audioPath = checkPath("audio", audio);
    if (audioPath.error) return audioPath.error;
    out.audio = resolve(base, audioPath.raw!);
    out.audioRaw = audioPath.raw!;
  }
  if (captions === undefined || captions === null) return "missing captions";
  if (!Array.isArray(captions)) {
    return `captions must be an array of strings, got ${kindOf(captions)}`;
  }
  const bad = captions.findIndex((c) => typeof c !== "string");
  if (bad >= 0) return `captions[${bad}] must be a string, got ${kindOf(captions[bad])}`;
  out.captions = captions as string[];
  if (label !== undefined && label !== null) {
    const checked = checkLabel(label);
    if (typeof checked === "object" && "error" in checked) return checked.error;
    out.label = checked;
  }
  for (const [key, value] of [["start", start], ["end", end]] as const) {
    if (value === undefined || value === null) continue;
    const seconds = checkSeconds(key, value);
    if (typeof seconds === "string") return seconds;
    out[key] = seconds;
  }
  if (out.end !== undefined && out.end <= (out.start ?? 0)) {
    return `end ${out.end} must be greater than start ${out.start ?? 0}`;
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
