/**
 * The encoder layer as one native call each way (`lib/backend/native/layer.c`) computes what the
 * macro over the part kernels computes, up to the order of the products' sums: output and every
 * gradient within 2e-5 of its largest value, with dropout on every branch, a padding mask, each
 * form of position bias and recomputed layers; on one thread and on every thread.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "../../../../lib/backend/gradients.ts";
import {
  nativeLayerCalls,
  setNativeLayerEnabled,
} from "../../../../lib/backend/kernels/encoder_layer_native.ts";
import { KERNEL_NAMES } from "../../../../lib/backend/kernels/names.ts";
import { LAYER_PHASES, nativeKernels } from "../../../../lib/backend/native/native.ts";
import { initBackend } from "../../../../lib/backend/select.ts";
import { CASES, run } from "../../model/_layer_cases.ts";

/** The largest difference between `a` and `b`, and the largest magnitude of `b`. */
function gapOf(a: Float32Array, b: Float32Array): { gap: number; scale: number } {
  let gap = 0, scale = 0;
  for (let i = 0; i < b.length; i++) {
    gap = Math.max(gap, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return { gap, scale };
}

/** `run(c)` with the native layer on or off, the native kernels on `threads` threads. */
async function runWith(c: (typeof CASES)[number], on: boolean, threads?: number) {
  const native = nativeKernels()!;
  const before = [setNativeLayerEnabled(on), native.threads()] as const;
  if (threads) native.setThreads(threads);
  try {
    return await run(c);
  } finally {
    setNativeLayerEnabled(before[0]);
    native.setThreads(before[1]);
  }
}

for (const c of CASES) {
  Deno.test({
    name: `the native encoder layer computes the macro's values and gradients: ${c.name}`,
    ignore: nativeKernels() === null, // deno task build:native
    fn: async () => {
      await initBackend("wasm");
      try {
        const callsBefore = nativeLayerCalls();
        const macro = await runWith(c, false);
        assert.equal(nativeLayerCalls(), callsBefore, "switched off, the macro runs");
        for (const threads of [1, 2]) {
          const before = nativeLayerCalls();
          const tensors = tf.memory().numTensors;
          const native = await runWith(c, true, threads);
          assert.equal(tf.memory().numTensors, tensors, "no tensor left behind");
          assert.ok(native.kernels.includes(KERNEL_NAMES.encoderLayerGrad));
          // Two layers, each once forward and once back (and once more forward when recomputed).
          assert.equal(nativeLayerCalls() - before, c.recompute ? 6 : 4);
          assert.equal(native.values.length, macro.values.length);
          native.values.forEach((v, t) => {
            // Within 2e-5 of the largest value, or of 1 for the keys' bias, whose gradient is
            // rounding alone (softmax ignores a shift of a row: ~1e-6 here).
            const { gap, scale } = gapOf(v, macro.values[t]);
            assert.ok(gap <= 2e-5 * Math.max(scale, 1), `${threads} thread(s), ${t}: ${gap}`);
          });
          assert.ok(native.values.slice(1).every((g) => g.some((x) => x !== 0)));
        }
      } finally {
        await tf.setBackend("cpu");
      }
    },
  });
}

Deno.test({
  name: "the native layer's phase timing: switched on, every pass and its parts take time",
  ignore: nativeKernels() === null,
  fn: async () => {
    await initBackend("wasm");
    const native = nativeKernels()!;
    // Other test modules of the process may run layers meanwhile: the sums are compared to 0 only.
    try {
      native.layerPhases(true);
      await runWith(CASES[0], true, 2);
      const on = native.layerPhases(false);
      const at = (label: (typeof LAYER_PHASES)[number]) => on[LAYER_PHASES.indexOf(label)];
      for (const pass of ["forward", "backward", "weights"] as const) {
        assert.ok(at(`wall: ${pass}`) > 0n, `the ${pass} pass's wall time`);
      }
      for (const part of ["forward: MLP products", "backward: attention", "weights: products"]) {
        assert.ok(at(part as (typeof LAYER_PHASES)[number]) > 0n, part);
      }
      assert.equal(on.length, LAYER_PHASES.length);
      // (Off, nothing is timed; not asserted here: a layer of another module that started
      // while the timing was on may still add its parts after it is switched off.)
    } finally {
      native.layerPhases(false);
      await tf.setBackend("cpu");
    }
  },
});
