/**
 * An encoder (`lib/model/transformer.ts`'s `encode`) of the tiny preset run forward and backward
 * with dropout on every branch, in the forms the layer kernels must handle: the video tower, the
 * text tower with a padding mask and a shared or per-layer T5 bias, recomputed layers.
 */
import * as tf from "@tensorflow/tfjs-core";
import { resolveVattConfig } from "../../../lib/config/vatt_config.ts";
import { encode, type EncoderOptions } from "../../../lib/model/transformer.ts";
import { createWeights } from "../../../lib/model/weights.ts";
import { weightSpecs } from "../../../lib/model/weight_specs.ts";
import { Rng } from "../../../lib/util/rng.ts";

export type Case = {
  name: string;
  text: boolean;
  relative?: "t5" | "t5-shared";
  recompute?: boolean;
};

export const CASES: Case[] = [
  { name: "video tower (no mask, no position bias)", text: false },
  { name: "text tower (padding mask, shared T5 bias)", text: true, relative: "t5-shared" },
  { name: "text tower (per-layer T5 bias)", text: true, relative: "t5" },
  { name: "recomputed video layers", text: false, recompute: true },
];

/** The encoder's output and the gradient of every weight, as arrays, for one case. */
export async function run(c: Case): Promise<{ values: Float32Array[]; kernels: string[] }> {
  const config = resolveVattConfig({
    preset: "tiny",
    text: c.relative ? { relativePosition: c.relative } : {},
  });
  const weights = createWeights(weightSpecs(config), { seed: 2 });
  const [prefix, aggName] = c.text
    ? ["backbone/text", "text/agg_token"]
    : ["backbone/video", "video/agg_token"];
  const backbone = c.text ? config.text.backbone : config.video.backbone;
  const tokens = tf.randomNormal([3, 9, backbone.hidden], 0, 1, "float32", 7) as tf.Tensor3D;
  const mask = c.text
    ? tf.tensor2d(
      [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0],
      [3, 9],
    )
    : undefined;
  const rng = new Rng(11); // one generator for both sources: the order of draws matters
  const options: EncoderOptions = {
    prefix,
    backbone,
    mask: mask as tf.Tensor2D | undefined,
    relative: c.text ? config.text : undefined,
    dropout: { rate: 0.2, rng },
    attentionDropout: { rate: 0.1, rng },
    recompute: c.recompute,
  };
  const trainable = Object.entries(weights).filter(([name]) =>
    name.startsWith(prefix) || name === aggName
  ).map(([, w]) => w);
  const target = tf.randomNormal([3, 10, backbone.hidden], 0, 1, "float32", 8);
  const values: Float32Array[] = [];
  const profile = await tf.profile(() => {
    const { value, grads } = tf.variableGrads(() => {
      const out = encode(tokens, weights[aggName], weights, options);
      return tf.sum(tf.mul(out.sequence, target)) as tf.Scalar;
    }, trainable);
    values.push(value.dataSync() as Float32Array);
    for (const w of trainable) values.push(grads[w.name].dataSync() as Float32Array);
    tf.dispose([value, ...Object.values(grads)]);
  });
  tf.dispose([tokens, target, ...(mask ? [mask] : []), ...Object.values(weights)]);
  return { values, kernels: profile.kernels.map((k) => k.name) };
}
