import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import {
  ConcatFusionHead,
  resolveConcatFusionConfig,
} from "../../../../lib/model/fusion/concat_fusion.ts";
import {
  assertGradientsReachEveryVariable,
  assertMaskedModalityIgnored,
  assertNoLeaks,
  maxAbsDiff,
  randomFeatures,
  take,
  useBackend,
} from "./_helpers.ts";

const DIMS = [6, 4, 3];

Deno.test("ConcatFusionHead gives [B, C] logits and (ΣD + M)·H + H + H·C + C parameters", async () => {
  await useBackend("cpu");
  const head = new ConcatFusionHead({ inputDims: DIMS, numClasses: 5, seed: 1, hiddenDim: 7 });
  const features = randomFeatures(DIMS, 3, 0);
  const logits = head.apply(features, {});
  assert.deepEqual(logits.shape, [3, 5]);
  assert.equal(head.parameterCount(), (6 + 4 + 3 + 3) * 7 + 7 + 7 * 5 + 5);
  assert.deepEqual(Object.keys(head.variables).sort(), [
    "fusion/concat/classifier/bias",
    "fusion/concat/classifier/kernel",
    "fusion/concat/hidden/bias",
    "fusion/concat/hidden/kernel",
  ]);
  assert.deepEqual(head.variables["fusion/concat/hidden/kernel"].shape, [16, 7]);
  tf.dispose([logits, ...features]);
  head.dispose();
});

Deno.test("ConcatFusionHead gradients reach every variable", async () => {
  await useBackend("cpu");
  const head = new ConcatFusionHead({ inputDims: DIMS, numClasses: 3, seed: 2, hiddenDim: 8 });
  const features = randomFeatures(DIMS, 4, 1);
  await assertGradientsReachEveryVariable(head, features);
  tf.dispose(features);
  head.dispose();
});

Deno.test("ConcatFusionHead ignores a masked-out modality's features and stays finite", async () => {
  await useBackend("cpu");
  const head = new ConcatFusionHead({ inputDims: DIMS, numClasses: 3, seed: 3, hiddenDim: 8 });
  for (const missing of [0, 2]) {
    await assertMaskedModalityIgnored(head, DIMS, { batch: 4, missing, seed: 10 + missing });
  }
  head.dispose();
});

Deno.test("ConcatFusionHead feeds the masks as features: missing differs from all-zero features", async () => {
  await useBackend("cpu");
  const head = new ConcatFusionHead({ inputDims: DIMS, numClasses: 3, seed: 9, hiddenDim: 8 });
  const zeros = DIMS.map((d) => tf.zeros([2, d]) as tf.Tensor2D);
  const present = await take(head.apply(zeros, {}));
  const masks = DIMS.map((_, m) => (m === 1 ? tf.zeros([2]) : tf.ones([2])) as tf.Tensor1D);
  const missing = await take(head.apply(zeros, { masks }));
  assert.ok(maxAbsDiff(present, missing) > 1e-4);
  tf.dispose([...zeros, ...masks]);
  head.dispose();
});

Deno.test("ConcatFusionHead leaks no tensors in apply() or after dispose()", async () => {
  await useBackend("cpu");
  const features = randomFeatures(DIMS, 2, 4);
  assertNoLeaks(
    () => new ConcatFusionHead({ inputDims: DIMS, numClasses: 3, seed: 4, hiddenDim: 5 }),
    features,
  );
  tf.dispose(features);
});

Deno.test("resolveConcatFusionConfig() fills defaults and names the offending value", async (t) => {
  await t.step("defaults", () => {
    const c = resolveConcatFusionConfig({ inputDims: [3], numClasses: 2, seed: 0 });
    assert.equal(c.hiddenDim, 256);
    assert.equal(c.dropout, 0);
  });
  await t.step("hiddenDim 0", () => {
    assert.throws(
      () => resolveConcatFusionConfig({ inputDims: [3], numClasses: 2, seed: 0, hiddenDim: 0 }),
      (e: unknown) => e instanceof RangeError && /hiddenDim.*0/.test(e.message),
    );
  });
  await t.step("fractional input dim", () => {
    assert.throws(
      () => resolveConcatFusionConfig({ inputDims: [3, 2.5], numClasses: 2, seed: 0 }),
      (e: unknown) => e instanceof TypeError && /inputDims\[1\].*2\.5/.test(e.message),
    );
  });
  await t.step("unknown key", () => {
    assert.throws(
      () =>
        resolveConcatFusionConfig(
          {
            inputDims: [3],
            numClasses: 2,
            seed: 0,
            hiddenSize: 4,
          } as unknown as Parameters<typeof resolveConcatFusionConfig>[0],
        ),
      (e: unknown) => e instanceof TypeError && /"hiddenSize"/.test(e.message),
    );
  });
  await t.step("dropout 1", () => {
    assert.throws(
      () => resolveConcatFusionConfig({ inputDims: [3], numClasses: 2, seed: 0, dropout: 1 }),
      (e: unknown) => e instanceof RangeError && /dropout.*1/.test(e.message),
    );
  });
  await t.step("empty inputDims", () => {
    assert.throws(
      () => resolveConcatFusionConfig({ inputDims: [], numClasses: 2, seed: 0 }),
      RangeError,
    );
  });
});
