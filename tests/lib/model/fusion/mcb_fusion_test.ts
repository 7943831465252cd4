import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import {
  McbFusionHead,
  resolveMcbFusionConfig,
  signedSqrt,
} from "../../../../lib/model/fusion/mcb_fusion.ts";
import {
  assertGradientsReachEveryVariable,
  assertMaskedModalityIgnored,
  assertNoLeaks,
  headLoss,
  maxAbsDiff,
  randomFeatures,
  take,
  useBackend,
} from "./_helpers.ts";

const DIMS = [6, 5, 4];
const BACKENDS = ["cpu", "wasm"] as const;

/** Runs `body` once per backend as a step, and leaves the cpu backend current. */
async function onEachBackend(
  t: Deno.TestContext,
  body: (backend: (typeof BACKENDS)[number]) => Promise<void> | void,
): Promise<void> {
  try {
    for (const backend of BACKENDS) {
      await t.step(backend, async () => {
        await useBackend(backend);
        await body(backend);
      });
    }
  } finally {
    await useBackend("cpu");
  }
}

Deno.test("McbFusionHead gives [B, C] logits and d·C + C parameters", async (t) => {
  await onEachBackend(t, async () => {
    const head = new McbFusionHead({ inputDims: DIMS, numClasses: 3, seed: 0, outputDim: 16 });
    assert.equal(head.parameterCount(), 16 * 3 + 3);
    assert.deepEqual(Object.keys(head.variables).sort(), [
      "fusion/mcb/classifier/bias",
      "fusion/mcb/classifier/kernel",
    ]);
    const features = randomFeatures(DIMS, 4, 1);
    const logits = head.apply(features, {});
    assert.deepEqual(logits.shape, [4, 3]);
    assert.ok((await take(logits)).every(Number.isFinite));
    tf.dispose(features);
    head.dispose();
  });
});

Deno.test("McbFusionHead FFT and DFT paths give the same logits, and wasm matches cpu", async () => {
  await useBackend("cpu");
  const config = { inputDims: DIMS, numClasses: 4, seed: 7, outputDim: 32 };
  const features = randomFeatures(DIMS, 3, 2);
  const values = await Promise.all(features.map((x) => x.array()));
  const fftHead = new McbFusionHead({ ...config, fftMode: "fft" });
  const dftHead = new McbFusionHead({ ...config, fftMode: "dft" });
  const fft = await take(fftHead.apply(features, {}));
  const dft = await take(dftHead.apply(features, {}));
  assert.ok(maxAbsDiff(fft, dft) < 1e-4);
  assert.ok(fft.some((v) => Math.abs(v) > 1e-3));
  tf.dispose(features);
  fftHead.dispose();
  dftHead.dispose();
  await useBackend("wasm");
  try {
    const wasmHead = new McbFusionHead(config); // "auto" picks the DFT on wasm
    const onWasm = values.map((v) => tf.tensor2d(v));
    assert.ok(maxAbsDiff(await take(wasmHead.apply(onWasm, {})), fft) < 1e-4);
    tf.dispose(onWasm);
    wasmHead.dispose();
  } finally {
    await useBackend("cpu");
  }
});

Deno.test("McbFusionHead count sketches follow the seed and differ between modalities", () => {
  const config = { inputDims: [8, 8], numClasses: 2, outputDim: 16 };
  const a = new McbFusionHead({ ...config, seed: 1 });
  const b = new McbFusionHead({ ...config, seed: 1 });
  const c = new McbFusionHead({ ...config, seed: 2 });
  assert.deepEqual(a.sketches, b.sketches);
  assert.notDeepEqual(a.sketches, c.sketches);
  assert.notDeepEqual(a.sketches[0], a.sketches[1]);
  for (const head of [a, b, c]) head.dispose();
});

/** The explicit FFT path on cpu (auto would take the DFT at these sizes), the DFT on wasm. */
const fftModeFor = (backend: string) => (backend === "cpu" ? "fft" : "auto");

Deno.test("McbFusionHead gradients reach every variable", async (t) => {
  await onEachBackend(t, async (backend) => {
    const head = new McbFusionHead({
      inputDims: DIMS,
      numClasses: 3,
      seed: 3,
      outputDim: 16,
      fftMode: fftModeFor(backend),
    });
    const features = randomFeatures(DIMS, 4, 3);
    await assertGradientsReachEveryVariable(head, features);
    tf.dispose(features);
    head.dispose();
  });
});

Deno.test("McbFusionHead handles missing modalities and zero features without NaN", async (t) => {
  await onEachBackend(t, async (backend) => {
    const head = new McbFusionHead({
      inputDims: DIMS,
      numClasses: 3,
      seed: 4,
      outputDim: 16,
      fftMode: fftModeFor(backend),
    });
    for (const missing of [0, 2]) {
      await assertMaskedModalityIgnored(head, DIMS, { batch: 4, missing, seed: 30 + missing });
    }
    const features = randomFeatures(DIMS, 2, 5);
    const none = DIMS.map(() => tf.zeros([2]) as tf.Tensor1D);
    assert.ok((await take(head.apply(features, { masks: none }))).every(Number.isFinite));
    const zeros = DIMS.map((d) => tf.zeros([2, d]) as tf.Tensor2D);
    assert.ok((await take(head.apply(zeros, {}))).every(Number.isFinite));
    // All-zero features pool to a zero vector: the kernel gets no gradient, but nothing is NaN.
    const { value, grads } = tf.variableGrads(headLoss(head, zeros));
    assert.ok((await take(value)).every(Number.isFinite));
    for (const g of Object.values(grads)) assert.ok((await take(g)).every(Number.isFinite));
    const inputGrads = tf.grads((...xs: tf.Tensor[]) =>
      tf.sum(head.apply(xs as tf.Tensor2D[], {}))
    )(zeros);
    for (const g of inputGrads) assert.ok((await take(g)).every(Number.isFinite));
    tf.dispose([...features, ...none, ...zeros]);
    head.dispose();
  });
});

Deno.test("McbFusionHead with one modality missing still pools the others (δ, not zero)", async (t) => {
  await onEachBackend(t, async (backend) => {
    const head = new McbFusionHead({
      inputDims: DIMS,
      numClasses: 3,
      seed: 8,
      outputDim: 16,
      fftMode: fftModeFor(backend),
    });
    const masks = [tf.ones([2]), tf.ones([2]), tf.zeros([2])] as tf.Tensor1D[];
    const a = randomFeatures(DIMS, 2, 40);
    const b = [...randomFeatures(DIMS.slice(0, 2), 2, 41), a[2]];
    const la = await take(head.apply(a, { masks }));
    const lb = await take(head.apply(b, { masks }));
    assert.ok(maxAbsDiff(la, lb) > 1e-3, "present modalities must still reach the logits");
    tf.dispose([...masks, ...a, b[0], b[1]]);
    head.dispose();
  });
});

Deno.test("McbFusionHead leaks no tensors in apply() or after dispose()", async (t) => {
  await onEachBackend(t, (backend) => {
    const features = randomFeatures(DIMS, 2, 6);
    for (const fftMode of [fftModeFor(backend), "dft"] as const) {
      assertNoLeaks(
        () =>
          new McbFusionHead({
            inputDims: DIMS,
            numClasses: 3,
            seed: 6,
            outputDim: 8,
            fftMode,
            dropout: 0.5,
          }),
        features,
      );
    }
    tf.dispose(features);
  });
});

Deno.test("signedSqrt() is sign(x)·√|x| with a finite gradient at 0", async () => {
  await useBackend("cpu");
  const x = tf.tensor1d([-9, -0.25, 0, 0.25, 16]);
  assert.deepEqual(Array.from(await take(signedSqrt(x))), [-3, -0.5, 0, 0.5, 4]);
  const grad = await take(tf.grad((v: tf.Tensor) => tf.sum(signedSqrt(v)))(x));
  const expected = [1 / 6, 1, 1 / (2 * Math.sqrt(1e-12)), 1, 1 / 8];
  expected.forEach((e, i) => assert.ok(Math.abs(grad[i] - e) / e < 1e-4, `at ${i}`));
  x.dispose();
});

Deno.test("resolveMcbFusionConfig() validates fftMode, outputDim and the modality count", async (t) => {
  const base = { inputDims: [4, 4], numClasses: 2, seed: 0 };
  await t.step("defaults", () => {
    const c = resolveMcbFusionConfig(base);
    assert.equal(c.outputDim, 1024);
    assert.equal(c.fftMode, "auto");
  });
  await t.step("unknown fftMode", () => {
    assert.throws(
      () => resolveMcbFusionConfig({ ...base, fftMode: "fast" as "fft" }),
      (e: unknown) => e instanceof RangeError && /fast/.test(e.message),
    );
  });
  await t.step("outputDim 0", () => {
    assert.throws(
      () => resolveMcbFusionConfig({ ...base, outputDim: 0 }),
      (e: unknown) => e instanceof RangeError && /outputDim.*0/.test(e.message),
    );
  });
  await t.step("one modality", () => {
    assert.throws(() => resolveMcbFusionConfig({ ...base, inputDims: [4] }), RangeError);
  });
  await t.step("outputDim too large for the DFT", () => {
    assert.throws(
      () => resolveMcbFusionConfig({ ...base, outputDim: 5000, fftMode: "dft" }),
      (e: unknown) => e instanceof RangeError && /5000/.test(e.message),
    );
  });
  await t.step("seed not a number", () => {
    assert.throws(
      () => resolveMcbFusionConfig({ ...base, seed: "1" as unknown as number }),
      (e: unknown) => e instanceof TypeError && /seed.*"1"/.test(e.message),
    );
  });
});
