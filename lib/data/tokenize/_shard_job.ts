/**
 * One shard of a tokenize run: tokenizing its block of manifest rows, or
 * checking the shard an earlier, interrupted run already completed.
 *
 * @module
 */
import { FormatError } from "../../util/errors.ts";
import { openSafetensors } from "../../io/safetensors.ts";
import type { NamedArray } from "../../io/safetensors.ts";
import type { DatasetIndex, TokenizeSettings } from "../shards/dataset_index.ts";
import {
  buildShard,
  OPTIONAL_SHARD_TENSORS,
  parseShardMeta,
  type ShardMeta,
  shardSpecs,
} from "../shards/shard_codec.ts";
import type { SkippedClip, TokenizedClip } from "../shards/tokenized_clip.ts";
import type { ManifestRow } from "../manifest/manifest.ts";
import type { TextTokenizer } from "../text/tokenizer.ts";
import { tokenizeClip } from "./clip.ts";
import { mapPool } from "./_pool.ts";

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

/** What every shard of a run shares. */
export interface ShardJob {
  settings: TokenizeSettings;
  labels: DatasetIndex["labels"];
  /** Label name → index. */
  labelIndex: Map<string, number>;
  tokenizer: TextTokenizer;
  /** Clips decoded at once. */
  workers: number;
  onError: "skip" | "fail";
  /** The manifest's path, named by errors about its rows. */
  manifest: string;
  ffmpeg?: string;
  /** The run's progress, updated in place. */
  progress: TokenizeProgress;
  onProgress?: (p: TokenizeProgress) => void;
  signal?: AbortSignal;
}

/**
 * The dataset's label names (sorted) and their indices; multi-label when any
 * row lists several.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { datasetLabels } from "./_shard_job.ts";
 * const rows = [{ label: "dog" }, { label: "cat" }, {}] as Parameters<typeof datasetLabels>[0];
 * const { labels, labelIndex } = datasetLabels(rows);
 * assert.deepEqual(labels, { names: ["cat", "dog"], multiLabel: false });
 * assert.equal(labelIndex.get("dog"), 1);
 * ```
 */
export function datasetLabels(
  rows: ManifestRow[],
): { labels: DatasetIndex["labels"]; labelIndex: Map<string, number> } {
  const labelNames = [
    ...new Set(
      rows.flatMap((
        r,
      ) => (r.label === undefined ? [] : Array.isArray(r.label) ? r.label : [r.label])),
    ),
  ].sort();
  const labels = { names: labelNames, multiLabel: rows.some((r) => Array.isArray(r.label)) };
  const labelIndex = new Map(labelNames.map((n, i) => [n, i]));
  return { labels, labelIndex };
}

/**
 * Checks a shard that an earlier run wrote completely (shards appear only by
 * rename) against this run's settings, and returns its bookkeeping.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resumeShard } from "./_shard_job.ts";
 * const job = { onError: "skip", manifest: "m.jsonl" } as Parameters<typeof resumeShard>[1];
 * await assert.rejects(resumeShard("/no/such/shard.safetensors", job));
 * ```
 */
export async function resumeShard(target: string, job: ShardJob): Promise<ShardMeta> {
  let meta;
  const shard = await openSafetensors(target);
  try {
    try {
      meta = parseShardMeta(shard.header.metadata);
    } catch (e) {
      throw new FormatError(`not a shard of this dataset: ${(e as Error).message}`, {
        path: target,
      });
    }
    const expected = shardSpecs({ settings: job.settings, labels: job.labels }, meta.ids.length);
    for (const [name, want] of Object.entries(expected)) {
      const got = shard.header.tensors[name];
      if (!got && OPTIONAL_SHARD_TENSORS.includes(name)) continue; // kept from an older vatt
      if (!got || got.dtype !== want.dtype || got.shape.join() !== want.shape.join()) {
        throw new FormatError(`tensor ${name} does not match the settings`, { path: target });
      }
    }
  } finally {
    shard.close();
  }
  if (job.onError === "fail" && meta.skipped.length > 0) {
    // Kept from a run that skipped; this one promised to stop at a bad clip.
    const first = meta.skipped[0];
    throw new FormatError(
      `row ${first.row}${first.id ? ` (${first.id})` : ""}: ${first.reason}`,
      { path: first.file ?? job.manifest },
    );
  }
  return meta;
}

/** Tokenizes one row, counting it and stopping the run on a bad clip when asked to. */
async function tokenizeRow(row: ManifestRow, job: ShardJob): Promise<TokenizedClip | SkippedClip> {
  const r = await tokenizeClip(row, {
    settings: job.settings,
    tokenizer: job.tokenizer,
    labelIndex: job.labelIndex,
    ffmpeg: job.ffmpeg,
  });
  job.progress.done++;
  if (!r.ok) job.progress.skipped++;
  job.onProgress?.({ ...job.progress });
  if (!r.ok && job.onError === "fail") {
    throw new FormatError(`row ${r.row} (${r.id}): ${r.reason}`, {
      path: r.file ?? job.manifest,
    });
  }
  return r;
}

/**
 * Tokenizes the rows of one shard (a few at once) into its tensors and
 * metadata; skipped rows are listed in the metadata.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tokenizeBlock } from "./_shard_job.ts";
 * const settings = { frames: 2, fps: 10, size: 4, audioSeconds: 0.1, sampleRate: 100, audioSamples: 10,
 *   audioDtype: "int16" as const, maxLength: 3, captionsPerClip: 1, minCoverage: 0.5, clipsPerShard: 8 };
 * const job = { settings, labels: { names: [], multiLabel: false }, workers: 1, onError: "skip",
 *   progress: { done: 0, total: 0, skipped: 0, shards: 0 } } as unknown as Parameters<typeof tokenizeBlock>[1];
 * const built = await tokenizeBlock([], job);
 * assert.deepEqual(built.meta.ids, []);
 * assert.deepEqual(built.tensors.video.shape, [0, 2, 4, 4, 3]);
 * ```
 */
export async function tokenizeBlock(
  block: ManifestRow[],
  job: ShardJob,
): Promise<
  { tensors: Record<string, NamedArray>; metadata: Record<string, string>; meta: ShardMeta }
> {
  const results = await mapPool(block, (row) => tokenizeRow(row, job), {
    workers: job.workers,
    signal: job.signal,
  });
  const clips = results.filter((r): r is TokenizedClip => r.ok);
  const skipped = results.filter((r): r is SkippedClip => !r.ok).map((
    { row, id, file, reason },
  ) => ({ row, id, file, reason }));
  return buildShard(clips, { settings: job.settings, labels: job.labels, skipped });
}
