/**
 * The fused training-mode BatchNorm (`VattBatchNorm`, `lib/backend/kernels/batch_norm.ts`) as
 * the video heads run it: against a float64 BatchNorm written here from its definition (value,
 * statistics, finite-difference gradients), against the chain of ops on cpu, and for leaks.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "../../../../lib/backend/gradients.ts";
import { FUSED_KERNEL_SET } from "../../../../lib/backend/kernels/fused.ts";
import { KERNEL_NAMES } from "../../../../lib/backend/kernels/names.ts";
import { initBackend } from "../../../../lib/backend/select.ts";
import { resolveVattConfig } from "../../../../lib/config/vatt_config.ts";
import { type BatchNormUpdate, videoHeads } from "../../../../lib/model/heads.ts";
import { fusedBatchNorm } from "../../../../lib/model/_ops.ts";
import { createWeights } from "../../../../lib/model/weights.ts";
import { weightSpecs } from "../../../../lib/model/weight_specs.ts";
import { Rng } from "../../../../lib/util/rng.ts";

const EPS = 1e-5;

/** BatchNorm of `x` (`n` rows of `c`) in float64, straight from the definition. */
function reference(x: number[], gamma: number[], beta: number[], n: number, c: number): number[] {
  const y = new Array(n * c);
  for (let j = 0; j < c; j++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x[i * c + j] / n;
    let variance = 0;
    for (let i = 0; i < n; i++) variance += (x[i * c + j] - mean) ** 2 / n;
    for (let i = 0; i < n; i++) {
      y[i * c + j] = (x[i * c + j] - mean) / Math.sqrt(variance + EPS) * gamma[j] + beta[j];
    }
  }
  return y;
}

function randoms(rng: Rng, n: number, scale = 1, shift = 0): number[] {
  return Array.from({ length: n }, () => shift + scale * (2 * rng.nextFloat() - 1));
}

async function onWasmFused<T>(f: () => Promise<T> | T): Promise<T> {
  await initBackend("wasm");
  assert.ok(FUSED_KERNEL_SET.register());
  try {
    return await f();
  } finally {
    await tf.setBackend("cpu");
  }
}

Deno.test("VattBatchNorm matches a float64 BatchNorm: value, statistics and finite-difference gradients", async () => {
  const [n, c] = [6, 5];
  const rng = new Rng(3);
  const x = randoms(rng, n * c, 2, 1);
  const gamma = randoms(rng, c, 0.5, 1);
  const beta = randoms(rng, c);
  const w = randoms(rng, n * c); // the loss: Σ w·y
  await onWasmFused(async () => {
    const profile = await tf.profile(() => {
      const out = fusedBatchNorm(
        tf.tensor2d(x, [n, c]),
        tf.tensor1d(gamma),
        tf.tensor1d(beta),
        EPS,
      );
      tf.dispose(out ? [out.y, out.mean, out.variance] : []);
    });
    assert.ok(profile.kernels.some((k) => k.name === KERNEL_NAMES.batchNorm));
    const xs = tf.tensor2d(x, [n, c]);
    const [g, b, wt] = [tf.tensor1d(gamma), tf.tensor1d(beta), tf.tensor2d(w, [n, c])];
    const out = fusedBatchNorm(xs, g, b, EPS)!;
    const want = reference(x, gamma, beta, n, c);
    (await out.y.data()).forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-5, `y[${i}]`));
    const mean = await out.mean.data();
    assert.ok(
      Math.abs(mean[2] - [0, 1, 2, 3, 4, 5].reduce((s, i) => s + x[i * c + 2], 0) / n) < 1e-6,
    );
    const grads = tf.grads((a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(tf.mul(fusedBatchNorm(a as tf.Tensor2D, gg, bb, EPS)!.y, wt))
    )([xs, g, b]);
    const got = await Promise.all(grads.map((t) => t.data()));
    const loss = (xv: number[], gv: number[], bv: number[]) =>
      reference(xv, gv, bv, n, c).reduce((s, y, i) => s + y * w[i], 0);
    const h = 1e-6;
    [x, gamma, beta].forEach((arr, which) => {
      arr.forEach((_, k) => {
        const moved = (d: number) => {
          const args = [x, gamma, beta].map((a) => [...a]);
          args[which][k] += d;
          return loss(args[0], args[1], args[2]);
        };
        const numeric = (moved(h) - moved(-h)) / (2 * h);
        assert.ok(
          Math.abs(got[which][k] - numeric) < 1e-4 * Math.max(1, Math.abs(numeric)),
          `gradient ${which}[${k}]: ${got[which][k]} vs ${numeric}`,
        );
      });
    });
    tf.dispose([xs, g, b, wt, out.y, out.mean, out.variance, ...grads]);
  });
});

Deno.test("the video heads give the same values, statistics and gradients fused on wasm as the chain of ops on cpu", async () => {
  const config = resolveVattConfig({ preset: "tiny" });
  const run = async () => {
    const weights = createWeights(weightSpecs(config), { seed: 4 });
    const names = Object.keys(weights).filter((k) => k.startsWith("heads/video"));
    const rep = tf.randomNormal(
      [8, config.video.backbone.hidden],
      0,
      1,
      "float32",
      9,
    ) as tf.Tensor2D;
    const updates: BatchNormUpdate[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const { va, vt } = videoHeads(rep, weights, { training: true, updates, heads: config.heads });
      return tf.add(tf.sum(tf.square(va)), tf.sum(tf.sin(vt))) as tf.Scalar;
    }, names.filter((k) => weights[k].trainable).map((k) => weights[k]));
    const out = [
      await value.data(),
      ...await Promise.all(Object.values(grads).map((t) => t.data())),
    ];
    for (const u of updates) out.push(await u.mean.data(), await u.variance.data());
    tf.dispose([
      rep,
      value,
      ...Object.values(grads),
      ...updates.flatMap((u) => [u.mean, u.variance]),
    ]);
    tf.dispose(Object.values(weights));
    return out;
  };
  await tf.setBackend("cpu");
  const want = await run();
  const before = tf.memory().numTensors;
  const got = await onWasmFused(async () => {
    const profile = await tf.profile(async () => void (await run()));
    assert.equal(profile.kernels.filter((k) => k.name === KERNEL_NAMES.batchNormGrad).length, 3);
    return await run();
  });
  assert.equal(got.length, want.length);
  want.forEach((w, t) => {
    let scale = 1;
    for (const v of w) scale = Math.max(scale, Math.abs(v));
    w.forEach((v, i) => {
      assert.ok(Math.abs(got[t][i] - v) <= 2e-5 * scale, `output ${t}[${i}]: ${got[t][i]} vs ${v}`);
    });
  });
  assert.equal(tf.memory().numTensors, before, "no tensor left behind");
});

Deno.test("VattBatchNorm rejects shapes that do not fit", async () => {
  await onWasmFused(() => {
    tf.tidy(() => {
      const inputs = { x: tf.ones([4, 3]), gamma: tf.ones([2]), beta: tf.zeros([3]) };
      assert.throws(
        () => tf.engine().runKernel(KERNEL_NAMES.batchNorm, inputs, { epsilon: EPS }),
        /VattBatchNorm needs x \[N, C\], gamma and beta \[C\]/,
      );
    });
  });
});
