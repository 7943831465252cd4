import assert from "node:assert/strict";
import { viewDraw } from "../../../../lib/data/shards/augment.ts";
import { cropFractions, planViews, windowFractions } from "../../../../lib/eval/classify/views.ts";

Deno.test("windowFractions() spaces K windows evenly over the spare frames, first and last included", () => {
  assert.deepEqual(windowFractions(4), [0, 1 / 3, 2 / 3, 1]);
  assert.deepEqual(windowFractions(2), [0, 1]);
  assert.deepEqual(windowFractions(1), [0.5]); // the centre window
  assert.throws(() => windowFractions(0), /windows must be a positive integer, got 0/);
  assert.throws(() => windowFractions(1.5), RangeError);
});

Deno.test("windowFractions() give the official linspace starts once placed by viewDraw()", () => {
  // 32 stored frames, a model window of 8: starts 0…24, so 4 windows start at 0, 8, 16, 24
  // (DMVR's sample_linspace_sequence over the clip).
  const g = {
    frames: 8,
    storedFrames: 32,
    validFrames: 32,
    size: 4,
    storedSize: 4,
    audioSamples: 80,
    storedAudioSamples: 320,
  };
  const starts = windowFractions(4).map((w) => viewDraw(g, { window: w }).start);
  assert.deepEqual(starts, [0, 8, 16, 24]);
  // The audio windows follow the frames: the same times.
  assert.deepEqual(windowFractions(4).map((w) => viewDraw(g, { window: w }).audioStart), [
    0,
    80,
    160,
    240,
  ]);
});

Deno.test("cropFractions() gives the centre crop, or the left, centre and right ones", () => {
  assert.deepEqual(cropFractions(1), [0.5]);
  assert.deepEqual(cropFractions(3), [0, 0.5, 1]);
  assert.throws(() => cropFractions(2), /crops must be 1 or 3, got 2/);
  // 37² stored, a 32² crop: columns 0, 2 and 5, rows from 2 (vertically centred).
  const g = {
    frames: 1,
    storedFrames: 1,
    validFrames: 1,
    size: 32,
    storedSize: 37,
    audioSamples: 1,
    storedAudioSamples: 1,
  };
  assert.deepEqual(cropFractions(3).map((c) => viewDraw(g, { crop: c }).crop), [
    { top: 2, left: 0, height: 32, width: 32 },
    { top: 2, left: 2, height: 32, width: 32 },
    { top: 2, left: 5, height: 32, width: 32 },
  ]);
});

Deno.test("planViews() takes every window with every crop, and merges them where nothing is spare", async (t) => {
  const model = { frames: 8, size: 32, audioSamples: 800 };
  await t.step("a longer span and larger frames: K × 3 views of weight 1", () => {
    const p = planViews({ frames: 16, size: 36, audioSamples: 1600 }, model, {
      windows: 2,
      crops: 3,
    });
    assert.deepEqual(p.views.map((v) => [v.view.window, v.view.crop, v.weight]), [
      [0, 0, 1],
      [0, 0.5, 1],
      [0, 1, 1],
      [1, 0, 1],
      [1, 0.5, 1],
      [1, 1, 1],
    ]);
    assert.equal(p.windowsIdentical, false);
    assert.equal(p.cropsIdentical, false);
  });
  await t.step("clips stored at the model's sizes: one view standing for K × 3", () => {
    const p = planViews(model, model, { windows: 4, crops: 3 });
    assert.deepEqual(p.views, [{ view: { window: 0.5, crop: 0.5 }, weight: 12 }]);
    assert.equal(p.windowsIdentical, true);
    assert.equal(p.cropsIdentical, true);
  });
  await t.step("a longer audio span alone still gives distinct windows", () => {
    const p = planViews({ ...model, audioSamples: 1200 }, model, { windows: 2, crops: 1 });
    assert.equal(p.views.length, 2);
    assert.equal(p.windowsIdentical, false);
  });
});
