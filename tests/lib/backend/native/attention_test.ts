import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { ATTENTION_GRAD_KERNEL, ATTENTION_KERNEL } from "../../../../lib/backend/kernels/names.ts";
import { nativeKernels, setNativeEnabled } from "../../../../lib/backend/native/native.ts";
import { initBackend } from "../../../../lib/backend/select.ts";
import { Rng } from "../../../../lib/util/rng.ts";
import { builtNative } from "./_built.ts";

await initBackend("wasm");
// The kernels run where the BLAS loads; without the library they take its per-block products.
const available = await builtNative("native attention_test", { blas: true }) !== null;

interface Case {
  b: number;
  l: number;
  d: number;
  h: number;
}

/** Both kernels' outputs (z, α, dq, dk, dv, dbias) with a bias, a padding mask and dropout. */
async function outputs(c: Case): Promise<Float32Array[]> {
  const rng = new Rng(c.b * 100 + c.l);
  const normal = (shape: number[]) =>
    tf.tensor(
      Float32Array.from({ length: shape.reduce((a, n) => a * n) }, () => rng.normal()),
      shape,
    );
  const [q, k, v, dz] = [0, 1, 2, 3].map(() => normal([c.b, c.l, c.d]));
  const bias = normal([c.h, c.l, c.l]);
  // clip 0 sees every key; the others lose their last two (padding)
  const mask = tf.tensor2d(
    Array.from(
      { length: c.b },
      (_, bi) => Array.from({ length: c.l }, (_, j) => (bi > 0 && j >= c.l - 2 ? -1e9 : 0)),
    ),
  );
  const drop = tf.tensor(
    Float32Array.from(
      { length: c.b * c.h * c.l * c.l },
      () => (rng.nextFloat() < 0.1 ? 0 : 1 / 0.9),
    ),
    [c.b, c.h, c.l, c.l],
  );
  const attrs = { heads: c.h, scale: 1 / Math.sqrt(c.d / c.h), withBias: true };
  const e = tf.engine();
  const [z, alpha] = e.runKernel(
    ATTENTION_KERNEL,
    { q, k, v, bias, mask, drop },
    attrs,
  ) as tf.Tensor[];
  const grads = e.runKernel(
    ATTENTION_GRAD_KERNEL,
    { dz, q, k, v, alpha, drop },
    attrs,
  ) as tf.Tensor[];
  const out = [z, alpha, ...grads];
  const values = await Promise.all(out.map(async (t) => (await t.data() as Float32Array).slice()));
  tf.dispose([...out, q, k, v, dz, bias, mask, drop]);
  return values;
}

function assertClose(want: Float32Array[], got: Float32Array[], tol: number): void {
  const names = ["z", "α", "dq", "dk", "dv", "dbias"];
  assert.equal(got.length, want.length);
  for (let t = 0; t < want.length; t++) {
    let scale = 1;
    for (const v of want[t]) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < want[t].length; i++) {
      if (!(Math.abs(want[t][i] - got[t][i]) <= tol * scale)) {
        assert.fail(`${names[t]}[${i}] is ${got[t][i]}, the BLAS path's ${want[t][i]}`);
      }
    }
  }
}

const CASES: Case[] = [
  { b: 3, l: 33, d: 96, h: 2 }, // heads of 48: three whole tiles of 16; 33 rows: 8 + 8 + 8 + 8 + 1
  { b: 2, l: 63, d: 72, h: 3 }, // heads of 24: a tile and 8 columns summed one at a time
  { b: 8, l: 64, d: 512, h: 8 }, // a transformer's size: the blocks split over the threads
];

for (const c of CASES) {
  Deno.test({
    name:
      `native attention equals the BLAS path, and gives the same bits on 1 and 2 threads (B ${c.b}, L ${c.l}, ${c.h} heads of ${
        c.d / c.h
      })`,
    ignore: !available,
    async fn() {
      const kernels = nativeKernels()!;
      const threads = kernels.threads();
      const native = await outputs(c);
      kernels.setThreads(1);
      let one: Float32Array[];
      try {
        one = await outputs(c);
      } finally {
        kernels.setThreads(threads);
      }
      const was = setNativeEnabled(false);
      let blas: Float32Array[];
      try {
        blas = await outputs(c);
      } finally {
        setNativeEnabled(was);
      }
      assertClose(blas, native, 2e-5);
      assert.deepEqual(one, native, "1 thread vs the default");
    },
  });
}
