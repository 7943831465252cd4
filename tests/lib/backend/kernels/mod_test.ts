import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../../../lib/backend/select.ts";
import { loadBlas } from "../../../../lib/backend/blas.ts";
import {
  describeKernelSets,
  KERNEL_SETS,
  registerKernelSets,
  unregisterKernelSets,
} from "../../../../lib/backend/kernels/mod.ts";
import { KERNEL_NAMES } from "../../../../lib/backend/kernels/names.ts";
import { switchedOff } from "../../../../lib/backend/switches.ts";

Deno.test("the kernel sets come off together and back again, restoring tfjs's own kernels", async () => {
  await initBackend("wasm");
  try {
    const names = KERNEL_SETS.filter((set) => set.registered()).map((set) => set.name);
    const expected = KERNEL_SETS.filter((set) => set.available("wasm")).map((set) => set.name);
    if (
      loadBlas() &&
      !["VATT_WASM_KERNELS", "VATT_FUSED", "VATT_FUSED_ATTENTION", "VATT_FUSED_LAYER"].some((n) =>
        switchedOff(n)
      )
    ) {
      const all = ["wasm", "fused", "matmul", "attention", "dense", "dropout", "layer"];
      assert.deepEqual(expected, all);
    }
    assert.deepEqual(names, expected);
    unregisterKernelSets();
    assert.equal(tf.getKernel(KERNEL_NAMES.gelu, "wasm"), undefined);
    assert.equal(tf.getKernel(KERNEL_NAMES.attention, "wasm"), undefined);
    assert.equal(tf.getKernel(KERNEL_NAMES.encoderLayer, "wasm"), undefined);
    const own = tf.getKernel("Transpose", "wasm");
    assert.deepEqual(registerKernelSets("wasm"), expected);
    if (expected.includes("wasm")) assert.notEqual(tf.getKernel("Transpose", "wasm"), own);
    unregisterKernelSets();
    assert.equal(tf.getKernel("Transpose", "wasm"), own, "the wasm backend's Transpose is back");
    assert.deepEqual(registerKernelSets("cpu"), []);
    assert.match(describeKernelSets("wasm"), /^wasm/);
  } finally {
    registerKernelSets("wasm");
    await tf.setBackend("cpu");
  }
});
