import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "../../../../lib/backend/gradients.ts";
import { FUSED_KERNEL_SET } from "../../../../lib/backend/kernels/fused.ts";
import { KERNEL_NAMES } from "../../../../lib/backend/kernels/names.ts";
import { initBackend } from "../../../../lib/backend/select.ts";
import { setSimdEnabled, simdKernelsOf } from "../../../../lib/backend/simd/simd.ts";
import { switchedOff } from "../../../../lib/backend/switches.ts";
import { gelu, layerNorm } from "../../../../lib/model/_ops.ts";

/** Runs `f` with the SIMD kernels switched off: the JavaScript loops. */
async function withoutSimd<T>(f: () => Promise<T> | T): Promise<T> {
  const before = setSimdEnabled(false);
  try {
    return await f();
  } finally {
    setSimdEnabled(before);
  }
}

/** Asserts that the wasm backend is active and runs the SIMD kernels. */
function assertSimdActive(): void {
  if (simdOffByEnv) return; // both paths then run the JavaScript loops
  const wasm = (tf.backend() as unknown as { wasm: { asm?: { memory?: unknown } } }).wasm;
  assert.ok(simdKernelsOf(wasm) !== null, "the SIMD kernels are not available on wasm");
}

const simdOffByEnv = switchedOff("VATT_SIMD");
if (simdOffByEnv) console.log("fused_test: VATT_SIMD=0: the SIMD paths are not tested");

/**
 * `f`'s outputs on the cpu backend, on wasm with composite ops, and on wasm with the fused
 * kernels, both with their SIMD module (`fused`) and with their JavaScript loops (`fusedJs`).
 */
async function threeWays(f: () => tf.Tensor[]) {
  const run = async () => {
    const out = tf.tidy(f);
    const values = await Promise.all(out.map(async (t) => (await t.data()) as Float32Array));
    tf.dispose(out);
    return values;
  };
  await tf.setBackend("cpu");
  const cpu = await run();
  await initBackend("wasm");
  try {
    FUSED_KERNEL_SET.unregister();
    const composite = await run();
    assert.ok(FUSED_KERNEL_SET.register());
    const profile = await tf.profile(() => {
      tf.dispose(tf.tidy(f));
    });
    assertSimdActive();
    const fused = await run();
    const fusedJs = await withoutSimd(run);
    return { cpu, composite, fused, fusedJs, kernels: profile.kernels.map((k) => k.name) };
  } finally {
    FUSED_KERNEL_SET.register();
    await tf.setBackend("cpu");
  }
}

function assertClose(want: Float32Array[], got: Float32Array[], what: string, tol = 2e-5): void {
  assert.equal(got.length, want.length);
  for (let t = 0; t < want.length; t++) {
    assert.equal(got[t].length, want[t].length);
    let scale = 1;
    for (const v of want[t]) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < want[t].length; i++) {
      if (!(Math.abs(want[t][i] - got[t][i]) <= tol * scale)) {
        assert.fail(`${what}: output ${t}[${i}] is ${got[t][i]}, expected ${want[t][i]}`);
      }
    }
  }
}

Deno.test("the fused GELU equals the composite op on wasm and cpu, value and gradient", async () => {
  const r = await threeWays(() => {
    // 2,091 values: not a multiple of the 4 SIMD lanes, so the tail is covered too
    const x = tf.mul(tf.randomNormal([3, 17, 41], 0, 1, "float32", 1), 3);
    const w = tf.randomNormal([3, 17, 41], 0, 1, "float32", 2);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(gelu(v), w)))(x);
    return [gelu(x), g];
  });
  assert.ok(r.kernels.includes(KERNEL_NAMES.gelu), `kernels run: ${r.kernels.join(", ")}`);
  assert.ok(r.kernels.includes(KERNEL_NAMES.geluGrad));
  assert.ok(!r.kernels.includes("Erf"));
  assertClose(r.composite, r.fused, "gelu vs wasm composite");
  assertClose(r.cpu, r.fused, "gelu vs cpu");
  assertClose(r.composite, r.fusedJs, "gelu (JavaScript loop) vs wasm composite");
});

Deno.test(
  "the fused LayerNorm equals the composite op on wasm and cpu, value and gradients",
  async () => {
    // rows of 67: the SIMD loops' tails are covered too
    const r = await threeWays(() => {
      const x = tf.add(tf.randomNormal([4, 9, 67], 0, 2, "float32", 3), 5); // off-centre rows
      const gamma = tf.randomNormal([67], 1, 0.3, "float32", 4);
      const beta = tf.randomNormal([67], 0, 0.3, "float32", 5);
      const w = tf.randomNormal([4, 9, 67], 0, 1, "float32", 6);
      const loss = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
        tf.sum(tf.mul(layerNorm(a, b, c, { epsilon: 1e-5 }), w));
      return [layerNorm(x, gamma, beta, { epsilon: 1e-5 }), ...tf.grads(loss)([x, gamma, beta])];
    });
    assert.ok(r.kernels.includes(KERNEL_NAMES.layerNorm), `kernels run: ${r.kernels.join(", ")}`);
    assert.ok(r.kernels.includes(KERNEL_NAMES.layerNormGrad));
    assertClose(r.composite, r.fused, "layerNorm vs wasm composite", 1e-4);
    assertClose(r.cpu, r.fused, "layerNorm vs cpu", 1e-4);
    assertClose(r.composite, r.fusedJs, "layerNorm (JavaScript loop) vs wasm composite", 1e-4);
  },
);

Deno.test("the fused kernels leave no tensors behind", async () => {
  await initBackend("wasm");
  try {
    const x = tf.randomNormal([5, 32]);
    const gamma = tf.ones([32]);
    const beta = tf.zeros([32]);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(gelu(layerNorm(a, b, c))))([
        x,
        gamma,
        beta,
      ]);
    });
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, gamma, beta]);
  } finally {
    await tf.setBackend("cpu");
  }
});

Deno.test("the fused kernels reject non-float32 input", async () => {
  await initBackend("wasm");
  try {
    assert.throws(
      () => tf.engine().runKernel(KERNEL_NAMES.gelu, { x: tf.tensor1d([1, 2], "int32") }),
      TypeError,
    );
  } finally {
    await tf.setBackend("cpu");
  }
});

/** Three Adam(W) steps of two weights by `VattAdam`, with the kernel's state. */
async function adamByKernel(init: tf.Tensor, grads: tf.Tensor[][]) {
  let w = [init.clone(), init.clone()];
  let m = [tf.zerosLike(init), tf.zerosLike(init)];
  let v = [tf.zerosLike(init), tf.zerosLike(init)];
  for (let step = 1; step <= grads.length; step++) {
    const lr = 1e-3 * step;
    const next = grads[step - 1].map((grad, i) =>
      tf.engine().runKernel(KERNEL_NAMES.adam, { weight: w[i], m: m[i], v: v[i], grad }, {
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-8,
        lr,
        steps: step,
        decay: i === 0 ? lr * 0.01 : 0,
      }) as tf.Tensor[]
    );
    tf.dispose([...w, ...m, ...v]);
    w = next.map((x) => x[0]);
    m = next.map((x) => x[1]);
    v = next.map((x) => x[2]);
  }
  const values = async (ts: tf.Tensor[]) => await Promise.all(ts.map((t) => t.data()));
  const out = { w: await values(w), m: await values(m), v: await values(v) };
  tf.dispose([...w, ...m, ...v]);
  return out;
}

Deno.test("VattAdam (SIMD and JavaScript) is bit-identical to the chain of ops on wasm", async () => {
  const { Adam } = await import("../../../../lib/train/optimizer.ts");
  await initBackend("wasm");
  try {
    assertSimdActive();
    // 1,073 values: the SIMD loop's tail is covered too
    const init = tf.randomNormal([37, 29], 0, 1, "float32", 7);
    const grads = [1, 2, 3].map((step) => [
      tf.randomNormal([37, 29], 0, 1, "float32", 10 + step),
      tf.randomNormal([37, 29], 0, 1e-3, "float32", 20 + step),
    ]);
    // The optimiser through its chain of ops: the fused kernels unregistered.
    const decayed = tf.variable(init.clone(), true, "adam_test_a");
    const plain = tf.variable(init.clone(), true, "adam_test_b");
    const opt = new Adam({ a: decayed, b: plain }, {
      weightDecay: 0.01,
      decayable: (name) => name === "a",
    });
    FUSED_KERNEL_SET.unregister();
    try {
      grads.forEach(([a, b], i) => opt.step({ a, b }, 1e-3 * (i + 1)));
    } finally {
      FUSED_KERNEL_SET.register();
    }
    const state = opt.stateTensors();
    const chain = {
      w: [await decayed.data(), await plain.data()],
      m: [await state["adam/m/a"].data(), await state["adam/m/b"].data()],
      v: [await state["adam/v/a"].data(), await state["adam/v/b"].data()],
    };
    const simd = await adamByKernel(init, grads);
    const js = await withoutSimd(() => adamByKernel(init, grads));
    for (const [label, got] of [["SIMD", simd], ["JavaScript", js]] as const) {
      for (const key of ["w", "m", "v"] as const) {
        for (const i of [0, 1]) {
          assert.deepEqual(
            Array.from(got[key][i]),
            Array.from(chain[key][i]),
            `${label} ${key}${i}`,
          );
        }
      }
    }
    // and the chain really moved the weights (the comparison is not of untouched values)
    assert.notDeepEqual(Array.from(chain.w[0]), Array.from(await init.data()));
    tf.dispose([init, decayed, plain, ...grads.flat(), ...Object.values(state)]);
    opt.dispose();
  } finally {
    await tf.setBackend("cpu");
  }
});
