import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "../../../lib/backend/gradients.ts";
import { VattModel } from "../../../lib/model/vatt.ts";
import type { BatchNormUpdate } from "../../../lib/model/heads.ts";
import { Rng } from "../../../lib/util/rng.ts";
import { onBackend, testBackends } from "../../_backends.ts";

const B = 3;

function inputs(seed: number) {
  const r = new Rng(seed);
  const fill = (n: number, f: () => number) => Float32Array.from({ length: n }, f);
  return {
    video: {
      values: fill(B * 8 * 32 * 32 * 3, () => r.nextFloat() * 2 - 1),
      shape: [B, 8, 32, 32, 3],
    },
    audio: { values: fill(B * 6400, () => r.nextFloat() * 2 - 1), shape: [B, 6400] },
    text: {
      values: Int32Array.from(
        { length: B * 2 * 16 },
        (_, i) => (i % 16 < 10 ? 1 + r.nextInt(1000) : 0),
      ),
      shape: [B, 2, 16],
    },
  };
}

function toTensors(x: ReturnType<typeof inputs>) {
  return {
    video: tf.tensor(x.video.values, x.video.shape),
    audio: tf.tensor(x.audio.values, x.audio.shape),
    text: tf.tensor(x.text.values, x.text.shape, "int32"),
  };
}

async function evalOutputs(
  preset: { relativePosition: "t5-shared" | "shaw"; agnostic: boolean },
): Promise<Float32Array[]> {
  const model = VattModel.create({
    preset: "tiny",
    agnostic: preset.agnostic,
    // The agnostic variant also runs the LayerNorm on the positions (off in tiny by default).
    positionNorm: preset.agnostic,
    text: { relativePosition: preset.relativePosition },
  });
  const t = toTensors(inputs(1));
  try {
    const out = model.apply(t);
    const parts = [
      out.video!.va,
      out.video!.vt,
      out.audio!.va,
      out.text!.vt,
      out.video!.representation,
    ];
    const data = await Promise.all(parts.map((p) => p.data() as Promise<Float32Array>));
    tf.dispose(parts);
    tf.dispose([out.audio!.representation, out.text!.representation]);
    return data;
  } finally {
    tf.dispose(Object.values(t));
    model.dispose();
  }
}

Deno.test("VattModel.apply() gives the same outputs on every available backend (within 1e-4)", async (t) => {
  const backends = await testBackends();
  for (
    const variant of [{ relativePosition: "t5-shared", agnostic: false }, {
      relativePosition: "shaw",
      agnostic: true,
    }] as const
  ) {
    const reference = await onBackend("cpu", () => evalOutputs(variant));
    // webgpu on a software adapter (llvmpipe) compiles every shader on the CPU:
    // one variant there keeps the suite short.
    const others = backends.filter((b) => b !== "cpu" && (b !== "webgpu" || !variant.agnostic));
    for (const backend of others) {
      await t.step(
        `${backend} ${variant.relativePosition}${variant.agnostic ? " agnostic" : ""}`,
        async () => {
          const got = await onBackend(backend, () => evalOutputs(variant));
          got.forEach((arr, k) => {
            let worst = 0;
            arr.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - reference[k][i]))));
            assert.ok(worst < 1e-4, `output ${k}: max difference ${worst}`);
          });
        },
      );
    }
  }
});

Deno.test("VattModel output shapes follow the config", async () => {
  await onBackend("cpu", async () => {
    const model = VattModel.create({ preset: "tiny" });
    const t = toTensors(inputs(2));
    const out = model.apply(t);
    assert.deepEqual(out.video!.representation.shape, [B, 64]);
    assert.deepEqual(out.video!.va.shape, [B, 128]);
    assert.deepEqual(out.video!.vt.shape, [B, 64]);
    assert.deepEqual(out.audio!.va.shape, [B, 128]);
    assert.deepEqual(out.text!.vt.shape, [B, 2, 64]);
    assert.deepEqual(out.text!.representation.shape, [B, 2, 64]);
    const flat = model.apply({ text: tf.ones([B, 16], "int32") });
    assert.deepEqual(flat.text!.vt.shape, [B, 64]);
    await Promise.resolve();
    tf.dispose([t.video, t.audio, t.text]);
    model.dispose();
  });
});

async function trainingGradients(backend: "cpu" | "wasm", agnostic: boolean) {
  return await onBackend(backend, async () => {
    const model = VattModel.create({ preset: "tiny", agnostic, seed: 4 });
    const t = toTensors(inputs(3));
    const before = tf.memory().numTensors;
    const updates: BatchNormUpdate[] = [];
    const vars = model.trainableWeights();
    const { value, grads } = tf.variableGrads(() => {
      const out = model.apply(t, { training: true, rng: new Rng(0), bnUpdates: updates });
      // A loss that touches every output.
      return tf.addN([
        tf.sum(tf.square(out.video!.vt)),
        tf.sum(tf.mul(out.video!.va, out.audio!.va)),
        tf.sum(tf.square(out.text!.vt)),
      ]) as tf.Scalar;
    }, Object.values(vars));
    const norms: Record<string, number> = {};
    for (const [name, v] of Object.entries(vars)) {
      const g = grads[v.name];
      const norm = g ? tf.norm(g) : null;
      norms[name] = norm ? (await norm.data())[0] : 0;
      norm?.dispose();
    }
    assert.equal(updates.length, 3); // three BatchNorm layers in the video heads
    const mean = await model.weights["heads/video_va/bn1/moving_mean"].data();
    model.applyBatchNormUpdates(updates);
    const moved = await model.weights["heads/video_va/bn1/moving_mean"].data();
    assert.ok(moved.some((v, i) => v !== mean[i]), "BatchNorm moving mean updated");
    tf.dispose(grads);
    value.dispose();
    const leaked = tf.memory().numTensors - before;
    tf.dispose([t.video, t.audio, t.text]);
    model.dispose();
    return { norms, leaked };
  });
}

Deno.test("gradients reach every trainable weight and nothing leaks (cpu and wasm)", async (t) => {
  for (const backend of ["cpu", "wasm"] as const) {
    await t.step(backend, async () => {
      const { norms, leaked } = await trainingGradients(backend, false);
      const dead = Object.entries(norms).filter(([, n]) => !(n > 0)).map(([name]) => name);
      assert.deepEqual(dead, []);
      assert.equal(leaked, 0);
    });
  }
});

Deno.test("the agnostic variant trains one shared backbone from every modality", async () => {
  const { norms, leaked } = await trainingGradients("cpu", true);
  const shared = Object.keys(norms).filter((n) => n.startsWith("backbone/shared/"));
  assert.ok(shared.length > 0);
  assert.ok(!Object.keys(norms).some((n) => /^backbone\/(video|audio|text)\//.test(n)));
  for (const n of shared) assert.ok(norms[n] > 0, n);
  assert.equal(leaked, 0);
  // The shared backbone sees every modality: audio alone moves it.
  await onBackend("cpu", async () => {
    const model = VattModel.create({ preset: "tiny", agnostic: true });
    const q = model.weights["backbone/shared/layer_00/attn/q/kernel"];
    const audio = tf.ones([2, 6400]);
    const { value, grads } = tf.variableGrads(
      () => tf.sum(model.apply({ audio }).audio!.va) as tf.Scalar,
      [q],
    );
    const norm = tf.norm(grads[q.name]);
    assert.ok((await norm.data())[0] > 0);
    tf.dispose([audio, value, grads[q.name], norm]);
    model.dispose();
  });
});

Deno.test("training-mode forward is deterministic for a seed and leaves no tensors", async () => {
  await onBackend("cpu", async () => {
    const model = VattModel.create({ preset: "tiny" });
    const t = toTensors(inputs(5));
    const run = async (seed: number) => {
      const updates: BatchNormUpdate[] = [];
      const out = model.apply({ video: t.video }, {
        training: true,
        rng: new Rng(seed),
        bnUpdates: updates,
      });
      const v = await out.video!.va.data();
      tf.dispose([
        out.video!.va,
        out.video!.vt,
        out.video!.representation,
        ...updates.flatMap((u) => [u.mean, u.variance]),
      ]);
      return v;
    };
    const before = tf.memory().numTensors;
    const a = await run(1);
    const b = await run(1);
    const c = await run(2);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.equal(tf.memory().numTensors, before);
    assert.throws(() => model.apply({ video: t.video }, { training: true }), /options.rng/);
    tf.dispose([t.video, t.audio, t.text]);
    model.dispose();
  });
});

Deno.test("VattModel dropout: none at evaluation, seeded in training, rate 0 is no dropout, DropToken draws unchanged", async () => {
  await onBackend("cpu", async () => {
    const t = toTensors(inputs(6));
    const reps = async (model: VattModel, options: Parameters<VattModel["apply"]>[1]) => {
      const updates: BatchNormUpdate[] = [];
      const out = model.apply(t, { ...options, bnUpdates: updates });
      const parts = [
        out.video!.representation,
        out.audio!.representation,
        out.text!.representation,
      ];
      const data = await Promise.all(parts.map((p) => p.data()));
      tf.dispose([
        ...parts,
        out.video!.va,
        out.video!.vt,
        out.audio!.va,
        out.text!.vt,
        ...updates.flatMap((u) => [u.mean, u.variance]),
      ]);
      return data;
    };
    const dropped = VattModel.create({ preset: "tiny", dropToken: 0 }); // dropout 0.1 by default
    const plain = VattModel.create({
      preset: "tiny",
      dropToken: 0,
      dropout: 0,
      attentionDropout: 0,
    });
    try {
      const before = tf.memory().numTensors;
      const evalA = await reps(dropped, {});
      assert.deepEqual(await reps(dropped, {}), evalA); // evaluation: bit-identical
      assert.deepEqual(await reps(plain, {}), evalA); // same weights, no dropout at evaluation
      const train = (seed: number) => ({ training: true, rng: new Rng(seed) });
      const t1 = await reps(dropped, train(1));
      assert.deepEqual(await reps(dropped, train(1)), t1);
      assert.notDeepEqual(await reps(dropped, train(2)), t1);
      t1.forEach((r, k) => assert.notDeepEqual(r, evalA[k], `modality ${k}`));
      // Rates 0: training representations are the evaluation ones (BatchNorm is after them).
      assert.deepEqual(await reps(plain, train(1)), evalA);
      assert.throws(() => dropped.apply({ audio: t.audio }, { training: true }), /options.rng/);
      assert.equal(tf.memory().numTensors, before);
    } finally {
      dropped.dispose();
      plain.dispose();
    }
    // Dropout draws from a fork: the step generator (DropToken's) ends where it would without it.
    const withDrop = VattModel.create({ preset: "tiny" });
    const noDrop = VattModel.create({ preset: "tiny", dropout: 0, attentionDropout: 0 });
    const a = new Rng(3);
    const b = new Rng(3);
    await reps(withDrop, { training: true, rng: a });
    await reps(noDrop, { training: true, rng: b });
    assert.deepEqual(a.state(), b.state());
    withDrop.dispose();
    noDrop.dispose();
    tf.dispose(Object.values(t));
  });
});
