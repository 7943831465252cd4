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
 * import { extractFeatures } from "./_feature_table.ts";
 * // const table = await extractFeatures(classifier, data, { indices: [0, 1, 2], batchSize: 16 });
 * console.assert(typeof extractFeatures === "function");
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
 * import "@tensorflow/tfjs-backend-cpu";
 * import { tableBatch } from "./_feature_table.ts";
 * const table = { count: 2, dims: [2], features: [new Float32Array([1, 2, 3, 4])], masks: [new Uint8Array([1, 0])] };
 * const { features, masks } = tableBatch(table, [1]);
 * console.assert((await features[0].data()).join() === "3,4" && (await masks[0].data())[0] === 0);
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
