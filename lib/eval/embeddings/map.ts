/**
 * A 2-D map of exported embeddings: rows are (optionally) filtered and
 * subsampled, mapped to the plane by `embed2d` (UMAP, t-SNE or PCA) and
 * grouped for colouring by modality or by class label.
 *
 * Labels are not stored in exported files (their tables keep to id,
 * modality, index and vector); they come from the dataset the embeddings were
 * made from, looked up by clip id ({@linkcode datasetLabels}).
 *
 * @module
 */
import {
  DEFAULT_MAP_COLOR_BY,
  DEFAULT_MAP_MAX_POINTS,
  DEFAULT_MAP_METHOD,
  DEFAULT_MAP_SEED,
  DEFAULT_TSNE_MAX_POINTS,
} from "../../config/eval_config.ts";
import type { Dataset } from "../../data/shards/dataset.ts";
import { embed2d } from "../../plot/embed_2d.ts";
import { Rng } from "../../util/rng.ts";
import { labelText, readClipMeta } from "./_clip_meta.ts";
import type { EmbeddingRows } from "./read.ts";

/** Options of {@linkcode embeddingMap}. */
export interface EmbeddingMapOptions {
  /** 2-D method. Default {@linkcode DEFAULT_MAP_METHOD}. */
  method?: "umap" | "tsne" | "pca";
  /** Seed of the subsample and the method. Default {@linkcode DEFAULT_MAP_SEED}. */
  seed?: number;
  /**
   * Colour by `modality` or by class `label` (needs `labels`). Default
   * {@linkcode DEFAULT_MAP_COLOR_BY}.
   */
  colorBy?: "modality" | "label";
  /** Clip id → label name (from {@linkcode datasetLabels}). */
  labels?: ReadonlyMap<string, string>;
  /** Only rows of these modalities. Default all. */
  modalities?: string[];
  /**
   * At most this many rows, drawn at random (seeded). Default
   * {@linkcode DEFAULT_MAP_MAX_POINTS}, for t-SNE {@linkcode DEFAULT_TSNE_MAX_POINTS}.
   */
  maxPoints?: number;
}

/** An embedding map: points and groups, ready for `scatterScene` (`lib/plot/scene.ts`). */
export interface EmbeddingMap {
  /** `[x, y]` of each drawn row. */
  points: [number, number][];
  /** Colour group of each point. */
  groups: string[];
  /**
   * Marker group of each point: its modality when colouring by label and more than one
   * modality is drawn (colour says the label, shape the modality); else absent.
   */
  markers?: string[];
  /** Tooltip of each point: `id modality[#index]`. */
  labels: string[];
  /** Rows in the file, and rows drawn. */
  total: number;
  drawn: number;
  /** Rows per modality among those drawn. */
  counts: Record<string, number>;
}

/**
 * Maps embedding rows to 2-D points with their colour groups.
 *
 * @throws {RangeError} when no row is left, vectors differ in length (mixing
 *   modalities of different dimension), or labels are asked for without a map.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { embeddingMap } from "./map.ts";
 * const rows = {
 *   ids: ["a", "a", "b", "b"],
 *   modality: ["video", "audio", "video", "audio"],
 *   index: new Int32Array(4),
 *   vectors: [[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]].map((v) => new Float32Array(v)),
 * };
 * const map = embeddingMap(rows, { method: "pca" });
 * assert.equal(map.points.length, 4);
 * assert.equal(map.groups[1], "audio");
 * ```
 */
export function embeddingMap(rows: EmbeddingRows, options: EmbeddingMapOptions = {}): EmbeddingMap {
  const method = options.method ?? DEFAULT_MAP_METHOD;
  const seed = options.seed ?? DEFAULT_MAP_SEED;
  const colorBy = options.colorBy ?? DEFAULT_MAP_COLOR_BY;
  if (colorBy !== "modality" && colorBy !== "label") {
    throw new RangeError(`Cannot colour by ${JSON.stringify(colorBy)}: expected modality or label`);
  }
  if (colorBy === "label" && !options.labels) {
    throw new RangeError("Cannot colour by label without the dataset's labels");
  }
  const maxPoints = options.maxPoints ??
    (method === "tsne" ? DEFAULT_TSNE_MAX_POINTS : DEFAULT_MAP_MAX_POINTS);
  if (!Number.isInteger(maxPoints) || maxPoints < 1) {
    throw new RangeError(`Cannot draw at most ${maxPoints} points: expected a positive integer`);
  }
  let keep: number[] = [];
  for (let i = 0; i < rows.ids.length; i++) {
    if (!options.modalities || options.modalities.includes(rows.modality[i])) keep.push(i);
  }
  if (keep.length === 0) {
    throw new RangeError(
      `Cannot draw a map: no rows${
        options.modalities ? ` of ${options.modalities.join(", ")}` : ""
      } in the file`,
    );
  }
  if (keep.length > maxPoints) {
    keep = new Rng(seed).fork("subsample").sample(keep.length, maxPoints).map((k) => keep[k]);
  }
  const dims = new Map<string, number>();
  for (const i of keep) dims.set(rows.modality[i], rows.vectors[i].length);
  if (new Set(dims.values()).size > 1) {
    throw new RangeError(
      `Cannot map vectors of different lengths together (${
        [...dims].map(([m, d]) => `${m} ${d}`).join(", ")
      }): choose one modality`,
    );
  }
  const points = embed2d(keep.map((i) => rows.vectors[i]), { method, seed });
  const counts: Record<string, number> = {};
  const groups = keep.map((i) => {
    const m = rows.modality[i];
    counts[m] = (counts[m] ?? 0) + 1;
    return colorBy === "modality" ? m : options.labels!.get(rows.ids[i]) ?? "(no label)";
  });
  const labels = keep.map((i) =>
    `${rows.ids[i]} ${rows.modality[i]}${rows.modality[i] === "text" ? `#${rows.index[i]}` : ""}`
  );
  const markers = colorBy === "label" && Object.keys(counts).length > 1
    ? keep.map((i) => rows.modality[i])
    : undefined;
  return {
    points,
    groups,
    ...(markers ? { markers } : {}),
    labels,
    total: rows.ids.length,
    drawn: keep.length,
    counts,
  };
}

/**
 * Clip id → label name of every labelled clip of a dataset (multi-label
 * classes joined by `+`), read from the shards without their media.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Dataset } from "../../data/shards/dataset.ts";
 * import { datasetLabels } from "./map.ts";
 * // Usually: const labels = await datasetLabels(await Dataset.open("data"));
 * const index = {
 *   settings: { captionsPerClip: 1 }, labels: { names: ["cat"], multiLabel: false }, shards: [],
 * };
 * const labels = await datasetLabels({ dir: "d", size: 0, index } as unknown as Dataset);
 * assert.equal(labels.size, 0); // a dataset without clips labels nothing
 * ```
 */
export async function datasetLabels(data: Dataset): Promise<Map<string, string>> {
  const meta = await readClipMeta(data);
  const out = new Map<string, string>();
  meta.ids.forEach((id, i) => {
    const name = labelText(meta, i);
    if (name !== undefined) out.set(id, name);
  });
  return out;
}
