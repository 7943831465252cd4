import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../../lib/backend/select.ts";
import {
  eagerBackpropInstalled,
  installEagerBackprop,
  uninstallEagerBackprop,
} from "../../../lib/backend/backprop.ts";
import { resolveVattConfig } from "../../../lib/config/vatt_config.ts";
import { nceLoss } from "../../../lib/loss/nce.ts";
import type { BatchNormUpdate } from "../../../lib/model/heads.ts";
import { VattModel } from "../../../lib/model/vatt.ts";
import { Rng } from "../../../lib/util/rng.ts";

await initBackend("wasm");

/** Runs `f` with tfjs's backward pass, then with the eager one; returns both results. */
async function both<T>(f: () => Promise<T>): Promise<{ tfjs: T; eager: T }> {
  const wasOn = eagerBackpropInstalled();
  try {
    uninstallEagerBackprop();
    const tfjs = await f();
    installEagerBackprop({ force: true });
    const eager = await f();
    return { tfjs, eager };
  } finally {
    if (!wasOn) uninstallEagerBackprop();
  }
}

/** The float32 values' bit patterns, for exact comparison. */
async function bits(t: tf.Tensor | undefined): Promise<number[] | null> {
  return t ? Array.from(new Uint32Array((await t.data() as Float32Array).slice().buffer)) : null;
}

Deno.test("eager backprop: d(x³)/dx = 3x², with x used twice in one op and in two ops", async () => {
  const x = tf.tensor1d([1, 2, 3]);
  const { tfjs, eager } = await both(async () => {
    const before = tf.memory().numTensors;
    // y = Σ (x·x)·x: x reaches y through both inputs of one mul and through a second mul
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.mul(t, t), t)))(x);
    const values = Array.from(await g.data());
    g.dispose();
    return { values, leaked: tf.memory().numTensors - before };
  });
  assert.deepEqual(tfjs.values, [3, 12, 27]);
  assert.deepEqual(eager.values, [3, 12, 27]);
  assert.equal(eager.leaked, 0);
  x.dispose();
});

Deno.test("eager backprop: unused outputs get zeros, unused weights no gradient, a dy passed through is kept", async () => {
  const a = tf.variable(tf.tensor2d([[1, -2], [3, 4]]), true, "bp_a");
  const unused = tf.variable(tf.scalar(5), true, "bp_unused");
  // customGrad whose gradient is dy itself, unchanged: the same tensor becomes the input's gradient
  const passThrough = tf.customGrad(
    ((x: tf.Tensor, save: tf.GradSaveFunc) => {
      save([x]);
      return { value: tf.relu(x), gradFunc: (dy: tf.Tensor) => dy };
    }) as unknown as Parameters<typeof tf.customGrad>[0],
  );
  const { tfjs, eager } = await both(async () => {
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => {
      const [left] = tf.split(a, 2, 1); // the right half does not reach the loss
      return tf.sum(tf.mul(passThrough(left), tf.scalar(2))) as tf.Scalar;
    }, [a, unused]);
    const out = {
      loss: (await value.data())[0],
      a: await bits(grads[a.name]),
      unused: grads[unused.name],
    };
    tf.dispose([value, ...Object.values(grads)]);
    return { ...out, leaked: tf.memory().numTensors - before };
  });
  // d/da Σ 2·left = 2 on the left column, 0 on the right one
  assert.deepEqual(await bits(tf.tensor2d([[2, 0], [2, 0]])), eager.a);
  assert.deepEqual(eager, tfjs);
  assert.equal(eager.loss, 8); // 2·(1 + 3): the pass-through op's forward is relu
  assert.equal(eager.unused, undefined);
  assert.equal(eager.leaked, 0);
  tf.dispose([a, unused]);
});

Deno.test("eager backprop: second derivatives still work (a recording tape keeps its saved tensors)", async () => {
  const x = tf.tensor1d([1, 2]);
  const { eager } = await both(async () => {
    const d2 = tf.grad((t: tf.Tensor) => tf.grad((u: tf.Tensor) => tf.sum(tf.pow(u, 3)))(t))(x);
    const values = Array.from(await d2.data());
    d2.dispose();
    return values;
  });
  assert.deepEqual(eager, [6, 12]); // d²(x³)/dx² = 6x
  x.dispose();
});

Deno.test("eager backprop: the forward pass saves tensors without an Identity kernel each, and frees them", async () => {
  const x = tf.variable(tf.tensor1d([0.5, -1, 2]), true, "bp_saves");
  const before = tf.memory().numTensors;
  const { tfjs, eager } = await both(async () => {
    let g: number[] | null = null;
    const profile = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(() => {
        let h: tf.Tensor = x;
        for (let i = 0; i < 5; i++) h = tf.sin(h); // each sin saves its input
        return tf.sum(tf.mul(h, h)) as tf.Scalar; // mul saves both inputs
      }, [x]);
      tf.dispose(value);
      g = Array.from(grads[x.name].dataSync());
      tf.dispose(Object.values(grads));
    });
    const identities = profile.kernels.filter((k) => k.name === "Identity").length;
    return { g, identities, leaked: tf.memory().numTensors - before };
  });
  assert.ok(tfjs.identities >= 7, `tfjs ran ${tfjs.identities} Identity kernels`);
  assert.equal(eager.identities, 0);
  assert.deepEqual(eager.g, tfjs.g);
  assert.equal(eager.leaked, 0);
  assert.equal(tfjs.leaked, 0);
  x.dispose();
});

Deno.test("eager backprop: fewer tensors alive when the backward pass reaches the first op", async () => {
  const x = tf.variable(tf.ones([64]), true, "bp_chain");
  let aliveAtFirstOp = 0;
  const probe = tf.customGrad(
    ((t: tf.Tensor, save: tf.GradSaveFunc) => {
      save([t]);
      return {
        value: tf.mul(t, 1),
        gradFunc: (dy: tf.Tensor) => {
          aliveAtFirstOp = tf.memory().numTensors;
          return tf.mul(dy, 1);
        },
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0],
  );
  const { tfjs, eager } = await both(async () => {
    const { value, grads } = tf.variableGrads(() => {
      let h = probe(x);
      for (let i = 0; i < 20; i++) h = tf.sin(h); // each sin saves its input for the backward pass
      return tf.sum(h) as tf.Scalar;
    }, [x]);
    const g = await bits(grads[x.name]);
    tf.dispose([value, ...Object.values(grads)]);
    return { g, alive: aliveAtFirstOp };
  });
  assert.deepEqual(eager.g, tfjs.g);
  // tfjs still holds the 20 saved inputs and 20 intermediate gradients; the eager pass freed them
  assert.ok(tfjs.alive - eager.alive >= 40, `tfjs ${tfjs.alive}, eager ${eager.alive}`);
  x.dispose();
});

Deno.test("eager backprop: a VATT training step's gradients are bit-identical to tfjs's", async () => {
  const config = resolveVattConfig({ preset: "tiny" });
  const model = VattModel.create(config);
  const weights = model.trainableWeights();
  const b = 2;
  const v = config.video;
  const inputs = tf.tidy(() => ({
    video: tf.randomUniform([b, v.frames, v.height, v.width, 3], -1, 1, "float32", 1),
    audio: tf.randomUniform([b, config.audio.samples], -1, 1, "float32", 2),
  }));
  const { tfjs, eager } = await both(async () => {
    const before = tf.memory().numTensors;
    const bnUpdates: BatchNormUpdate[] = [];
    const { value, grads } = tf.variableGrads(() => {
      // DropToken and dropout drawn from the same seed in both runs
      const out = model.apply(inputs, {
        training: true,
        rng: Rng.forLabel(7, "drop"),
        bnUpdates,
      });
      return nceLoss(out.video!.va, out.audio!.va, { temperature: 0.07 }) as tf.Scalar;
    }, Object.values(weights));
    const all: Record<string, number[] | null> = {};
    for (const [name, w] of Object.entries(weights)) all[name] = await bits(grads[w.name]);
    tf.dispose([value, ...Object.values(grads), ...bnUpdates.flatMap((u) => [u.mean, u.variance])]);
    return { all, leaked: tf.memory().numTensors - before };
  });
  assert.ok(Object.values(eager.all).filter((g) => g !== null).length > 20);
  assert.deepEqual(eager.all, tfjs.all);
  assert.equal(tfjs.leaked, 0);
  assert.equal(eager.leaked, 0);
  model.dispose();
  tf.dispose(Object.values(inputs));
});

Deno.test("installEagerBackprop() is on by default and stays off with VATT_EAGER_BACKPROP=0 unless forced", () => {
  const saved = Deno.env.get("VATT_EAGER_BACKPROP");
  const wasOn = eagerBackpropInstalled();
  try {
    uninstallEagerBackprop();
    Deno.env.set("VATT_EAGER_BACKPROP", "0");
    assert.equal(installEagerBackprop(), false);
    assert.equal(eagerBackpropInstalled(), false);
    assert.equal(installEagerBackprop({ force: true }), true);
    uninstallEagerBackprop();
    Deno.env.delete("VATT_EAGER_BACKPROP");
    assert.equal(installEagerBackprop(), true);
    assert.equal(eagerBackpropInstalled(), true);
  } finally {
    if (wasOn) installEagerBackprop({ force: true });
    else uninstallEagerBackprop();
    if (saved === undefined) Deno.env.delete("VATT_EAGER_BACKPROP");
    else Deno.env.set("VATT_EAGER_BACKPROP", saved);
  }
});
