import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "../../../../lib/backend/gradients.ts";
import { DROPOUT_KERNEL_SET } from "../../../../lib/backend/kernels/dropout.ts";
import { DROPOUT_KERNEL, GELU_KERNEL } from "../../../../lib/backend/kernels/names.ts";
import { initBackend } from "../../../../lib/backend/select.ts";
import { setSimdEnabled } from "../../../../lib/backend/simd/simd.ts";
import { gelu } from "../../../../lib/model/_ops.ts";
import { dropout, type DropoutSource, droppedGelu } from "../../../../lib/model/dropout.ts";
import { Rng } from "../../../../lib/util/rng.ts";

/** A source seeded by `seed`, optionally a shard of a global batch. */
const source = (rate: number, seed: number, shard?: DropoutSource["shard"]): DropoutSource => ({
  rate,
  rng: new Rng(seed),
  ...(shard ? { shard } : {}),
});

/** `dropout(x)` and its gradient for `dy`, read back, on the active backend. */
async function valueAndGrad(x: tf.Tensor, dy: tf.Tensor, s: () => DropoutSource) {
  const y = dropout(x, s());
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(dropout(t, s()), dy)))(x);
  const out = { y: await y.data(), g: await g.data() };
  tf.dispose([y, g]);
  return out;
}

Deno.test("VattDropout (SIMD and JavaScript loop) equals the host mask's product bit for bit, value and gradient", async () => {
  await initBackend("wasm");
  try {
    assert.ok(DROPOUT_KERNEL_SET.register());
    // sizes with every SIMD tail, and rows of a global batch at offsets past 2³¹
    const cases: [number[], DropoutSource["shard"] | undefined][] = [
      [[1], undefined],
      [[3], undefined],
      [[2, 5], undefined],
      [[4, 7, 9], undefined],
      [[3, 1000], undefined],
      [[2, 3, 5], { start: 3e8, count: 2, total: 5e8 }],
    ];
    for (const [shape, shard] of cases) {
      for (const rate of [0.1, 0.5]) {
        const s = () => source(rate, shape.length + rate, shard);
        const x = tf.randomNormal(shape, 0, 1, "float32", 3);
        const dy = tf.randomNormal(shape, 0, 1, "float32", 4);
        const simd = await valueAndGrad(x, dy, s);
        const before = setSimdEnabled(false);
        const js = await valueAndGrad(x, dy, s).finally(() => setSimdEnabled(before));
        const xs = await x.data();
        const dys = await dy.data();
        DROPOUT_KERNEL_SET.unregister(); // the host mask, multiplied in
        const host = await valueAndGrad(x, dy, s);
        assert.ok(DROPOUT_KERNEL_SET.register());
        const what = `shape ${shape}, rate ${rate}`;
        assert.deepEqual(simd, host, `SIMD, ${what}`);
        assert.deepEqual(js, host, `JavaScript, ${what}`);
        // the gradient is dy where the value was kept (scaled alike), 0 where it was dropped
        const scale = Math.fround(1 / (1 - rate));
        host.y.forEach((v, i) => {
          const m = v === 0 ? 0 : scale; // the mask's value
          assert.equal(v, Math.fround(xs[i] * m), what);
          assert.equal(host.g[i], Math.fround(dys[i] * m), what);
        });
        tf.dispose([x, dy]);
      }
    }
  } finally {
    DROPOUT_KERNEL_SET.register();
    await tf.setBackend("cpu");
  }
});

Deno.test("a training pass's dropout on wasm runs one VattDropout each way and multiplies in no mask", async () => {
  await initBackend("wasm");
  const x = tf.ones([64, 256]);
  const kernels = async () => {
    const info = await tf.profile(() => {
      tf.grad((t: tf.Tensor) => tf.sum(dropout(t, source(0.1, 1))))(x).dispose();
    });
    const names = info.kernels.map((k) => k.name);
    const count = (name: string) => names.filter((n) => n === name).length;
    return { dropout: count(DROPOUT_KERNEL), multiply: count("Multiply") };
  };
  try {
    assert.ok(DROPOUT_KERNEL_SET.register());
    const fused = await kernels();
    DROPOUT_KERNEL_SET.unregister();
    const composite = await kernels();
    assert.deepEqual(fused, { dropout: 2, multiply: composite.multiply - 2 });
    assert.equal(composite.dropout, 0);
  } finally {
    DROPOUT_KERNEL_SET.register();
    x.dispose();
    await tf.setBackend("cpu");
  }
});

Deno.test("GELU with dropout fused (SIMD and JavaScript loop) equals GELU then dropout bit for bit, value and gradient", async () => {
  await initBackend("wasm");
  const s = () => source(0.25, 9, { start: 1, count: 2, total: 3 });
  const run = async (f: (t: tf.Tensor) => tf.Tensor, x: tf.Tensor, dy: tf.Tensor) => {
    const y = f(x);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), dy)))(x);
    const out = { y: await y.data(), g: await g.data() };
    tf.dispose([y, g]);
    return out;
  };
  try {
    for (const shape of [[2, 3], [2, 5, 7], [4, 64]]) {
      const x = tf.randomNormal(shape, 0, 2, "float32", 5);
      const dy = tf.randomNormal(shape, 0, 1, "float32", 6);
      const fused = (t: tf.Tensor) => droppedGelu(t, s());
      const apart = (t: tf.Tensor) => dropout(gelu(t), s());
      const a = await run(apart, x, dy);
      const profile = await tf.profile(() => tf.dispose(fused(x)));
      const kernels = profile.kernels.map((k) => k.name).filter((n) => n !== ""); // not scopes
      assert.deepEqual(kernels, [GELU_KERNEL], `${shape}: one kernel, no separate dropout`);
      assert.deepEqual(await run(fused, x, dy), a, `SIMD, ${shape}`);
      const before = setSimdEnabled(false);
      try {
        // the JavaScript GELU rounds otherwise than the SIMD one: compared with its own kind
        assert.deepEqual(await run(fused, x, dy), await run(apart, x, dy), `JavaScript, ${shape}`);
      } finally {
        setSimdEnabled(before);
      }
      assert.ok(a.y.some((v) => v === 0) && a.y.some((v) => v !== 0), `${shape}: some dropped`);
      tf.dispose([x, dy]);
    }
  } finally {
    await tf.setBackend("cpu");
  }
});
