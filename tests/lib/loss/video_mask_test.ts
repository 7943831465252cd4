/**
 * The video mask of `nceLoss()` and `milNceLoss()`: an audio-only clip (video mask 0) is
 * neither a positive nor a negative for its video, as the official `SymmetricNCE` masks
 * either side (`vatt/utils/train/objectives.py`: "any similarity based on an invalid
 * modality sample is an outlier"). Hand-computed with τ = 1 and no normalisation.
 */
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { nceLoss } from "../../../lib/loss/nce.ts";
import { milNceLoss } from "../../../lib/loss/mil_nce.ts";
import { assertClose, BACKENDS, useBackend } from "./_backends.ts";

// Three clips; clip 2 has no video (its row of zV is what a zero clip might embed to: large,
// so a leak of it into any log-sum-exp would move the loss a lot).
const V = [[1, 0], [0, 1], [5, 5]];
const A = [[1, 0], [0, 1], [1, 1]];
// s = V·Aᵀ: row 0 [1, 0, 1], row 1 [0, 1, 1], row 2 [5, 5, 10].
const E = Math.E;
const options = { temperature: 1, normalize: false } as const;

async function value(t: tf.Scalar): Promise<number> {
  const v = (await t.data())[0];
  t.dispose();
  return v;
}

for (const backend of BACKENDS) {
  Deno.test(`nceLoss() on ${backend} leaves a clip without video out of every form (hand-computed)`, async (t) => {
    await useBackend(backend);
    const zV = tf.tensor2d(V);
    const zA = tf.tensor2d(A);
    const videoMask = tf.tensor1d([1, 1, 0]);
    await t.step(
      "one-way: clip 2 leaves every log-sum-exp, as a clip without audio does",
      async () => {
        // Rows 0, 1 over columns 0, 1: log(e + 1) − 1, in both directions.
        const got = await value(nceLoss(zV, zA, { ...options, form: "one-way", videoMask }));
        assertClose(got, Math.log(E + 1) - 1, 1e-6);
        const both = await value(
          nceLoss(zV, zA, { ...options, form: "one-way", symmetric: true, videoMask }),
        );
        assertClose(both, Math.log(E + 1) - 1, 1e-6);
      },
    );
    await t.step("official (AsymmetricNCE): one denominator without video 2", async () => {
      // Row 0: {s00, s01, s02} ∪ {s00, s10} = {1, 0, 1, 1, 0}; row 1 the same multiset.
      const got = await value(nceLoss(zV, zA, { ...options, videoMask }));
      assertClose(got, Math.log(3 * E + 2) - 1, 1e-6);
    });
    await t.step("symmetric (SymmetricNCE): the sum of both directions", async () => {
      const got = await value(nceLoss(zV, zA, { ...options, form: "symmetric", videoMask }));
      assertClose(got, Math.log(2 * E + 1) + Math.log(E + 1) - 2, 1e-6);
    });
    await t.step("with the audio mask too: a clip needs both to count", async () => {
      // Clip 1 has no audio, clip 2 no video: official row 0 only, {s00, s02} ∪ {s00, s10}
      // = {1, 1, 1, 0}: log(3e + 1) − 1.
      const mask = tf.tensor1d([1, 0, 1]);
      const got = await value(nceLoss(zV, zA, { ...options, mask, videoMask }));
      mask.dispose();
      assertClose(got, Math.log(3 * E + 1) - 1, 1e-6);
    });
    tf.dispose([zV, zA, videoMask]);
  });

  Deno.test(`nceLoss() and milNceLoss() on ${backend} give the video of a clip without video no gradient`, async () => {
    await useBackend(backend);
    const zA = tf.tensor2d(A);
    const zT = tf.tensor3d(A.map((a) => [a]));
    const videoMask = tf.tensor1d([1, 1, 0]);
    for (const form of ["official", "symmetric", "one-way"] as const) {
      const grad = tf.grad((zV: tf.Tensor) =>
        tf.add(
          nceLoss(zV as tf.Tensor2D, zA, { form, videoMask }),
          milNceLoss(zV as tf.Tensor2D, zT, { form, videoMask }),
        )
      );
      const g = grad(tf.tensor2d(V));
      const rows = await g.array() as number[][];
      g.dispose();
      assert.deepEqual(rows[2], [0, 0], `${form}: the masked video's gradient`);
      assert.ok(rows[0].some((x) => x !== 0), `${form}: a clip with video still learns`);
    }
    tf.dispose([zA, zT, videoMask]);
  });

  Deno.test(`milNceLoss() on ${backend} leaves a clip without video out (hand-computed)`, async () => {
    await useBackend(backend);
    const zV = tf.tensor2d(V);
    // One caption per clip, equal to the audio rows above: the same scores s.
    const zT = tf.tensor3d(A.map((a) => [a]));
    const videoMask = tf.tensor1d([1, 1, 0]);
    // One-way: video 2 is no row; every real caption (clip 2's too) is a negative.
    const oneWay = await value(milNceLoss(zV, zT, { ...options, form: "one-way", videoMask }));
    assertClose(oneWay, Math.log(2 * E + 1) - 1, 1e-6);
    const official = await value(milNceLoss(zV, zT, { ...options, videoMask }));
    assertClose(official, Math.log(3 * E + 2) - 1, 1e-6);
    // Without the mask clip 2 counts, and video 2 is a negative for rows 0 and 1:
    // rows 0, 1: log(3e + 2 + e^5) − 1; row 2: {5, 5, 10} ∪ {1, 1, 10} → log(2e^5 + 2e^10 + 2e) − 10.
    const unmasked = await value(milNceLoss(zV, zT, { ...options }));
    const row2 = Math.log(2 * Math.exp(5) + 2 * Math.exp(10) + 2 * E) - 10;
    const row0 = Math.log(3 * E + 2 + Math.exp(5)) - 1;
    assertClose(unmasked, (2 * row0 + row2) / 3, 1e-5);
    tf.dispose([zV, zT, videoMask]);
  });
}
