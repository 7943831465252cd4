import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "../../../../lib/backend/gradients.ts";
import { DENSE_GRAD_KERNEL, DENSE_KERNEL } from "../../../../lib/backend/kernels/names.ts";
import { DENSE_KERNEL_SET } from "../../../../lib/backend/kernels/dense.ts";
import { loadBlas } from "../../../../lib/backend/blas.ts";
import { initBackend } from "../../../../lib/backend/select.ts";
import { setSimdEnabled } from "../../../../lib/backend/simd/simd.ts";
import { dense } from "../../../../lib/model/_ops.ts";

const available = loadBlas() !== null;
if (!available) console.log("dense_test: OpenBLAS is not installed: fused-dense tests skipped");

/** A dense layer's output on x [3, 5, 6] and its gradients for x, kernel (and bias). */
function layer(withBias: boolean): tf.Tensor[] {
  const x = tf.randomNormal([3, 5, 6], 0, 1, "float32", 1);
  const kernel = tf.randomNormal([6, 7], 0, 0.5, "float32", 2);
  const bias = tf.randomNormal([7], 0, 0.5, "float32", 3);
  const w = tf.randomNormal([3, 5, 7], 0, 1, "float32", 4);
  const ins = withBias ? [x, kernel, bias] : [x, kernel];
  const f = (...ts: tf.Tensor[]) => tf.sum(tf.mul(dense(ts[0], ts[1], ts[2]), w)) as tf.Scalar;
  return [dense(x, kernel, withBias ? bias : undefined), ...tf.grads(f)(ins)];
}

async function values(f: () => tf.Tensor[]): Promise<Float32Array[]> {
  const out = tf.tidy(f);
  const v = await Promise.all(out.map(async (t) => (await t.data()) as Float32Array));
  tf.dispose(out);
  return v;
}

function assertClose(want: Float32Array[], got: Float32Array[], what: string): void {
  assert.equal(got.length, want.length, `${what}: outputs`);
  for (let t = 0; t < want.length; t++) {
    for (let i = 0; i < want[t].length; i++) {
      const tol = 1e-5 * Math.max(1, Math.abs(want[t][i]));
      if (!(Math.abs(want[t][i] - got[t][i]) <= tol)) {
        assert.fail(`${what}: output ${t}[${i}] is ${got[t][i]}, expected ${want[t][i]}`);
      }
    }
  }
}

for (const withBias of [true, false]) {
  Deno.test({
    name: `the fused dense layer equals tfjs's product on wasm and cpu, value and gradients` +
      ` (${withBias ? "with" : "without"} bias)`,
    ignore: !available,
    async fn() {
      const f = () => layer(withBias);
      await tf.setBackend("cpu");
      const cpu = await values(f);
      await initBackend("wasm");
      try {
        DENSE_KERNEL_SET.unregister();
        const composite = await values(f);
        assert.ok(DENSE_KERNEL_SET.register());
        const profile = await tf.profile(() => {
          tf.dispose(tf.tidy(f));
        });
        const kernels = profile.kernels.map((k) => k.name);
        assert.ok(kernels.includes(DENSE_KERNEL), kernels.join(", "));
        assert.ok(kernels.includes(DENSE_GRAD_KERNEL));
        assert.ok(!kernels.includes("_FusedMatMul") && !kernels.includes("BatchMatMul"));
        const before = tf.memory().numTensors;
        const fused = await values(f);
        assert.equal(tf.memory().numTensors, before, "tensors left behind");
        assert.equal(fused.length, withBias ? 4 : 3);
        const simdWas = setSimdEnabled(false);
        let fusedJs: Float32Array[];
        try {
          fusedJs = await values(f);
        } finally {
          setSimdEnabled(simdWas);
        }
        assertClose(composite, fused, "fused vs wasm composite");
        assertClose(cpu, fused, "fused vs cpu");
        assert.deepEqual(
          fusedJs,
          fused,
          "the JavaScript bias sum equals the SIMD one, bit for bit",
        );
      } finally {
        DENSE_KERNEL_SET.register();
        await tf.setBackend("cpu");
      }
    },
  });
}

Deno.test({
  name:
    "a dense layer on data (dataInput) runs the fused kernels without the data's gradient: the weights' gradients bit for bit, one product fewer",
  ignore: !available,
  async fn() {
    await initBackend("wasm");
    const blas = loadBlas()!;
    const gemm = blas.gemm;
    try {
      const x = tf.randomNormal([4, 9, 5], 0, 1, "float32", 7);
      const kernel = tf.variable(tf.randomNormal([5, 6], 0, 1, "float32", 8));
      const bias = tf.variable(tf.randomNormal([6], 0, 1, "float32", 9));
      const w = tf.randomNormal([4, 9, 6], 0, 1, "float32", 10);
      const run = async (dataInput: boolean) => {
        let products = 0;
        blas.gemm = (g) => {
          products++;
          gemm.call(blas, g);
        };
        const profile = await tf.profile(() => {
          const { value, grads } = tf.variableGrads(
            () => tf.sum(tf.mul(dense(x, kernel, bias, { dataInput }), w)) as tf.Scalar,
            [kernel, bias],
          );
          tf.dispose([value, ...Object.values(grads)]);
        });
        blas.gemm = gemm;
        const kernels = profile.kernels.map((k) => k.name);
        return { kernels, products };
      };
      const grads = async (dataInput: boolean) => {
        const { value, grads } = tf.variableGrads(
          () => tf.sum(tf.mul(dense(x, kernel, bias, { dataInput }), w)) as tf.Scalar,
          [kernel, bias],
        );
        const out = [await grads[kernel.name].data(), await grads[bias.name].data()];
        tf.dispose([value, ...Object.values(grads)]);
        return out.map((a) => Array.from(new Uint32Array(a.slice().buffer)));
      };
      const [onData, onActivations] = [await run(true), await run(false)];
      assert.ok(onData.kernels.includes(DENSE_GRAD_KERNEL), onData.kernels.join(", "));
      assert.ok(
        !onData.kernels.includes("_FusedMatMul") && !onData.kernels.includes("BatchMatMul"),
      );
      assert.equal(onActivations.products, 3); // y, dx, dkernel
      assert.equal(onData.products, 2); // y, dkernel
      assert.deepEqual(await grads(true), await grads(false));
      // x is no input of the operation: asking for its gradient finds no path
      assert.throws(
        () => tf.grad((t: tf.Tensor) => tf.sum(dense(t, kernel, bias, { dataInput: true })))(x),
        /Cannot compute gradient/,
      );
      tf.dispose([x, kernel, bias, w]);
    } finally {
      blas.gemm = gemm;
      await tf.setBackend("cpu");
    }
  },
});

Deno.test({
  name: "the dense kernels reject inputs whose shapes or types do not fit, allocating nothing",
  ignore: !available,
  async fn() {
    await initBackend("wasm");
    try {
      const x = tf.zeros([2, 5, 6]);
      const kernel = tf.zeros([6, 4]);
      const before = tf.memory().numTensors;
      const run = (inputs: Record<string, tf.Tensor>) =>
        tf.engine().runKernel(DENSE_KERNEL, { x, kernel, ...inputs });
      assert.throws(() => run({ kernel: tf.zeros([5, 4]) }), /does not fit kernel \[5,4\]/);
      assert.throws(() => run({ bias: tf.zeros([5]) }), /bias is \[5\], expected \[4\]/);
      assert.throws(() => run({ x: tf.zeros([2, 5, 6], "int32") }), TypeError);
      assert.throws(
        () =>
          tf.engine().runKernel(DENSE_GRAD_KERNEL, { x, kernel, dy: tf.zeros([2, 5, 3]) }, {
            withBias: true,
          }),
        /dy is \[2,5,3\], expected \[2,5,4\]/,
      );
      // the bad inputs made above (4) are all that is new
      assert.equal(tf.memory().numTensors, before + 4);
      tf.dispose([x, kernel]);
    } finally {
      await tf.setBackend("cpu");
    }
  },
});
