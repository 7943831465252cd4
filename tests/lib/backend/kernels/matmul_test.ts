import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "../../../../lib/backend/gradients.ts";
import { BLAS_PARALLEL_MIN_MACS, loadBlas } from "../../../../lib/backend/blas.ts";
import {
  BLAS_MIN_MACS,
  blasKernelState,
  MATMUL_KERNEL_SET,
} from "../../../../lib/backend/kernels/matmul.ts";
import { initBackend } from "../../../../lib/backend/select.ts";
import { DENSE_KERNEL_SET } from "../../../../lib/backend/kernels/dense.ts";
import { VattModel } from "../../../../lib/model/vatt.ts";
import { nceLoss } from "../../../../lib/loss/nce.ts";
import { Rng } from "../../../../lib/util/rng.ts";

const available = loadBlas() !== null;
if (!available) {
  console.log(
    "matmul_test: OpenBLAS is not installed (or VATT_BLAS=0): native-kernel tests skipped",
  );
}

/** What `f` gives on the cpu backend, on wasm with its own kernels, and on wasm with the native products. */
async function threeWays(
  f: () => tf.Tensor | tf.Tensor[],
): Promise<{ cpu: Float32Array[]; plain: Float32Array[]; native: Float32Array[] }> {
  const run = async () => {
    const out = tf.tidy(f);
    const list = Array.isArray(out) ? out : [out];
    const values = await Promise.all(list.map(async (t) => (await t.data()) as Float32Array));
    tf.dispose(list);
    return values;
  };
  await tf.setBackend("cpu");
  const cpu = await run();
  await initBackend("wasm");
  assert.ok(MATMUL_KERNEL_SET.register());
  try {
    MATMUL_KERNEL_SET.unregister();
    const plain = await run();
    MATMUL_KERNEL_SET.register();
    blasKernelState({ reset: true });
    const native = await run();
    assert.ok(blasKernelState().native > 0, "the native path did not run");
    return { cpu, plain, native };
  } finally {
    MATMUL_KERNEL_SET.register();
    await tf.setBackend("cpu");
  }
}

function assertClose(
  plain: Float32Array[],
  native: Float32Array[],
  what: string,
  tolerance = 1e-5,
): void {
  assert.equal(plain.length, native.length);
  for (let t = 0; t < plain.length; t++) {
    assert.equal(plain[t].length, native[t].length, `${what}: output ${t} size`);
    let scale = 1;
    for (const v of plain[t]) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < plain[t].length; i++) {
      const diff = Math.abs(plain[t][i] - native[t][i]);
      if (!(diff <= tolerance * scale + tolerance)) {
        assert.fail(
          `${what}: output ${t}[${i}] is ${native[t][i]}, the reference gives ${plain[t][i]}`,
        );
      }
    }
  }
}

Deno.test({
  name: "a product whose output grows the wasm heap reads and writes the right memory",
  ignore: !available,
  async fn() {
    await initBackend("wasm");
    assert.ok(MATMUL_KERNEL_SET.register());
    try {
      const heap = () =>
        (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength;
      // Runs first, while the heap is small. An output larger than the whole heap:
      // allocating it must grow (and move) the heap.
      const n = Math.ceil((heap() + 2 ** 22) / 4 / 256);
      const a = tf.randomNormal([256, 16], 0, 1, "float32", 10);
      const b = tf.randomNormal([16, n], 0, 1, "float32", 11);
      const run = async (active: boolean) => {
        if (active) MATMUL_KERNEL_SET.register();
        else MATMUL_KERNEL_SET.unregister();
        const y = tf.matMul(a, b);
        const values = (await y.data()) as Float32Array;
        y.dispose();
        return values;
      };
      const before = heap();
      blasKernelState({ reset: true });
      const native = await run(true);
      assert.equal(blasKernelState().native, 1);
      assert.ok(heap() > before, `the heap did not grow (${before} bytes)`);
      const plain = await run(false);
      assertClose([plain], [native], "large output");
      tf.dispose([a, b]);
    } finally {
      MATMUL_KERNEL_SET.register();
      await tf.setBackend("cpu");
    }
  },
});

const MATMULS: {
  name: string;
  a: number[];
  b: number[];
  ta: boolean;
  tb: boolean;
  /** tfjs has no gradient for broadcast batch dimensions: forward only. */
  forwardOnly?: boolean;
}[] = [
  { name: "2-D", a: [37, 64], b: [64, 29], ta: false, tb: false },
  { name: "2-D, A transposed", a: [64, 37], b: [64, 29], ta: true, tb: false },
  { name: "2-D, B transposed", a: [37, 64], b: [29, 64], ta: false, tb: true },
  { name: "2-D, both transposed", a: [64, 37], b: [29, 64], ta: true, tb: true },
  { name: "batched 3-D", a: [5, 33, 16], b: [5, 16, 33], ta: false, tb: false },
  // 5.0e7 multiply-adds, over BLAS_PARALLEL_MIN_MACS: every thread works on it
  { name: "2-D on every thread", a: [384, 512], b: [512, 256], ta: false, tb: false },
  { name: "batched 4-D, B transposed", a: [2, 3, 17, 16], b: [2, 3, 17, 16], ta: false, tb: true },
  { name: "batched, A transposed", a: [4, 40, 30], b: [4, 40, 50], ta: true, tb: false },
  {
    name: "shared B, rank 3 × rank 2",
    a: [4, 30, 40],
    b: [40, 50],
    ta: false,
    tb: false,
    forwardOnly: true,
  },
  {
    name: "shared A, both transposed",
    a: [1, 40, 30],
    b: [4, 50, 40],
    ta: true,
    tb: true,
    forwardOnly: true,
  },
];

Deno.test("the multithreaded case above is over the one-thread limit", () => {
  assert.ok(384 * 512 * 256 >= BLAS_PARALLEL_MIN_MACS);
});

Deno.test({
  name: "native BatchMatMul equals the wasm kernel, forward and backward",
  ignore: !available,
  async fn(t) {
    for (const c of MATMULS) {
      await t.step(c.name, async () => {
        const r = await threeWays(() => {
          const a = tf.randomNormal(c.a, 0, 1, "float32", 1);
          const b = tf.randomNormal(c.b, 0, 1, "float32", 2);
          const y = tf.matMul(a, b, c.ta, c.tb);
          if (c.forwardOnly) return [y];
          const w = tf.randomNormal(y.shape, 0, 1, "float32", 3);
          const f = (x: tf.Tensor, z: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, z, c.ta, c.tb), w));
          return [y, ...tf.grads(f)([a, b])];
        });
        assertClose(r.plain, r.native, `${c.name} (wasm kernel)`);
        assertClose(r.cpu, r.native, `${c.name} (cpu backend)`);
      });
    }
  },
});

Deno.test({
  name: "native BatchMatMul leaves batch broadcasts tfjs does not support to the wasm kernel",
  ignore: !available,
  async fn() {
    const r = await threeWays(() => [
      tf.matMul(tf.ones([2, 1, 20, 24]), tf.ones([1, 3, 24, 18])),
      tf.matMul(tf.ones([30, 40]), tf.ones([40, 50])), // so that the native path runs once
    ]);
    assert.equal(r.native[0].length, r.plain[0].length);
    assertClose(r.plain, r.native, "[2, 1] × [1, 3]");
  },
});

Deno.test({
  name: "native _FusedMatMul equals the wasm kernel for bias and each activation, with gradients",
  ignore: !available,
  async fn(t) {
    const activations = ["linear", "relu", "relu6", "leakyrelu", "sigmoid", "elu"] as const;
    for (const activation of activations) {
      for (const [ta, tb] of [[false, false], [true, false], [false, true]]) {
        await t.step(`${activation}, transposeA ${ta}, transposeB ${tb}`, async () => {
          const r = await threeWays(() => {
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
            const loss = (x: tf.Tensor, z: tf.Tensor, c: tf.Tensor) =>
              tf.sum(tf.mul(fused(x, z, c), w));
            // tfjs has gradients for the linear, relu, relu6, elu and sigmoid fusions.
            const grads = activation === "leakyrelu" ? [] : tf.grads(loss)([a, b, bias]);
            return [fused(a, b, bias), ...grads];
          });
          // tfjs-backend-wasm 4.22's own kernel adds the bias wrongly when an operand is
          // transposed (it disagrees with the cpu backend): there the cpu backend is the reference.
          if (!ta && !tb) assertClose(r.plain, r.native, `${activation} (wasm kernel)`);
          assertClose(r.cpu, r.native, `${activation} (cpu backend)`);
        });
      }
    }
    await t.step("no bias, and a one-value bias", async () => {
      const r = await threeWays(() => {
        const a = tf.randomNormal([2, 30, 20], 0, 1, "float32", 8) as tf.Tensor3D;
        const b = tf.randomNormal([2, 20, 25], 0, 1, "float32", 9) as tf.Tensor3D;
        return [
          tf.fused.matMul({ a, b }),
          tf.fused.matMul({ a, b, bias: tf.tensor1d([0.5]), activation: "relu" }),
        ];
      });
      assertClose(r.plain, r.native, "bias forms (wasm kernel)");
      assertClose(r.cpu, r.native, "bias forms (cpu backend)");
    });
  },
});

Deno.test({
  name: "products below BLAS_MIN_MACS and PReLU fusions stay on the wasm kernel",
  ignore: !available,
  async fn() {
    await initBackend("wasm");
    assert.ok(MATMUL_KERNEL_SET.register());
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
  name: "a VATT training step has the same loss and gradients with the native products",
  ignore: !available,
  async fn() {
    const model = VattModel.create({ preset: "tiny" });
    try {
      const weights = model.trainableWeights();
      const r = await threeWays(() => {
        // The dense layers as tfjs's products (their fused kernels call the BLAS themselves);
        // inside: each backend's set-up registers the kernels again.
        DENSE_KERNEL_SET.unregister();
        const video = tf.randomUniform([3, 8, 32, 32, 3], -1, 1, "float32", 12);
        const audio = tf.randomUniform([3, 6400], -1, 1, "float32", 13);
        const { value, grads } = tf.variableGrads(() => {
          const out = model.apply({ video, audio }, { training: true, rng: new Rng(5) });
          return nceLoss(out.video!.va, out.audio!.va, { temperature: 0.1 });
        }, Object.values(weights));
        return [value, ...Object.values(grads)];
      });
      assert.ok(r.native.length > 10);
      assertClose(r.plain, r.native, "VATT step", 1e-4);
    } finally {
      DENSE_KERNEL_SET.register();
      model.dispose();
    }
  },
});

Deno.test("VATT_BLAS=0 turns the native BLAS off", async () => {
  // In a process of its own: test modules run in parallel and share this one's environment.
  const blas = new URL("../../../../lib/backend/blas.ts", import.meta.url).href;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", `import { loadBlas } from "${blas}"; console.log(loadBlas() === null);`],
    env: { VATT_BLAS: "0" },
    stdout: "piped",
  }).output();
  assert.equal(new TextDecoder().decode(out.stdout).trim(), "true");
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
