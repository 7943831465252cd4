import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import {
  MAX_TENSOR_FUSION_SIZE,
  resolveTensorFusionConfig,
  TensorFusionHead,
  tensorFusionProduct,
} from "../../../../lib/model/fusion/tensor_fusion.ts";
import {
  assertGradientsReachEveryVariable,
  assertMaskedModalityIgnored,
  assertNoLeaks,
  maxAbsDiff,
  randomFeatures,
  take,
  useBackend,
} from "./_helpers.ts";

Deno.test("tensorFusionProduct() of three 1-d vectors is [a,1]⊗[b,1]⊗[c,1] (2·2·2 entries)", async () => {
  await useBackend("cpu");
  // Row 0: a = 2, b = 3, c = 5; row 1: a = −1, b = 0.5, c = 4.
  const a = tf.tensor2d([[2], [-1]]);
  const b = tf.tensor2d([[3], [0.5]]);
  const c = tf.tensor2d([[5], [4]]);
  const fused = tensorFusionProduct([a, b, c]);
  assert.deepEqual(fused.shape, [2, 8]);
  // Entries in row-major order over (i, j, k) ∈ {a, 1} × {b, 1} × {c, 1}:
  // abc, ab, ac, a, bc, b, c, 1 — computed by hand.
  const row0 = [30, 6, 10, 2, 15, 3, 5, 1];
  const row1 = [-2, -0.5, -4, -1, 2, 0.5, 4, 1];
  assert.deepEqual(Array.from(await take(fused)), [...row0, ...row1]);
  tf.dispose([a, b, c]);
});

Deno.test("tensorFusionProduct() of two vectors holds x_i·y_j, x_i, y_j and 1", async () => {
  await useBackend("cpu");
  const [x, y] = randomFeatures([2, 3], 3, 7);
  const fused = await take(tensorFusionProduct([x, y]));
  const xv = await x.data();
  const yv = await y.data();
  for (let b = 0; b < 3; b++) {
    const xe = [xv[b * 2], xv[b * 2 + 1], 1];
    const ye = [yv[b * 3], yv[b * 3 + 1], yv[b * 3 + 2], 1];
    const expected = xe.flatMap((xi) => ye.map((yj) => xi * yj));
    assert.ok(maxAbsDiff(fused.subarray(b * 12, (b + 1) * 12), expected) < 1e-6);
  }
  tf.dispose([x, y]);
});

Deno.test("tensorFusionProduct() rejects vectors with different batch sizes", () => {
  const x = tf.zeros([2, 3]) as tf.Tensor2D;
  const y = tf.zeros([3, 3]) as tf.Tensor2D;
  assert.throws(() => tensorFusionProduct([x, y]), /vectors\[1\].*\[3,3\]/);
  tf.dispose([x, y]);
});

Deno.test("TensorFusionHead has the expected shapes and parameter counts", async (t) => {
  await useBackend("cpu");
  await t.step("three modalities, fusionDim 3", async () => {
    const dims = [6, 5, 4];
    const head = new TensorFusionHead({
      inputDims: dims,
      numClasses: 4,
      seed: 0,
      fusionDim: 3,
      hiddenDim: 9,
    });
    const projections = (6 * 3 + 3) + (5 * 3 + 3) + (4 * 3 + 3);
    assert.equal(head.parameterCount(), projections + 64 * 9 + 9 + 9 * 4 + 4);
    assert.deepEqual(head.variables["fusion/tensor/hidden/kernel"].shape, [64, 9]);
    assert.deepEqual(head.variables["fusion/tensor/projection_2/kernel"].shape, [4, 3]);
    const features = randomFeatures(dims, 3, 1);
    const logits = head.apply(features, {});
    assert.deepEqual(logits.shape, [3, 4]);
    assert.ok((await take(logits)).every(Number.isFinite));
    tf.dispose(features);
    head.dispose();
  });
  await t.step("two modalities without projection", async () => {
    const dims = [3, 2];
    const head = new TensorFusionHead({
      inputDims: dims,
      numClasses: 2,
      seed: 0,
      fusionDim: null,
      hiddenDim: 5,
    });
    assert.equal(head.parameterCount(), 12 * 5 + 5 + 5 * 2 + 2);
    assert.ok(!Object.keys(head.variables).some((k) => k.includes("projection")));
    const features = randomFeatures(dims, 2, 2);
    const logits = head.apply(features, {});
    assert.deepEqual(logits.shape, [2, 2]);
    assert.ok((await take(logits)).every(Number.isFinite));
    tf.dispose(features);
    head.dispose();
  });
});

Deno.test("TensorFusionHead gradients reach every variable (2 and 3 modalities)", async () => {
  await useBackend("cpu");
  for (const dims of [[4, 3], [4, 3, 5]]) {
    const head = new TensorFusionHead({
      inputDims: dims,
      numClasses: 3,
      seed: 5,
      fusionDim: 3,
      hiddenDim: 6,
    });
    const features = randomFeatures(dims, 4, 3);
    await assertGradientsReachEveryVariable(head, features);
    tf.dispose(features);
    head.dispose();
  }
});

Deno.test("TensorFusionHead ignores a masked-out modality's features and stays finite", async () => {
  await useBackend("cpu");
  const dims = [4, 3, 5];
  const head = new TensorFusionHead({
    inputDims: dims,
    numClasses: 3,
    seed: 6,
    fusionDim: 4,
    hiddenDim: 6,
  });
  for (const missing of [0, 1, 2]) {
    await assertMaskedModalityIgnored(head, dims, { batch: 6, missing, seed: 20 + missing });
  }
  head.dispose();
});

Deno.test("TensorFusionHead leaks no tensors in apply() or after dispose()", async () => {
  await useBackend("cpu");
  const dims = [4, 3, 2];
  const features = randomFeatures(dims, 2, 4);
  assertNoLeaks(
    () =>
      new TensorFusionHead({
        inputDims: dims,
        numClasses: 3,
        seed: 4,
        fusionDim: 2,
        hiddenDim: 4,
        dropout: 0.2,
      }),
    features,
  );
  tf.dispose(features);
});

Deno.test("resolveTensorFusionConfig() validates modalities, fusionDim and fused width", async (t) => {
  await t.step("one modality", () => {
    assert.throws(
      () => resolveTensorFusionConfig({ inputDims: [4], numClasses: 2, seed: 0 }),
      (e: unknown) => e instanceof RangeError && /at least 2 modalities/.test(e.message),
    );
  });
  await t.step("fusionDim -1", () => {
    assert.throws(
      () => resolveTensorFusionConfig({ inputDims: [4, 4], numClasses: 2, seed: 0, fusionDim: -1 }),
      (e: unknown) => e instanceof RangeError && /fusionDim.*-1/.test(e.message),
    );
  });
  await t.step("fused width too large", () => {
    assert.throws(
      () =>
        resolveTensorFusionConfig({
          inputDims: [512, 512, 512],
          numClasses: 2,
          seed: 0,
          fusionDim: null,
        }),
      (e: unknown) =>
        e instanceof RangeError && e.message.includes(String(513 ** 3)) &&
        e.message.includes(String(MAX_TENSOR_FUSION_SIZE)),
    );
  });
  await t.step("defaults", () => {
    const c = resolveTensorFusionConfig({ inputDims: [4, 4], numClasses: 2, seed: 0 });
    assert.equal(c.fusionDim, 16);
    assert.equal(c.hiddenDim, 128);
  });
});
