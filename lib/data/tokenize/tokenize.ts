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
import { FormatError } from "../../util/errors.ts";
import { checkInteger } from "../../config/validate.ts";
import { pathExists, writeFileAtomic } from "../../io/atomic.ts";
import { INPUT_LIMITS, readInputBytes } from "../../io/input.ts";
import { writeSafetensors } from "../../io/safetensors.ts";
import { sha256Bytes, sha256File } from "../../io/sha256.ts";
import {
  DATASET_FORMAT,
  DATASET_VERSION,
  type DatasetIndex,
  type ShardEntry,
  shardFileName,
  type SkippedInput,
  sliceIndexFileName,
  type TokenizeSettings,
} from "../shards/dataset_index.ts";
import { type Manifest, readManifest } from "../manifest/manifest.ts";
import type { ShardMeta } from "../shards/shard_codec.ts";
import { prepareTextTokenizer, type TextSource } from "../text/setup.ts";
import { prepareOut, removeRunTemps, type RunRecord } from "./_out_folder.ts";
import { DEFAULT_TOKENIZE_WORKERS, resolveTokenizeSettings } from "./settings.ts";
import {
  datasetLabels,
  resumeShard,
  type ShardJob,
  tokenizeBlock,
  type TokenizeProgress,
} from "./_shard_job.ts";

/** Progress of a tokenize run (see {@linkcode TokenizeOptions.onProgress}). */
export type { TokenizeProgress } from "./_shard_job.ts";

/**
 * A shard could not be written (disk full, write permission lost): the run
 * stops; the shards completed before stay, and a re-run continues from them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ShardWriteError } from "./tokenize.ts";
 * const e = new ShardWriteError("shard-00003-of-00008.safetensors", 3, new Error("No space left"));
 * assert.equal(e.message, "cannot write shard-00003-of-00008.safetensors: No space left; the 3 complete shards are kept");
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

/** The run's checked options with their defaults. */
interface RunOptions {
  settings: TokenizeSettings;
  workers: number;
  onError: "skip" | "fail";
  text: TextSource;
}

/** Fills in the defaults and checks the settings, the worker count and the slice. */
function checkOptions(options: TokenizeOptions): RunOptions {
  const settings = resolveTokenizeSettings(options.settings);
  const workers = options.workers ?? DEFAULT_TOKENIZE_WORKERS;
  checkInteger(workers, "workers", { min: 1, max: 256 });
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
  return { settings, workers, onError, text };
}

/** Reads the manifest and makes the run record that says whether an earlier run can be resumed. */
async function readRun(
  options: TokenizeOptions,
  run: RunOptions,
): Promise<{ manifest: Manifest; record: RunRecord }> {
  const manifestBytes = await readInputBytes(options.manifest, {
    maxBytes: INPUT_LIMITS.manifest,
    label: "manifest",
  }).catch((e) => {
    if (e instanceof FormatError) throw e;
    throw new FormatError(`cannot read the manifest: ${(e as Error).message}`, {
      path: options.manifest,
    });
  });
  const manifest = await readManifest(options.manifest);
  const textFile = run.text.vocabFile ?? run.text.tokenizerFile ?? run.text.wordVectors?.file;
  // An unreadable file is reported by prepareTextTokenizer below.
  const textSha256 = textFile ? await sha256File(textFile).catch(() => undefined) : undefined;
  const record: RunRecord = {
    format: "vatt-tokenize-run",
    settings: run.settings,
    manifestSha256: sha256Bytes(manifestBytes),
    text: run.text,
    ...(textSha256 ? { textSha256 } : {}),
  };
  return { manifest, record };
}

/** The manifest's rejected rows as skipped inputs; the first stops a run that may not skip. */
function manifestSkips(
  manifest: Manifest,
  options: TokenizeOptions,
  run: RunOptions,
): SkippedInput[] {
  const skippedRows: SkippedInput[] = manifest.errors.map((e) => ({
    row: e.row,
    ...(e.id !== undefined ? { id: e.id } : {}),
    reason: e.reason,
  }));
  if (run.onError === "fail" && skippedRows.length > 0) {
    const { row, id, reason } = skippedRows[0];
    throw new FormatError(`row ${row}${id ? ` (${id})` : ""}: ${reason}`, {
      path: options.manifest,
    });
  }
  return skippedRows;
}

/** Which shards there are, which of them this run writes, and how many clips those hold. */
interface ShardPlan {
  numShards: number;
  mine: number[];
  total: number;
}

/** Shard `g` holds the valid rows `[g·K, (g+1)·K)`; a slice `i` of `n` writes the `g ≡ i (mod n)`. */
function planShards(rows: number, k: number, slice?: TokenizeOptions["slice"]): ShardPlan {
  const numShards = Math.ceil(rows / k);
  const mine = Array.from({ length: numShards }, (_, g) => g).filter((g) =>
    !slice || g % slice.count === slice.index
  );
  const total = mine.reduce((sum, g) => sum + Math.min(k, rows - g * k), 0);
  return { numShards, mine, total };
}

/** What the shards of a run add up to in the index. */
interface ShardsWritten {
  entries: ShardEntry[];
  skipped: SkippedInput[];
  padded: DatasetIndex["padded"];
  dropped: number;
  resumed: number;
}

/** The index entry of shard `index`, complete at `target`. */
async function shardEntry(
  target: string,
  shard: { file: string; index: number; meta: ShardMeta },
): Promise<ShardEntry> {
  const stat = await Deno.stat(target);
  return {
    file: shard.file,
    index: shard.index,
    clips: shard.meta.ids.length,
    sha256: await sha256File(target),
    bytes: stat.size,
  };
}

/** Writes (or resumes) this run's shards, one after another. */
async function writeShards(
  rows: Manifest["rows"],
  job: ShardJob & { out: string; plan: ShardPlan; skipped: SkippedInput[] },
): Promise<ShardsWritten> {
  const k = job.settings.clipsPerShard;
  const done: ShardsWritten = {
    entries: [],
    skipped: job.skipped,
    padded: [],
    dropped: 0,
    resumed: 0,
  };
  for (const g of job.plan.mine) {
    const file = shardFileName(g, job.plan.numShards);
    const target = path.join(job.out, file);
    const block = rows.slice(g * k, (g + 1) * k);
    let meta;
    if (await pathExists(target)) {
      meta = await resumeShard(target, job);
      done.resumed++;
      job.progress.done += block.length;
      job.progress.skipped += meta.skipped.length;
    } else {
      const built = await tokenizeBlock(block, job);
      try {
        await writeSafetensors(target, built.tensors, { metadata: built.metadata });
      } catch (e) {
        throw new ShardWriteError(file, job.progress.shards, e);
      }
      meta = built.meta;
    }
    done.entries.push(await shardEntry(target, { file, index: g, meta }));
    done.skipped.push(...meta.skipped);
    done.padded.push(...meta.padded);
    done.dropped += meta.droppedCaptions;
    job.progress.shards++;
    job.onProgress?.({ ...job.progress });
  }
  return done;
}

/** What a run knows besides its shards, for its index. */
interface RunSummary {
  job: ShardJob;
  spec: DatasetIndex["text"];
  plan: ShardPlan;
  manifest: Manifest;
  options: TokenizeOptions;
  record: RunRecord;
}

/** The index of what this run wrote (a partial one for a slice of several). */
function datasetIndex(written: ShardsWritten, run: RunSummary): DatasetIndex {
  const { job, manifest, options } = run;
  const index: DatasetIndex = {
    format: DATASET_FORMAT,
    version: DATASET_VERSION,
    settings: job.settings,
    text: run.spec,
    labels: job.labels,
    numShards: run.plan.numShards,
    shards: written.entries,
    clips: written.entries.reduce((s, e) => s + e.clips, 0),
    skipped: written.skipped.sort((a, b) => a.row - b.row),
    padded: written.padded,
    droppedCaptions: written.dropped,
    manifest: {
      file: path.basename(options.manifest),
      sha256: run.record.manifestSha256,
      rows: manifest.rows.length + manifest.errors.length,
    },
  };
  if (options.slice && options.slice.count > 1) index.slice = { ...options.slice };
  return index;
}

/**
 * Tokenizes a manifest into a dataset folder (or this run's slice of it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tokenizeDataset } from "./tokenize.ts";
 * // A manifest of one row whose video is missing: the row is skipped and the index says why.
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/m.jsonl`, JSON.stringify({ id: "a", video: "a.mp4", captions: ["a dog"] }) + "\n");
 * const { index } = await tokenizeDataset({ manifest: `${dir}/m.jsonl`, out: `${dir}/data`,
 *   settings: { frames: 2, size: 8, audioSeconds: 0.1, sampleRate: 8000 } });
 * assert.equal(index.clips, 0);
 * assert.equal(index.skipped[0].id, "a");
 * assert.equal(index.skipped[0].file, "a.mp4");
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function tokenizeDataset(options: TokenizeOptions): Promise<TokenizeResult> {
  const run = checkOptions(options);
  const { manifest, record } = await readRun(options, run);
  await prepareOut(options.out, record, { force: options.force ?? false });
  const skippedRows = manifestSkips(manifest, options, run);
  const rows = manifest.rows;
  // A word-vector file (gigabytes) is hashed once: the resume record's hash is the source's.
  const wordVectors = run.text.wordVectors && record.textSha256
    ? { ...run.text.wordVectors, sha256: record.textSha256 }
    : run.text.wordVectors;
  const { tokenizer, spec } = await prepareTextTokenizer({ ...run.text, wordVectors }, {
    captions: rows.flatMap((r) => r.captions),
    outDir: options.out,
  });
  const { labels, labelIndex } = datasetLabels(rows);
  const slice = options.slice;
  const plan = planShards(rows.length, run.settings.clipsPerShard, slice);
  await removeRunTemps(options.out, { mine: plan.mine, numShards: plan.numShards, slice });
  // The manifest's rejected rows count as skipped from the start, as the index lists them.
  const skipped = skippedRows.length;
  const progress: TokenizeProgress = { done: 0, total: plan.total, skipped, shards: 0 };
  // Once before any work, so a progress display can start its clock and show the total.
  options.onProgress?.({ ...progress });
  const job: ShardJob = {
    ...run,
    labels,
    labelIndex,
    tokenizer,
    manifest: options.manifest,
    ffmpeg: options.ffmpeg,
    progress,
    onProgress: options.onProgress,
    signal: options.signal,
  };
  const written = await writeShards(rows, {
    ...job,
    out: options.out,
    plan,
    skipped: !slice || slice.index === 0 ? [...skippedRows] : [],
  });
  const index = datasetIndex(written, { job, spec, plan, manifest, options, record });
  const indexPath = path.join(
    options.out,
    index.slice ? sliceIndexFileName(slice!.index, slice!.count) : "index.json",
  );
  await writeFileAtomic(indexPath, JSON.stringify(index, null, 2) + "\n");
  return { index, indexPath, resumedShards: written.resumed };
}
