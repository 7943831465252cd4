/**
 * Merging the partial indexes of a sliced tokenize run (`--shard-index i
 * --num-shards n` on many machines) into the `index.json` one run would write.
 *
 * @module
 */
import * as path from "node:path";
import { FormatError, MismatchError } from "../../util/errors.ts";
import { writeFileAtomic } from "../../io/atomic.ts";
import { INPUT_LIMITS, readInputText } from "../../io/input.ts";
import { openSafetensors } from "../../io/safetensors.ts";
import { sha256File } from "../../io/sha256.ts";
import { type DatasetIndex, parseDatasetIndex } from "../shards/dataset_index.ts";
import { parseShardMeta } from "../shards/shard_codec.ts";

/**
 * Combines the partial indexes of every slice in `dir` into `index.json`,
 * after checking that all slices are present, agree on settings, and that
 * every shard file matches its checksum.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mergeSlices } from "./merge.ts";
 * // After every `--shard-index i --num-shards n` run; a folder without slices is an error.
 * const dir = Deno.makeTempDirSync();
 * await assert.rejects(mergeSlices(dir), /no slice indexes/);
 * Deno.removeSync(dir);
 * ```
 */
export async function mergeSlices(dir: string): Promise<DatasetIndex> {
  const parts: DatasetIndex[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (/^index\.slice-\d+-of-\d+\.json$/.test(e.name)) {
      const p = path.join(dir, e.name);
      parts.push(parseDatasetIndex(
        await readInputText(p, { maxBytes: INPUT_LIMITS.json, label: "slice index" }),
        { path: p },
      ));
    }
  }
  if (parts.length === 0) {
    throw new FormatError("no slice indexes (index.slice-*.json) to merge", { path: dir });
  }
  const count = parts[0].slice?.count ?? 1;
  const seen = new Set(parts.map((p) => p.slice?.index));
  // `count` comes from a file: list at most 10 missing slices, never `count` of them.
  const missing: number[] = [];
  for (let i = 0; i < count && missing.length < 10; i++) if (!seen.has(i)) missing.push(i);
  if (missing.length > 0) {
    const absent = count - [...seen].filter((i) => i !== undefined && i < count).length;
    const more = absent > missing.length ? ` and ${absent - missing.length} more` : "";
    throw new MismatchError(
      `slices ${missing.join(", ")}${more} of ${count} have not finished in ${dir}`,
    );
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
