/**
 * `vatt tokenize` as a library: a manifest and its media files into a dataset
 * folder of checksummed safetensors shards and an `index.json`.
 *
 * Shard `g` always holds the valid manifest rows `[g·K, (g+1)·K)` (K clips per
 * shard, minus skipped ones), so the dataset does not depend on how the work
 * is split: a slice `i` of `n` (`--shard-index/--num-shards`) writes the shards
 * `g ≡ i (mod n)` and a partial index, and `mergeSlices` combines the partial
 * indexes into the same `index.json` one run would write. Each shard is
 * written under a temporary name and renamed when complete; a re-run with the
 * same settings keeps the complete shards and makes the missing ones.
 *
 * @module
 */
import * as path from "node:path";
import { FormatError, MismatchError } from "../../util/errors.ts";
import { pathExists, removeStaleTemps, writeFileAtomic } from "../../io/atomic.ts";
import { openSafetensors, writeSafetensors } from "../../io/safetensors.ts";
import { sha256Bytes, sha256File } from "../../io/sha256.ts";
import { type SkippedClip, tokenizeClip, type TokenizedClip } from "./clip.ts";
import {
  DATASET_FORMAT,
  DATASET_VERSION,
  type DatasetIndex,
  parseDatasetIndex,
  type ShardEntry,
  shardFileName,
  type SkippedInput,
  sliceIndexFileName,
  type TokenizeSettings,
} from "../shards/dataset_index.ts";
import { readManifest } from "../manifest/manifest.ts";
import { parseShardMeta, shardSpecs } from "../shards/shard_codec.ts";
import { buildShard } from "../shards/shard_codec.ts";
import { prepareTextTokenizer, type TextSource } from "../text/setup.ts";

/** Defaults of the sampling settings (the paper's: 32 frames at 10 fps, 224², 3.2 s at 48 kHz). */
export const DEFAULT_TOKENIZE_SETTINGS: Readonly<TokenizeSettings> = {
  frames: 32,
  fps: 10,
  size: 224,
  audioSeconds: 3.2,
  sampleRate: 48000,
  audioSamples: 153600,
  audioDtype: "int16",
  maxLength: 16,
  captionsPerClip: 4,
  minCoverage: 0.5,
  clipsPerShard: 64,
};

/**
 * Completes and validates settings: `audioSamples` follows from the window
 * and rate.
 *
 * @example
 * ```ts
 * import { resolveTokenizeSettings } from "./tokenize.ts";
 * console.assert(resolveTokenizeSettings({ frames: 8, audioSeconds: 0.8, sampleRate: 8000 }).audioSamples === 6400);
 * ```
 */
export function resolveTokenizeSettings(partial: Partial<TokenizeSettings> = {}): TokenizeSettings {
  const s = { ...DEFAULT_TOKENIZE_SETTINGS, ...partial };
  const posInt = (v: number, what: string) => {
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`${what} must be a positive integer, got ${v}`);
    }
  };
  posInt(s.frames, "frames");
  posInt(s.size, "size");
  posInt(s.sampleRate, "sample rate");
  posInt(s.maxLength, "max length");
  posInt(s.captionsPerClip, "captions per clip");
  posInt(s.clipsPerShard, "clips per shard");
  if (!(s.fps > 0 && s.fps <= 1000)) throw new RangeError(`fps must be in (0, 1000], got ${s.fps}`);
  if (!(s.audioSeconds > 0 && s.audioSeconds <= 3600)) {
    throw new RangeError(`audio seconds must be in (0, 3600], got ${s.audioSeconds}`);
  }
  if (!(s.minCoverage >= 0 && s.minCoverage <= 1)) {
    throw new RangeError(`min coverage must be in [0, 1], got ${s.minCoverage}`);
  }
  if (s.audioDtype !== "int16" && s.audioDtype !== "float32") {
    throw new RangeError(`audio dtype must be int16 or float32, got ${s.audioDtype}`);
  }
  s.audioSamples = Math.round(s.audioSeconds * s.sampleRate);
  return s;
}

/** Progress of a tokenize run. */
export interface TokenizeProgress {
  /** Clips handled (stored or skipped) by this run, resumed shards included. */
  done: number;
  /** Clips this run is responsible for. */
  total: number;
  /** Clips skipped so far. */
  skipped: number;
  /** Shards complete. */
  shards: number;
}

/**
 * A shard could not be written (disk full, write permission lost): the run
 * stops; the shards completed before stay, and a re-run continues from them.
 *
 * @example
 * ```ts
 * import { ShardWriteError } from "./tokenize.ts";
 * const e = new ShardWriteError("shard-00003-of-00008.safetensors", 3, new Error("No space left"));
 * console.assert(e.message.startsWith("cannot write shard-00003"));
 * ```
 */
export class ShardWriteError extends Error {
  constructor(file: string, complete: number, cause: unknown) {
    const reason = cause instanceof Error ? cause.message.split("\n")[0] : String(cause);
    super(`cannot write ${file}: ${reason}; the ${complete} complete shards are kept`, { cause });
    this.name = "ShardWriteError";
  }
}

/** Options of {@linkcode tokenizeDataset}. */
export interface TokenizeOptions {
  /** The manifest (JSONL or CSV). */
  manifest: string;
  /** The dataset folder to write. */
  out: string;
  /** Sampling and storage settings. */
  settings?: Partial<TokenizeSettings>;
  /** Text tokenizer source; default: build a vocabulary of up to 65,535 words. */
  text?: TextSource;
  /** Clips decoded at once. Default 2. */
  workers?: number;
  /** This run's slice of the shards. */
  slice?: { index: number; count: number };
  /** Skip bad clips (recorded in the index) or stop at the first. Default skip. */
  onError?: "skip" | "fail";
  /** ffmpeg binary. */
  ffmpeg?: string;
  /** Start over in a folder that holds another dataset. */
  force?: boolean;
  /** Called once before any clip (done 0), after each clip, and after each shard. */
  onProgress?: (p: TokenizeProgress) => void;
  /** Stops between clips; complete shards stay. */
  signal?: AbortSignal;
}

/** What a run wrote. */
export interface TokenizeResult {
  /** The index written (`index.json`, or the slice's partial index). */
  index: DatasetIndex;
  /** Path of that index file. */
  indexPath: string;
  /** Shards reused from an earlier interrupted run. */
  resumedShards: number;
}

interface RunRecord {
  format: "vatt-tokenize-run";
  settings: TokenizeSettings;
  manifestSha256: string;
  text: TextSource;
  /** SHA-256 of a given vocabulary or tokenizer file: a changed file is not a resume. */
  textSha256?: string;
}

/**
 * Runs `fn` over `items` with `workers` at once. On the first failure (or an
 * abort) no new item starts, the ones in flight finish, and then the error is
 * thrown: nothing keeps running (no ffmpeg process) after this returns.
 */
async function mapPool<T, R>(
  items: T[],
  workers: number,
  fn: (item: T) => Promise<R>,
  signal?: AbortSignal,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      if (signal?.aborted) {
        failure = { error: signal.reason };
        break;
      }
      const i = next++;
      try {
        out[i] = await fn(items[i]);
      } catch (e) {
        failure ??= { error: e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, items.length) }, worker));
  if (failure) throw failure.error;
  return out;
}

/** Names of the files a tokenize run writes into its folder. */
function isDatasetFile(name: string): boolean {
  return name === "tokenize.json" || name === "index.json" || name === "vocab.txt" ||
    name === "tokenizer.json" || /^shard-\d+-of-\d+\.safetensors$/.test(name) ||
    /^index\.slice-\d+-of-\d+\.json$/.test(name);
}

/** The temporary names `writeFileAtomic` uses: `.<name>.tmp-<pid>-<hex>`. */
const TEMP_NAME = /^\.(.+)\.(?:tmp|old)-(\d+)-[0-9a-f]{8,}$/;

/**
 * Removes the temporary files that killed writers of `targets` left in `dir`.
 * A slice run cleans only its own files: on a folder shared by many machines,
 * another slice's writer may be alive elsewhere, where its process id means
 * nothing here.
 */
async function removeOwnStaleTemps(dir: string, targets: Set<string>): Promise<void> {
  for await (const e of Deno.readDir(dir)) {
    const m = TEMP_NAME.exec(e.name);
    if (!m || !targets.has(m[1])) continue;
    const pid = Number(m[2]);
    // These are this slice's own files: a writer we cannot see (Deno wants
    // --allow-all to read /proc) is a killed earlier run of this slice.
    const alive = Deno.build.os === "linux" && await pathExists(`/proc/${pid}`).catch(() => false);
    if (pid === Deno.pid || alive) continue;
    await Deno.remove(path.join(dir, e.name), { recursive: true }).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
  }
}

/** Prepares the output folder: refuses foreign content, resumes a matching run. */
async function prepareOut(out: string, record: RunRecord, force: boolean): Promise<void> {
  await Deno.mkdir(out, { recursive: true });
  const recordPath = path.join(out, "tokenize.json");
  const entries: string[] = [];
  for await (const e of Deno.readDir(out)) entries.push(e.name);
  const ours = (name: string) => {
    const temp = TEMP_NAME.exec(name);
    return isDatasetFile(temp ? temp[1] : name);
  };
  // Temporaries a killed run left behind do not make the folder someone else's.
  const present = entries.filter((name) => !(TEMP_NAME.test(name) && ours(name)));
  if (present.length > 0) {
    let same = false;
    if (entries.includes("tokenize.json")) {
      try {
        same = JSON.stringify(JSON.parse(await Deno.readTextFile(recordPath))) ===
          JSON.stringify(record);
      } catch {
        same = false;
      }
    }
    if (!same && !force) {
      throw new MismatchError(
        entries.includes("tokenize.json")
          ? `${out} holds a dataset made with other settings or another manifest; use --force to start over`
          : `${out} is not empty and is not a vatt dataset; choose an empty folder or use --force`,
      );
    }
    if (!same) {
      for (const name of entries) {
        if (ours(name)) await Deno.remove(path.join(out, name), { recursive: true });
      }
    }
  }
  await writeFileAtomic(recordPath, JSON.stringify(record) + "\n");
}

/**
 * Tokenizes a manifest into a dataset folder (or this run's slice of it).
 *
 * @example
 * ```ts
 * import { tokenizeDataset } from "./tokenize.ts";
 * // await tokenizeDataset({ manifest: "demo/manifest.jsonl", out: "data", settings: { frames: 8, size: 32 } });
 * console.assert(typeof tokenizeDataset === "function");
 * ```
 */
export async function tokenizeDataset(options: TokenizeOptions): Promise<TokenizeResult> {
  const settings = resolveTokenizeSettings(options.settings);
  const workers = options.workers ?? 2;
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) {
    throw new RangeError(`workers must be in 1..256, got ${workers}`);
  }
  const slice = options.slice;
  if (
    slice &&
    !(Number.isInteger(slice.count) && slice.count >= 1 && Number.isInteger(slice.index) &&
      slice.index >= 0 && slice.index < slice.count)
  ) {
    throw new RangeError(`shard index ${slice.index} must be in 0..${slice.count - 1}`);
  }
  const onError = options.onError ?? "skip";
  const text: TextSource = options.text ?? { buildVocab: 65535 };
  const manifestBytes = await Deno.readFile(options.manifest).catch((e) => {
    throw new FormatError(`cannot read the manifest: ${(e as Error).message}`, {
      path: options.manifest,
    });
  });
  const manifest = await readManifest(options.manifest);
  const textFile = text.vocabFile ?? text.tokenizerFile;
  // An unreadable file is reported by prepareTextTokenizer below.
  const textSha256 = textFile ? await sha256File(textFile).catch(() => undefined) : undefined;
  const record: RunRecord = {
    format: "vatt-tokenize-run",
    settings,
    manifestSha256: sha256Bytes(manifestBytes),
    text,
    ...(textSha256 ? { textSha256 } : {}),
  };
  await prepareOut(options.out, record, options.force ?? false);

  const skippedRows: SkippedInput[] = manifest.errors.map((e) => ({
    row: e.row,
    reason: e.reason,
  }));
  if (onError === "fail" && skippedRows.length > 0) {
    throw new FormatError(`row ${skippedRows[0].row}: ${skippedRows[0].reason}`, {
      path: options.manifest,
    });
  }
  const rows = manifest.rows;
  const { tokenizer, spec } = await prepareTextTokenizer(text, {
    captions: rows.flatMap((r) => r.captions),
    outDir: options.out,
  });
  const labelNames = [
    ...new Set(
      rows.flatMap((
        r,
      ) => (r.label === undefined ? [] : Array.isArray(r.label) ? r.label : [r.label])),
    ),
  ].sort();
  const labels = { names: labelNames, multiLabel: rows.some((r) => Array.isArray(r.label)) };
  const labelIndex = new Map(labelNames.map((n, i) => [n, i]));
  const k = settings.clipsPerShard;
  const numShards = Math.ceil(rows.length / k);
  const mine = Array.from({ length: numShards }, (_, g) => g).filter((g) =>
    !slice || g % slice.count === slice.index
  );
  const total = mine.reduce((sum, g) => sum + Math.min(k, rows.length - g * k), 0);
  if (slice && slice.count > 1) {
    await removeOwnStaleTemps(
      options.out,
      new Set([
        ...mine.map((g) => shardFileName(g, numShards)),
        sliceIndexFileName(slice.index, slice.count),
      ]),
    );
  } else {
    // An unsliced run owns its folder.
    await removeStaleTemps(options.out, { exclusive: true });
  }
  const progress: TokenizeProgress = { done: 0, total, skipped: 0, shards: 0 };
  // Once before any work, so a progress display can start its clock and show the total.
  options.onProgress?.({ ...progress });
  const entries: ShardEntry[] = [];
  const allSkipped: SkippedInput[] = !slice || slice.index === 0 ? [...skippedRows] : [];
  const padded: DatasetIndex["padded"] = [];
  let dropped = 0;
  let resumed = 0;
  for (const g of mine) {
    const file = shardFileName(g, numShards);
    const target = path.join(options.out, file);
    const block = rows.slice(g * k, (g + 1) * k);
    let meta;
    if (await pathExists(target)) {
      // Written completely by an earlier run (shards appear only by rename).
      const shard = await openSafetensors(target);
      try {
        try {
          meta = parseShardMeta(shard.header.metadata);
        } catch (e) {
          throw new FormatError(`not a shard of this dataset: ${(e as Error).message}`, {
            path: target,
          });
        }
        const expected = shardSpecs({ settings, labels }, meta.ids.length);
        for (const [name, want] of Object.entries(expected)) {
          const got = shard.header.tensors[name];
          if (!got || got.dtype !== want.dtype || got.shape.join() !== want.shape.join()) {
            throw new FormatError(`tensor ${name} does not match the settings`, { path: target });
          }
        }
      } finally {
        shard.close();
      }
      if (onError === "fail" && meta.skipped.length > 0) {
        // Kept from a run that skipped; this one promised to stop at a bad clip.
        const first = meta.skipped[0];
        throw new FormatError(
          `row ${first.row}${first.id ? ` (${first.id})` : ""}: ${first.reason}`,
          { path: first.file ?? options.manifest },
        );
      }
      resumed++;
      progress.done += block.length;
      progress.skipped += meta.skipped.length;
    } else {
      const results = await mapPool(block, workers, async (row) => {
        const r = await tokenizeClip(row, {
          settings,
          tokenizer,
          labelIndex,
          ffmpeg: options.ffmpeg,
        });
        progress.done++;
        if (!r.ok) progress.skipped++;
        options.onProgress?.({ ...progress });
        if (!r.ok && onError === "fail") {
          throw new FormatError(`row ${r.row} (${r.id}): ${r.reason}`, {
            path: r.file ?? options.manifest,
          });
        }
        return r;
      }, options.signal);
      const clips = results.filter((r): r is TokenizedClip => r.ok);
      const skipped = results.filter((r): r is SkippedClip => !r.ok).map((
        { row, id, file, reason },
      ) => ({ row, id, file, reason }));
      const built = buildShard(clips, { settings, labels, skipped });
      try {
        await writeSafetensors(target, built.tensors, { metadata: built.metadata });
      } catch (e) {
        throw new ShardWriteError(file, progress.shards, e);
      }
      meta = built.meta;
    }
    const stat = await Deno.stat(target);
    entries.push({
      file,
      index: g,
      clips: meta.ids.length,
      sha256: await sha256File(target),
      bytes: stat.size,
    });
    allSkipped.push(...meta.skipped);
    padded.push(...meta.padded);
    dropped += meta.droppedCaptions;
    progress.shards++;
    options.onProgress?.({ ...progress });
  }
  const index: DatasetIndex = {
    format: DATASET_FORMAT,
    version: DATASET_VERSION,
    settings,
    text: spec,
    labels,
    numShards,
    shards: entries,
    clips: entries.reduce((s, e) => s + e.clips, 0),
    skipped: allSkipped.sort((a, b) => a.row - b.row),
    padded,
    droppedCaptions: dropped,
    manifest: {
      file: path.basename(options.manifest),
      sha256: record.manifestSha256,
      rows: manifest.rows.length + manifest.errors.length,
    },
  };
  if (slice && slice.count > 1) index.slice = { ...slice };
  const indexPath = path.join(
    options.out,
    index.slice ? sliceIndexFileName(slice!.index, slice!.count) : "index.json",
  );
  await writeFileAtomic(indexPath, JSON.stringify(index, null, 2) + "\n");
  return { index, indexPath, resumedShards: resumed };
}

/**
 * Combines the partial indexes of every slice in `dir` into `index.json`,
 * after checking that all slices are present, agree on settings, and that
 * every shard file matches its checksum.
 *
 * @example
 * ```ts
 * import { mergeSlices } from "./tokenize.ts";
 * // await mergeSlices("data"); // after every `--shard-index i --num-shards n` run
 * console.assert(typeof mergeSlices === "function");
 * ```
 */
export async function mergeSlices(dir: string): Promise<DatasetIndex> {
  const parts: DatasetIndex[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (/^index\.slice-\d+-of-\d+\.json$/.test(e.name)) {
      const p = path.join(dir, e.name);
      parts.push(parseDatasetIndex(await Deno.readTextFile(p), { path: p }));
    }
  }
  if (parts.length === 0) {
    throw new FormatError("no slice indexes (index.slice-*.json) to merge", { path: dir });
  }
  const count = parts[0].slice?.count ?? 1;
  const seen = new Set(parts.map((p) => p.slice?.index));
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !seen.has(i));
  if (missing.length > 0) {
    throw new MismatchError(`slices ${missing.join(", ")} of ${count} have not finished in ${dir}`);
  }
  const key = (p: DatasetIndex) =>
    JSON.stringify([p.settings, p.text, p.labels, p.numShards, p.manifest, p.slice?.count]);
  for (const p of parts) {
    if (key(p) !== key(parts[0])) {
      throw new MismatchError("slices were made with different settings or manifests");
    }
  }
  const shards = parts.flatMap((p) => p.shards).sort((a, b) => a.index - b.index);
  for (const s of shards) {
    const sha = await sha256File(path.join(dir, s.file)).catch(() => "missing");
    if (sha !== s.sha256) {
      throw new FormatError("shard is missing or does not match its checksum", {
        path: path.join(dir, s.file),
      });
    }
  }
  const merged: DatasetIndex = {
    ...parts[0],
    shards,
    clips: shards.reduce((s, e) => s + e.clips, 0),
    skipped: parts.flatMap((p) => p.skipped).sort((a, b) => a.row - b.row),
    padded: parts.flatMap((p) => p.padded),
    droppedCaptions: parts.reduce((s, p) => s + p.droppedCaptions, 0),
  };
  delete merged.slice;
  // Padded clips in shard order, as one run lists them.
  const order = new Map<string, number>();
  for (const s of shards) {
    const f = await openSafetensors(path.join(dir, s.file));
    try {
      parseShardMeta(f.header.metadata).ids.forEach((id) => order.set(id, order.size));
    } finally {
      f.close();
    }
  }
  merged.padded.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
  await writeFileAtomic(path.join(dir, "index.json"), JSON.stringify(merged, null, 2) + "\n");
  return merged;
}
