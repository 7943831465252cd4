import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../../lib/backend/select.ts";
import {
  setWasmKernelsActive,
  simplifyTranspose,
  wasmKernelCounts,
} from "../../../lib/backend/wasm_kernels.ts";

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

Deno.test("the rank-5+ Transpose equals the wasm kernel and the cpu backend", async (t) => {
  for (const c of CASES) {
    await t.step(`${c.dtype} [${c.shape}] by [${c.perm}]`, async () => {
      const size = c.shape.reduce((n, s) => n * s, 1);
      const values = Array.from({ length: size }, (_, i) => (c.dtype === "bool" ? i % 3 === 0 : i));
      const make = () => tf.tensor(values as number[], c.shape, c.dtype);
      const run = async () => {
        const x = make();
        const y = tf.transpose(x, c.perm);
        const out = { shape: y.shape, data: Array.from(await y.data()) };
        tf.dispose([x, y]);
        return out;
      };
      await tf.setBackend("cpu");
      const cpu = await run();
      await initBackend("wasm");
      try {
        setWasmKernelsActive(false);
        const plain = await run();
        setWasmKernelsActive(true);
        wasmKernelCounts({ reset: true });
        const ours = await run();
        assert.equal(wasmKernelCounts().js, c.js ? 1 : 0);
        assert.deepEqual(ours, plain);
        assert.deepEqual(ours, cpu);
      } finally {
        setWasmKernelsActive(true);
        await tf.setBackend("cpu");
      }
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
