/**
 * The two-way contrastive kernels' arithmetic (`lib/backend/kernels/contrastive.ts`) against the
 * float64 losses written from the official code's `AsymmetricNCE` / `SymmetricNCE`
 * (`tests/lib/loss/_reference.ts`): values with padded captions, and gradients against finite
 * differences of the reference. The losses' own tests run the kernels through `nceLoss` and
 * `milNceLoss` on `wasm+fused`.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import {
  contrastiveLoss,
  contrastiveLossGrad,
} from "../../../../lib/backend/kernels/contrastive.ts";
import { FUSED_KERNEL_SET } from "../../../../lib/backend/kernels/fused.ts";
import { KERNEL_NAMES } from "../../../../lib/backend/kernels/names.ts";
import { initBackend } from "../../../../lib/backend/select.ts";
import { Rng } from "../../../../lib/util/rng.ts";
import { referenceTwoWay } from "../../loss/_reference.ts";

const [B, P, D] = [4, 3, 5];
const MASK = [[1, 1, 0], [1, 0, 0], [1, 1, 1], [0, 1, 1]];

function randomRows(rng: Rng, rows: number): number[][] {
  return Array.from(
    { length: rows },
    () => Array.from({ length: D }, () => 2 * rng.nextFloat() - 1),
  );
}

/** The kernel's inputs from nested arrays (videos `[B][D]`, captions `[B][P][D]`). */
function inputsOf(v: number[][], x: number[][][], mask: number[][]) {
  return {
    v: v.flat(),
    x: x.flat(2),
    mask: mask.flat(),
    videoMask: v.map(() => 1),
    b: v.length,
    p: x[0].length,
    d: D,
  };
}

for (const form of ["official", "symmetric"] as const) {
  Deno.test(`contrastiveLoss() ${form} equals the official code's formula on padded captions`, () => {
    const rng = new Rng(5);
    const v = randomRows(rng, B);
    const x = Array.from({ length: B }, () => randomRows(rng, P));
    for (const tau of [0.07, 1]) {
      const want = referenceTwoWay(v, x, { mask: MASK, form, tau });
      const got = contrastiveLoss(inputsOf(v, x, MASK), {
        form,
        temperature: tau,
        normalize: true,
      });
      assert.ok(
        Math.abs(got - want) < 1e-9 * Math.max(1, Math.abs(want)),
        `τ ${tau}: ${got} vs ${want}`,
      );
    }
  });

  Deno.test(`contrastiveLossGrad() ${form} is the finite-difference slope of the official formula`, () => {
    const rng = new Rng(6);
    const v = randomRows(rng, B);
    const x = Array.from({ length: B }, () => randomRows(rng, P));
    const tau = 0.3;
    const { dv, dx } = contrastiveLossGrad(
      inputsOf(v, x, MASK),
      { form, temperature: tau, normalize: true },
      2, // dy: the gradient scales with it
    );
    const h = 1e-6;
    const slope = (move: (d: number) => [number[][], number[][][]]) => {
      const f = (d: number) => referenceTwoWay(...move(d), { mask: MASK, form, tau });
      return 2 * (f(h) - f(-h)) / (2 * h);
    };
    for (let i = 0; i < B; i++) {
      for (let k = 0; k < D; k++) {
        const numeric = slope((
          d,
        ) => [v.map((r, a) => r.map((e, b) => a === i && b === k ? e + d : e)), x]);
        assert.ok(
          Math.abs(dv[i * D + k] - numeric) < 1e-6,
          `dv[${i},${k}] ${dv[i * D + k]} vs ${numeric}`,
        );
      }
    }
    for (let j = 0; j < B; j++) {
      for (let p = 0; p < P; p++) {
        for (let k = 0; k < D; k++) {
          const moved = (d: number) =>
            x.map((c, a) =>
              c.map((r, q) => r.map((e, b) => a === j && q === p && b === k ? e + d : e))
            );
          const numeric = slope((d) => [v, moved(d)]);
          const got = dx[(j * P + p) * D + k];
          assert.ok(Math.abs(got - numeric) < 1e-6, `dx[${j},${p},${k}] ${got} vs ${numeric}`);
          if (MASK[j][p] === 0) assert.equal(got, 0, "a padded caption gets no gradient");
        }
      }
    }
  });
}

Deno.test("VattContrastive rejects inputs whose shapes do not fit", async () => {
  await initBackend("wasm");
  assert.ok(FUSED_KERNEL_SET.register());
  try {
    tf.tidy(() => {
      const inputs = {
        v: tf.ones([4, 5]),
        x: tf.ones([7, 5]),
        mask: tf.ones([4, 2]),
        videoMask: tf.ones([4]),
      };
      const attrs = { form: "official", temperature: 0.07, normalize: true };
      assert.throws(
        () => tf.engine().runKernel(KERNEL_NAMES.contrastive, inputs, attrs),
        /do not fit/,
      );
    });
  } finally {
    await tf.setBackend("cpu");
  }
});
