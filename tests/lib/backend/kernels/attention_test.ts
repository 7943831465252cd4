import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "../../../../lib/backend/gradients.ts";
import { ATTENTION_GRAD_KERNEL, ATTENTION_KERNEL } from "../../../../lib/backend/kernels/names.ts";
import { ATTENTION_KERNEL_SET } from "../../../../lib/backend/kernels/attention.ts";
import { loadBlas } from "../../../../lib/backend/blas.ts";
import { initBackend } from "../../../../lib/backend/select.ts";
import { setSimdEnabled } from "../../../../lib/backend/simd/simd.ts";
import { attention } from "../../../../lib/model/transformer.ts";
import type { Weights } from "../../../../lib/model/weights.ts";
import { Rng } from "../../../../lib/util/rng.ts";

const available = loadBlas() !== null;
if (!available) {
  console.log("attention_test: OpenBLAS is not installed: fused-attention tests skipped");
}

const B = 3;
const L = 7; // odd: the SIMD softmax's tail is covered
const D = 12;
const H = 3;

/** The attention layer's output and its gradients for x and every weight. */
function layer(options: { t5: boolean; mask: boolean; drop?: boolean }): tf.Tensor[] {
  const names = ["q", "k", "v", "o"].flatMap((m) => [`a/${m}/kernel`, `a/${m}/bias`]);
  const init = names.map((n, i) =>
    tf.randomNormal(n.endsWith("kernel") ? [D, D] : [D], 0, 0.5, "float32", 10 + i)
  );
  if (options.t5) {
    names.push("a/rel_bias");
    init.push(tf.randomNormal([8, H], 0, 1, "float32", 30));
  }
  const x = tf.randomNormal([B, L, D], 0, 1, "float32", 1);
  const w = tf.randomNormal([B, L, D], 0, 1, "float32", 2);
  // masked keys in the 4-lane part and in the tail: clip 1 keys 2 and 5, clip 2 keys 0 and 6
  const maskBias = options.mask
    ? tf.reshape(
      tf.mul(
        tf.tensor2d([[0, 0, 0, 0, 0, 0, 0], [0, 0, 1, 0, 0, 1, 0], [1, 0, 0, 0, 0, 0, 1]]),
        -1e9,
      ),
      [B, 1, 1, L],
    )
    : undefined;
  const relative = options.t5
    ? { relativePosition: "t5" as const, clipDistance: 4, buckets: 8, maxDistance: 16 }
    : undefined;
  // attention dropout: the same seed on every path draws the same mask
  const dropout = () => options.drop ? { rate: 0.3, rng: new Rng(5) } : undefined;
  const f = (...ts: tf.Tensor[]) => {
    const weights = Object.fromEntries(names.map((n, i) => [n, ts[i + 1]])) as unknown as Weights;
    const y = attention(ts[0] as tf.Tensor3D, weights, "a", {
      heads: H,
      maskBias,
      relative,
      dropout: dropout(),
    });
    return tf.sum(tf.mul(y, w)) as tf.Scalar;
  };
  const y = attention(
    x as tf.Tensor3D,
    Object.fromEntries(names.map((n, i) => [n, init[i]])) as unknown as Weights,
    "a",
    { heads: H, maskBias, relative, dropout: dropout() },
  );
  return [y, ...tf.grads(f)([x, ...init])];
}

async function values(f: () => tf.Tensor[]): Promise<Float32Array[]> {
  const out = tf.tidy(f);
  const v = await Promise.all(out.map(async (t) => (await t.data()) as Float32Array));
  tf.dispose(out);
  return v;
}

function assertClose(want: Float32Array[], got: Float32Array[], what: string, tol = 1e-4): void {
  assert.equal(got.length, want.length, `${what}: outputs`);
  for (let t = 0; t < want.length; t++) {
    let scale = 1; // absolute near zero (the key bias's gradient is 0 up to rounding)
    for (const v of want[t]) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < want[t].length; i++) {
      if (!(Math.abs(want[t][i] - got[t][i]) <= tol * scale)) {
        assert.fail(`${what}: output ${t}[${i}] is ${got[t][i]}, expected ${want[t][i]}`);
      }
    }
  }
}

for (
  const [t5, mask, drop] of [
    [false, false, false],
    [false, true, false],
    [true, false, false],
    [true, true, false],
    [false, false, true],
    [true, true, true],
  ]
) {
  Deno.test({
    name: `fused attention equals the composite ops on wasm and cpu, value and gradients` +
      ` (${t5 ? "T5 bias" : "no bias"}, ${mask ? "padding mask" : "no mask"}` +
      `${drop ? ", attention dropout 0.3" : ""})`,
    ignore: !available,
    async fn() {
      const f = () => layer({ t5, mask, drop });
      await tf.setBackend("cpu");
      const cpu = await values(f);
      await initBackend("wasm");
      try {
        ATTENTION_KERNEL_SET.unregister();
        const composite = await values(f);
        assert.ok(ATTENTION_KERNEL_SET.register());
        const profile = await tf.profile(() => {
          tf.dispose(tf.tidy(f));
        });
        const kernels = profile.kernels.map((k) => k.name);
        assert.ok(kernels.includes(ATTENTION_KERNEL), kernels.join(", "));
        assert.ok(kernels.includes(ATTENTION_GRAD_KERNEL));
        assert.ok(!kernels.includes("Softmax"));
        const before = tf.memory().numTensors;
        const fused = await values(f);
        assert.equal(tf.memory().numTensors, before, "tensors left behind");
        const simdWas = setSimdEnabled(false);
        let fusedJs: Float32Array[];
        try {
          fusedJs = await values(f);
        } finally {
          setSimdEnabled(simdWas);
        }
        assertClose(composite, fused, "fused vs wasm composite");
        assertClose(cpu, fused, "fused vs cpu");
        assertClose(composite, fusedJs, "fused (JavaScript softmax) vs wasm composite");
      } finally {
        ATTENTION_KERNEL_SET.register();
        await tf.setBackend("cpu");
      }
    },
  });
}

Deno.test({
  name: "the attention kernels reject inputs whose shapes or types do not fit, allocating nothing",
  ignore: !available,
  async fn() {
    await initBackend("wasm");
    try {
      const q = tf.zeros([2, 5, 6]);
      const before = tf.memory().numTensors;
      const run = (inputs: Record<string, tf.Tensor>, heads = 2) =>
        tf.engine().runKernel(ATTENTION_KERNEL, { q, k: q, v: q, ...inputs }, {
          heads,
          scale: 1,
        });
      assert.throws(() => run({}, 4), /does not split into 4 heads/);
      assert.throws(() => run({ k: tf.zeros([2, 4, 6]) }), /k is \[2,4,6\], expected \[2,5,6\]/);
      assert.throws(() => run({ bias: tf.zeros([2, 5, 4]) }), /bias is \[2,5,4\]/);
      assert.throws(() => run({ mask: tf.zeros([5, 2]) }), /mask is \[5,2\]/);
      assert.throws(() => run({ drop: tf.zeros([2, 2, 5, 4]) }), /drop is \[2,2,5,4\]/);
      assert.throws(() => run({ v: tf.zeros([2, 5, 6], "int32") }), TypeError);
      // the bad inputs made above (5) are all that is new
      assert.equal(tf.memory().numTensors, before + 5);
      tf.dispose(q);
    } finally {
      await tf.setBackend("cpu");
    }
  },
});
