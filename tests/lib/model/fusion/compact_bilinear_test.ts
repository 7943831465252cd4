import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import {
  AUTO_DFT_MAX_SIZE,
  circularConvolution,
  compactBilinear,
  createDftBasis,
  type FftMode,
  hasFftKernels,
  MAX_DFT_SIZE,
  resolveFftMode,
} from "../../../../lib/model/fusion/compact_bilinear.ts";
import { type CountSketch, makeCountSketch } from "../../../../lib/model/fusion/count_sketch.ts";
import { maxAbsDiff, randomFeatures, take, useBackend } from "./_helpers.ts";

/**
 * Ψ(x_1 ⊗ … ⊗ x_M) computed from its definition: the Count Sketch of the outer product under
 * the joint hash (Σ h_m(i_m)) mod d and sign Π s_m(i_m), for each batch row.
 */
function sketchOfOuterProduct(
  rows: Float32Array[],
  sketches: CountSketch[],
  batch: number,
): number[] {
  const d = sketches[0].outputDim;
  const out = new Array(batch * d).fill(0);
  for (let b = 0; b < batch; b++) {
    const visit = (m: number, bucket: number, value: number) => {
      if (m === sketches.length) {
        out[b * d + (bucket % d)] += value;
        return;
      }
      const { inputDim, hash, sign } = sketches[m];
      for (let i = 0; i < inputDim; i++) {
        visit(m + 1, bucket + hash[i], value * sign[i] * rows[m][b * inputDim + i]);
      }
    };
    visit(0, 0, 1);
  }
  return out;
}

async function checkAgainstDefinition(
  dims: number[],
  d: number,
  mode: FftMode,
): Promise<number> {
  const batch = 3;
  const sketches = dims.map((dim, m) => makeCountSketch(dim, d, { seed: 5, label: `m${m}` }));
  const xs = randomFeatures(dims, batch, d + dims.length);
  const rows = await Promise.all(xs.map((x) => x.data<"float32">()));
  const expected = sketchOfOuterProduct(rows, sketches, batch);
  const actual = await take(compactBilinear(xs, sketches, { mode }));
  tf.dispose(xs);
  return maxAbsDiff(actual, expected);
}

Deno.test("compactBilinear() FFT and DFT paths equal the Count Sketch of the outer product (cpu)", async (t) => {
  await useBackend("cpu");
  assert.ok(hasFftKernels("cpu"));
  for (const mode of ["fft", "dft", "auto"] as const) {
    for (const [dims, d] of [[[5, 4], 8], [[5, 4], 7], [[3, 4, 2], 8], [[6, 3], 12]] as const) {
      await t.step(`${mode}, dims ${dims}, d ${d}`, async () => {
        assert.ok((await checkAgainstDefinition([...dims], d, mode)) < 1e-4);
      });
    }
  }
});

Deno.test("resolveFftMode() picks the DFT up to AUTO_DFT_MAX_SIZE on cpu, the FFT above", async () => {
  await useBackend("cpu");
  assert.equal(resolveFftMode("auto", { size: AUTO_DFT_MAX_SIZE }), "dft");
  assert.equal(resolveFftMode("auto", { size: AUTO_DFT_MAX_SIZE + 1 }), "fft");
  assert.equal(resolveFftMode("fft", { size: 8 }), "fft");
  assert.equal(resolveFftMode("dft", { size: MAX_DFT_SIZE }), "dft");
  assert.throws(
    () => resolveFftMode("dft", { size: MAX_DFT_SIZE + 1 }),
    (e: unknown) => e instanceof RangeError && /use fftMode "fft"/.test(e.message),
  );
  assert.throws(() => resolveFftMode("fast" as FftMode, { size: 8 }), /fast/);
});

Deno.test("compactBilinear() DFT path equals the Count Sketch of the outer product (wasm)", async (t) => {
  await useBackend("wasm");
  try {
    assert.ok(!hasFftKernels("wasm"));
    assert.equal(resolveFftMode("auto", { size: 8 }), "dft");
    assert.throws(
      () => resolveFftMode("fft", { size: 8 }),
      (e: unknown) => e instanceof RangeError && /"wasm"/.test(e.message),
    );
    assert.throws(
      () => resolveFftMode("auto", { size: MAX_DFT_SIZE + 1 }),
      (e: unknown) =>
        e instanceof RangeError && e.message.includes(String(MAX_DFT_SIZE + 1)) &&
        /"wasm"/.test(e.message),
    );
    for (const mode of ["dft", "auto"] as const) {
      for (const [dims, d] of [[[5, 4], 8], [[5, 4], 7], [[3, 4, 2], 8]] as const) {
        await t.step(`${mode}, dims ${dims}, d ${d}`, async () => {
          assert.ok((await checkAgainstDefinition([...dims], d, mode)) < 1e-4);
        });
      }
    }
  } finally {
    await useBackend("cpu");
  }
});

/** Gradients of Σ w ⊙ conv(signals) with respect to each signal. */
function convolutionGrads(signals: tf.Tensor2D[], weights: tf.Tensor2D, mode: FftMode) {
  return tf.grads((...xs: tf.Tensor[]) =>
    tf.sum(tf.mul(circularConvolution(xs as tf.Tensor2D[], { mode }), weights))
  )(signals);
}

Deno.test("circularConvolution() FFT gradient equals the DFT gradient on cpu and wasm", async () => {
  await useBackend("cpu");
  for (const count of [2, 3]) {
    for (const d of [8, 6]) {
      const signals = randomFeatures(new Array(count).fill(d), 2, count * d);
      const [weights] = randomFeatures([d], 2, 99);
      const fft = await Promise.all(convolutionGrads(signals, weights, "fft").map(take));
      const dft = await Promise.all(convolutionGrads(signals, weights, "dft").map(take));
      fft.forEach((g, m) => {
        assert.ok(g.every(Number.isFinite));
        assert.ok(g.some((v) => v !== 0));
        assert.ok(maxAbsDiff(g, dft[m]) < 1e-4, `signal ${m} of ${count}, d ${d}`);
      });
      const values = await Promise.all([...signals, weights].map((x) => x.array()));
      tf.dispose([...signals, weights]);
      await useBackend("wasm");
      try {
        const onWasm = values.map((v) => tf.tensor2d(v as number[][]));
        const wasm = await Promise.all(
          convolutionGrads(onWasm.slice(0, -1), onWasm[count], "auto").map(take),
        );
        wasm.forEach((g, m) => assert.ok(maxAbsDiff(g, fft[m]) < 1e-4, `wasm signal ${m}`));
        tf.dispose(onWasm);
      } finally {
        await useBackend("cpu");
      }
    }
  }
});

Deno.test("circularConvolution() leaks no tensors on either path, with or without a basis", async () => {
  await useBackend("cpu");
  const signals = randomFeatures([8, 8, 8], 2, 3);
  const basis = createDftBasis(8);
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    circularConvolution(signals, { mode: "fft" });
    circularConvolution(signals, { mode: "dft" });
    circularConvolution(signals, { mode: "dft", basis });
  });
  const grads = convolutionGrads(signals.slice(0, 2), signals[2], "fft");
  tf.dispose(grads);
  assert.equal(tf.memory().numTensors, before);
  basis.dispose();
  tf.dispose(signals);
});

Deno.test("circularConvolution() rejects mismatched inputs and bad modes, naming them", async () => {
  await useBackend("cpu");
  const a = tf.zeros([2, 8]) as tf.Tensor2D;
  const b = tf.zeros([2, 6]) as tf.Tensor2D;
  assert.throws(() => circularConvolution([a, b]), /signals\[1\].*\[2,6\]/);
  const basis = createDftBasis(6);
  assert.throws(() => circularConvolution([a, a], { mode: "dft", basis }), /size 6.*length 8/);
  assert.throws(() => circularConvolution([a], { mode: "fast" as FftMode }), /"?fast"?/);
  assert.throws(() => createDftBasis(MAX_DFT_SIZE + 1), RangeError);
  const one = await take(circularConvolution([tf.tensor2d([[1, 2, 3]])]));
  assert.deepEqual(Array.from(one), [1, 2, 3]);
  const sketches = [makeCountSketch(3, 8, { seed: 0 }), makeCountSketch(3, 4, { seed: 0 })];
  const x = tf.zeros([1, 3]) as tf.Tensor2D;
  assert.throws(() => compactBilinear([x, x], sketches), /outputDim 4/);
  assert.throws(() => compactBilinear([x], sketches), /1 inputs and 2 sketches/);
  basis.dispose();
  tf.dispose([a, b, x]);
});
