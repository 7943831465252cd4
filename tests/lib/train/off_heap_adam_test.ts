import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { OffHeapAdam } from "../../../lib/train/off_heap_adam.ts";
import { Adam, type Optimizer } from "../../../lib/train/optimizer.ts";
import { Rng } from "../../../lib/util/rng.ts";
import { onBackend } from "../../_backends.ts";

/** Shapes of the weights: small ones (the fused kernel's JavaScript loop) and one of 90,000 values (the chain of ops). */
const SHAPES: Record<string, number[]> = {
  "enc/layer_00/attn/q/kernel": [16, 16],
  "enc/layer_00/attn/q/bias": [16],
  "enc/layer_00/ln1/gamma": [16],
  "enc/big/kernel": [300, 300],
};

/** Seeded values in [-scale, scale). */
function values(rng: Rng, size: number, scale: number): Float32Array {
  return Float32Array.from({ length: size }, () => (rng.nextFloat() * 2 - 1) * scale);
}

/** Two equal sets of weights, one per optimiser. */
function twinWeights(): [Record<string, tf.Variable>, Record<string, tf.Variable>] {
  const rng = new Rng(3);
  const a: Record<string, tf.Variable> = {};
  const b: Record<string, tf.Variable> = {};
  for (const [name, shape] of Object.entries(SHAPES)) {
    const init = values(rng, shape.reduce((x, y) => x * y, 1), 1);
    a[name] = tf.variable(tf.tensor(init, shape));
    b[name] = tf.variable(tf.tensor(init, shape));
  }
  return [a, b];
}

/** Gradients of step `step`, seeded; some large, some tiny, and one weight left out on odd steps. */
function stepGrads(step: number): Record<string, tf.Tensor> {
  const rng = new Rng(100 + step);
  const grads: Record<string, tf.Tensor> = {};
  for (const [name, shape] of Object.entries(SHAPES)) {
    if (step % 2 === 1 && name.endsWith("gamma")) continue;
    grads[name] = tf.tensor(
      values(rng, shape.reduce((x, y) => x * y, 1), 10 ** (step % 4 - 2)),
      shape,
    );
  }
  return grads;
}

async function bytesOf(t: tf.Tensor | Float32Array): Promise<Uint8Array> {
  const data = t instanceof tf.Tensor ? await t.data() as Float32Array : t;
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

async function assertSameState(a: Optimizer, b: Optimizer): Promise<void> {
  const sa = a.stateTensors();
  const sb = b.stateTensors();
  try {
    assert.deepEqual(Object.keys(sb).sort(), Object.keys(sa).sort());
    for (const key of Object.keys(sa)) {
      assert.deepEqual(await bytesOf(sb[key]), await bytesOf(sa[key]), key);
    }
  } finally {
    tf.dispose([...Object.values(sa), ...Object.values(sb)]);
  }
}

const options = { weightDecay: 0.05, decayable: (name: string) => name.endsWith("/kernel") };

for (const backend of ["cpu", "wasm"] as const) {
  Deno.test(`OffHeapAdam gives bit-identical weights and moments to Adam over 8 steps on ${backend}`, async () => {
    await onBackend(backend, async () => {
      const [wa, wb] = twinWeights();
      const onHeap = new Adam(wa, options);
      const offHeap = new OffHeapAdam(wb, options);
      const before = tf.memory().numTensors;
      for (let step = 0; step < 8; step++) {
        const grads = stepGrads(step);
        const lr = 1e-3 * (step + 1) / 3;
        onHeap.step(grads, lr);
        offHeap.step(grads, lr);
        tf.dispose(Object.values(grads));
      }
      assert.equal(tf.memory().numTensors, before, "no tensor leaks");
      assert.equal(offHeap.iterations, 8);
      for (const name of Object.keys(SHAPES)) {
        assert.deepEqual(await bytesOf(wb[name]), await bytesOf(wa[name]), name);
      }
      await assertSameState(onHeap, offHeap);
      // The arrays a checkpoint writes are the moments themselves.
      const state = onHeap.stateTensors();
      const m = await state["adam/m/enc/big/kernel"].data() as Float32Array;
      tf.dispose(Object.values(state));
      assert.deepEqual(
        await bytesOf(offHeap.stateArrays()["adam/m/enc/big/kernel"].data as Float32Array),
        await bytesOf(m),
      );
      onHeap.dispose();
      offHeap.dispose();
      tf.dispose([...Object.values(wa), ...Object.values(wb)]);
    });
  });
}

Deno.test("OffHeapAdam and Adam load each other's state and continue bit-identically", async () => {
  const [wa, wb] = twinWeights();
  const first = new Adam(wa, options);
  for (let step = 0; step < 3; step++) {
    const grads = stepGrads(step);
    first.step(grads, 1e-3);
    tf.dispose(Object.values(grads));
  }
  // The off-heap optimiser resumes from Adam's state (the weights copied over).
  for (const name of Object.keys(SHAPES)) wb[name].assign(wa[name]);
  const second = new OffHeapAdam(wb, options);
  const state = first.stateTensors();
  await second.loadState(state);
  tf.dispose(Object.values(state));
  assert.equal(second.iterations, 3);
  for (let step = 3; step < 6; step++) {
    const grads = stepGrads(step);
    first.step(grads, 1e-3);
    second.step(grads, 1e-3);
    tf.dispose(Object.values(grads));
  }
  await assertSameState(first, second);
  for (const name of Object.keys(SHAPES)) {
    assert.deepEqual(await bytesOf(wb[name]), await bytesOf(wa[name]), name);
  }
  // And back: Adam loads the off-heap state.
  const third = new Adam(wa, options);
  const offState = second.stateTensors();
  await third.loadState(offState);
  tf.dispose(Object.values(offState));
  await assertSameState(third, second);
  await assert.rejects(
    second.loadState({ "adam/step": tf.scalar(1, "int32") }),
    /missing \[adam\/m\//,
  );
  for (const o of [first, second, third]) o.dispose();
  tf.dispose([...Object.values(wa), ...Object.values(wb)]);
});
