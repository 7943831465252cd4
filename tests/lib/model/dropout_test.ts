import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "../../../lib/backend/gradients.ts";
import { dropout, dropoutMask } from "../../../lib/model/dropout.ts";
import { Rng } from "../../../lib/util/rng.ts";

await tf.setBackend("cpu");

Deno.test("dropout() keeps a value with probability 1 − rate, scaled by 1/(1 − rate); the gradient passes the kept ones", async () => {
  const x = tf.fill([20000], 3);
  const y = await dropout(x, { rate: 0.25, rng: new Rng(5) }).data();
  const kept = y.filter((v) => v !== 0);
  assert.ok(kept.every((v) => Math.abs(v - 3 / 0.75) < 1e-6)); // 4
  const fraction = 1 - kept.length / y.length;
  assert.ok(Math.abs(fraction - 0.25) < 0.015, `dropped ${fraction}`);
  const g = await tf.grad((t: tf.Tensor) => tf.sum(dropout(t, { rate: 0.25, rng: new Rng(5) })))(x)
    .data();
  g.forEach((v, i) => assert.equal(v, y[i] === 0 ? 0 : Math.fround(1 / 0.75)));
  assert.equal(dropout(x, { rate: 0, rng: new Rng(5) }), x); // rate 0: the input itself
  tf.dispose(x);
});

Deno.test("dropoutMask() keeps value i when position i of the stream seeded by the source's next draw, over 2³², is below 1 − rate", async () => {
  for (const rate of [0.1, 0.5, 1 / 3, 0.9]) {
    const source = { rate, rng: new Rng(11) };
    const mask = await dropoutMask([3, 7, 11], source)!.data();
    // the definition, written out: two rounds of MurmurHash3's finaliser keyed by the draw
    const fmix = (h: number) => {
      h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
      h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
      return (h ^ (h >>> 16)) >>> 0;
    };
    const outer = new Rng(11);
    const seed = outer.nextUint32();
    const [k1, k2] = [fmix(seed), fmix((seed ^ 0x9e3779b9) >>> 0)];
    for (let i = 0; i < mask.length; i++) {
      const bits = fmix((fmix((i + k1) >>> 0) ^ k2) >>> 0);
      assert.equal(
        mask[i],
        bits / 2 ** 32 < 1 - rate ? Math.fround(1 / (1 - rate)) : 0,
        `rate ${rate}, value ${i}`,
      );
    }
    assert.deepEqual(source.rng.state(), outer.state()); // one draw taken from the source
  }
});
