import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import {
  countSketch,
  countSketchMatrix,
  makeCountSketch,
} from "../../../../lib/model/fusion/count_sketch.ts";
import { maxAbsDiff, randomFeatures, take, useBackend } from "./_helpers.ts";

Deno.test("makeCountSketch() is deterministic for a seed and differs between seeds and labels", () => {
  const a = makeCountSketch(64, 16, { seed: 3 });
  const b = makeCountSketch(64, 16, { seed: 3 });
  assert.deepEqual(a, b);
  const otherSeed = makeCountSketch(64, 16, { seed: 4 });
  const otherLabel = makeCountSketch(64, 16, { seed: 3, label: "fusion/mcb/sketch/1" });
  for (const other of [otherSeed, otherLabel]) {
    const same = a.hash.every((h, i) => h === other.hash[i] && a.sign[i] === other.sign[i]);
    assert.ok(!same, "a different seed or label must give a different sketch");
  }
});

Deno.test("makeCountSketch() hashes into [0, d) with signs ±1, using every bucket and both signs", () => {
  const sketch = makeCountSketch(200, 8, { seed: 11 });
  assert.equal(sketch.hash.length, 200);
  assert.ok(sketch.hash.every((h) => h >= 0 && h < 8));
  assert.equal(new Set(sketch.hash).size, 8);
  assert.ok(sketch.sign.every((s) => s === 1 || s === -1));
  assert.equal(new Set(sketch.sign).size, 2);
});

Deno.test("makeCountSketch() rejects a bad width or seed, naming the value", () => {
  assert.throws(() => makeCountSketch(0, 4, { seed: 0 }), /inputDim.*0/);
  assert.throws(() => makeCountSketch(4, 2.5, { seed: 0 }), /outputDim.*2\.5/);
  assert.throws(() => makeCountSketch(4, 2, { seed: Number.NaN }), TypeError);
});

Deno.test("countSketch() equals Σ over h(i) = k of s(i)·x_i, on cpu and wasm", async (t) => {
  const sketch = makeCountSketch(9, 5, { seed: 2 });
  for (const backend of ["cpu", "wasm"] as const) {
    await t.step(backend, async () => {
      await useBackend(backend);
      const [x] = randomFeatures([9], 3, 1);
      const xv = await x.data();
      const y = await take(countSketch(x, sketch));
      const expected = new Array(15).fill(0);
      for (let b = 0; b < 3; b++) {
        for (let i = 0; i < 9; i++) {
          expected[b * 5 + sketch.hash[i]] += sketch.sign[i] * xv[b * 9 + i];
        }
      }
      assert.ok(maxAbsDiff(y, expected) < 1e-5);
      const matrix = countSketchMatrix(sketch);
      const before = tf.memory().numTensors;
      const reused = await take(countSketch(x, sketch, { matrix }));
      assert.equal(tf.memory().numTensors, before);
      assert.ok(maxAbsDiff(reused, expected) < 1e-5);
      assert.throws(() => countSketch(tf.tensor2d([[1, 2]]), sketch), /\[B, 9\].*\[1,2\]/);
      tf.dispose([x, matrix]);
    });
  }
  await useBackend("cpu");
});
