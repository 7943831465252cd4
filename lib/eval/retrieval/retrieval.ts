/**
 * Zero-shot retrieval with a pretrained VATT: every clip and every caption of
 * a dataset is embedded, candidates are ranked by cosine similarity in the
 * shared space, and Recall@K / median rank are reported next to chance.
 *
 * ## Pairs (query → candidates)
 * - `text-video` (the paper's YouCook2 / MSR-VTT protocol): each real caption
 *   is a query, in the video–text space (`vt`); the candidates are all clips'
 *   video embeddings and the positive is the caption's own clip.
 * - `audio-video`: each clip's audio is a query, in the video–audio space
 *   (`va`), against all clips' video; clips without audio ask no query (their
 *   video stays a candidate).
 * - `text-audio`: VATT trains no text–audio space — text lives in `vt`, audio
 *   in `va`, and the two heads share no coordinates, so no bridge through
 *   video is defined. For a modality-agnostic model (one backbone for all
 *   modalities) text and audio do meet in the backbone's output (the
 *   aggregation token, before the heads), and that space is used: captions
 *   query the clips that have audio. A modality-specific model has three
 *   unrelated backbones, so `text-audio` is refused with a `RangeError`.
 *   Expect weak numbers even for the agnostic model: text and audio are
 *   aligned only indirectly, through video.
 *
 * ## Windows (`windows: K`)
 * Clips longer than the model's window can be stored as K entries with ids
 * `<clip>#w<k>`, k = 0…K−1 (for example by a manifest that lists each window
 * as its own row with `start`/`end`). With `windows: K > 1` the K entries of
 * a clip are merged: its video (and audio) embedding is the plain mean of its
 * K window embeddings (windows without audio are left out of the audio
 * mean), and its captions are those stored with window 0 (a clip's windows
 * carry the same captions; using one copy keeps each caption one query).
 * Every entry must then follow the convention and every clip must have
 * exactly the windows 0…K−1. With K = 1 the entries are taken as they are.
 *
 * Ranking ties count against the query (see `retrieval_metrics.ts`).
 *
 * @module
 */
import type { VattConfig } from "../../config/vatt_config.ts";
import type { Dataset } from "../../data/shards/dataset.ts";
import { MismatchError } from "../../util/errors.ts";
import type { VattModel } from "../../model/vatt.ts";
import { embedDataset, embeddingDims, type EmbeddingSpace } from "../embeddings/embed.ts";
import {
  cosineSimilarityMatrix,
  DEFAULT_RECALL_KS,
  type RetrievalMetrics,
  retrievalMetrics,
} from "./metrics.ts";

/** Which retrieval: `query-candidate`. */
export type RetrievalPair = "text-video" | "audio-video" | "text-audio";

/** The pairs {@linkcode zeroShotRetrieval} knows. */
export const RETRIEVAL_PAIRS: readonly RetrievalPair[] = [
  "text-video",
  "audio-video",
  "text-audio",
];

/**
 * The embedding space a pair is ranked in: `vt` for text-video, `va` for
 * audio-video, the backbone for text-audio (modality-agnostic models only).
 *
 * @throws {RangeError} for `text-audio` on a modality-specific model, or an unknown pair.
 *
 * @example
 * ```ts
 * import { PRESETS } from "../../config/vatt_config.ts";
 * import { spaceOfPair } from "./retrieval.ts";
 * console.assert(spaceOfPair("text-video", PRESETS.tiny) === "vt");
 * ```
 */
export function spaceOfPair(pair: RetrievalPair, config: VattConfig): EmbeddingSpace {
  if (pair === "text-video") return "vt";
  if (pair === "audio-video") return "va";
  if (pair === "text-audio") {
    if (!config.agnostic) {
      throw new RangeError(
        "text-audio retrieval needs a modality-agnostic model: in a modality-specific VATT, " +
          "text (vt space) and audio (va space) share no embedding space",
      );
    }
    return "backbone";
  }
  throw new RangeError(
    `Unknown retrieval pair ${JSON.stringify(pair)}: expected ${RETRIEVAL_PAIRS.join(", ")}`,
  );
}

/** Dataset entries grouped into clips. */
export interface WindowGroups {
  /** Clip ids (the part before `#w<k>`; the entry ids themselves when K = 1), first seen first. */
  clipIds: string[];
  /** For each clip, its entries' positions in window order (k = 0…K−1). */
  members: number[][];
}

const WINDOW_ID = /^(.*)#w(\d+)$/;

/**
 * Groups entries with ids `<clip>#w<k>` into clips of `windows` entries each.
 * With `windows` 1 every entry is its own clip.
 *
 * @throws {RangeError} if `windows` is not a positive integer;
 *   {MismatchError} if an id does not follow the convention or a clip lacks a window.
 *
 * @example
 * ```ts
 * import { groupWindows } from "./retrieval.ts";
 * const g = groupWindows(["a#w1", "b#w0", "a#w0", "b#w1"], 2);
 * console.assert(g.clipIds.join() === "a,b" && g.members[0].join() === "2,0");
 * ```
 */
export function groupWindows(ids: readonly string[], windows: number): WindowGroups {
  if (!Number.isInteger(windows) || windows < 1) {
    throw new RangeError(
      `Cannot group windows: windows must be a positive integer, got ${windows}`,
    );
  }
  if (windows === 1) return { clipIds: [...ids], members: ids.map((_, i) => [i]) };
  const byClip = new Map<string, (number | undefined)[]>();
  ids.forEach((id, i) => {
    const m = WINDOW_ID.exec(id);
    if (!m) {
      throw new MismatchError(
        `Cannot average ${windows} windows per clip: id ${
          JSON.stringify(id)
        } is not of the form <clip>#w<k>`,
      );
    }
    const k = Number(m[2]);
    let slots = byClip.get(m[1]);
    if (!slots) byClip.set(m[1], slots = new Array(windows).fill(undefined));
    if (k >= windows || slots[k] !== undefined) {
      throw new MismatchError(
        `Cannot average ${windows} windows per clip: clip ${JSON.stringify(m[1])} has ${
          k >= windows ? `window ${k}, beyond 0…${windows - 1}` : `window ${k} twice`
        }`,
      );
    }
    slots[k] = i;
  });
  const clipIds: string[] = [];
  const members: number[][] = [];
  for (const [clip, slots] of byClip) {
    const missing = slots.flatMap((s, k) => (s === undefined ? [k] : []));
    if (missing.length > 0) {
      throw new MismatchError(
        `Cannot average ${windows} windows per clip: clip ${JSON.stringify(clip)} lacks window ${
          missing.join(", ")
        }`,
      );
    }
    clipIds.push(clip);
    members.push(slots as number[]);
  }
  return { clipIds, members };
}

/**
 * Means of groups of rows: row `g` of the result is the mean of the rows
 * `members[g]` of `vectors` (`[N, dim]`) whose `mask` is set (all when no
 * mask). A group with no row left is all zeros and unset in `has`.
 *
 * @example
 * ```ts
 * import { meanOfGroups } from "./retrieval.ts";
 * const m = meanOfGroups(new Float32Array([1, 2, 3, 4, 9, 9]), { dim: 2, members: [[0, 1], [2]] });
 * console.assert(m.vectors.join() === "2,3,9,9" && m.has.join() === "1,1");
 * ```
 */
export function meanOfGroups(
  vectors: Float32Array,
  options: { dim: number; members: readonly (readonly number[])[]; mask?: Uint8Array },
): { vectors: Float32Array; has: Uint8Array } {
  const { dim, members, mask } = options;
  const out = new Float32Array(members.length * dim);
  const has = new Uint8Array(members.length);
  const sum = new Float64Array(dim);
  members.forEach((rows, g) => {
    sum.fill(0);
    let n = 0;
    for (const r of rows) {
      if (mask && !mask[r]) continue;
      n++;
      for (let j = 0; j < dim; j++) sum[j] += vectors[r * dim + j];
    }
    if (n === 0) return;
    has[g] = 1;
    for (let j = 0; j < dim; j++) out[g * dim + j] = sum[j] / n;
  });
  return { vectors: out, has };
}

/** Options of {@linkcode rankByCosine}. */
export interface RankByCosineOptions {
  /** Vector length. */
  dim: number;
  /** The candidate index each query should find. */
  owner: ArrayLike<number>;
  /** The K of each Recall@K. Default 1, 5, 10. */
  ks?: number[];
  /** Queries scored at once (bounds memory to `chunk × candidates` floats). Default 1024. */
  chunk?: number;
}

/**
 * Ranks every candidate for every query by cosine similarity, a chunk of
 * queries at a time, and summarises the ranks of the owners as
 * {@linkcode retrievalMetrics} does.
 *
 * @example
 * ```ts
 * import { rankByCosine } from "./retrieval.ts";
 * const q = new Float32Array([1, 0, 0, 1]); // two queries
 * const c = new Float32Array([0, 1, 1, 0]); // two candidates
 * const m = rankByCosine(q, c, { dim: 2, owner: [1, 1] });
 * console.assert(m.ranks.join() === "1,2" && m.recallAtK[1] === 0.5);
 * ```
 */
export function rankByCosine(
  queries: Float32Array,
  candidates: Float32Array,
  options: RankByCosineOptions,
): RetrievalMetrics {
  const { dim, owner } = options;
  const ks = options.ks ?? [...DEFAULT_RECALL_KS];
  const chunk = options.chunk ?? 1024;
  if (!Number.isInteger(chunk) || chunk < 1) {
    throw new RangeError(`Cannot rank: chunk must be a positive integer, got ${chunk}`);
  }
  const q = queries.length / dim;
  const c = candidates.length / dim;
  if (owner.length !== q) {
    throw new RangeError(`Cannot rank ${q} queries with ${owner.length} owners`);
  }
  const ranks = new Int32Array(q);
  for (let start = 0; start < q; start += chunk) {
    const rows = Math.min(chunk, q - start);
    const sim = cosineSimilarityMatrix(
      queries.subarray(start * dim, (start + rows) * dim),
      candidates,
      dim,
    );
    const part = retrievalMetrics(sim, {
      queries: rows,
      candidates: c,
      positives: (i) => [owner[start + i]],
      ks,
    });
    ranks.set(part.ranks, start);
  }
  return summariseRanks(ranks, ks);
}

/** Recall@K, median and mean of 1-based ranks (as {@linkcode retrievalMetrics} reports them). */
function summariseRanks(ranks: Int32Array, ks: number[]): RetrievalMetrics {
  const n = ranks.length;
  const recallAtK: Record<number, number> = {};
  for (const k of ks) {
    let hits = 0;
    for (const r of ranks) if (r <= k) hits++;
    recallAtK[k] = hits / n;
  }
  const sorted = Int32Array.from(ranks).sort();
  const mid = n >> 1;
  const medianRank = n % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  let sum = 0;
  for (const r of ranks) sum += r;
  return { recallAtK, medianRank, meanRank: sum / n, ranks };
}

/** Options of {@linkcode zeroShotRetrieval}. */
export interface ZeroShotOptions {
  /** Which retrieval. Default `text-video`. */
  pair?: RetrievalPair;
  /** Windows per clip to average (ids `<clip>#w<k>`). Default 1. */
  windows?: number;
  /** Clips per forward pass. Default 16. */
  batchSize?: number;
  /** The K of each Recall@K. Default 1, 5, 10. */
  ks?: number[];
  /** Called after each embedded batch with (entries done, entries in all). */
  onProgress?: (done: number, total: number) => void;
}

/** The outcome of {@linkcode zeroShotRetrieval}. */
export interface ZeroShotResult {
  pair: RetrievalPair;
  /** The space the pair was ranked in. */
  space: EmbeddingSpace;
  /** Windows averaged per clip. */
  windows: number;
  /** Clips (after merging windows). */
  clips: number;
  /** Queries ranked. */
  queries: number;
  /** Candidates each query ranks. */
  candidates: number;
  /** Recall@K in [0, 1]. */
  recallAtK: Record<number, number>;
  /** Median 1-based rank of the positive. */
  medianRank: number;
  /** Mean 1-based rank of the positive. */
  meanRank: number;
  /** What a random ranking scores: Recall@K = min(K, C)/C, median rank (C + 1)/2. */
  chance: { recallAtK: Record<number, number>; medianRank: number };
  /** The rank of each query. */
  ranks: Int32Array;
}

/** Embeddings of every entry, stacked. */
interface Collected {
  ids: string[];
  video: Float32Array;
  audio: Float32Array;
  text: Float32Array;
  audioMask: Uint8Array;
  textMask: Uint8Array;
}

/**
 * Embeds `data` with `model` and ranks the pair (see the module
 * documentation for queries, candidates, spaces and windows).
 *
 * @throws {RangeError} for text-audio on a modality-specific model or bad options;
 *   {MismatchError} when the dataset does not fit the model, its ids do not
 *   follow the window convention, or it has no query (no caption, no audio).
 *
 * @example
 * ```ts
 * import { zeroShotRetrieval } from "./retrieval.ts";
 * // const r = await zeroShotRetrieval(model, data, { pair: "text-video" });
 * // console.log(r.recallAtK[1], r.chance.recallAtK[1]);
 * console.assert(typeof zeroShotRetrieval === "function");
 * ```
 */
export async function zeroShotRetrieval(
  model: VattModel,
  data: Dataset,
  options: ZeroShotOptions = {},
): Promise<ZeroShotResult> {
  const pair = options.pair ?? "text-video";
  const windows = options.windows ?? 1;
  const ks = options.ks ?? [...DEFAULT_RECALL_KS];
  const space = spaceOfPair(pair, model.config);
  const queryModality = pair === "audio-video" ? "audio" : "text";
  const candidateModality = pair === "text-audio" ? "audio" : "video";
  // Checked before the (long) embedding pass.
  const groups = groupWindows(await data.ids(), windows);
  const got = await collect(model, data, {
    modalities: [queryModality, candidateModality],
    space,
    batchSize: options.batchSize,
    onProgress: options.onProgress,
  });
  const n = got.ids.length;
  const dims = embeddingDims(model.config, space);
  const dim = dims[candidateModality];
  if (dims[queryModality] !== dim) {
    throw new MismatchError(
      `Cannot rank ${pair}: ${queryModality} vectors have ${
        dims[queryModality]
      } values, ${candidateModality} vectors ${dim}`,
    );
  }
  const cand = meanOfGroups(got[candidateModality], {
    dim,
    members: groups.members,
    mask: candidateModality === "audio" ? got.audioMask : undefined,
  });
  // Candidates: clips with the candidate modality (all clips for video).
  const candIndex = new Int32Array(groups.clipIds.length).fill(-1);
  const candRows: number[] = [];
  cand.has.forEach((h, g) => {
    if (h) candIndex[g] = candRows.push(g) - 1;
  });
  const candidates = pickRows(cand.vectors, dim, candRows);
  let queries: Float32Array;
  const owner: number[] = [];
  if (queryModality === "audio") {
    const q = meanOfGroups(got.audio, { dim, members: groups.members, mask: got.audioMask });
    const rows: number[] = [];
    q.has.forEach((h, g) => {
      if (h && candIndex[g] >= 0) {
        rows.push(g);
        owner.push(candIndex[g]);
      }
    });
    queries = pickRows(q.vectors, dim, rows);
  } else {
    const p = got.textMask.length / n;
    const rows: number[] = [];
    groups.members.forEach((m, g) => {
      if (candIndex[g] < 0) return;
      const e = m[0]; // window 0 carries the clip's captions
      for (let k = 0; k < p; k++) {
        if (got.textMask[e * p + k]) {
          rows.push(e * p + k);
          owner.push(candIndex[g]);
        }
      }
    });
    queries = pickRows(got.text, dim, rows);
  }
  if (owner.length === 0) {
    throw new MismatchError(
      `Cannot rank ${pair}: the dataset has no ${
        queryModality === "audio" ? "clip with audio" : "caption"
      }${candidateModality === "audio" ? " on a clip with audio" : ""}`,
    );
  }
  const metrics = rankByCosine(queries, candidates, { dim, owner, ks });
  const c = candRows.length;
  const chance: Record<number, number> = {};
  for (const k of ks) chance[k] = Math.min(k, c) / c;
  return {
    pair,
    space,
    windows,
    clips: groups.clipIds.length,
    queries: owner.length,
    candidates: c,
    recallAtK: metrics.recallAtK,
    medianRank: metrics.medianRank,
    meanRank: metrics.meanRank,
    chance: { recallAtK: chance, medianRank: (c + 1) / 2 },
    ranks: metrics.ranks,
  };
}

/** Rows `rows` of a `[N, dim]` matrix, stacked. */
function pickRows(vectors: Float32Array, dim: number, rows: readonly number[]): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => out.set(vectors.subarray(r * dim, (r + 1) * dim), i * dim));
  return out;
}

/** Runs {@linkcode embedDataset} over all of `data` and stacks the batches. */
async function collect(
  model: VattModel,
  data: Dataset,
  options: {
    modalities: ("video" | "audio" | "text")[];
    space: EmbeddingSpace;
    batchSize?: number;
    onProgress?: (done: number, total: number) => void;
  },
): Promise<Collected> {
  const n = data.size;
  const p = data.index.settings.captionsPerClip;
  const out: Collected = {
    ids: new Array(n),
    video: new Float32Array(0),
    audio: new Float32Array(0),
    text: new Float32Array(0),
    audioMask: new Uint8Array(n),
    textMask: new Uint8Array(n * p),
  };
  let at = 0;
  for await (const b of embedDataset(model, data, options)) {
    const rows = b.ids.length;
    for (const m of options.modalities) {
      const v = b[m];
      if (!v) continue;
      const per = v.length / rows;
      if (out[m].length === 0) out[m] = new Float32Array(n * per);
      out[m].set(v, at * per);
    }
    for (let i = 0; i < rows; i++) out.ids[at + i] = b.ids[i];
    out.audioMask.set(b.audioMask, at);
    out.textMask.set(b.textMask, at * p);
    at += rows;
  }
  return out;
}
