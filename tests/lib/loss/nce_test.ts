import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import type { LossForm } from "../../../lib/config/pretrain_config.ts";
import { nceLoss, type NceLossOptions } from "../../../lib/loss/nce.ts";
import { Rng } from "../../../lib/util/rng.ts";
import { assertClose, BACKENDS, dot, take, unit, useBackend } from "./_backends.ts";
import { referenceTwoWay } from "./_reference.ts";

// A fixed 3×2 case: three clips, two-dimensional embeddings.
const V = [[1, 2], [-1, 0.5], [0.3, -2]];
const A = [[0.5, 1], [-2, 1], [1, 1]];

interface RefOptions {
  temperature?: number;
  symmetric?: boolean;
  mask?: number[];
  normalize?: boolean;
}

/** The NCE loss in float64, written the way the paper states it: −log(e^pos / Σ e^all). */
function referenceNce(v: number[][], a: number[][], options: RefOptions = {}): number {
  const tau = options.temperature ?? 0.07;
  const normalize = options.normalize ?? true;
  const mask = options.mask ?? v.map(() => 1);
  const vv = normalize ? v.map(unit) : v;
  const aa = normalize ? a.map(unit) : a;
  const kept = mask.flatMap((m, i) => (m > 0 ? [i] : []));
  if (kept.length === 0) return 0;
  const oneWay = (x: number[][], y: number[][]): number => {
    let total = 0;
    for (const i of kept) {
      const numerator = Math.exp(dot(x[i], y[i]) / tau);
      let denominator = 0;
      for (const j of kept) denominator += Math.exp(dot(x[i], y[j]) / tau);
      total += -Math.log(numerator / denominator);
    }
    return total / kept.length;
  };
  const va = oneWay(vv, aa);
  return options.symmetric ? (va + oneWay(aa, vv)) / 2 : va;
}

/** The one-way form, which `referenceNce` computes, unless `options` names another. */
function toOptions(options: RefOptions & { form?: LossForm }): NceLossOptions {
  const { mask, ...rest } = options;
  const oneWay = { form: "one-way" as const, ...rest };
  return mask === undefined ? oneWay : { ...oneWay, mask: tf.tensor1d(mask) };
}

async function nce(
  v: number[][],
  a: number[][],
  options: RefOptions & { form?: LossForm } = {},
): Promise<number> {
  const opts = toOptions(options);
  const zV = tf.tensor2d(v);
  const zA = tf.tensor2d(a);
  const value = await take(nceLoss(zV, zA, opts));
  tf.dispose([zV, zA, opts.mask]);
  return value;
}

function randomMatrix(rng: Rng, rows: number, cols: number): number[][] {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => rng.normal()));
}

for (const backend of BACKENDS) {
  Deno.test(`nceLoss() one-way on ${backend} matches the hand-computed 3×2 loss`, async (t) => {
    await useBackend(backend);
    await t.step("default temperature 0.07", async () => {
      const v = V.map(unit);
      const a = A.map(unit);
      const tau = 0.07;
      let expected = 0;
      for (let i = 0; i < 3; i++) {
        const s = [0, 1, 2].map((j) => dot(v[i], a[j]) / tau);
        expected += -Math.log(Math.exp(s[i]) / (Math.exp(s[0]) + Math.exp(s[1]) + Math.exp(s[2])));
      }
      expected /= 3;
      assertClose(await nce(V, A), expected, 1e-5, "loss");
    });
    await t.step("temperature 0.5 and 2 change the loss as the formula says", async () => {
      for (const temperature of [0.5, 2]) {
        const expected = referenceNce(V, A, { temperature });
        assertClose(await nce(V, A, { temperature }), expected, 1e-5, `τ=${temperature}`);
      }
      assert.notEqual(
        Math.round((await nce(V, A, { temperature: 0.5 })) * 1e4),
        Math.round((await nce(V, A, { temperature: 2 })) * 1e4),
      );
    });
    await t.step("symmetric is the mean of video→audio and audio→video", async () => {
      const va = referenceNce(V, A, { temperature: 0.3 });
      const av = referenceNce(A, V, { temperature: 0.3 });
      assert.ok(Math.abs(va - av) > 1e-3, "the two directions differ on this case");
      assertClose(await nce(V, A, { temperature: 0.3, symmetric: true }), (va + av) / 2, 1e-5);
      assertClose(await nce(A, V, { temperature: 0.3 }), av, 1e-5, "swapped inputs");
    });
    await t.step("a masked-out clip leaves the average and the negatives", async () => {
      const v = V.map(unit);
      const a = A.map(unit);
      const tau = 0.07;
      // Clip 1 has no audio: only clips 0 and 2 count, each against the other.
      let expected = 0;
      for (const i of [0, 2]) {
        const s = (j: number) => Math.exp(dot(v[i], a[j]) / tau);
        expected += -Math.log(s(i) / (s(0) + s(2)));
      }
      expected /= 2;
      const masked = await nce(V, A, { mask: [1, 0, 1] });
      assertClose(masked, expected, 1e-5, "masked loss");
      const subBatch = await nce([V[0], V[2]], [A[0], A[2]]);
      assertClose(masked, subBatch, 1e-5, "same as the batch without clip 1");
      for (const symmetric of [false, true]) {
        const options = { mask: [0, 1, 1], temperature: 0.2, symmetric };
        assertClose(await nce(V, A, options), referenceNce(V, A, options), 1e-5, "mask 011");
      }
    });
    await t.step("a mask of any dtype counts entries above 0", async () => {
      const zV = tf.tensor2d(V);
      const zA = tf.tensor2d(A);
      const mask = tf.tensor1d([3, 0, 1], "int32");
      const value = await take(nceLoss(zV, zA, { mask, form: "one-way" }));
      tf.dispose([zV, zA, mask]);
      assertClose(value, referenceNce(V, A, { mask: [1, 0, 1] }), 1e-5);
    });
    await t.step("every clip masked out gives 0, and a zero gradient", async () => {
      assert.equal(await nce(V, A, { mask: [0, 0, 0], symmetric: true }), 0);
      const zV = tf.tensor2d(V);
      const zA = tf.tensor2d(A);
      const mask = tf.tensor1d([0, 0, 0]);
      const [gV, gA] = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
        nceLoss(x as tf.Tensor2D, y as tf.Tensor2D, { mask })
      )([zV, zA]);
      for (const value of [...await gV.data(), ...await gA.data()]) {
        assert.ok(value === 0, `gradient ${value}`);
      }
      tf.dispose([zV, zA, mask, gV, gA]);
    });
    await t.step("one clip with audio gives loss 0 (no negatives)", async () => {
      for (const i of [0, 1, 2]) {
        const mask = [0, 0, 0].map((_, j) => (j === i ? 1 : 0));
        assertClose(await nce(V, A, { mask, temperature: 1, symmetric: true }), 0, 1e-6);
      }
    });
  });

  Deno.test(`nceLoss() on ${backend} has the gradient of finite differences`, async () => {
    await useBackend(backend);
    const rng = new Rng(7);
    const v = randomMatrix(rng, 3, 4);
    const a = randomMatrix(rng, 3, 4);
    const ref: RefOptions = { temperature: 0.2, symmetric: true, mask: [1, 1, 0] };
    const opts = toOptions(ref);
    const zV = tf.tensor2d(v);
    const zA = tf.tensor2d(a);
    const [gV, gA] = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
      nceLoss(x as tf.Tensor2D, y as tf.Tensor2D, opts)
    )([zV, zA]);
    const grads = [await gV.data(), await gA.data()];
    tf.dispose([zV, zA, gV, gA, opts.mask]);
    const h = 1e-6;
    [v, a].forEach((matrix, which) => {
      for (let i = 0; i < 3; i++) {
        for (let d = 0; d < 4; d++) {
          const plus = matrix.map((row) => [...row]);
          const minus = matrix.map((row) => [...row]);
          plus[i][d] += h;
          minus[i][d] -= h;
          const f = (
            m: number[][],
          ) => (which === 0 ? referenceNce(m, a, ref) : referenceNce(v, m, ref));
          const numeric = (f(plus) - f(minus)) / (2 * h);
          assertClose(
            grads[which][i * 4 + d],
            numeric,
            2e-4,
            `d/d${which ? "zA" : "zV"}[${i},${d}]`,
          );
        }
      }
    });
  });

  Deno.test(`nceLoss() on ${backend} ignores the scale of its inputs when normalize is on`, async () => {
    await useBackend(backend);
    const scaledV = V.map((row, i) => row.map((x) => x * [2, 0.1, 7][i]));
    const scaledA = A.map((row, i) => row.map((x) => x * [0.5, 30, 1][i]));
    for (const symmetric of [false, true]) {
      assertClose(
        await nce(scaledV, scaledA, { symmetric }),
        await nce(V, A, { symmetric }),
        1e-5,
        `symmetric=${symmetric}`,
      );
    }
    const raw = await nce(V, A, { normalize: false, temperature: 1 });
    assertClose(raw, referenceNce(V, A, { normalize: false, temperature: 1 }), 1e-5, "raw");
    const rawScaled = await nce(scaledV, scaledA, { normalize: false, temperature: 1 });
    assert.ok(Math.abs(raw - rawScaled) > 1e-2, "without normalize the scale matters");
  });

  Deno.test(`nceLoss() on ${backend} leaks no tensors`, async () => {
    await useBackend(backend);
    const zV = tf.tensor2d(V);
    const zA = tf.tensor2d(A);
    const mask = tf.tensor1d([1, 0, 1]);
    const before = tf.memory().numTensors;
    const loss = nceLoss(zV, zA, { mask, symmetric: true, form: "one-way" });
    assert.equal(tf.memory().numTensors, before + 1);
    loss.dispose();
    const grads = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
      nceLoss(x as tf.Tensor2D, y as tf.Tensor2D, { mask })
    )([zV, zA]);
    tf.dispose(grads);
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([zV, zA, mask]);
  });
}

Deno.test("nceLoss() gives the same losses and gradients on cpu and wasm (within 1e-5)", async () => {
  const rng = new Rng(11);
  const v = randomMatrix(rng, 6, 8);
  const a = randomMatrix(rng, 6, 8);
  const cases: RefOptions[] = [
    {},
    { symmetric: true },
    { mask: [1, 0, 1, 1, 0, 1], temperature: 0.1 },
    { normalize: false, temperature: 1, symmetric: true },
  ];
  const results: Record<string, number[][]> = {};
  for (const backend of BACKENDS) {
    await useBackend(backend);
    results[backend] = [];
    for (const ref of cases) {
      const opts = toOptions(ref);
      const zV = tf.tensor2d(v);
      const zA = tf.tensor2d(a);
      const { value, grads } = tf.valueAndGrads((x: tf.Tensor, y: tf.Tensor) =>
        nceLoss(x as tf.Tensor2D, y as tf.Tensor2D, opts)
      )([zV, zA]);
      results[backend].push([
        (await value.data())[0],
        ...await grads[0].data(),
        ...await grads[1].data(),
      ]);
      tf.dispose([zV, zA, value, ...grads, opts.mask]);
    }
  }
  await useBackend("cpu");
  results.cpu.forEach((values, c) => {
    assertClose(values[0], referenceNce(v, a, cases[c]), 1e-5, `case ${c} loss vs float64`);
    for (const other of ["wasm", "wasm+fused"]) {
      values.forEach((x, k) =>
        assertClose(results[other][c][k], x, 1e-5, `${other} case ${c} entry ${k}`)
      );
    }
  });
});

Deno.test("nceLoss() rejects inputs that do not fit", async () => {
  await useBackend("cpu");
  const zV = tf.tensor2d(V);
  const zA = tf.tensor2d(A);
  const short = tf.tensor2d([[1, 2]]);
  const flat = tf.tensor1d([1, 2, 3]);
  assert.throws(() => nceLoss(zV, short), RangeError);
  assert.throws(() => nceLoss(zV, flat as unknown as tf.Tensor2D), TypeError);
  for (const temperature of [0, -1, NaN, Infinity]) {
    assert.throws(() => nceLoss(zV, zA, { temperature }), /temperature/);
  }
  const mask = tf.tensor1d([1, 0]);
  assert.throws(() => nceLoss(zV, zA, { mask }), /mask has 2 entries but the batch has 3/);
  tf.dispose([zV, zA, short, flat, mask]);
});

// Unit vectors with round dot products, for the official and symmetric forms at τ = 1:
// s_ij = v_i·a_j =  [[0.8, 0, 1], [0.6, 1, 0], [0.96, 0.8, 0.6]] (row i = video i).
const UV = [[1, 0], [0, 1], [0.6, 0.8]];
const UA = [[0.8, 0.6], [0, 1], [1, 0]];
const E = Math.exp;
const log = Math.log;

for (const backend of BACKENDS) {
  Deno.test(`nceLoss() official and symmetric on ${backend} match hand-computed losses`, async (t) => {
    await useBackend(backend);
    await t.step(
      "official: one denominator per clip, video i's row and audio i's column",
      async () => {
        // Row i {s_i0, s_i1, s_i2} and column i {s_0i, s_1i, s_2i}; s_ii is in both.
        const l0 = log(E(0.8) + E(0) + E(1) + E(0.8) + E(0.6) + E(0.96)) - 0.8;
        const l1 = log(E(0.6) + E(1) + E(0) + E(0) + E(1) + E(0.8)) - 1;
        const l2 = log(E(0.96) + E(0.8) + E(0.6) + E(1) + E(0) + E(0.6)) - 0.6;
        const expected = (l0 + l1 + l2) / 3;
        assertClose(await nce(UV, UA, { temperature: 1, form: "official" }), expected, 1e-6);
        assertClose(
          await nce(UV, UA, { temperature: 1, form: undefined }),
          expected,
          1e-6,
          "default",
        );
      },
    );
    await t.step("symmetric: the sum of the row and the column losses, each a mean", async () => {
      const rows = (log(E(0.8) + E(0) + E(1)) - 0.8) + (log(E(0.6) + E(1) + E(0)) - 1) +
        (log(E(0.96) + E(0.8) + E(0.6)) - 0.6);
      const columns = (log(E(0.8) + E(0.6) + E(0.96)) - 0.8) + (log(E(0) + E(1) + E(0.8)) - 1) +
        (log(E(1) + E(0) + E(0.6)) - 0.6);
      const expected = rows / 3 + columns / 3;
      assertClose(await nce(UV, UA, { temperature: 1, form: "symmetric" }), expected, 1e-6);
    });
    await t.step("clip 1 without audio: a_1 leaves every set, v_1 stays a negative", async () => {
      const mask = [1, 0, 1];
      // Clip 0: row {s_00, s_02}, column {s_00, s_10, s_20}; clip 2: row {s_20, s_22},
      // column {s_02, s_12, s_22}. Clip 1 contributes nothing; the mean is over 2 clips.
      const official = ((log(E(0.8) + E(1) + E(0.8) + E(0.6) + E(0.96)) - 0.8) +
        (log(E(0.96) + E(0.6) + E(1) + E(0) + E(0.6)) - 0.6)) / 2;
      assertClose(await nce(UV, UA, { temperature: 1, form: "official", mask }), official, 1e-6);
      const symmetric = ((log(E(0.8) + E(1)) - 0.8) + (log(E(0.96) + E(0.6)) - 0.6)) / 2 +
        ((log(E(0.8) + E(0.6) + E(0.96)) - 0.8) + (log(E(1) + E(0) + E(0.6)) - 0.6)) / 2;
      assertClose(await nce(UV, UA, { temperature: 1, form: "symmetric", mask }), symmetric, 1e-6);
    });
    await t.step("every clip without audio: exactly 0, finite zero gradients", async () => {
      for (const form of ["official", "symmetric"] as const) {
        const zV = tf.tensor2d(UV);
        const zA = tf.tensor2d(UA);
        const mask = tf.tensor1d([0, 0, 0]);
        const { value, grads } = tf.valueAndGrads((x: tf.Tensor, y: tf.Tensor) =>
          nceLoss(x as tf.Tensor2D, y as tf.Tensor2D, { mask, form, temperature: 0.07 })
        )([zV, zA]);
        assert.ok((await value.data())[0] === 0, form);
        for (const g of [...await grads[0].data(), ...await grads[1].data()]) {
          assert.ok(g === 0, `${form} gradient ${g}`);
        }
        tf.dispose([zV, zA, mask, value, ...grads]);
      }
    });
  });

  Deno.test(`nceLoss() official and symmetric on ${backend} have finite-difference gradients`, async () => {
    await useBackend(backend);
    const rng = new Rng(13);
    const v = randomMatrix(rng, 3, 4);
    const a = randomMatrix(rng, 3, 4);
    const mask = [1, 0, 1];
    for (const form of ["official", "symmetric"] as const) {
      const ref = (vv: number[][], aa: number[][]) =>
        referenceTwoWay(vv, aa.map((row) => [row]), {
          mask: mask.map((m) => [m]),
          form,
          tau: 0.2,
        });
      const zV = tf.tensor2d(v);
      const zA = tf.tensor2d(a);
      const m = tf.tensor1d(mask);
      const { value, grads } = tf.valueAndGrads((x: tf.Tensor, y: tf.Tensor) =>
        nceLoss(x as tf.Tensor2D, y as tf.Tensor2D, { mask: m, form, temperature: 0.2 })
      )([zV, zA]);
      assertClose((await value.data())[0], ref(v, a), 1e-5, `${form} loss`);
      const g = [await grads[0].data(), await grads[1].data()];
      tf.dispose([zV, zA, m, value, ...grads]);
      const h = 1e-6;
      [v, a].forEach((matrix, which) => {
        for (let i = 0; i < 3; i++) {
          for (let d = 0; d < 4; d++) {
            const shifted = (delta: number) => {
              const copy = matrix.map((row) => [...row]);
              copy[i][d] += delta;
              return which === 0 ? ref(copy, a) : ref(v, copy);
            };
            const numeric = (shifted(h) - shifted(-h)) / (2 * h);
            assertClose(g[which][i * 4 + d], numeric, 2e-4, `${form} d/d${which}[${i},${d}]`);
          }
        }
      });
      // The audio of clip 1 is in no set: no gradient reaches it.
      for (let d = 0; d < 4; d++) assert.ok(g[1][4 + d] === 0, `${form} masked audio`);
    }
  });
}

Deno.test("nceLoss() refuses an unknown form, and symmetric outside the one-way form", async () => {
  await useBackend("cpu");
  const zV = tf.tensor2d(UV);
  const zA = tf.tensor2d(UA);
  assert.throws(
    () => nceLoss(zV, zA, { form: "two-way" as LossForm }),
    /form must be one of "official", "one-way", "symmetric", got "two-way"/,
  );
  assert.throws(() => nceLoss(zV, zA, { symmetric: true }), /symmetric needs form "one-way"/);
  tf.dispose([zV, zA]);
});

Deno.test("nceLoss() official and symmetric leak no tensors", async () => {
  await useBackend("cpu");
  const zV = tf.tensor2d(UV);
  const zA = tf.tensor2d(UA);
  const mask = tf.tensor1d([1, 0, 1]);
  const before = tf.memory().numTensors;
  for (const form of ["official", "symmetric"] as const) {
    tf.dispose(nceLoss(zV, zA, { mask, form }));
    tf.dispose(
      tf.grads((x: tf.Tensor, y: tf.Tensor) =>
        nceLoss(x as tf.Tensor2D, y as tf.Tensor2D, { mask, form })
      )([zV, zA]),
    );
  }
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([zV, zA, mask]);
});
