import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { loadBlas } from "../../../lib/backend/blas.ts";
import { blasKernelState } from "../../../lib/backend/kernels/matmul.ts";
import { KERNEL_NAMES } from "../../../lib/backend/kernels/names.ts";
import { initBackend, probeBackends } from "../../../lib/backend/select.ts";

Deno.test("probeBackends() says how the wasm backend multiplies matrices", async () => {
  const wasm = (await probeBackends({ includeTensorflow: false })).find((p) => p.name === "wasm")!;
  assert.ok(wasm.available);
  assert.match(
    wasm.detail,
    loadBlas() ? /matrix products: OpenBLAS/ : /matrix products: (off|OpenBLAS not found|FFI)/,
  );
});

Deno.test("initBackend('wasm') installs the fused kernels and, when OpenBLAS loads, the native products", async () => {
  await initBackend("wasm");
  try {
    assert.ok(tf.getKernel(KERNEL_NAMES.gelu, "wasm"));
    assert.ok(tf.getKernel(KERNEL_NAMES.layerNorm, "wasm"));
    assert.equal(blasKernelState().active, loadBlas() !== null);
  } finally {
    await tf.setBackend("cpu");
  }
});
