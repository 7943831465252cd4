import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "../../../../lib/backend/gradients.ts";
import {
  adamInPlace,
  adamInPlaceMany,
  type AdamTensors,
} from "../../../../lib/backend/kernels/adam_in_place.ts";
import { ADAM_KERNEL } from "../../../../lib/backend/kernels/names.ts";
import { nativeKernels, setNativeEnabled } from "../../../../lib/backend/native/native.ts";
import { initBackend } from "../../../../lib/backend/select.ts";
import { setSimdEnabled } from "../../../../lib/backend/simd/simd.ts";
import { Adam } from "../../../../lib/train/optimizer.ts";
import { Rng } from "../../../../lib/util/rng.ts";

await initBackend("wasm");

const ATTRS = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, lr: 0.01, steps: 3, decay: 0.001 };

/** Seeded float32 values of `shape`, in [-1, 1) (`v`: non-negative, as Adam's second moment). */
function seeded(shape: number[], seed: number, nonNegative = false): tf.Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: n }, () => {
    const x = 2 * rng.nextFloat() - 1;
    return nonNegative ? x * x : x;
  });
  return tf.tensor(data, shape);
}

/** A weight, its moments and a gradient of `shape` (1,027 values: a tail past the SIMD lanes). */
function tensors(shape = [13, 79], seed = 1): AdamTensors {
  return {
    weight: seeded(shape, seed),
    m: seeded(shape, seed + 1),
    v: seeded(shape, seed + 2, true),
    grad: seeded(shape, seed + 3),
  };
}

async function bits(t: tf.Tensor): Promise<number[]> {
  return Array.from(new Uint32Array((await t.data() as Float32Array).slice().buffer));
}

/** `VattAdam`'s outputs on copies of `t` (the kernel writes new buffers). */
async function kernelResult(t: AdamTensors): Promise<number[][]> {
  const out = tf.engine().runKernel(ADAM_KERNEL, { ...t }, { ...ATTRS }) as tf.Tensor[];
  const result = await Promise.all(out.map(bits));
  tf.dispose(out);
  return result;
}

for (const simd of [true, false]) {
  Deno.test(`adamInPlace writes VattAdam's bits into the weight's and moments' own buffers (${simd ? "SIMD" : "JavaScript loop"})`, async () => {
    const before = setSimdEnabled(simd);
    try {
      const t = tensors();
      const expected = await kernelResult(t);
      const buffers = [t.weight.dataId, t.m.dataId, t.v.dataId];
      const grad = await bits(t.grad);
      assert.equal(adamInPlace(t, ATTRS), true);
      assert.deepEqual([t.weight.dataId, t.m.dataId, t.v.dataId], buffers); // no new data
      assert.deepEqual([await bits(t.weight), await bits(t.m), await bits(t.v)], expected);
      assert.deepEqual(await bits(t.grad), grad); // read only
      tf.dispose(Object.values(t));
    } finally {
      setSimdEnabled(before);
    }
  });
}

Deno.test("adamInPlace leaves buffers another tensor shares to the kernel, changing nothing", async () => {
  for (const shared of ["weight", "m", "v"] as const) {
    const t = tensors([5, 7], 11);
    const alias = tf.clone(t[shared]); // shares the buffer, as stateTensors() snapshots do
    const values = await Promise.all([t.weight, t.m, t.v].map(bits));
    assert.equal(adamInPlace(t, ATTRS), false, shared);
    assert.deepEqual(await Promise.all([t.weight, t.m, t.v].map(bits)), values, shared);
    alias.dispose();
    assert.equal(adamInPlace(t, ATTRS), true, `${shared}, once the clone is gone`);
    tf.dispose(Object.values(t));
  }
  const t = tensors([4], 21);
  assert.equal(adamInPlace({ ...t, m: t.weight }, ATTRS), false); // one buffer twice
  tf.dispose(Object.values(t));
});

Deno.test("Adam on wasm: snapshots and clones keep their values while the steps run in place, and the weights match out-of-place steps bit for bit", async () => {
  const run = async (holdClones: boolean) => {
    const w = tf.variable(seeded([33, 17], 5));
    const adam = new Adam({ w }, { weightDecay: 0.01 });
    const held: tf.Tensor[] = [];
    const snapshots: {
      state: Record<string, tf.Tensor>;
      m: number[];
      w: tf.Tensor;
      wBits: number[];
    }[] = [];
    for (let step = 0; step < 4; step++) {
      const g = seeded([33, 17], 100 + step);
      // A clone of the weight and a snapshot of the state before every step: with them
      // alive, every step must leave their buffers alone (and so runs out of place).
      if (holdClones) held.push(tf.clone(w));
      const state = adam.stateTensors();
      const wClone = tf.clone(w);
      snapshots.push({
        state,
        m: await bits(state["adam/m/w"]),
        w: wClone,
        wBits: await bits(wClone),
      });
      if (!holdClones) {
        const last = snapshots.pop()!;
        tf.dispose([...Object.values(last.state), last.w]);
      }
      adam.step({ w: g }, 0.05);
      g.dispose();
    }
    for (const s of snapshots) {
      assert.deepEqual(await bits(s.state["adam/m/w"]), s.m);
      assert.deepEqual(await bits(s.w), s.wBits);
      tf.dispose([...Object.values(s.state), s.w]);
    }
    const result = [
      await bits(w),
      ...(await Promise.all(
        Object.entries(adam.stateTensors()).filter(([k]) => k !== "adam/step").map(
          async ([, t]) => {
            const b = await bits(t);
            t.dispose();
            return b;
          },
        ),
      )),
    ];
    tf.dispose(held);
    adam.dispose();
    w.dispose();
    return result;
  };
  assert.deepEqual(await run(false), await run(true));
});

Deno.test("adamInPlace: a small product (tfjs's own, packed weights) after the step multiplies by the new weights", async () => {
  const t = tensors([6, 3], 31);
  const x = seeded([2, 6], 41);
  tf.dispose(tf.matMul(x, t.weight)); // tfjs-backend-wasm packs and keeps the weight
  assert.equal(adamInPlace(t, ATTRS), true);
  const after = tf.matMul(x, t.weight);
  const fresh = tf.tensor(await t.weight.data(), t.weight.shape); // the new values, a new buffer
  const expected = tf.matMul(x, fresh);
  assert.deepEqual(await bits(after), await bits(expected));
  tf.dispose([after, fresh, expected, x, ...Object.values(t)]);
});

Deno.test({
  name:
    "adamInPlaceMany writes VattAdam's bits into many weights in one native call, each its own decay",
  ignore: nativeKernels() === null, // deno task build:native
  fn: async () => {
    // Sizes across the pool's split (300,000 values in all: two threads) and tensor boundaries.
    const shapes = [[13, 79], [1], [512, 512], [7], [300, 62]];
    const items = shapes.map((shape, i) => tensors(shape, 10 * i + 1));
    const attrs = shapes.map((_, i) => ({ ...ATTRS, decay: i % 2 ? 0 : ATTRS.decay * (i + 1) }));
    const expected: number[][][] = [];
    for (const [i, t] of items.entries()) {
      const out = tf.engine().runKernel(ADAM_KERNEL, { ...t }, { ...attrs[i] }) as tf.Tensor[];
      expected.push(await Promise.all(out.map(bits)));
      tf.dispose(out);
    }
    // A weight whose buffer a clone shares is left to the caller, so is one whose moments are
    // one tensor, and so is one whose other attributes differ from the first's; the rest are
    // done.
    const shared = tensors([5], 99);
    const clone = tf.clone(shared.weight);
    const sameMoments = tensors([4], 97);
    const otherLr = tensors([6], 98);
    const done = adamInPlaceMany(
      [...items, shared, { ...sameMoments, v: sameMoments.m }, otherLr],
      [...attrs, ATTRS, ATTRS, { ...ATTRS, lr: 0.5 }],
    );
    assert.deepEqual(done, [...items.map(() => true), false, false, false]);
    for (const [i, t] of items.entries()) {
      assert.deepEqual([await bits(t.weight), await bits(t.m), await bits(t.v)], expected[i]);
    }
    const all = [...items, shared, sameMoments, otherLr];
    tf.dispose([clone, ...all.flatMap((t) => Object.values(t))]);
  },
});

Deno.test({
  name:
    "Adam's step on wasm: the one native call gives the SIMD kernel's weights, weight by weight",
  ignore: nativeKernels() === null,
  fn: async () => {
    const run = async (native: boolean) => {
      const weights = {
        a: tf.variable(seeded([40, 30], 1)),
        b: tf.variable(seeded([30], 2)),
        c: tf.variable(seeded([300, 400], 3)),
      };
      const adam = new Adam(weights, { weightDecay: 0.01, decayable: (n) => n !== "b" });
      const before = setNativeEnabled(native); // off: one SIMD call a weight
      try {
        for (let s = 0; s < 3; s++) {
          const grads = {
            a: seeded([40, 30], 10 + s),
            b: seeded([30], 20 + s),
            c: seeded([300, 400], 30 + s),
          };
          adam.step(grads, 0.01);
          tf.dispose(Object.values(grads));
        }
      } finally {
        setNativeEnabled(before);
      }
      const out = await Promise.all(Object.values(weights).map(bits));
      adam.dispose();
      tf.dispose(Object.values(weights));
      return out;
    };
    assert.deepEqual(await run(true), await run(false));
  },
});
