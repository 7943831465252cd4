import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../../../lib/backend/select.ts";
import { nativeKernels, setNativeEnabled } from "../../../../lib/backend/native/native.ts";
import {
  simplifyTranspose,
  WASM_KERNEL_SET,
  wasmKernelCounts,
} from "../../../../lib/backend/kernels/wasm.ts";

Deno.test("simplifyTranspose() drops size-1 axes and merges axes that stay neighbours", () => {
  assert.deepEqual(simplifyTranspose([2, 3, 4], [0, 1, 2]), { shape: [24], perm: [0] });
  assert.deepEqual(simplifyTranspose([2, 3, 4], [2, 0, 1]), { shape: [6, 4], perm: [1, 0] });
  // Axis 1 (size 1) goes; axes 0 and 2 then stay neighbours.
  assert.deepEqual(simplifyTranspose([2, 1, 3, 4], [3, 1, 0, 2]), { shape: [6, 4], perm: [1, 0] });
  // The video tokenizer's transpose: nothing to merge.
  assert.deepEqual(simplifyTranspose([32, 2, 4, 8, 4, 24], [0, 2, 4, 1, 3, 5]), {
    shape: [32, 2, 4, 8, 4, 24],
    perm: [0, 2, 4, 1, 3, 5],
  });
  assert.deepEqual(simplifyTranspose([5, 6, 7, 8, 9], [0, 3, 4, 1, 2]), {
    shape: [5, 42, 72],
    perm: [0, 2, 1],
  });
});

const CASES: {
  shape: number[];
  perm: number[];
  dtype: "float32" | "int32" | "bool";
  js: boolean;
}[] = [
  { shape: [3, 2, 4, 5, 4, 6], perm: [0, 2, 4, 1, 3, 5], dtype: "float32", js: true },
  { shape: [2, 3, 4, 5, 6], perm: [4, 2, 0, 3, 1], dtype: "float32", js: true },
  { shape: [2, 3, 4, 5, 6], perm: [1, 0, 3, 2, 4], dtype: "int32", js: true },
  { shape: [2, 3, 1, 4, 5, 3], perm: [5, 3, 2, 1, 0, 4], dtype: "bool", js: true },
  // Merges down to rank 3: the wasm kernel.
  { shape: [5, 6, 7, 8, 9], perm: [0, 3, 4, 1, 2], dtype: "float32", js: false },
  { shape: [4, 5, 6, 7], perm: [0, 2, 1, 3], dtype: "float32", js: false },
];

/** `f`'s outputs (shape and values) on cpu, on wasm with tfjs's kernels, and on wasm with ours. */
async function onThree(f: () => tf.Tensor) {
  const run = async () => {
    const y = f();
    const out = { shape: y.shape, data: Array.from(await y.data()) };
    y.dispose();
    return out;
  };
  await tf.setBackend("cpu");
  const cpu = await run();
  await initBackend("wasm");
  try {
    WASM_KERNEL_SET.unregister();
    const plain = await run();
    WASM_KERNEL_SET.register();
    const before = tf.memory().numTensors;
    const ours = await run();
    assert.equal(tf.memory().numTensors, before, "tensors left behind");
    return { cpu, plain, ours };
  } finally {
    WASM_KERNEL_SET.register();
    await tf.setBackend("cpu");
  }
}

Deno.test("the rank-5+ Transpose equals the wasm kernel and the cpu backend, natively and in JavaScript", async (t) => {
  const ways = nativeKernels() ? [true, false] : [false];
  for (const [c, native] of CASES.flatMap((c) => ways.map((n) => [c, n] as const))) {
    const way = native ? "native" : "JavaScript";
    await t.step(`${c.dtype} [${c.shape}] by [${c.perm}], ${way}`, async () => {
      const before = setNativeEnabled(native);
      const size = c.shape.reduce((n, s) => n * s, 1);
      const values = Array.from({ length: size }, (_, i) => (c.dtype === "bool" ? i % 3 === 0 : i));
      wasmKernelCounts({ reset: true });
      const r = await onThree(() =>
        tf.tidy(() => tf.transpose(tf.tensor(values as number[], c.shape, c.dtype), c.perm))
      ).finally(() => setNativeEnabled(before));
      assert.equal(wasmKernelCounts().js, c.js ? 1 : 0);
      assert.deepEqual(r.ours, r.plain);
      assert.deepEqual(r.ours, r.cpu);
    });
  }
});

Deno.test("Identity on wasm shares the data: a clone outlives its source", async () => {
  await initBackend("wasm");
  try {
    const x = tf.tensor2d([[1, 2], [3, 4]]);
    const before = tf.memory().numDataBuffers;
    const y = tf.clone(x);
    assert.equal(tf.memory().numDataBuffers, before, "the clone copied the data");
    x.dispose();
    assert.deepEqual(Array.from(await y.data()), [1, 2, 3, 4]);
    y.dispose();
    assert.equal(tf.memory().numDataBuffers, before - 1);
  } finally {
    await tf.setBackend("cpu");
  }
});

Deno.test("Sum over every axis but the last equals tfjs's wasm kernel and the cpu backend", async (t) => {
  const x = () => tf.randomNormal([3, 7, 37], 0, 1, "float32", 5); // 37 columns: a SIMD tail
  const cases: [string, () => tf.Tensor][] = [
    ["axes [0, 1]", () => tf.tidy(() => tf.sum(x(), [0, 1]))],
    ["axes [1, 0], keepDims", () => tf.tidy(() => tf.sum(x(), [1, 0], true))],
    ["2-D axis 0", () => tf.tidy(() => tf.sum(tf.reshape(x(), [21, 37]), 0))],
    ["empty rows", () => tf.tidy(() => tf.sum(tf.zeros([0, 5]), 0))],
    // not ours: the wasm kernel runs
    ["axis 2", () => tf.tidy(() => tf.sum(x(), 2))],
    ["int32 axis 0", () => tf.tidy(() => tf.sum(tf.cast(tf.mul(x(), 10), "int32"), 0))],
  ];
  for (const [label, f] of cases) {
    await t.step(label, async () => {
      const r = await onThree(f);
      assert.deepEqual(r.ours.shape, r.cpu.shape);
      assert.deepEqual(r.plain.shape, r.cpu.shape);
      for (let i = 0; i < r.cpu.data.length; i++) {
        assert.ok(Math.abs(r.ours.data[i] - r.plain.data[i]) <= 1e-5, `${label} [${i}]`);
        assert.ok(Math.abs(r.ours.data[i] - r.cpu.data[i]) <= 1e-5, `${label} [${i}] vs cpu`);
      }
    });
  }
});

Deno.test("GatherV2 of rows equals tfjs's wasm kernel and rejects an index out of range", async () => {
  for (const dtype of ["float32", "int32"] as const) {
    const r = await onThree(() =>
      tf.tidy(() => {
        const table = tf.cast(tf.mul(tf.randomNormal([11, 6], 0, 1, "float32", 3), 100), dtype);
        return tf.gather(table, tf.tensor1d([4, 0, 10, 4, 7], "int32"));
      })
    );
    assert.deepEqual(r.ours, r.plain);
    assert.deepEqual(r.ours, r.cpu);
    assert.ok(r.ours.data.some((v) => v !== 0));
  }
  await initBackend("wasm");
  try {
    const table = tf.ones([3, 2]);
    const before = tf.memory().numTensors;
    for (const bad of [3, -1]) {
      assert.throws(
        () => tf.gather(table, tf.tensor1d([0, bad], "int32")),
        new RegExp(`index value ${bad} is not in \\[0, 2\\]`),
      );
    }
    assert.equal(tf.memory().numTensors, before + 2); // the two index tensors only
    tf.dispose(table);
  } finally {
    await tf.setBackend("cpu");
  }
});
