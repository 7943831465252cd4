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
 * - Audio-only clips (`video_mask` 0) are no video candidate and ask no
 *   query against video; clips left out for a missing side are counted in
 *   `missingSide`.
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
 * Ranking ties count against the query (see `metrics.ts`).
 *
 * @module
 */
import { DEFAULT_RETRIEVAL_PAIR, DEFAULT_RETRIEVAL_WINDOWS } from "../../config/eval_config.ts";
import type { VattConfig } from "../../config/vatt_config.ts";
import type { Dataset } from "../../data/shards/dataset.ts";
import { MismatchError } from "../../util/errors.ts";
import type { VattModel } from "../../model/vatt.ts";
import { embedDataset, embeddingDims, type EmbeddingSpace } from "../embeddings/embed.ts";
import { DEFAULT_RECALL_KS, rankByCosine } from "./metrics.ts";
import { rankReversed, type ReversedRanking } from "./reverse.ts";
import { groupWindows } from "./windows.ts";
import {
  type Candidates,
  candidatesOf,
  type Collected,
  type Queries,
  queriesOf,
} from "./_sides.ts";

/** A pair in its forward direction (the captions or audio query). */
type ForwardPair = "text-video" | "audio-video" | "text-audio";

/** Which retrieval: `query-candidate`; `video-text` and the like rank the other way round. */
export type RetrievalPair = ForwardPair | "video-text" | "video-audio" | "audio-text";

/** The pairs {@linkcode zeroShotRetrieval} knows. */
export const RETRIEVAL_PAIRS: readonly RetrievalPair[] = [
  "text-video",
  "audio-video",
  "text-audio",
  "video-text",
  "video-audio",
  "audio-text",
];

/** The forward pair of `pair` (itself, or its two modalities swapped). */
function forwardOf(pair: RetrievalPair): ForwardPair {
  const [a, b] = pair.split("-");
  const swapped = `${b}-${a}`;
  return (["text-video", "audio-video", "text-audio"] as string[]).includes(pair)
    ? pair as ForwardPair
    : swapped as ForwardPair;
}

/**
 * The embedding space a pair is ranked in: `vt` for text-video, `va` for
 * audio-video, the backbone for text-audio (modality-agnostic models only).
 *
 * @throws {RangeError} for `text-audio` on a modality-specific model, or an unknown pair.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PRESETS } from "../../config/vatt_config.ts";
 * import { spaceOfPair } from "./retrieval.ts";
 * assert.equal(spaceOfPair("text-video", PRESETS.tiny), "vt");
 * ```
 */
export function spaceOfPair(given: RetrievalPair, config: VattConfig): EmbeddingSpace {
  const pair = RETRIEVAL_PAIRS.includes(given) ? forwardOf(given) : given;
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

/** Options of {@linkcode zeroShotRetrieval}. */
export interface ZeroShotOptions {
  /** Which retrieval. Default {@linkcode DEFAULT_RETRIEVAL_PAIR}. */
  pair?: RetrievalPair;
  /** Windows per clip to average (ids `<clip>#w<k>`). Default {@linkcode DEFAULT_RETRIEVAL_WINDOWS}. */
  windows?: number;
  /** Clips per forward pass. Default `DEFAULT_EVAL_BATCH_SIZE` (`lib/config/eval_config.ts`). */
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
  /**
   * Clips (after merging windows) skipped for a missing side: `candidate`: no
   * video (audio-only), or no audio for text-audio; `query`: a candidate that
   * asks nothing (no caption, or no audio for audio-video).
   */
  missingSide: { candidate: number; query: number };
  /** Recall@K in [0, 1]. */
  recallAtK: Record<number, number>;
  /** Median 1-based rank of the positive. */
  medianRank: number;
  /** Mean 1-based rank of the positive. */
  meanRank: number;
  /**
   * What a random ranking scores: Recall@K = min(K, C)/C, median and mean rank (C + 1)/2
   * (reversed pairs, with several positives per query: see `reverse.ts`).
   */
  chance: { recallAtK: Record<number, number>; medianRank: number; meanRank: number };
  /** The rank of each query. */
  ranks: Int32Array;
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
 * import assert from "node:assert/strict";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { PRESETS } from "../../config/vatt_config.ts";
 * import type { Dataset } from "../../data/shards/dataset.ts";
 * import { VattModel } from "../../model/vatt.ts";
 * import { zeroShotRetrieval } from "./retrieval.ts";
 * // A stand-in dataset of two black clips, each with one caption, at the tiny preset's sizes.
 * const settings = {
 *   frames: 8, size: 32, audioSamples: 6400, sampleRate: 8000, captionsPerClip: 1, maxLength: 16,
 * };
 * const data = {
 *   size: 2,
 *   index: { settings, text: { vocabSize: 10 } },
 *   ids: () => Promise.resolve(["a", "b"]),
 *   readClips: (indices: number[]) =>
 *     Promise.resolve({
 *       count: indices.length, ids: indices.map((i) => ["a", "b"][i]),
 *       video: new Uint8Array(indices.length * 8 * 32 * 32 * 3),
 *       audio: new Float32Array(indices.length * 6400), audioMask: new Uint8Array(indices.length),
 *       text: Int32Array.from({ length: indices.length * 16 }, (_, k) => k % 7),
 *       textMask: new Uint8Array(indices.length).fill(1), label: new Int32Array(indices.length),
 *     }),
 * } as unknown as Dataset;
 * const model = VattModel.create(PRESETS.tiny);
 * const r = await zeroShotRetrieval(model, data, { pair: "text-video" });
 * assert.equal(r.space, "vt");
 * assert.equal(r.queries, 2); // two captions
 * assert.equal(r.candidates, 2); // two clips
 * assert.equal(r.chance.recallAtK[1], 0.5);
 * assert.equal(r.recallAtK[5], 1); // two candidates: every positive is in the top 5
 * model.dispose();
 * ```
 */
export async function zeroShotRetrieval(
  model: VattModel,
  data: Dataset,
  options: ZeroShotOptions = {},
): Promise<ZeroShotResult> {
  const pair = options.pair ?? DEFAULT_RETRIEVAL_PAIR;
  const windows = options.windows ?? DEFAULT_RETRIEVAL_WINDOWS;
  const ks = options.ks ?? [...DEFAULT_RECALL_KS];
  const space = spaceOfPair(pair, model.config);
  const forward = forwardOf(pair);
  const queryModality = forward === "audio-video" ? "audio" : "text";
  const candidateModality = forward === "text-audio" ? "audio" : "video";
  // Checked before the (long) embedding pass.
  const groups = groupWindows(await data.ids(), windows);
  const got = await collect(model, data, {
    modalities: [queryModality, candidateModality],
    space,
    batchSize: options.batchSize,
    onProgress: options.onProgress,
  });
  const dims = embeddingDims(model.config, space);
  const dim = dims[candidateModality];
  if (dims[queryModality] !== dim) {
    throw new MismatchError(
      `Cannot rank ${pair}: ${queryModality} vectors have ${
        dims[queryModality]
      } values, ${candidateModality} vectors ${dim}`,
    );
  }
  const cand = candidatesOf(got, groups, { modality: candidateModality, dim });
  const query = queriesOf(got, groups, {
    modality: queryModality,
    dim,
    candidateOf: cand.indexOfClip,
  });
  if (query.owner.length === 0) {
    throw new MismatchError(
      `Cannot rank ${pair}: the dataset has no ${
        queryModality === "audio" ? "clip with audio" : "caption"
      }${candidateModality === "audio" ? " on a clip with audio" : ""}`,
    );
  }
  const ranked = pair === forward
    ? rankForward(query, cand, { dim, ks })
    : rankReversed(query.vectors, cand.vectors, { dim, owner: query.owner, ks });
  const { recallAtK, medianRank, meanRank, ranks, chance } = ranked;
  return {
    pair,
    space,
    windows,
    clips: groups.clipIds.length,
    queries: ranked.queries,
    candidates: ranked.candidates,
    missingSide: {
      candidate: groups.clipIds.length - cand.count,
      query: cand.count - new Set(query.owner).size,
    },
    recallAtK,
    medianRank,
    meanRank,
    chance,
    ranks,
  };
}

/** The forward ranking: each query against every candidate, one positive each. */
function rankForward(
  query: Queries,
  cand: Candidates,
  options: { dim: number; ks: number[] },
): ReversedRanking {
  const { dim, ks } = options;
  const metrics = rankByCosine(query.vectors, cand.vectors, { dim, owner: query.owner, ks });
  const c = cand.count;
  const chance: Record<number, number> = {};
  for (const k of ks) chance[k] = Math.min(k, c) / c;
  return {
    ...metrics,
    queries: query.owner.length,
    candidates: c,
    chance: { recallAtK: chance, medianRank: (c + 1) / 2, meanRank: (c + 1) / 2 },
  };
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
    videoMask: new Uint8Array(n).fill(1),
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
    if (b.videoMask) out.videoMask.set(b.videoMask, at);
    out.textMask.set(b.textMask, at * p);
    at += rows;
  }
  return out;
}
