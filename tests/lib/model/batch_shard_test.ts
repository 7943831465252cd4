import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { resolveVattConfig } from "../../../lib/config/vatt_config.ts";
import { dropout } from "../../../lib/model/dropout.ts";
import { type BatchShard, shardDrawOffset } from "../../../lib/model/batch_shard.ts";
import { dropTokens } from "../../../lib/model/drop_token.ts";
import { videoHeads } from "../../../lib/model/heads.ts";
import {
  type Layer,
  recomputed,
  type RecomputedLayerOptions,
} from "../../../lib/model/recompute.ts";
import { weightSpecs } from "../../../lib/model/weight_specs.ts";
import { createWeights } from "../../../lib/model/weights.ts";
import { Rng } from "../../../lib/util/rng.ts";

await tf.setBackend("cpu");

Deno.test("shardDrawOffset() skips the values of the global rows before the shard's", () => {
  // Rows 4… of 8 clips, 2 rows per clip (captions), 3 values a row: 4·2·3 draws skipped.
  assert.equal(shardDrawOffset({ start: 4, count: 4, total: 8 }, { rows: 8, size: 24 }), 24);
  assert.throws(
    () => shardDrawOffset({ start: 2, count: 4, total: 8 }, { rows: 6, size: 6 }),
    /shard/,
  );
});

Deno.test("dropTokens() of a shard keeps what the global batch keeps for its rows", async () => {
  const all = tf.reshape(tf.range(0, 4 * 6), [4, 6, 1]) as tf.Tensor3D; // token value = row·6 + position
  const whole = await dropTokens(all, { rate: 0.5, rng: new Rng(3) }).array();
  const mine = tf.slice(all, [2, 0, 0], [2, 6, 1]) as tf.Tensor3D;
  const shard = await dropTokens(mine, {
    rate: 0.5,
    rng: new Rng(3),
    shard: { start: 2, total: 4 },
  })
    .array();
  assert.deepEqual(shard, whole.slice(2));
});

Deno.test("dropout() of a shard draws the global batch's mask for its rows", async () => {
  const source = (shard?: Pick<BatchShard, "start" | "count" | "total">) => ({
    rate: 0.5,
    rng: new Rng(11),
    shard,
  });
  const whole = await dropout(tf.ones([4, 2, 5]), source()).array() as number[][][];
  const mine = await dropout(tf.ones([2, 2, 5]), source({ start: 2, count: 2, total: 4 }))
    .array() as number[][][];
  assert.deepEqual(mine, whole.slice(2));
});

Deno.test("videoHeads() with a shard normalise with the global batch's statistics", async () => {
  const c = resolveVattConfig({ preset: "tiny" });
  const w = createWeights(weightSpecs(c), { seed: 0 });
  const x = tf.randomNormal([3, 64], 0, 1, "float32", 5) as tf.Tensor2D;
  // The partner rank holds the same 3 rows: the global batch [x; x] has x's mean and variance.
  const twice: BatchShard = { start: 0, count: 3, total: 6, sum: (t) => tf.mul(t, 2) };
  const alone = videoHeads(x, w, { training: true, heads: c.heads });
  const sharded = videoHeads(x, w, { training: true, heads: c.heads, shard: twice });
  const [a, b] = [await alone.vt.data(), await sharded.vt.data()];
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-5, `${i}: ${v} vs ${b[i]}`));
  // A partner with other rows changes the statistics, so the outputs.
  const other: BatchShard = {
    start: 0,
    count: 3,
    total: 6,
    sum: (t) => tf.add(t, tf.onesLike(t)),
  };
  const moved = await videoHeads(x, w, { training: true, heads: c.heads, shard: other }).vt.data();
  assert.ok(moved.some((v, i) => Math.abs(v - a[i]) > 1e-3));
});

Deno.test("a layer recomputed in parts on a rank's shard draws the global batch's mask rows", async () => {
  // A layer that is its dropout: its output shows which mask rows each part drew.
  const layer: Layer<RecomputedLayerOptions> = (x, _w, _p, o) =>
    dropout(x, o.dropout) as tf.Tensor3D;
  const source = (shard?: Pick<BatchShard, "start" | "count" | "total">) => ({
    rate: 0.5,
    rng: new Rng(5),
    shard,
  });
  // 4 clips of 2 captions each: 8 rows; this rank holds clips 2 and 3 (rows 4…7), in 3 parts.
  const whole = await layer(tf.ones([8, 3, 5]), {}, "l", { dropout: source() }).array();
  const parts = recomputed(layer, { parts: 3 });
  const mine = await parts(tf.ones([4, 3, 5]), {}, "l", {
    dropout: source({ start: 2, count: 2, total: 4 }),
  }).array();
  assert.deepEqual(mine, whole.slice(4));
});
