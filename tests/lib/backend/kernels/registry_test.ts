import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import {
  countCall,
  defineKernelSet,
  kernelCallCounts,
  originalKernel,
} from "../../../../lib/backend/kernels/registry.ts";

tf.env().set("PROD", true);

Deno.test("a kernel set replaces a backend kernel and restores it when removed", async () => {
  await tf.setBackend("cpu");
  const own = tf.getKernel("Neg", "cpu")!;
  const set = defineKernelSet({
    name: "test-replace",
    backend: "cpu",
    switches: [],
    kernels: {
      Neg: (args: unknown) => {
        countCall("test-replace.calls");
        return originalKernel<unknown, tf.TensorInfo>("Neg", "cpu")(args);
      },
    },
  });
  try {
    assert.equal(set.register(), true);
    assert.equal(set.register(), true, "idempotent");
    assert.notEqual(tf.getKernel("Neg", "cpu")!.kernelFunc, own.kernelFunc);
    assert.deepEqual(await tf.neg(tf.tensor1d([1, -2])).array(), [-1, 2]);
    assert.deepEqual(kernelCallCounts({ prefix: "test-replace", reset: true }), { calls: 1 });
  } finally {
    set.unregister();
  }
  assert.equal(set.registered(), false);
  assert.equal(tf.getKernel("Neg", "cpu"), own, "the backend's own kernel is back");
  assert.throws(() => originalKernel("Neg", "cpu"), /not replaced/);
});

Deno.test("a kernel set stays off when a switch says off or a need is missing", () => {
  const name = "VATT_TEST_KERNEL_SET";
  let needMet = true;
  const set = defineKernelSet({
    name: "test-switch",
    backend: "cpu",
    switches: [name],
    kernels: { VattTestKernel: () => ({}) },
    requires: () => needMet,
  });
  try {
    Deno.env.set(name, "off");
    assert.equal(set.available("cpu"), false);
    assert.equal(set.register(), false);
    assert.equal(tf.getKernel("VattTestKernel", "cpu"), undefined);
    Deno.env.delete(name);
    needMet = false;
    assert.equal(set.register(), false);
    needMet = true;
    assert.equal(set.available("wasm"), false, "another backend");
    assert.equal(set.register(), true);
    assert.ok(tf.getKernel("VattTestKernel", "cpu"));
  } finally {
    Deno.env.delete(name);
    set.unregister();
  }
  assert.equal(tf.getKernel("VattTestKernel", "cpu"), undefined);
});
