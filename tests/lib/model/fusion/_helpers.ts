/**
 * Shared helpers of the fusion-head tests: backend switching (cpu, wasm), seeded inputs, and
 * the checks every head must pass (gradients, masks, leaks).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "../../../../lib/backend/gradients.ts";
import assert from "node:assert/strict";
import { initBackend } from "../../../../lib/backend/select.ts";
import { Rng } from "../../../../lib/util/rng.ts";
import type { FusionHead } from "../../../../lib/model/fusion/fusion_head.ts";

/** Makes `name` the current backend (through the project's own backend setup). */
export async function useBackend(name: "cpu" | "wasm"): Promise<void> {
  assert.equal(await initBackend(name), name);
}

/** Standard-normal values from a seeded generator. */
export function normals(rng: Rng, count: number): Float32Array {
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = rng.normal();
  return values;
}

/** One seeded `[batch, D_m]` tensor per entry of `dims`. */
export function randomFeatures(dims: number[], batch: number, seed: number): tf.Tensor2D[] {
  const rng = new Rng(seed);
  return dims.map((d) => tf.tensor2d(normals(rng, batch * d), [batch, d]));
}

/** Reads a tensor's values and disposes it. */
export async function take(t: tf.Tensor): Promise<Float32Array> {
  const values = await t.data<"float32">();
  t.dispose();
  return values;
}

/** Largest absolute difference between two arrays of equal length. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** Softmax cross-entropy of the head's logits against fixed labels (class b mod C). */
export function headLoss(head: FusionHead, features: tf.Tensor2D[], masks?: tf.Tensor1D[]) {
  return () => {
    const logits = head.apply(features, { masks, training: true });
    const [batch, classes] = logits.shape;
    const labels = tf.oneHot(
      tf.tensor1d(Array.from({ length: batch }, (_, b) => b % classes), "int32"),
      classes,
    );
    return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
  };
}

/** Asserts that the gradient of a loss on the logits is finite and non-zero for every variable. */
export async function assertGradientsReachEveryVariable(
  head: FusionHead,
  features: tf.Tensor2D[],
  masks?: tf.Tensor1D[],
): Promise<void> {
  const variables = Object.values(head.variables);
  const { value, grads } = tf.variableGrads(headLoss(head, features, masks), variables);
  assert.ok(Number.isFinite((await value.data())[0]));
  for (const [key, variable] of Object.entries(head.variables)) {
    const grad = grads[variable.name];
    assert.ok(grad, `no gradient for ${key}`);
    const values = await grad.data<"float32">();
    assert.ok(values.every(Number.isFinite), `non-finite gradient for ${key}`);
    const norm = Math.sqrt(values.reduce((s, v) => s + v * v, 0));
    assert.ok(norm > 0, `zero gradient for ${key}`);
  }
  value.dispose();
  tf.dispose(grads);
}

/**
 * Asserts that masking out modality `m` for some clips gives finite logits that do not depend
 * on that modality's features for those clips (random features vs zeros give the same logits),
 * while the other clips are unaffected by the mask.
 */
export async function assertMaskedModalityIgnored(
  head: FusionHead,
  dims: number[],
  options: { batch: number; missing: number; seed: number },
): Promise<void> {
  const { batch, missing, seed } = options;
  const features = randomFeatures(dims, batch, seed);
  const maskValues = Array.from({ length: batch }, (_, b) => (b % 2 === 0 ? 0 : 1));
  const masks = dims.map((_, m) =>
    tf.tensor1d(m === missing ? maskValues : maskValues.map(() => 1))
  );
  const zeroed = features.map((x, m) =>
    m === missing ? tf.mul(x, tf.reshape(masks[m], [batch, 1])) as tf.Tensor2D : x
  );
  const withNoise = await take(head.apply(features, { masks }));
  const withZeros = await take(head.apply(zeroed, { masks }));
  assert.ok(withNoise.every(Number.isFinite), "masked logits must be finite");
  assert.ok(maxAbsDiff(withNoise, withZeros) < 1e-5, "masked features leaked into the logits");
  const unmasked = await take(head.apply(features, {}));
  const classes = withNoise.length / batch;
  let presentDiff = 0;
  let missingDiff = 0;
  for (let b = 0; b < batch; b++) {
    const row = (a: Float32Array) => a.subarray(b * classes, (b + 1) * classes);
    const diff = maxAbsDiff(row(withNoise), row(unmasked));
    if (maskValues[b] === 1) presentDiff = Math.max(presentDiff, diff);
    else missingDiff = Math.max(missingDiff, diff);
  }
  assert.ok(presentDiff < 1e-5, "a mask of 1 must equal no mask");
  assert.ok(missingDiff > 1e-6, "a mask of 0 must change the logits");
  tf.dispose([...features, ...masks, ...zeroed]);
}

/**
 * Asserts that `apply` inside `tf.tidy` leaves no tensor behind, and that building, applying
 * and disposing a head leaves the tensor count where it was.
 */
export function assertNoLeaks(make: () => FusionHead, features: tf.Tensor2D[]): void {
  const start = tf.memory().numTensors;
  const head = make();
  const masks = features.map(() => tf.ones([features[0].shape[0]]) as tf.Tensor1D);
  head.apply(features, { masks, training: true }).dispose(); // builds lazy constants
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    head.apply(features, { masks, training: true });
    head.apply(features, {});
  });
  assert.equal(tf.memory().numTensors, before, "apply() leaked tensors");
  tf.dispose(masks);
  head.dispose();
  assert.equal(tf.memory().numTensors, start, "dispose() left tensors behind");
}

/** The values of every variable, by key. */
export async function variableValues(head: FusionHead): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [key, v] of Object.entries(head.variables)) out[key] = Array.from(await v.data());
  return out;
}
