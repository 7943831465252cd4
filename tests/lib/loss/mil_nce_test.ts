import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import type { LossForm } from "../../../lib/config/pretrain_config.ts";
import { milNceLoss, type MilNceLossOptions } from "../../../lib/loss/mil_nce.ts";
import { nceLoss } from "../../../lib/loss/nce.ts";
import { Rng } from "../../../lib/util/rng.ts";
import { assertClose, BACKENDS, dot, take, unit, useBackend } from "./_backends.ts";
import { referenceTwoWay } from "./_reference.ts";

// A fixed case: three clips, two captions each, two-dimensional embeddings.
const V = [[1, 2], [-1, 0.5], [0.3, -2]];
const T = [[[0.5, 1], [1, -1]], [[-2, 1], [-1, -1]], [[1, 1], [0, 1]]];

interface RefOptions {
  temperature?: number;
  mask?: number[][];
  normalize?: boolean;
}

/** MIL-NCE in float64, as the paper writes it: −log(Σ_pos e^s / Σ_all e^s). */
function referenceMilNce(v: number[][], t: number[][][], options: RefOptions = {}): number {
  const tau = options.temperature ?? 0.07;
  const normalize = options.normalize ?? true;
  const mask = options.mask ?? t.map((captions) => captions.map(() => 1));
  const vv = normalize ? v.map(unit) : v;
  const tt = normalize ? t.map((captions) => captions.map(unit)) : t;
  const withText = mask.flatMap((row, i) => (row.some((m) => m > 0) ? [i] : []));
  if (withText.length === 0) return 0;
  let total = 0;
  for (const i of withText) {
    let positive = 0;
    let all = 0;
    tt.forEach((captions, j) =>
      captions.forEach((caption, p) => {
        if (mask[j][p] <= 0) return;
        const e = Math.exp(dot(vv[i], caption) / tau);
        all += e;
        if (j === i) positive += e;
      })
    );
    total += -Math.log(positive / all);
  }
  return total / withText.length;
}

/** The one-way form, which `referenceMilNce` computes. */
function toOptions(options: RefOptions): MilNceLossOptions {
  const { mask, ...rest } = options;
  const oneWay = { form: "one-way" as const, ...rest };
  return mask === undefined ? oneWay : { ...oneWay, mask: tf.tensor2d(mask) };
}

async function milNce(v: number[][], t: number[][][], options: RefOptions = {}): Promise<number> {
  const opts = toOptions(options);
  const zV = tf.tensor2d(v);
  const zT = tf.tensor3d(t);
  const value = await take(milNceLoss(zV, zT, opts));
  tf.dispose([zV, zT, opts.mask]);
  return value;
}

function randomTensor(rng: Rng, shape: number[]): number[] {
  return Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal());
}

for (const backend of BACKENDS) {
  Deno.test(`milNceLoss() one-way on ${backend} matches hand-computed losses`, async (t) => {
    await useBackend(backend);
    const v = V.map(unit);
    const txt = T.map((captions) => captions.map(unit));
    const e = (i: number, j: number, p: number, tau: number) =>
      Math.exp(dot(v[i], txt[j][p]) / tau);

    await t.step("two real captions per clip, τ 0.07 and 0.5", async () => {
      for (const tau of [0.07, 0.5]) {
        let expected = 0;
        for (let i = 0; i < 3; i++) {
          const positive = e(i, i, 0, tau) + e(i, i, 1, tau);
          let all = 0;
          for (let j = 0; j < 3; j++) all += e(i, j, 0, tau) + e(i, j, 1, tau);
          expected += -Math.log(positive / all);
        }
        expected /= 3;
        assertClose(await milNce(V, T, { temperature: tau }), expected, 1e-5, `τ=${tau}`);
      }
    });
    await t.step("masked-out captions count neither as positives nor negatives", async () => {
      const tau = 0.2;
      const mask = [[1, 0], [1, 1], [0, 1]];
      const negatives = (i: number) =>
        e(i, 0, 0, tau) + e(i, 1, 0, tau) + e(i, 1, 1, tau) + e(i, 2, 1, tau);
      const expected = (-Math.log(e(0, 0, 0, tau) / negatives(0)) -
        Math.log((e(1, 1, 0, tau) + e(1, 1, 1, tau)) / negatives(1)) -
        Math.log(e(2, 2, 1, tau) / negatives(2))) / 3;
      assertClose(await milNce(V, T, { temperature: tau, mask }), expected, 1e-5);
    });
    await t.step("a clip with no caption leaves the average and the negatives", async () => {
      const mask = [[1, 1], [0, 0], [1, 0]];
      const tau = 0.07;
      const all = (i: number) => e(i, 0, 0, tau) + e(i, 0, 1, tau) + e(i, 2, 0, tau);
      const expected = (-Math.log((e(0, 0, 0, tau) + e(0, 0, 1, tau)) / all(0)) -
        Math.log(e(2, 2, 0, tau) / all(2))) / 2;
      const masked = await milNce(V, T, { mask });
      assertClose(masked, expected, 1e-5, "masked loss");
      const subBatch = await milNce([V[0], V[2]], [T[0], T[2]], { mask: [[1, 1], [1, 0]] });
      assertClose(masked, subBatch, 1e-5, "same as the batch without clip 1");
    });
    await t.step("a batch with no caption at all gives 0 and a zero gradient", async () => {
      assert.ok((await milNce(V, T, { mask: [[0, 0], [0, 0], [0, 0]] })) === 0);
      const zV = tf.tensor2d(V);
      const zT = tf.tensor3d(T);
      const mask = tf.zeros([3, 2]) as tf.Tensor2D;
      const [gV, gT] = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
        milNceLoss(x as tf.Tensor2D, y as tf.Tensor3D, { mask })
      )([zV, zT]);
      for (const value of [...await gV.data(), ...await gT.data()]) {
        assert.ok(value === 0, `gradient ${value}`);
      }
      tf.dispose([zV, zT, mask, gV, gT]);
    });
    await t.step("one caption per clip is the video→text NCE loss", async () => {
      const single = T.map((captions) => [captions[1]]);
      const zV = tf.tensor2d(V);
      const zT = tf.tensor3d(single);
      const zA = tf.tensor2d(single.map((captions) => captions[0]));
      const mil = await take(milNceLoss(zV, zT, { temperature: 0.3, form: "one-way" }));
      const nce = await take(nceLoss(zV, zA, { temperature: 0.3, form: "one-way" }));
      tf.dispose([zV, zT, zA]);
      assertClose(mil, nce, 1e-5);
      assertClose(mil, referenceMilNce(V, single, { temperature: 0.3 }), 1e-5);
    });
  });

  Deno.test(`milNceLoss() on ${backend} has the gradient of finite differences`, async () => {
    await useBackend(backend);
    const rng = new Rng(3);
    const [B, P, D] = [3, 2, 3];
    const vFlat = randomTensor(rng, [B, D]);
    const tFlat = randomTensor(rng, [B, P, D]);
    const shapeV = (flat: number[]) =>
      Array.from({ length: B }, (_, i) => flat.slice(i * D, i * D + D));
    const shapeT = (flat: number[]) =>
      Array.from(
        { length: B },
        (_, i) =>
          Array.from({ length: P }, (_, p) => flat.slice((i * P + p) * D, (i * P + p + 1) * D)),
      );
    const ref: RefOptions = { temperature: 0.25, mask: [[1, 0], [1, 1], [0, 1]] };
    const opts = toOptions(ref);
    const zV = tf.tensor2d(vFlat, [B, D]);
    const zT = tf.tensor3d(tFlat, [B, P, D]);
    const [gV, gT] = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
      milNceLoss(x as tf.Tensor2D, y as tf.Tensor3D, opts)
    )([zV, zT]);
    const grads = [await gV.data(), await gT.data()];
    tf.dispose([zV, zT, gV, gT, opts.mask]);
    const h = 1e-6;
    [vFlat, tFlat].forEach((flat, which) => {
      for (let k = 0; k < flat.length; k++) {
        const plus = [...flat];
        const minus = [...flat];
        plus[k] += h;
        minus[k] -= h;
        const f = (x: number[]) =>
          which === 0
            ? referenceMilNce(shapeV(x), shapeT(tFlat), ref)
            : referenceMilNce(shapeV(vFlat), shapeT(x), ref);
        const numeric = (f(plus) - f(minus)) / (2 * h);
        assertClose(grads[which][k], numeric, 2e-4, `d/d${which ? "zT" : "zV"}[${k}]`);
      }
    });
    // The masked-out caption (clip 0, caption 1) gets no gradient at all.
    for (let d = 0; d < D; d++) assert.ok(grads[1][(0 * P + 1) * D + d] === 0);
  });

  Deno.test(`milNceLoss() on ${backend} ignores the scale of its inputs when normalize is on`, async () => {
    await useBackend(backend);
    const scaledV = V.map((row, i) => row.map((x) => x * [3, 0.2, 11][i]));
    const scaledT = T.map((captions, i) =>
      captions.map((caption, p) => caption.map((x) => x * (i + 1) * (p === 0 ? 0.5 : 40)))
    );
    const mask = [[1, 1], [0, 1], [1, 0]];
    assertClose(await milNce(scaledV, scaledT, { mask }), await milNce(V, T, { mask }), 1e-5);
    const raw = await milNce(V, T, { normalize: false, temperature: 1 });
    assertClose(raw, referenceMilNce(V, T, { normalize: false, temperature: 1 }), 1e-5, "raw");
    const rawScaled = await milNce(scaledV, scaledT, { normalize: false, temperature: 1 });
    assert.ok(Math.abs(raw - rawScaled) > 1e-2, "without normalize the scale matters");
  });

  Deno.test(`milNceLoss() on ${backend} leaks no tensors`, async () => {
    await useBackend(backend);
    const zV = tf.tensor2d(V);
    const zT = tf.tensor3d(T);
    const mask = tf.tensor2d([[1, 0], [1, 1], [0, 0]]);
    const before = tf.memory().numTensors;
    const loss = milNceLoss(zV, zT, { mask });
    assert.equal(tf.memory().numTensors, before + 1);
    loss.dispose();
    const grads = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
      milNceLoss(x as tf.Tensor2D, y as tf.Tensor3D, { mask })
    )([zV, zT]);
    tf.dispose(grads);
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([zV, zT, mask]);
  });
}

Deno.test("milNceLoss() gives the same losses and gradients on cpu and wasm (within 1e-5)", async () => {
  const rng = new Rng(5);
  const [B, P, D] = [5, 3, 8];
  const vFlat = randomTensor(rng, [B, D]);
  const tFlat = randomTensor(rng, [B, P, D]);
  const masks = [
    undefined,
    [[1, 1, 0], [0, 0, 0], [1, 0, 0], [1, 1, 1], [0, 1, 0]],
  ];
  const results: Record<string, number[][]> = {};
  for (const backend of BACKENDS) {
    await useBackend(backend);
    results[backend] = [];
    for (const mask of masks) {
      for (const temperature of [0.07, 1]) {
        const opts = toOptions({ mask, temperature });
        const zV = tf.tensor2d(vFlat, [B, D]);
        const zT = tf.tensor3d(tFlat, [B, P, D]);
        const { value, grads } = tf.valueAndGrads((x: tf.Tensor, y: tf.Tensor) =>
          milNceLoss(x as tf.Tensor2D, y as tf.Tensor3D, opts)
        )([zV, zT]);
        results[backend].push([
          (await value.data())[0],
          ...await grads[0].data(),
          ...await grads[1].data(),
        ]);
        tf.dispose([zV, zT, value, ...grads, opts.mask]);
      }
    }
  }
  await useBackend("cpu");
  assert.equal(results.cpu.length, 4);
  results.cpu.forEach((values, c) => {
    assert.ok(Number.isFinite(values[0]) && values[0] > 0, `case ${c} loss ${values[0]}`);
    for (const other of ["wasm", "wasm+fused"]) {
      values.forEach((x, k) =>
        assertClose(results[other][c][k], x, 1e-5, `${other} case ${c} entry ${k}`)
      );
    }
  });
});

Deno.test("milNceLoss() rejects inputs that do not fit", async () => {
  await useBackend("cpu");
  const zV = tf.tensor2d(V);
  const zT = tf.tensor3d(T);
  const wrongDim = tf.zeros([3, 2, 5]) as tf.Tensor3D;
  const wrongBatch = tf.zeros([2, 2, 2]) as tf.Tensor3D;
  assert.throws(() => milNceLoss(zV, wrongDim), /expected \[3, P, 2\]/);
  assert.throws(() => milNceLoss(zV, wrongBatch), RangeError);
  assert.throws(() => milNceLoss(zV, zV as unknown as tf.Tensor3D), TypeError);
  assert.throws(() => milNceLoss(zV, zT, { temperature: 0 }), RangeError);
  const mask = tf.ones([3, 3]) as tf.Tensor2D;
  assert.throws(() => milNceLoss(zV, zT, { mask }), /mask \[3, 3\] must have shape \[3, 2\]/);
  tf.dispose([zV, zT, wrongDim, wrongBatch, mask]);
});

// Unit vectors with round dot products, for the official and symmetric forms at τ = 1.
// s(v_i, x_jp), row i = video i, columns x_00 x_01 | x_10 x_11 | x_20 x_21:
//   v_0: 1    0.6 | 0    0.8  |  0.6  −1
//   v_1: 0    0.8 | 1    0.6  | −0.8   0
//   v_2: 0.6  1   | 0.8  0.96 | −0.28 −0.6
const UV = [[1, 0], [0, 1], [0.6, 0.8]];
const UT = [[[1, 0], [0.6, 0.8]], [[0, 1], [0.8, 0.6]], [[0.6, -0.8], [-1, 0]]];
/** log Σ e^x over the listed scores. */
const L = (...xs: number[]) => Math.log(xs.reduce((sum, x) => sum + Math.exp(x), 0));

for (const backend of BACKENDS) {
  Deno.test(`milNceLoss() official and symmetric on ${backend} match hand-computed losses`, async (t) => {
    await useBackend(backend);
    const run = async (form: LossForm, mask?: number[][]) => {
      const zV = tf.tensor2d(UV);
      const zT = tf.tensor3d(UT);
      const m = mask === undefined ? undefined : tf.tensor2d(mask);
      const value = await take(milNceLoss(zV, zT, { temperature: 1, form, mask: m }));
      tf.dispose([zV, zT, m]);
      return value;
    };
    // Per clip i: vt = row i (v_i against every caption), tv = every video against clip i's
    // captions, pos = v_i against its own captions.
    const vt = [[1, 0.6, 0, 0.8, 0.6, -1], [0, 0.8, 1, 0.6, -0.8, 0], [
      0.6,
      1,
      0.8,
      0.96,
      -0.28,
      -0.6,
    ]];
    const tv = [[1, 0.6, 0, 0.8, 0.6, 1], [0, 0.8, 1, 0.6, 0.8, 0.96], [
      0.6,
      -1,
      -0.8,
      0,
      -0.28,
      -0.6,
    ]];
    const pos = [[1, 0.6], [1, 0.6], [-0.28, -0.6]];
    await t.step("official: one denominator of both directions per clip", async () => {
      const expected = [0, 1, 2].reduce((sum, i) => sum + L(...vt[i], ...tv[i]) - L(...pos[i]), 0) /
        3;
      assertClose(await run("official"), expected, 1e-6);
    });
    await t.step("symmetric: the sum of the two directions, each a mean", async () => {
      const a = [0, 1, 2].reduce((sum, i) => sum + L(...vt[i]) - L(...pos[i]), 0) / 3;
      const b = [0, 1, 2].reduce((sum, i) => sum + L(...tv[i]) - L(...pos[i]), 0) / 3;
      assertClose(await run("symmetric"), a + b, 1e-6);
    });
    await t.step("a padded caption and a clip without captions, on both sides", async () => {
      // Clip 1 has no caption, clip 2's caption 1 is padding: x_1·, x_21 are in no set; v_1
      // stays a negative for the captions of clips 0 and 2.
      const mask = [[1, 1], [0, 0], [1, 0]];
      const vt0 = [1, 0.6, 0.6];
      const tv0 = [1, 0.6, 0, 0.8, 0.6, 1];
      const vt2 = [0.6, 1, -0.28];
      const tv2 = [0.6, -0.8, -0.28];
      const official = (L(...vt0, ...tv0) - L(1, 0.6) + L(...vt2, ...tv2) - -0.28) / 2;
      assertClose(await run("official", mask), official, 1e-6, "official");
      const symmetric = (L(...vt0) - L(1, 0.6) + L(...vt2) - -0.28) / 2 +
        (L(...tv0) - L(1, 0.6) + L(...tv2) - -0.28) / 2;
      assertClose(await run("symmetric", mask), symmetric, 1e-6, "symmetric");
    });
    await t.step("no real caption at all: exactly 0, finite zero gradients", async () => {
      for (const form of ["official", "symmetric"] as const) {
        assert.ok((await run(form, [[0, 0], [0, 0], [0, 0]])) === 0, form);
        const zV = tf.tensor2d(UV);
        const zT = tf.tensor3d(UT);
        const mask = tf.zeros([3, 2]) as tf.Tensor2D;
        const grads = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
          milNceLoss(x as tf.Tensor2D, y as tf.Tensor3D, { mask, form })
        )([zV, zT]);
        for (const g of [...await grads[0].data(), ...await grads[1].data()]) {
          assert.ok(g === 0, `${form} gradient ${g}`);
        }
        tf.dispose([zV, zT, mask, ...grads]);
      }
    });
    await t.step("one caption per clip is the NCE of the same form", async () => {
      for (const form of ["official", "symmetric"] as const) {
        const zV = tf.tensor2d(UV);
        const zT = tf.tensor3d(UT.map((captions) => [captions[1]]));
        const zA = tf.tensor2d(UT.map((captions) => captions[1]));
        const mil = await take(milNceLoss(zV, zT, { temperature: 0.3, form }));
        const nce = await take(nceLoss(zV, zA, { temperature: 0.3, form }));
        tf.dispose([zV, zT, zA]);
        assertClose(mil, nce, 1e-5, form);
      }
    });
  });

  Deno.test(`milNceLoss() official and symmetric on ${backend} have finite-difference gradients`, async () => {
    await useBackend(backend);
    const rng = new Rng(17);
    const [B, P, D] = [3, 2, 3];
    const vFlat = randomTensor(rng, [B, D]);
    const tFlat = randomTensor(rng, [B, P, D]);
    const shapeV = (flat: number[]) =>
      Array.from({ length: B }, (_, i) => flat.slice(i * D, i * D + D));
    const shapeT = (flat: number[]) =>
      Array.from(
        { length: B },
        (_, i) =>
          Array.from({ length: P }, (_, p) => flat.slice((i * P + p) * D, (i * P + p + 1) * D)),
      );
    const mask = [[1, 0], [0, 0], [1, 1]];
    for (const form of ["official", "symmetric"] as const) {
      const ref = (v: number[], x: number[]) =>
        referenceTwoWay(shapeV(v), shapeT(x), { mask, form, tau: 0.25 });
      const zV = tf.tensor2d(vFlat, [B, D]);
      const zT = tf.tensor3d(tFlat, [B, P, D]);
      const m = tf.tensor2d(mask);
      const { value, grads } = tf.valueAndGrads((x: tf.Tensor, y: tf.Tensor) =>
        milNceLoss(x as tf.Tensor2D, y as tf.Tensor3D, { mask: m, form, temperature: 0.25 })
      )([zV, zT]);
      assertClose((await value.data())[0], ref(vFlat, tFlat), 1e-5, `${form} loss`);
      const g = [await grads[0].data(), await grads[1].data()];
      tf.dispose([zV, zT, m, value, ...grads]);
      const h = 1e-6;
      [vFlat, tFlat].forEach((flat, which) => {
        for (let k = 0; k < flat.length; k++) {
          const shifted = (delta: number) => {
            const copy = [...flat];
            copy[k] += delta;
            return which === 0 ? ref(copy, tFlat) : ref(vFlat, copy);
          };
          const numeric = (shifted(h) - shifted(-h)) / (2 * h);
          assert.ok(Number.isFinite(g[which][k]), `${form} gradient ${k} finite`);
          assertClose(g[which][k], numeric, 2e-4, `${form} d/d${which ? "zT" : "zV"}[${k}]`);
        }
      });
      // Padded captions (clip 0 caption 1, both of clip 1) get no gradient at all.
      for (const c of [1, 2, 3]) {
        for (let d = 0; d < D; d++) assert.ok(g[1][c * D + d] === 0, `${form} caption ${c}`);
      }
    }
  });
}

Deno.test("milNceLoss() refuses an unknown form", async () => {
  await useBackend("cpu");
  const zV = tf.tensor2d(UV);
  const zT = tf.tensor3d(UT);
  assert.throws(() => milNceLoss(zV, zT, { form: "both" as LossForm }), /form must be one of/);
  tf.dispose([zV, zT]);
});

Deno.test("milNceLoss() official and symmetric leak no tensors", async () => {
  await useBackend("cpu");
  const zV = tf.tensor2d(UV);
  const zT = tf.tensor3d(UT);
  const mask = tf.tensor2d([[1, 0], [0, 0], [1, 1]]);
  const before = tf.memory().numTensors;
  for (const form of ["official", "symmetric"] as const) {
    tf.dispose(milNceLoss(zV, zT, { mask, form }));
    tf.dispose(
      tf.grads((x: tf.Tensor, y: tf.Tensor) =>
        milNceLoss(x as tf.Tensor2D, y as tf.Tensor3D, { mask, form })
      )([zV, zT]),
    );
  }
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([zV, zT, mask]);
});
