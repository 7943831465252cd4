/**
 * HowTo100M (Miech et al. 2019): 1.2M instructional YouTube videos with ASR
 * narrations, the paper's video-text pretraining data.
 *
 * Layout (the files as distributed, next to the downloaded videos):
 * ```
 * ROOT/caption.json     {"<video_id>": {"start": [...], "end": [...], "text": [...]}, ...}
 *                       (or raw_caption.json, the same without stop-word removal)
 * ROOT/videos/<video_id>.mp4   (any extension, any depth under videos/)
 * ```
 * Every caption becomes one clip (the MIL-NCE sampling, made exhaustive):
 * its window is the caption's `[start, end]` widened, centred, to at least
 * `minSeconds` (MIL-NCE's `min_time`, 4 s; never before 0), and its captions
 * are the MIL-NCE positives: the caption and its nearest neighbours in time,
 * `captionsPerClip` in all (the official VATT config's
 * `max_context_sentences`, 4), in time order. The neighbours are chosen
 * as MIL-NCE's `_find_nearest_candidates` does: grow the run of consecutive
 * captions one at a time toward the side that keeps its span
 * (`end[last] - start[first]`) shorter, ties to the later side, and against
 * the other end once it reaches the first or the last caption.
 *
 * `malformed.rows` count entries of the JSON object (1-based video order),
 * as the file is usually one line.
 *
 * @module
 */
import { join } from "node:path";
import {
  type DatasetManifest,
  type DatasetOptions,
  indexMedia,
  ManifestCollector,
} from "./_common.ts";
import { jsonEntries } from "./_json_entries.ts";
import { firstFile } from "./_layout.ts";

/** Shortest clip window in seconds (MIL-NCE's `min_time`). */
export const HOWTO100M_MIN_SECONDS = 4;
/**
 * Captions per clip when not given: the official VATT config's
 * `max_context_sentences` (4), which is also `vatt tokenize`'s default.
 */
export const DEFAULT_CAPTIONS_PER_CLIP = 4;

/**
 * The captions that are a clip's MIL-NCE positives: the run `[first, last]`
 * of `k` consecutive captions around `anchor` (fewer when the video has fewer)
 * grown toward the side that keeps `ends[last] - starts[first]` shorter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { neighbourCaptions } from "./howto100m.ts";
 * const starts = [0, 10, 12, 14, 30];
 * const ends = [2, 11, 13, 20, 31];
 * // around caption 2: left span 13-10=3 beats right span 20-12=8, then [0..] 13-0 vs [1..3] 20-10
 * assert.deepEqual(neighbourCaptions(starts, ends, 2, 3), [1, 3]);
 * assert.deepEqual(neighbourCaptions(starts, ends, 0, 3), [0, 2]); // first caption: grow right
 * assert.deepEqual(neighbourCaptions(starts, ends, 4, 2), [3, 4]); // last caption: grow left
 * assert.deepEqual(neighbourCaptions(starts, ends, 1, 9), [0, 4]); // fewer captions than k
 * ```
 */
export function neighbourCaptions(
  starts: readonly number[],
  ends: readonly number[],
  anchor: number,
  k: number,
): [number, number] {
  const n = starts.length;
  const want = Math.min(k, n);
  let first = anchor;
  let last = anchor;
  while (last - first + 1 < want) {
    if (first === 0) last++;
    else if (last === n - 1) first--;
    else if (ends[last] - starts[first - 1] < ends[last + 1] - starts[first]) first--;
    else last++;
  }
  return [first, last];
}

/**
 * Reads `ROOT/caption.json` (or `raw_caption.json`) into one row per caption
 * with its neighbouring captions (see the module doc). A video entry whose
 * `start`, `end`, `text` are not lists of one length, or whose times are not
 * non-negative numbers with `end >= start`, is malformed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readHowTo100M } from "./howto100m.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${root}/caption.json`, JSON.stringify({
 *   v1: { start: [0, 5, 20], end: [5, 8, 26], text: ["cut onion", "add oil", "stir"] },
 * }));
 * const { rows } = await readHowTo100M(root, { captionsPerClip: 2, skipMissingCheck: true });
 * assert.deepEqual(rows.map((r) => [r.id, r.start, r.end, r.captions]), [
 *   ["v1_0", 0, 5, ["cut onion", "add oil"]],
 *   ["v1_1", 4.5, 8.5, ["cut onion", "add oil"]],
 *   ["v1_2", 20, 26, ["add oil", "stir"]],
 * ]);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function readHowTo100M(
  root: string,
  options: DatasetOptions = {},
): Promise<DatasetManifest> {
  const k = options.captionsPerClip ?? DEFAULT_CAPTIONS_PER_CLIP;
  if (!Number.isSafeInteger(k) || k < 1) {
    throw new RangeError(
      `Cannot read HowTo100M: captions per clip must be a positive integer, got ${k}`,
    );
  }
  if (options.split !== undefined) {
    throw new RangeError("Cannot read HowTo100M: it has no splits (leave out --split)");
  }
  const file = await captionFile(root);
  const c = new ManifestCollector(file, options);
  const media = c.checksMedia ? await indexMedia(join(root, "videos")) : new Map();
  for await (const entry of jsonEntries(file)) {
    const captions = entry.error ?? videoCaptions(entry.value);
    if (typeof captions === "string") {
      c.malformed(entry.index, `video ${JSON.stringify(entry.key)}: ${captions}`);
      continue;
    }
    const video = c.checksMedia ? media.get(entry.key) : join(root, "videos", `${entry.key}.mp4`);
    if (video === undefined) {
      c.missingFile(join(root, "videos", `${entry.key}.*`), entry.index);
      continue;
    }
    const { starts, ends, texts } = captions;
    for (let i = 0; i < texts.length; i++) {
      const [first, last] = neighbourCaptions(starts, ends, i, k);
      const window = widen(starts[i], ends[i], HOWTO100M_MIN_SECONDS);
      const row = {
        id: `${entry.key}_${i}`,
        video,
        captions: texts.slice(first, last + 1),
        ...window,
      };
      await c.add(row, entry.index, { verified: true });
    }
  }
  return c.finish();
}

interface Captions {
  starts: number[];
  ends: number[];
  texts: string[];
}

/** A video's captions sorted by start time, empty texts left out; or why the entry is bad. */
function videoCaptions(value: unknown): Captions | string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return "value is not an object with start, end and text";
  }
  const { start, end, text } = value as Record<string, unknown>;
  if (!Array.isArray(start) || !Array.isArray(end) || !Array.isArray(text)) {
    return "start, end and text must be lists";
  }
  if (start.length !== end.length || start.length !== text.length) {
    return `start, end and text have different lengths (${start.length}, ${end.length}, ${text.length})`;
  }
  const order: number[] = [];
  for (let i = 0; i < start.length; i++) {
    const s = start[i];
    const e = end[i];
    if (typeof s !== "number" || typeof e !== "number" || !(s >= 0) || !(e >= s) || !isFinite(e)) {
      return `caption ${i}: bad times start ${JSON.stringify(s)}, end ${JSON.stringify(e)}`;
    }
    if (typeof text[i] !== "string") return `caption ${i}: text is not a string`;
    if ((text[i] as string).trim() !== "") order.push(i);
  }
  order.sort((a, b) => start[a] - start[b] || a - b);
  return {
    starts: order.map((i) => start[i]),
    ends: order.map((i) => end[i]),
    texts: order.map((i) => (text[i] as string).trim()),
  };
}

/** `[start, end]` widened, centred, to at least `min` seconds, never before 0. */
function widen(start: number, end: number, min: number): { start: number; end: number } {
  if (end - start >= min) return { start, end };
  const s = Math.max(0, start - (min - (end - start)) / 2);
  return { start: s, end: s + min };
}

/** `ROOT/caption.json`, else `ROOT/raw_caption.json`. */
function captionFile(root: string): Promise<string> {
  return firstFile("HowTo100M captions", [
    join(root, "caption.json"),
    join(root, "raw_caption.json"),
  ]);
}
