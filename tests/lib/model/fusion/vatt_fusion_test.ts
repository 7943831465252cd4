import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import {
  resolveVattFusionConfig,
  VattFusionHead,
} from "../../../../lib/model/fusion/vatt_fusion.ts";
import {
  assertGradientsReachEveryVariable,
  assertMaskedModalityIgnored,
  assertNoLeaks,
  maxAbsDiff,
  randomFeatures,
  take,
  useBackend,
} from "./_helpers.ts";

const DIMS = [5, 5, 3];

Deno.test("VattFusionHead gives [B, C] logits and (ΣD + M)·C + C parameters", async () => {
  await useBackend("cpu");
  const head = new VattFusionHead({ inputDims: DIMS, numClasses: 4, seed: 0 });
  const features = randomFeatures(DIMS, 3, 0);
  const logits = head.apply(features, {});
  assert.deepEqual(logits.shape, [3, 4]);
  assert.equal(head.parameterCount(), (5 + 5 + 3 + 3) * 4 + 4);
  assert.deepEqual(Object.keys(head.variables).sort(), [
    "fusion/vatt/classifier/bias",
    "fusion/vatt/classifier/kernel",
  ]);
  tf.dispose([logits, ...features]);
  head.dispose();
});

Deno.test("VattFusionHead gradients reach every variable", async () => {
  await useBackend("cpu");
  const head = new VattFusionHead({ inputDims: DIMS, numClasses: 3, seed: 1, normalize: true });
  const features = randomFeatures(DIMS, 4, 1);
  await assertGradientsReachEveryVariable(head, features);
  tf.dispose(features);
  head.dispose();
});

Deno.test("VattFusionHead ignores a masked-out modality's features and stays finite", async () => {
  await useBackend("cpu");
  for (const normalize of [false, true]) {
    const head = new VattFusionHead({ inputDims: DIMS, numClasses: 3, seed: 2, normalize });
    await assertMaskedModalityIgnored(head, DIMS, { batch: 4, missing: 1, seed: 5 });
    head.dispose();
  }
});

Deno.test("VattFusionHead with normalize is invariant to the scale of each embedding", async () => {
  await useBackend("cpu");
  const head = new VattFusionHead({ inputDims: DIMS, numClasses: 3, seed: 3, normalize: true });
  const features = randomFeatures(DIMS, 2, 2);
  const scaled = features.map((x, m) => tf.mul(x, 3 + m) as tf.Tensor2D);
  const a = await take(head.apply(features, {}));
  const b = await take(head.apply(scaled, {}));
  assert.ok(maxAbsDiff(a, b) < 1e-5);
  const zeros = DIMS.map((d) => tf.zeros([2, d]) as tf.Tensor2D);
  assert.ok((await take(head.apply(zeros, {}))).every(Number.isFinite));
  tf.dispose([...features, ...scaled, ...zeros]);
  head.dispose();
});

Deno.test("VattFusionHead feeds the masks as features: missing differs from all-zero features", async () => {
  await useBackend("cpu");
  const head = new VattFusionHead({ inputDims: DIMS, numClasses: 3, seed: 9 });
  const zeros = DIMS.map((d) => tf.zeros([2, d]) as tf.Tensor2D);
  const present = await take(head.apply(zeros, {}));
  const masks = DIMS.map((_, m) => (m === 1 ? tf.zeros([2]) : tf.ones([2])) as tf.Tensor1D);
  const missing = await take(head.apply(zeros, { masks }));
  assert.ok(maxAbsDiff(present, missing) > 1e-4);
  tf.dispose([...zeros, ...masks]);
  head.dispose();
});

Deno.test("VattFusionHead leaks no tensors in apply() or after dispose()", async () => {
  await useBackend("cpu");
  const features = randomFeatures(DIMS, 2, 4);
  assertNoLeaks(
    () => new VattFusionHead({ inputDims: DIMS, numClasses: 3, seed: 4, normalize: true }),
    features,
  );
  tf.dispose(features);
});

Deno.test("resolveVattFusionConfig() rejects a non-boolean normalize", () => {
  assert.throws(
    () =>
      resolveVattFusionConfig({
        inputDims: [3],
        numClasses: 2,
        seed: 0,
        normalize: "yes" as unknown as boolean,
      }),
    (e: unknown) => e instanceof TypeError && /normalize.*yes/.test(e.message),
  );
});
