import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "../../../lib/backend/gradients.ts";
import assert from "node:assert/strict";
import { MismatchError } from "../../../lib/util/errors.ts";
import { Adam, type Optimizer, SgdMomentum } from "../../../lib/train/optimizer.ts";

await tf.setBackend("cpu");

function assertClose(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)),
    `${what}: expected ${expected}, got ${actual}`,
  );
}

/** A variable holding `data` (the initial tensor is disposed). */
function variable(data: number | number[] | number[][]): tf.Variable {
  const init = tf.tensor(data);
  const v = tf.variable(init);
  init.dispose();
  return v;
}

async function values(t: tf.Tensor): Promise<number[]> {
  return Array.from(await t.data());
}

/** Runs `steps` updates with the given gradients (as numbers) and learning rates. */
function run(
  optimizer: Optimizer,
  grads: Record<string, number[]>[],
  rates: number[],
  shapes: Record<string, number[]>,
): void {
  for (let s = 0; s < grads.length; s++) {
    const tensors: Record<string, tf.Tensor> = {};
    for (const [name, g] of Object.entries(grads[s])) tensors[name] = tf.tensor(g, shapes[name]);
    optimizer.step(tensors, rates[s]);
    for (const t of Object.values(tensors)) {
      assert.ok(!t.isDisposed, "step() must not dispose the gradients");
      t.dispose();
    }
  }
}

Deno.test("Adam matches a hand-computed two-step update on a scalar", async () => {
  const w = variable(1);
  const adam = new Adam({ w });
  const gs = [0.5, -0.2];
  const rates = [0.1, 0.05];
  run(adam, gs.map((g) => ({ w: [g] })), rates, { w: [] });

  // By hand, in float64: β1 0.9, β2 0.999, ε 1e-8.
  // step 1: m = 0.05, v = 0.00025, m̂ = 0.5, v̂ = 0.25 → θ = 1 − 0.1·0.5/(0.5 + ε)
  const theta1 = 1 - (0.1 * 0.5) / (0.5 + 1e-8);
  // step 2: m = 0.9·0.05 + 0.1·(−0.2) = 0.025, v = 0.999·0.00025 + 0.001·0.04 = 0.00028975
  const m2 = 0.025;
  const v2 = 0.999 * 0.00025 + 0.001 * 0.04;
  const theta2 = theta1 - (0.05 * (m2 / (1 - 0.81))) / (Math.sqrt(v2 / (1 - 0.998001)) + 1e-8);
  assertClose((await values(w))[0], theta2, 1e-6, "θ after two steps");
  assert.equal(adam.iterations, 2);
  const state = adam.stateTensors();
  assertClose((await values(state["adam/m/w"]))[0], m2, 1e-6, "m");
  assertClose((await values(state["adam/v/w"]))[0], v2, 1e-6, "v");
  assert.deepEqual(await values(state["adam/step"]), [2]);
  assert.equal(state["adam/step"].dtype, "int32");
  tf.dispose(Object.values(state));
  adam.dispose();
  w.dispose();
});

Deno.test("Adam applies decoupled weight decay only to decayable weights", async () => {
  const w = variable([2, -1]);
  const bias = variable([2, -1]);
  const adam = new Adam({ w, bias }, {
    weightDecay: 0.1,
    decayable: (name) => name !== "bias",
    beta1: 0.8,
    beta2: 0.99,
    epsilon: 1e-3,
  });
  const g = [[0.3, 0.0], [-0.6, 0.2]];
  run(adam, g.map((x) => ({ w: x, bias: x })), [0.01, 0.02], { w: [2], bias: [2] });

  const expected = (decay: boolean) =>
    [2, -1].map((theta0, k) => {
      let theta = theta0;
      let m = 0;
      let v = 0;
      [0.01, 0.02].forEach((lr, s) => {
        m = 0.8 * m + 0.2 * g[s][k];
        v = 0.99 * v + 0.01 * g[s][k] ** 2;
        const update = (m / (1 - 0.8 ** (s + 1))) / (Math.sqrt(v / (1 - 0.99 ** (s + 1))) + 1e-3);
        theta = theta - lr * update - (decay ? lr * 0.1 * theta : 0);
      });
      return theta;
    });
  const [wValues, biasValues] = [await values(w), await values(bias)];
  expected(true).forEach((x, k) => assertClose(wValues[k], x, 1e-6, `w[${k}]`));
  expected(false).forEach((x, k) => assertClose(biasValues[k], x, 1e-6, `bias[${k}]`));
  assert.ok(Math.abs(wValues[0] - biasValues[0]) > 1e-4, "decay made a difference");
  adam.dispose();
  tf.dispose([w, bias]);
});

Deno.test("SgdMomentum matches hand-computed updates, plain and Nesterov, with weight decay", async () => {
  const g = [1, -0.5, 0.25];
  const rates = [0.1, 0.1, 0.05];
  for (const nesterov of [false, true]) {
    for (const weightDecay of [0, 0.2]) {
      const w = variable(1.5);
      const sgd = new SgdMomentum({ w }, { nesterov, weightDecay });
      run(sgd, g.map((x) => ({ w: [x] })), rates, { w: [] });
      let theta = 1.5;
      let buffer = 0;
      g.forEach((grad, s) => {
        const d = grad + weightDecay * theta;
        buffer = 0.9 * buffer + d;
        theta -= rates[s] * (nesterov ? d + 0.9 * buffer : buffer);
      });
      const label = `nesterov=${nesterov} weightDecay=${weightDecay}`;
      assertClose((await values(w))[0], theta, 1e-6, label);
      const state = sgd.stateTensors();
      assert.deepEqual(Object.keys(state).sort(), ["sgd/momentum/w", "sgd/step"]);
      assertClose((await values(state["sgd/momentum/w"]))[0], buffer, 1e-6, `${label} buffer`);
      tf.dispose(Object.values(state));
      sgd.dispose();
      w.dispose();
    }
  }
});

Deno.test("Adam and SgdMomentum resume exactly from saved state", async (t) => {
  const make = {
    adam: (weights: Record<string, tf.Variable>) => new Adam(weights, { weightDecay: 0.01 }),
    sgd: (weights: Record<string, tf.Variable>) => new SgdMomentum(weights, { nesterov: true }),
  };
  const shapes = { "enc/w": [2, 2], "enc/b": [2] };
  const grads = [
    { "enc/w": [0.1, -0.2, 0.3, 0.05], "enc/b": [1, -1] },
    { "enc/w": [-0.4, 0.1, 0.0, 0.2], "enc/b": [0.5, 0.25] },
    { "enc/w": [0.3, 0.3, -0.1, -0.7], "enc/b": [-2, 0.1] },
  ];
  for (const [kind, create] of Object.entries(make)) {
    await t.step(kind, async () => {
      const weights = {
        "enc/w": variable([[1, 2], [3, 4]]),
        "enc/b": variable([0.5, -0.5]),
      };
      const first = create(weights);
      run(first, grads.slice(0, 2), [0.1, 0.05], shapes);
      const saved = first.stateTensors();
      const expectedNames = kind === "adam"
        ? ["adam/m/enc/b", "adam/m/enc/w", "adam/step", "adam/v/enc/b", "adam/v/enc/w"]
        : ["sgd/momentum/enc/b", "sgd/momentum/enc/w", "sgd/step"];
      assert.deepEqual(Object.keys(saved).sort(), expectedNames);
      const copies = {
        "enc/w": tf.variable(tf.clone(weights["enc/w"])),
        "enc/b": tf.variable(tf.clone(weights["enc/b"])),
      };
      const resumed = create(copies);
      await resumed.loadState(saved);
      assert.equal(resumed.iterations, 2);
      tf.dispose(Object.values(saved)); // loadState keeps what it needs
      run(first, grads.slice(2), [0.02], shapes);
      run(resumed, grads.slice(2), [0.02], shapes);
      for (const name of Object.keys(weights) as (keyof typeof weights)[]) {
        assert.deepEqual(await values(copies[name]), await values(weights[name]), name);
      }
      const [a, b] = [first.stateTensors(), resumed.stateTensors()];
      for (const key of Object.keys(a)) {
        assert.deepEqual(await values(b[key]), await values(a[key]));
      }
      tf.dispose([...Object.values(a), ...Object.values(b)]);
      first.dispose();
      resumed.dispose();
      tf.dispose([...Object.values(weights), ...Object.values(copies)]);
    });
  }
});

Deno.test("stateTensors() is a snapshot that later steps do not change", async () => {
  const w = variable([1, 2]);
  const adam = new Adam({ w });
  run(adam, [{ w: [1, 1] }], [0.1], { w: [2] });
  const snapshot = adam.stateTensors();
  const before = await values(snapshot["adam/m/w"]);
  run(adam, [{ w: [5, 5] }], [0.1], { w: [2] });
  assert.deepEqual(await values(snapshot["adam/m/w"]), before);
  assert.deepEqual(await values(snapshot["adam/step"]), [1]);
  tf.dispose(Object.values(snapshot));
  adam.dispose();
  w.dispose();
});

Deno.test("loadState() rejects state that does not fit, and changes nothing", async () => {
  const w = variable([1, 2]);
  const adam = new Adam({ w });
  run(adam, [{ w: [1, -1] }], [0.1], { w: [2] });
  const good = adam.stateTensors();
  const cases: [string, Record<string, tf.Tensor>, RegExp][] = [
    [
      "missing",
      { "adam/m/w": good["adam/m/w"], "adam/step": good["adam/step"] },
      /missing \[adam\/v\/w\]/,
    ],
    ["extra", { ...good, "adam/m/x": tf.zeros([2]) }, /unexpected \[adam\/m\/x\]/],
    [
      "shape",
      { ...good, "adam/v/w": tf.zeros([3]) },
      /"adam\/v\/w" has shape \[3\], expected \[2\]/,
    ],
    ["dtype", { ...good, "adam/m/w": tf.zeros([2], "int32") }, /float32/],
    ["step", { ...good, "adam/step": tf.scalar(-4, "int32") }, /integer ≥ 0, got -4/],
    ["sgd", { "sgd/momentum/w": tf.zeros([2]), "sgd/step": tf.scalar(1, "int32") }, /missing/],
  ];
  for (const [what, state, message] of cases) {
    await assert.rejects(adam.loadState(state), (e: unknown) => {
      assert.ok(e instanceof MismatchError, `${what}: ${e}`);
      assert.match(e.message, message);
      return true;
    });
  }
  const after = adam.stateTensors();
  for (const key of Object.keys(good)) {
    assert.deepEqual(await values(after[key]), await values(good[key]));
  }
  assert.equal(adam.iterations, 1);
  const made = cases.flatMap(([, state]) => Object.values(state)).filter((t) =>
    !Object.values(good).includes(t)
  );
  tf.dispose([...made, ...Object.values(good), ...Object.values(after)]);
  adam.dispose();
  w.dispose();
});

Deno.test("step() rejects gradients that do not fit and bad rates, before updating", async () => {
  const w = variable([1, 2]);
  const v = variable([3]);
  for (const optimizer of [new Adam({ w, v }), new SgdMomentum({ w, v })]) {
    const good = tf.tensor1d([1, 1]);
    const wrongShape = tf.tensor1d([1, 1, 1]);
    assert.throws(() => optimizer.step({ w: good, x: good }, 0.1), MismatchError);
    assert.throws(() => optimizer.step({ w: wrongShape }, 0.1), /shape \[3\], weight has \[2\]/);
    assert.throws(() => optimizer.step({ w: good }, -1), /learning rate .* got -1/);
    assert.throws(() => optimizer.step({ w: good }, NaN), RangeError);
    assert.equal(optimizer.iterations, 0);
    assert.deepEqual(await values(w), [1, 2]);
    optimizer.step({ w: good }, 0.1); // no gradient for v: v is left alone
    assert.deepEqual(await values(v), [3]);
    assert.ok((await values(w))[0] < 1);
    tf.tidy(() => w.assign(tf.tensor1d([1, 2])));
    optimizer.dispose();
    assert.throws(() => optimizer.step({ w: good }, 0.1), /disposed/);
    tf.dispose([good, wrongShape]);
  }
  assert.throws(() => new Adam({ w }, { beta1: 1 }), /beta1 must be in \[0, 1\), got 1/);
  assert.throws(() => new Adam({ w }, { beta2: -0.1 }), RangeError);
  assert.throws(() => new Adam({ w }, { weightDecay: -1 }), /weightDecay .* got -1/);
  assert.throws(() => new SgdMomentum({ w }, { momentum: 1.5 }), /momentum .* got 1.5/);
  assert.throws(() => new Adam({ w: tf.scalar(1) as tf.Variable }), TypeError);
  tf.dispose([w, v]);
});

Deno.test("optimisers are exactly reproducible and leak no tensors", async () => {
  const before = tf.memory().numTensors;
  const runOnce = async (kind: "adam" | "sgd"): Promise<number[]> => {
    const w = variable([[0.3, -1.2, 2], [0.7, 0.1, -0.4]]);
    const optimizer = kind === "adam"
      ? new Adam({ w }, { weightDecay: 0.05 })
      : new SgdMomentum({ w }, { weightDecay: 0.05 });
    const afterCreate = tf.memory().numTensors;
    for (let s = 0; s < 5; s++) {
      const g = tf.tidy(() => tf.sin(tf.mul(w, s + 1)));
      optimizer.step({ w: g }, 0.01 * (s + 1));
      g.dispose();
      assert.equal(tf.memory().numTensors, afterCreate, `step ${s} leaked`);
    }
    const state = optimizer.stateTensors();
    tf.dispose(Object.values(state));
    assert.equal(tf.memory().numTensors, afterCreate);
    const result = await values(w);
    optimizer.dispose();
    w.dispose();
    return result;
  };
  for (const kind of ["adam", "sgd"] as const) {
    assert.deepEqual(await runOnce(kind), await runOnce(kind), kind);
  }
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("Adam minimises a quadratic through tf.variableGrads", async () => {
  const w = variable([0, 10]);
  const target = tf.tensor1d([3, -2]);
  const adam = new Adam({ w });
  for (let s = 0; s < 400; s++) {
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(tf.sub(w, target))), [w]);
    adam.step({ w: grads[w.name] }, 0.2 * (1 - s / 400)); // decaying rate, to settle
    tf.dispose([value, ...Object.values(grads)]);
  }
  const result = await values(w);
  assertClose(result[0], 3, 1e-2, "w[0]");
  assertClose(result[1], -2, 1e-2, "w[1]");
  adam.dispose();
  tf.dispose([w, target]);
});
