import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import type { FusionHeadName } from "../../../../lib/model/fusion/fusion_head.ts";
import { createFusionHead, FUSION_HEADS } from "../../../../lib/model/fusion/registry.ts";
import { ConcatFusionHead } from "../../../../lib/model/fusion/concat_fusion.ts";
import { McbFusionHead } from "../../../../lib/model/fusion/mcb_fusion.ts";
import { TensorFusionHead } from "../../../../lib/model/fusion/tensor_fusion.ts";
import { VattFusionHead } from "../../../../lib/model/fusion/vatt_fusion.ts";
import { maxAbsDiff, randomFeatures, take, useBackend, variableValues } from "./_helpers.ts";

const DIMS = [6, 5, 4];

function small(name: FusionHeadName, seed: number, dropout = 0) {
  const base = { inputDims: DIMS, numClasses: 3, seed, dropout };
  switch (name) {
    case "concat":
      return createFusionHead("concat", { ...base, hiddenDim: 8 });
    case "tensor":
      return createFusionHead("tensor", { ...base, fusionDim: 3, hiddenDim: 8 });
    case "mcb":
      return createFusionHead("mcb", { ...base, outputDim: 16 });
    case "vatt":
      return createFusionHead("vatt", base);
  }
}

Deno.test("FUSION_HEADS lists the four heads and createFusionHead() builds each by name", async () => {
  await useBackend("cpu");
  assert.deepEqual([...FUSION_HEADS], ["concat", "tensor", "mcb", "vatt"]);
  const classes = {
    concat: ConcatFusionHead,
    tensor: TensorFusionHead,
    mcb: McbFusionHead,
    vatt: VattFusionHead,
  };
  for (const name of FUSION_HEADS) {
    const head = createFusionHead(name, { inputDims: DIMS, numClasses: 2, seed: 0 });
    assert.equal(head.name, name);
    assert.ok(head instanceof classes[name]);
    assert.ok(Object.keys(head.variables).every((k) => k.startsWith(`fusion/${name}/`)));
    head.dispose();
  }
});

Deno.test("createFusionHead() rejects an unknown name, naming it", () => {
  assert.throws(
    () => createFusionHead("late" as FusionHeadName, { inputDims: [2], numClasses: 2, seed: 0 }),
    (e: unknown) => e instanceof RangeError && /"late"/.test(e.message),
  );
});

Deno.test("every head's weights are fixed by the seed and change with it", async () => {
  await useBackend("cpu");
  for (const name of FUSION_HEADS) {
    const a = small(name, 11);
    const b = small(name, 11); // two heads of one kind coexist: tf names are unique
    const c = small(name, 12);
    const [va, vb, vc] = await Promise.all([a, b, c].map(variableValues));
    assert.deepEqual(va, vb, name);
    const kernels = Object.keys(va).filter((k) => k.endsWith("kernel"));
    assert.ok(kernels.length > 0);
    for (const key of kernels) assert.notDeepEqual(va[key], vc[key], `${name} ${key}`);
    assert.notEqual(a.variables[kernels[0]].name, b.variables[kernels[0]].name);
    for (const head of [a, b, c]) head.dispose();
  }
});

Deno.test("every head applies seeded dropout only when training", async () => {
  await useBackend("cpu");
  const features = randomFeatures(DIMS, 4, 0);
  for (const name of FUSION_HEADS) {
    const a = small(name, 5, 0.5);
    const b = small(name, 5, 0.5);
    const evalA = await take(a.apply(features, {}));
    const evalB = await take(b.apply(features, { training: false }));
    assert.deepEqual(evalA, evalB, name);
    const trainA = await take(a.apply(features, { training: true }));
    const trainB = await take(b.apply(features, { training: true }));
    assert.ok(maxAbsDiff(trainA, trainB) === 0, `${name}: same seed, same dropout`);
    assert.ok(maxAbsDiff(trainA, evalA) > 1e-6, `${name}: dropout must act when training`);
    a.dispose();
    b.dispose();
  }
  tf.dispose(features);
});

Deno.test("every head rejects wrong inputs, naming them, and refuses apply() after dispose()", async () => {
  await useBackend("cpu");
  const features = randomFeatures(DIMS, 2, 0);
  const wrongWidth = randomFeatures([6, 5, 3], 2, 0);
  const wrongBatch = [...features.slice(0, 2), tf.zeros([3, 4]) as tf.Tensor2D];
  for (const name of FUSION_HEADS) {
    const head = small(name, 0);
    assert.throws(() => head.apply(features.slice(0, 2), {}), /expects 3 feature tensors, got 2/);
    assert.throws(() => head.apply(wrongWidth, {}), /features\[2\].*\[2, 4\].*\[2,3\]/);
    assert.throws(() => head.apply(wrongBatch, {}), /features\[2\].*\[3,4\]/);
    const shortMask = DIMS.map(() => tf.ones([1]) as tf.Tensor1D);
    assert.throws(() => head.apply(features, { masks: shortMask }), /masks\[0\].*\[2\].*\[1\]/);
    assert.throws(() => head.apply(features, { masks: shortMask.slice(1) }), /3 masks, got 2/);
    tf.dispose(shortMask);
    head.dispose();
    head.dispose(); // a second dispose is harmless
    assert.throws(() => head.apply(features, {}), /after dispose/);
  }
  tf.dispose([...features, ...wrongWidth, wrongBatch[2]]);
});
