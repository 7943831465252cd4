/**
 * Features of a frozen backbone, extracted once (private to lib/train): the
 * fast path of linear probes and frozen fusion heads.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { batchToTensors } from "../data/shards/batches.ts";
import type { Dataset } from "../data/shards/dataset.ts";
import { type Classifier, featureDims } from "../model/classifier.ts";
import type { FusionHead } from "../model/fusion/fusion_head.ts";

/** Per-modality features of some clips, row-major. */
export interface FeatureTable {
  /** Rows. */
  count: number;
  /** Width of each modality's rows. */
  dims: number[];
  /** `[count, D_m]` per modality. */
  features: Float32Array[];
  /** `[count]` per modality, 1 = present. */
  masks: Uint8Array[];
}

/**
 * Runs the classifier's feature extractor over clips `indices` of `data`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveVattConfig } from "../config/vatt_config.ts";
 * import type { Dataset } from "../data/shards/dataset.ts";
 * import type { Classifier } from "../model/classifier.ts";
 * import { extractFeatures } from "./_feature_table.ts";
 * // const table = await extractFeatures(classifier, data, { indices: [0, 1, 2], batchSize: 16 });
 * const classifier = {
 *   model: { config: resolveVattConfig({ preset: "tiny" }) },
 *   spec: { modalities: ["audio", "text"], features: "common" },
 * } as unknown as Classifier;
 * const table = await extractFeatures(classifier, {} as Dataset, { indices: [], batchSize: 4 });
 * assert.deepEqual(table.dims, [128, 64]); // the video-audio and video-text spaces
 * ```
 */
export async function extractFeatures(
  classifier: Classifier,
  data: Dataset,
  options: {
    indices: number[];
    batchSize: number;
    onProgress?: (done: number, total: number) => void;
  },
): Promise<FeatureTable> {
  const n = options.indices.length;
  const dims = featureDims(classifier.model.config, classifier.spec);
  const features = dims.map((d) => new Float32Array(n * d));
  const masks = dims.map(() => new Uint8Array(n));
  for (let start = 0; start < n; start += options.batchSize) {
    const indices = options.indices.slice(start, start + options.batchSize);
    const batch = await data.readClips(indices);
    const inputs = batchToTensors(batch, data.index.settings);
    const out = classifier.features(inputs);
    try {
      for (let m = 0; m < dims.length; m++) {
        features[m].set(await out.features[m].data() as Float32Array, start * dims[m]);
        const mask = await out.masks[m].data();
        for (let i = 0; i < indices.length; i++) masks[m][start + i] = mask[i] > 0.5 ? 1 : 0;
      }
    } finally {
      tf.dispose([...out.features, ...out.masks, ...Object.values(inputs)]);
    }
    options.onProgress?.(Math.min(start + options.batchSize, n), n);
  }
  return { count: n, dims, features, masks };
}

/**
 * Tensors of rows `rows` of a table: features `[B, D_m]` and masks `[B]`
 * (float32), optionally transforming each modality's gathered rows first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { tableBatch } from "./_feature_table.ts";
 * const table = { count: 2, dims: [2], features: [new Float32Array([1, 2, 3, 4])], masks: [new Uint8Array([1, 0])] };
 * const { features, masks } = tableBatch(table, [1]);
 * assert.deepEqual(Array.from(await features[0].data()), [3, 4]);
 * assert.equal((await masks[0].data())[0], 0);
 * ```
 */
export function tableBatch(
  table: FeatureTable,
  rows: number[],
  transform?: (m: number, values: Float32Array) => Float32Array,
): { features: tf.Tensor2D[]; masks: tf.Tensor1D[] } {
  const b = rows.length;
  const features = table.dims.map((d, m) => {
    let values: Float32Array = new Float32Array(b * d);
    rows.forEach((r, i) => values.set(table.features[m].subarray(r * d, r * d + d), i * d));
    if (transform) values = transform(m, values);
    return tf.tensor2d(values, [b, d]);
  });
  const masks = table.masks.map((mask) => tf.tensor1d(Float32Array.from(rows, (r) => mask[r])));
  return { features, masks };
}

/**
 * The head's logits `[count, C]` on every row of a table (inference mode),
 * `batchSize` rows at a time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import "@tensorflow/tfjs-backend-cpu";
 * import * as tf from "@tensorflow/tfjs-core";
 * import { tableLogits } from "./_feature_table.ts";
 * const table = { count: 3, dims: [1], features: [new Float32Array([1, 2, 3])], masks: [new Uint8Array([1, 1, 1])] };
 * // A stand-in head: logits [x, −x].
 * const head = { apply: ([x]: tf.Tensor2D[]) => tf.concat([x, tf.neg(x)], 1) as tf.Tensor2D };
 * const logits = await tableLogits(head, table, { batchSize: 2, numClasses: 2 });
 * assert.deepEqual(Array.from(logits), [1, -1, 2, -2, 3, -3]);
 * ```
 */
export async function tableLogits(
  head: Pick<FusionHead, "apply">,
  table: FeatureTable,
  options: { batchSize: number; numClasses: number },
): Promise<Float32Array> {
  const n = table.count;
  const logits = new Float32Array(n * options.numClasses);
  for (let start = 0; start < n; start += options.batchSize) {
    const rows = Array.from(
      { length: Math.min(options.batchSize, n - start) },
      (_, i) => start + i,
    );
    const { features, masks } = tableBatch(table, rows);
    const out = head.apply(features, { masks });
    logits.set(await out.data() as Float32Array, start * options.numClasses);
    tf.dispose([out, ...features, ...masks]);
  }
  return logits;
}
