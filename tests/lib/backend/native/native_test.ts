import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "../../../../lib/backend/gradients.ts";
import { adamInPlace } from "../../../../lib/backend/kernels/adam_in_place.ts";
import {
  ADAM_KERNEL,
  DROPOUT_KERNEL,
  GELU_GRAD_KERNEL,
  GELU_KERNEL,
  LAYER_NORM_GRAD_KERNEL,
  LAYER_NORM_KERNEL,
} from "../../../../lib/backend/kernels/names.ts";
import {
  builtLibraryPath,
  nativeKernels,
  nativeStatus,
  setNativeEnabled,
} from "../../../../lib/backend/native/native.ts";
import { initBackend } from "../../../../lib/backend/select.ts";
import { setSimdEnabled } from "../../../../lib/backend/simd/simd.ts";
import { Rng } from "../../../../lib/util/rng.ts";
import { builtNative } from "./_built.ts";

await initBackend("wasm");
const available = await builtNative("native_test") !== null;

/**
 * `n` values: seeded normal ones at scale 3, and the awkward ones (±0, ±∞, NaN, beyond GELU's
 * clamp at |x/√2| = 4, below exp's clamp at −87, subnormal) spread through them.
 */
function awkward(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const v = Float32Array.from({ length: n }, () => 3 * rng.normal());
  const specials = [0, -0, Infinity, -Infinity, NaN, 5.7, -5.7, 13.3, -13.3, 1e-40, -1e30, 60];
  for (let i = 0; i < specials.length && i * 97 < n; i++) v[i * 97] = specials[i];
  return v;
}

/** The bit patterns of a kernel's outputs, by the native kernels, the SIMD module and JavaScript. */
async function threeWays(run: () => tf.Tensor[]): Promise<number[][][]> {
  const bits = async () => {
    const out = run();
    const b = await Promise.all(
      out.map(async (t) =>
        Array.from(new Uint32Array((await t.data() as Float32Array).slice().buffer))
      ),
    );
    tf.dispose(out);
    return b;
  };
  const native = await bits();
  const was = setNativeEnabled(false);
  try {
    const simd = await bits();
    const simdWas = setSimdEnabled(false);
    try {
      return [native, simd, await bits()];
    } finally {
      setSimdEnabled(simdWas);
    }
  } finally {
    setNativeEnabled(was);
  }
}

const DROP = {
  offset: 5_000_000_123, // past 2³²: taken modulo 2³², as the SIMD module takes it
  k1: 0x9e3779b9,
  k2: 0x7f4a7c15,
  threshold: 0xe6666666,
  scale: 1 / 0.9,
};
// 70 values (no full vector of 16, no thread of its own), and 300,007: split over the threads.
const SIZES = [70, 300_007];

for (const n of SIZES) {
  Deno.test({
    name:
      `native GELU and its gradient equal the SIMD module bit for bit, dropout the JavaScript loop too (${n} values)`,
    ignore: !available,
    async fn() {
      const x = tf.tensor1d(awkward(n, 1));
      const dy = tf.tensor1d(awkward(n, 2));
      const e = tf.engine();
      for (const attrs of [{}, DROP]) {
        const what = Object.keys(attrs).length ? "with dropout" : "plain";
        const [native, simd, js] = await threeWays(() => {
          const [y, cdf] = e.runKernel(GELU_KERNEL, { x }, attrs) as tf.Tensor[];
          const dx = e.runKernel(GELU_GRAD_KERNEL, { x, cdf, dy }, attrs) as tf.Tensor;
          const d = e.runKernel(DROPOUT_KERNEL, { x }, DROP) as tf.Tensor;
          return [y, cdf, dx, d];
        });
        assert.deepEqual(native, simd, `native vs SIMD, ${what}`);
        // The JavaScript GELU evaluates erf in float64 (close, not the same bits); its dropout is.
        assert.deepEqual(native[3], js[3], `dropout: native vs JavaScript, ${what}`);
      }
      tf.dispose([x, dy]);
    },
  });
}

for (const [rows, d] of [[5, 67], [641, 512]]) {
  Deno.test({
    name: `native LayerNorm equals the SIMD module bit for bit (${rows} rows of ${d})`,
    ignore: !available,
    async fn() {
      const finite = (v: Float32Array, or: number) => v.map((a) => (Number.isFinite(a) ? a : or));
      const x = tf.tensor2d(finite(awkward(rows * d, 7), 0.5).map((v) => v + 2), [rows, d]);
      const gamma = tf.tensor1d(finite(awkward(d, 8), 1));
      const beta = tf.tensor1d(finite(awkward(d, 9), 0));
      const dy = tf.tensor2d(finite(awkward(rows * d, 10), -1), [rows, d]);
      const e = tf.engine();
      const [native, simd] = await threeWays(() => [
        e.runKernel(LAYER_NORM_KERNEL, { x, gamma, beta }, { epsilon: 1e-6 }) as tf.Tensor,
        // the gradient's kernel (SIMD either way) on the native forward's neighbours
        ...e.runKernel(LAYER_NORM_GRAD_KERNEL, { x, gamma, dy }, { epsilon: 1e-6 }) as tf.Tensor[],
      ]);
      assert.deepEqual(native, simd);
      tf.dispose([x, gamma, beta, dy]);
    },
  });
}

Deno.test({
  name:
    "native Adam equals the SIMD module and the JavaScript loop bit for bit, as a kernel and in place",
  ignore: !available,
  async fn() {
    const n = 300_007;
    const v = awkward(n, 3).map((a) => a * a);
    v[0] = 0;
    const make = () => ({
      weight: tf.tensor1d(awkward(n, 4)),
      m: tf.tensor1d(awkward(n, 5)),
      v: tf.tensor1d(v),
      grad: tf.tensor1d(awkward(n, 6)),
    });
    const attrs = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, lr: 0.01, steps: 7, decay: 0.001 };
    const inputs = make();
    const kernel = await threeWays(() =>
      tf.engine().runKernel(ADAM_KERNEL, { ...inputs }, attrs) as tf.Tensor[]
    );
    assert.deepEqual(kernel[0], kernel[1], "kernel: native vs SIMD");
    assert.deepEqual(kernel[0], kernel[2], "kernel: native vs JavaScript");
    tf.dispose(Object.values(inputs));
    const inPlace = await threeWays(() => {
      const t = make();
      assert.equal(adamInPlace(t, attrs), true);
      t.grad.dispose();
      return [t.weight, t.m, t.v];
    });
    assert.deepEqual(inPlace[0], kernel[0], "in place: native vs the kernel");
    assert.deepEqual(inPlace[1], kernel[0], "in place: SIMD vs the kernel");
    assert.deepEqual(inPlace[2], kernel[0], "in place: JavaScript vs the kernel");
  },
});

Deno.test("builtLibraryPath() and nativeStatus(): where the build writes, and why the kernels are off", () => {
  const path = builtLibraryPath(
    new URL("../../../../lib/backend/native/native.ts", import.meta.url).href,
    "linux",
  );
  assert.ok(path!.endsWith("/.native/libvatt_kernels.so"));
  const was = setNativeEnabled(false);
  try {
    assert.equal(nativeKernels(), null);
    assert.equal(nativeStatus(), "off (VATT_NATIVE=0)");
  } finally {
    setNativeEnabled(was);
  }
});

/** `src` (row-major `shape`) with its axes in the order `perm`, one value at a time. */
function permuted(src: Uint8Array, shape: number[], perm: number[], bytes: number): Uint8Array {
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((n, s) => n * s, 1));
  const outShape = perm.map((axis) => shape[axis]);
  const out = new Uint8Array(src.length);
  for (let o = 0; o < src.length / bytes; o++) {
    let rest = o, at = 0;
    for (let d = outShape.length - 1; d >= 0; d--) {
      at += (rest % outShape[d]) * strides[perm[d]];
      rest = Math.floor(rest / outShape[d]);
    }
    out.set(src.subarray(at * bytes, (at + 1) * bytes), o * bytes);
  }
  return out;
}

Deno.test({
  name:
    "native permute copies a transpose of any rank to 16: runs by memcpy, a moved last axis value by value",
  ignore: !available,
  fn: () => {
    const k = nativeKernels()!;
    const cases: [number[], number[], number][] = [
      [[32, 2, 4, 8, 4, 24], [0, 2, 4, 1, 3, 5], 4], // the tiny video's patch cut: runs of 24
      [[3, 5, 7, 2, 3], [4, 2, 0, 3, 1], 4], // the last axis moves: value by value
      [[2, 3, 4, 5, 3], [1, 4, 0, 2, 3], 1], // bool
      [[7], [0], 4],
      [[4, 0, 3, 2, 2], [1, 0, 4, 3, 2], 4], // no values
    ];
    for (const [shape, perm, bytes] of cases) {
      const size = shape.reduce((n, s) => n * s, 1) * bytes;
      const src = Uint8Array.from({ length: size }, (_, i) => (i * 37 + (i >> 8)) & 255);
      const dst = new Uint8Array(size);
      assert.ok(k.permute(src, dst, Int32Array.from(shape), Int32Array.from(perm), bytes));
      assert.deepEqual(dst, permuted(src, shape, perm, bytes), `[${shape}] by [${perm}]`);
    }
    const rank17 = Int32Array.from({ length: 17 }, () => 1);
    const one = new Uint8Array(4);
    assert.equal(k.permute(one, one, rank17, Int32Array.from(rank17.keys()), 4), false);
  },
});
