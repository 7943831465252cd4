import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "../../../lib/backend/gradients.ts";
import { loadBlas } from "../../../lib/backend/blas.ts";
import {
  BLAS_MIN_MACS,
  blasKernelState,
  registerBlasKernels,
  setBlasKernelsActive,
} from "../../../lib/backend/blas_kernels.ts";
import { initBackend } from "../../../lib/backend/select.ts";
import { VattModel } from "../../../lib/model/vatt.ts";
import { nceLoss } from "../../../lib/loss/nce.ts";
import { Rng } from "../../../lib/util/rng.ts";

const available = loadBlas() !== null;
if (!available) {
  console.log(
    "blas_kernels_test: OpenBLAS is not installed (or VATT_BLAS=0): native-kernel tests skipped",
  );
}

/** Runs `f` with the native products off, then on; returns both results as arrays. */
async function bothWays(f: () => tf.Tensor | tf.Tensor[]): Promise<[Float32Array[], Float32Array[]]> {
  const run = async (active: boolean) => {
    setBlasKernelsActive(active);
    blasKernelState({ reset: true });
    const out = tf.tidy(f);
    const list = Array.isArray(out) ? out : [out];
    const values = await Promise.all(list.map(async (t) => (await t.data()) as Float32Array));
    tf.dispose(list);
    if (active) assert.ok(blasKernelState().native > 0, "the native path did not run");
    return values;
  };
  try {
    return [await run(false), await run(true)];
  } finally {
    setBlasKernelsActive(true);
  }
}

function assertClose(plain: Float32Array[], native: Float32Array[], what: string): void {
  assert.equal(plain.length, native.length);
  for (let t = 0; t < plain.length; t++) {
    assert.equal(plain[t].length, native[t].length, `${what}: output ${t} size`);
    let scale = 1;
    for (const v of plain[t]) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < plain[t].length; i++) {
      const diff = Math.abs(plain[t][i] - native[t][i]);
      assert.ok(
        diff <= 1e-5 * scale + 1e-5,
        `${what}: output ${t}[${i}] is ${native[t][i]}, the wasm kernel gives ${plain[t][i]}`,
      );
    }
  }
}

const MATMULS: { name: string; a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [
  { name: "2-D", a: [37, 64], b: [64, 29], ta: false, tb: false },
  { name: "2-D, A transposed", a: [64, 37], b: [64, 29], ta: true, tb: false },
  { name: "2-D, B transposed", a: [37, 64], b: [29, 64], ta: false, tb: true },
  { name: "2-D, both transposed", a: [64, 37], b: [29, 64], ta: true, tb: true },
  { name: "batched 3-D", a: [5, 33, 16], b: [5, 16, 33], ta: false, tb: false },
  { name: "batched 4-D, B transposed", a: [2, 3, 17, 16], b: [2, 3, 17, 16], ta: false, tb: true },
  { name: "batch broadcast [2,1]×[1,3]", a: [2, 1, 20, 24], b: [1, 3, 24, 18], ta: false, tb: false },
  { name: "shared B, rank 3 × rank 2", a: [4, 30, 40], b: [40, 50], ta: false, tb: false },
  { name: "shared A, transposed", a: [1, 40, 30], b: [4, 50, 40], ta: true, tb: true },
];

Deno.test({
  name: "native BatchMatMul equals the wasm kernel, forward and backward",
  ignore: !available,
  async fn(t) {
    await initBackend("wasm");
    assert.ok(registerBlasKernels());
    try {
      for (const c of MATMULS) {
        await t.step(c.name, async () => {
          const a = tf.randomNormal(c.a, 0, 1, "float32", 1);
          const b = tf.randomNormal(c.b, 0, 1, "float32", 2);
          const y = tf.matMul(a, b, c.ta, c.tb);
          const w = tf.randomNormal(y.shape, 0, 1, "float32", 3);
          y.dispose();
          const [plain, native] = await bothWays(() => {
            const f = (x: tf.Tensor, z: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, z, c.ta, c.tb), w));
            return [tf.matMul(a, b, c.ta, c.tb), ...tf.grads(f)([a, b])];
          });
          assertClose(plain, native, c.name);
          tf.dispose([a, b, w]);
        });
      }
    } finally {
      await tf.setBackend("cpu");
    }
  },
});

Deno.test({
  name: "native _FusedMatMul equals the wasm kernel for bias and each activation, with gradients",
  ignore: !available,
  async fn(t) {
    await initBackend("wasm");
    assert.ok(registerBlasKernels());
    try {
      const activations = ["linear", "relu", "relu6", "leakyrelu", "sigmoid", "elu"] as const;
      for (const activation of activations) {
        for (const [ta, tb] of [[false, false], [true, false], [false, true]]) {
          await t.step(`${activation}, transposeA ${ta}, transposeB ${tb}`, async () => {
            const a = tf.randomNormal(ta ? [48, 40] : [40, 48], 0, 2, "float32", 4);
            const b = tf.randomNormal(tb ? [36, 48] : [48, 36], 0, 0.5, "float32", 5);
            const bias = tf.randomNormal([36], 0, 1, "float32", 6);
            const w = tf.randomNormal([40, 36], 0, 1, "float32", 7);
            const fused = (x: tf.Tensor, z: tf.Tensor, c: tf.Tensor) =>
              tf.fused.matMul({
                a: x as tf.Tensor2D,
                b: z as tf.Tensor2D,
                bias: c,
                transposeA: ta,
                transposeB: tb,
                activation,
                leakyreluAlpha: 0.1,
              });
            const [plain, native] = await bothWays(() => {
              const loss = (x: tf.Tensor, z: tf.Tensor, c: tf.Tensor) =>
                tf.sum(tf.mul(fused(x, z, c), w));
              // tfjs has gradients for linear, relu, relu6, elu and sigmoid fusions.
              const grads = activation === "leakyrelu" ? [] : tf.grads(loss)([a, b, bias]);
              return [fused(a, b, bias), ...grads];
            });
            assertClose(plain, native, activation);
            tf.dispose([a, b, bias, w]);
          });
        }
      }
      await t.step("no bias, and a one-value bias", async () => {
        const a = tf.randomNormal([2, 30, 20], 0, 1, "float32", 8);
        const b = tf.randomNormal([2, 20, 25], 0, 1, "float32", 9);
        const [plain, native] = await bothWays(() => [
          tf.fused.matMul({ a: a as tf.Tensor3D, b: b as tf.Tensor3D }),
          tf.fused.matMul({ a: a as tf.Tensor3D, b: b as tf.Tensor3D, bias: tf.tensor1d([0.5]) }),
        ]);
        assertClose(plain, native, "bias forms");
        tf.dispose([a, b]);
      });
    } finally {
      await tf.setBackend("cpu");
    }
  },
});

Deno.test({
  name: "products below BLAS_MIN_MACS and PReLU fusions stay on the wasm kernel",
  ignore: !available,
  async fn() {
    await initBackend("wasm");
    assert.ok(registerBlasKernels());
    try {
      blasKernelState({ reset: true });
      const side = Math.floor(Math.cbrt(BLAS_MIN_MACS)) - 1;
      tf.tidy(() => tf.matMul(tf.ones([side, side]), tf.ones([side, side])));
      tf.tidy(() =>
        tf.fused.matMul({
          a: tf.ones([64, 64]),
          b: tf.ones([64, 64]),
          activation: "prelu",
          preluActivationWeights: tf.scalar(0.1),
        })
      );
      const s = blasKernelState();
      assert.equal(s.native, 0);
      assert.equal(s.fallback, 2);
    } finally {
      await tf.setBackend("cpu");
    }
  },
});

Deno.test({
  name: "a product whose output grows the wasm heap reads and writes the right memory",
  ignore: !available,
  async fn() {
    await initBackend("wasm");
    assert.ok(registerBlasKernels());
    try {
      const a = tf.randomNormal([2048, 64], 0, 1, "float32", 10);
      const b = tf.randomNormal([64, 6144], 0, 1, "float32", 11); // output: 48 MiB
      const [plain, native] = await bothWays(() => tf.matMul(a, b));
      assertClose(plain, native, "large output");
      tf.dispose([a, b]);
    } finally {
      await tf.setBackend("cpu");
    }
  },
});

Deno.test({
  name: "a VATT training step has the same loss and gradients with the native products",
  ignore: !available,
  async fn() {
    await initBackend("wasm");
    assert.ok(registerBlasKernels());
    const model = VattModel.create({ preset: "tiny" });
    try {
      const weights = model.trainableWeights();
      const video = tf.randomUniform([3, 8, 32, 32, 3], -1, 1, "float32", 12);
      const audio = tf.randomUniform([3, 6400], -1, 1, "float32", 13);
      const [plain, native] = await bothWays(() => {
        const { value, grads } = tf.variableGrads(() => {
          const out = model.apply({ video, audio }, { training: true, rng: new Rng(5) });
          return nceLoss(out.video!.va, out.audio!.va, { temperature: 0.1 });
        }, Object.values(weights));
        return [value, ...Object.values(grads)];
      });
      assert.ok(plain.length > 10);
      assertClose(plain, native, "VATT step");
      tf.dispose([video, audio]);
    } finally {
      model.dispose();
      await tf.setBackend("cpu");
    }
  },
});

Deno.test("VATT_BLAS=0 turns the native BLAS off", () => {
  const before = Deno.env.get("VATT_BLAS");
  Deno.env.set("VATT_BLAS", "0");
  try {
    assert.equal(loadBlas(), null);
  } finally {
    if (before === undefined) Deno.env.delete("VATT_BLAS");
    else Deno.env.set("VATT_BLAS", before);
  }
});

Deno.test({
  name: "loadBlas() multiplies a known product",
  ignore: !available,
  fn() {
    const blas = loadBlas()!;
    // [[1, 2, 3], [4, 5, 6]] · [[1, 0], [0, 1], [1, 1]] = [[4, 5], [10, 11]]
    const c = new Float32Array(4);
    blas.gemm({
      m: 2,
      n: 2,
      k: 3,
      a: new Float32Array([1, 2, 3, 4, 5, 6]),
      b: new Float32Array([1, 0, 0, 1, 1, 1]),
      c,
    });
    assert.deepEqual([...c], [4, 5, 10, 11]);
    // Transposed operands: Aᵀ stored [3, 2], accumulate into C with beta 1.
    blas.gemm({
      m: 2,
      n: 2,
      k: 3,
      transA: true,
      a: new Float32Array([1, 4, 2, 5, 3, 6]),
      b: new Float32Array([1, 0, 0, 1, 1, 1]),
      c,
      beta: 1,
    });
    assert.deepEqual([...c], [8, 10, 20, 22]);
  },
});
