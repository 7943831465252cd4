/**
 * The two sides of a ranking from a dataset's embeddings: the candidates
 * (one per clip, its windows averaged; clips missing the modality have none)
 * and the queries (a clip's audio, or every real caption of its window 0),
 * each query paired with the candidate it should find.
 *
 * @module
 */
import { meanOfGroups, type WindowGroups } from "./windows.ts";

/** Embeddings of every entry, stacked. */
export interface Collected {
  ids: string[];
  video: Float32Array;
  audio: Float32Array;
  text: Float32Array;
  audioMask: Uint8Array;
  videoMask: Uint8Array;
  textMask: Uint8Array;
}

/** The candidates of a ranking, stacked, and where each clip sits among them. */
export interface Candidates {
  /** `[count, dim]`. */
  vectors: Float32Array;
  count: number;
  /** For each clip, its row in `vectors`, or −1 when it has no candidate (no audio). */
  indexOfClip: Int32Array;
}

/** Candidates: the clips (window means) with the candidate modality (video: all but audio-only clips). */
export function candidatesOf(
  got: Collected,
  groups: WindowGroups,
  options: { modality: "video" | "audio"; dim: number },
): Candidates {
  const { modality, dim } = options;
  const mean = meanOfGroups(got[modality], {
    dim,
    members: groups.members,
    mask: modality === "audio" ? got.audioMask : got.videoMask,
  });
  const indexOfClip = new Int32Array(groups.clipIds.length).fill(-1);
  const rows: number[] = [];
  mean.has.forEach((h, g) => {
    if (h) indexOfClip[g] = rows.push(g) - 1;
  });
  return { vectors: pickRows(mean.vectors, dim, rows), count: rows.length, indexOfClip };
}

/** Queries of a ranking, stacked, with the candidate each should find. */
export interface Queries {
  /** `[owner.length, dim]`. */
  vectors: Float32Array;
  owner: number[];
}

/**
 * The queries: for audio, each clip's mean audio (when the clip has audio); for text, every
 * real caption of window 0 of each clip. Only clips that have a candidate ask.
 */
export function queriesOf(
  got: Collected,
  groups: WindowGroups,
  options: { modality: "audio" | "text"; dim: number; candidateOf: Int32Array },
): Queries {
  const { dim, candidateOf } = options;
  const rows: number[] = [];
  const owner: number[] = [];
  const ask = (row: number, clip: number) => {
    rows.push(row);
    owner.push(candidateOf[clip]);
  };
  if (options.modality === "audio") {
    const q = meanOfGroups(got.audio, { dim, members: groups.members, mask: got.audioMask });
    q.has.forEach((h, g) => {
      if (h && candidateOf[g] >= 0) ask(g, g);
    });
    return { vectors: pickRows(q.vectors, dim, rows), owner };
  }
  const p = got.textMask.length / got.ids.length;
  groups.members.forEach((m, g) => {
    if (candidateOf[g] < 0) return;
    const e = m[0]; // window 0 carries the clip's captions
    for (let k = 0; k < p; k++) {
      if (got.textMask[e * p + k]) ask(e * p + k, g);
    }
  });
  return { vectors: pickRows(got.text, dim, rows), owner };
}

/** Rows `rows` of a `[N, dim]` matrix, stacked. */
function pickRows(
  vectors: Float32Array,
  dim: number,
  rows: readonly number[],
): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => out.set(vectors.subarray(r * dim, (r + 1) * dim), i * dim));
  return out;
}
