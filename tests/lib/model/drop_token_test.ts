import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { dropTokenIndices, dropTokens } from "../../../lib/model/drop_token.ts";
import { Rng } from "../../../lib/util/rng.ts";

Deno.test("dropTokens() keeps floor(N·(1−rate)) distinct tokens per clip", async () => {
  const n = 11;
  const x = tf.tidy(() => tf.tile(tf.reshape(tf.range(0, n), [1, n, 1]), [3, 1, 2])) as tf.Tensor3D; // token i holds i
  const kept = dropTokens(x, { rate: 0.5, rng: new Rng(5) });
  assert.deepEqual(kept.shape, [3, 5, 2]);
  const rows = await kept.array();
  for (const row of rows) {
    const ids = row.map((t) => t[0]);
    assert.equal(new Set(ids).size, 5);
    assert.ok(ids.every((i) => Number.isInteger(i) && i >= 0 && i < n));
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
  }
  tf.dispose([x, kept]);
});

Deno.test("dropTokens() is deterministic given the seed and differs across seeds and clips", () => {
  const a = dropTokenIndices(4, 64, { rate: 0.5, rng: new Rng(9) });
  const b = dropTokenIndices(4, 64, { rate: 0.5, rng: new Rng(9) });
  const c = dropTokenIndices(4, 64, { rate: 0.5, rng: new Rng(10) });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.notDeepEqual(a[0], a[1]);
  assert.equal(a[0].length, 32);
});

Deno.test("dropTokens() with rate 0 returns the input", () => {
  const x = tf.ones([1, 4, 2]) as tf.Tensor3D;
  assert.equal(dropTokens(x, { rate: 0, rng: new Rng(0) }), x);
  x.dispose();
});
