import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  batchDraws,
  type ClipDraw,
  type ClipGeometry,
  drawAugment,
  PAPER_AUGMENT,
  viewDraw,
} from "../../../../lib/data/shards/augment.ts";
import {
  audioWindows,
  colourJitter,
  videoPixels,
} from "../../../../lib/data/shards/_batch_views.ts";

/** The tiny preset's window (8 frames of 32², 0.8 s at 8 kHz) stored with the defaults: 1.2 s, 37². */
const TINY: ClipGeometry = {
  frames: 8,
  storedFrames: 12,
  validFrames: 12,
  size: 32,
  storedSize: 37,
  audioSamples: 6400,
  storedAudioSamples: 9600,
};

Deno.test("viewDraw(): the centre window and crop, the audio at the window's time (hand-computed)", () => {
  const d = viewDraw(TINY);
  // 12 stored frames, 8 in the window: starts 0…4, centre 2 (0.2 s at 10 fps).
  assert.equal(d.start, 2);
  // 0.2 s at 8 kHz: sample 1600 of the 3200 spare.
  assert.equal(d.audioStart, 1600);
  // 37 − 32 = 5 spare pixels: the centre crop starts at 2.
  assert.deepEqual(d.crop, { top: 2, left: 2, height: 32, width: 32 });
  assert.deepEqual(
    [d.flip, d.brightness, d.saturation, d.contrast, d.gain, d.noise],
    [false, 0, 1, 1, 1, 0],
  );
  // A clip with 10 real frames: windows start in 0…2, centre 1 (0.1 s = sample 800).
  const short = viewDraw({ ...TINY, validFrames: 10 });
  assert.deepEqual([short.start, short.audioStart], [1, 800]);
  // Evaluation views: the last window, the left and right crops.
  assert.equal(viewDraw(TINY, { window: 1 }).start, 4);
  assert.equal(viewDraw(TINY, { window: 1 }).audioStart, 3200);
  assert.equal(viewDraw(TINY, { crop: 0 }).crop.left, 0);
  assert.equal(viewDraw(TINY, { crop: 1 }).crop.left, 5);
});

Deno.test("drawAugment() is a function of (seed, step, clip) alone, and differs across steps and clips", () => {
  const at = { seed: 3, step: 17, clip: 5 };
  assert.deepEqual(drawAugment(TINY, at), drawAugment(TINY, { ...at }));
  const key = (d: ClipDraw) => JSON.stringify(d);
  const steps = new Set(
    Array.from({ length: 20 }, (_, s) => key(drawAugment(TINY, { ...at, step: s }))),
  );
  assert.equal(steps.size, 20);
  const clips = new Set(
    Array.from({ length: 20 }, (_, c) => key(drawAugment(TINY, { ...at, clip: c }))),
  );
  assert.equal(clips.size, 20);
  const seeds = new Set(
    Array.from({ length: 20 }, (_, s) => key(drawAugment(TINY, { ...at, seed: s }))),
  );
  assert.equal(seeds.size, 20);
  // Every window start and both flips occur over the steps.
  const starts = new Set(
    Array.from({ length: 200 }, (_, s) => drawAugment(TINY, { ...at, step: s }).start),
  );
  assert.deepEqual([...starts].sort(), [0, 1, 2, 3, 4]);
  const flips = Array.from({ length: 200 }, (_, s) => drawAugment(TINY, { ...at, step: s }).flip);
  assert.ok(flips.includes(true) && flips.includes(false));
});

Deno.test("a drawn window never leaves the clip's real stored span; crops stay inside the stored frame", () => {
  for (const validFrames of [3, 8, 9, 10, 12]) {
    const g = { ...TINY, validFrames };
    const real = Math.max(g.frames, Math.min(validFrames, g.storedFrames));
    for (let step = 0; step < 60; step++) {
      for (let clip = 0; clip < 4; clip++) {
        const d = drawAugment(g, { seed: 1, step, clip });
        assert.ok(d.start >= 0 && d.start + g.frames <= real, `start ${d.start} of ${validFrames}`);
        assert.ok(d.audioStart >= 0 && d.audioStart + g.audioSamples <= g.storedAudioSamples);
        // The audio window is the video window's time: start/10 s at 8 kHz.
        assert.equal(d.audioStart, Math.round((d.start / 10) * 8000));
        const c = d.crop;
        assert.ok(c.top >= 0 && c.left >= 0);
        assert.ok(c.top + c.height <= g.storedSize && c.left + c.width <= g.storedSize);
        // Scale jitter: a region of 32 / [0.8, 1.2] pixels, at most the stored side.
        assert.ok(c.height >= Math.round(32 / 1.2) && c.width >= Math.round(32 / 1.2));
      }
    }
  }
});

Deno.test("drawAugment() without spare frames or size (an old dataset): no window choice, no crop", () => {
  const old = {
    ...TINY,
    storedFrames: 8,
    validFrames: 8,
    storedSize: 32,
    storedAudioSamples: 6400,
  };
  for (let step = 0; step < 30; step++) {
    const d = drawAugment(old, { seed: 0, step, clip: 0 });
    assert.deepEqual([d.start, d.audioStart], [0, 0]);
    assert.deepEqual(d.crop, { top: 0, left: 0, height: 32, width: 32 });
  }
});

Deno.test("drawAugment() draws within the paper's ranges", () => {
  const c = PAPER_AUGMENT.colour;
  let jittered = 0;
  for (let step = 0; step < 300; step++) {
    const d = drawAugment(TINY, { seed: 9, step, clip: 1 });
    assert.ok(Math.abs(d.brightness) <= c.brightness);
    assert.ok(d.saturation >= 0.6 && d.saturation <= 1.4);
    assert.ok(d.contrast >= 0.6 && d.contrast <= 1.4);
    assert.ok(d.gain >= 10 ** (-6 / 20) && d.gain <= 10 ** (6 / 20));
    assert.equal(d.noise, 0.01);
    if (d.brightness !== 0) jittered++;
  }
  // Colour jitter with probability 0.8.
  assert.ok(jittered > 0.7 * 300 && jittered < 0.9 * 300, `${jittered} of 300`);
});

Deno.test("batchDraws(): augment none gives every clip its centre view; paper needs one index per clip", () => {
  const none = batchDraws([TINY, TINY], {
    augment: { mode: "none", seed: 1, step: 3, clips: [4, 5] },
  });
  assert.deepEqual(none, [viewDraw(TINY), viewDraw(TINY)]);
  assert.deepEqual(batchDraws([TINY]), [viewDraw(TINY)]);
  const paper = batchDraws([TINY], { augment: { mode: "paper", seed: 1, step: 3, clips: [4] } });
  assert.deepEqual(paper, [drawAugment(TINY, { seed: 1, step: 3, clip: 4 })]);
  assert.throws(
    () => batchDraws([TINY], { augment: { mode: "paper", seed: 1, step: 3, clips: [] } }),
    /0 clip indices for a batch of 1/,
  );
});

/** A stored clip of `frames` frames of side `side` whose bytes are all different-ish. */
function storedVideo(g: ClipGeometry, clips = 1): Uint8Array {
  const n = clips * g.storedFrames * g.storedSize * g.storedSize * 3;
  return Uint8Array.from({ length: n }, (_, i) => (i * 7919 + (i >> 5)) % 251);
}

Deno.test("videoPixels(): the centre view copies the exact window and crop; the crop has the model's shape", () => {
  const g = { ...TINY, frames: 2, storedFrames: 3, validFrames: 3, size: 4, storedSize: 6 };
  const video = storedVideo(g);
  const px = videoPixels(video, g, [viewDraw(g)]);
  try {
    assert.deepEqual(px.shape, [1, 2, 4, 4, 3]);
    const got = px.arraySync() as number[][][][][];
    // Centre: frames 0…1 + floor(1/2) = 0; pixels 1…4 of 0…5.
    for (let t = 0; t < 2; t++) {
      for (let y = 0; y < 4; y++) {
        for (let x = 0; x < 4; x++) {
          for (let c = 0; c < 3; c++) {
            const i = ((t * 6 + (y + 1)) * 6 + (x + 1)) * 3 + c;
            assert.equal(got[0][t][y][x][c], video[i]);
          }
        }
      }
    }
  } finally {
    px.dispose();
  }
});

Deno.test("videoPixels(): a flip is the exact mirror of the same view, resized crops included", () => {
  const g = { ...TINY, frames: 2, storedFrames: 3, validFrames: 3, size: 4, storedSize: 6 };
  const video = storedVideo(g);
  const views: ClipDraw[] = [
    viewDraw(g),
    { ...viewDraw(g), crop: { top: 0, left: 1, height: 5, width: 3 } }, // scale-jittered, resized
  ];
  for (const d of views) {
    const plain = videoPixels(video, g, [d]);
    const flipped = videoPixels(video, g, [{ ...d, flip: true }]);
    const mirror = tf.reverse(plain, 3);
    try {
      assert.deepEqual(flipped.shape, [1, 2, 4, 4, 3]);
      assert.deepEqual([...flipped.dataSync()], [...mirror.dataSync()]);
      assert.notDeepEqual([...flipped.dataSync()], [...plain.dataSync()]);
    } finally {
      tf.dispose([plain, flipped, mirror]);
    }
  }
});

Deno.test("videoPixels(): a crop region is resized to the model's size (bilinear, corners kept)", () => {
  // One 3×3 frame of a horizontal ramp 0, 100, 200, the whole frame resized to 2×2:
  // the corners are sampled exactly (0 and 200).
  const g = { ...TINY, frames: 1, storedFrames: 1, validFrames: 1, size: 2, storedSize: 3 };
  const video = Uint8Array.from({ length: 27 }, (_, i) => 100 * (Math.floor(i / 3) % 3));
  const px = videoPixels(video, g, [{
    ...viewDraw(g),
    crop: { top: 0, left: 0, height: 3, width: 3 },
  }]);
  try {
    assert.deepEqual(px.shape, [1, 1, 2, 2, 3]);
    assert.deepEqual([...px.dataSync()], [0, 0, 0, 200, 200, 200, 0, 0, 0, 200, 200, 200]);
  } finally {
    px.dispose();
  }
});

Deno.test("colourJitter(): brightness, saturation and contrast as in DMVR's colour augmentation (hand-computed)", () => {
  const plain = viewDraw(TINY);
  const run = (pixels: number[][], d: Partial<ClipDraw>) => {
    const x = tf.tensor(pixels.flat(), [1, 1, 1, pixels.length, 3]);
    const y = colourJitter(x, [{ ...plain, ...d }]);
    const out = [...y.dataSync()];
    tf.dispose([x, y]);
    return out;
  };
  const close = (a: number[], b: number[]) =>
    a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-5, `${a} vs ${b}`));
  // None: x/127.5 − 1.
  close(run([[0, 127.5, 255]], {}), [-1, 0, 1]);
  // Brightness +0.1 on 0.5: 0.6 → 0.2.
  close(run([[127.5, 127.5, 127.5]], { brightness: 0.1 }), [0.2, 0.2, 0.2]);
  // Saturation 0 on pure red: every channel becomes the luma 0.2989.
  close(run([[255, 0, 0]], { saturation: 0 }), [2 * 0.2989 - 1, 2 * 0.2989 - 1, 2 * 0.2989 - 1]);
  // Contrast 2 on a frame of 0.2 and 0.6 (mean 0.4): 0.0 and 0.8.
  close(run([[51, 51, 51], [153, 153, 153]], { contrast: 2 }), [-1, -1, -1, 0.6, 0.6, 0.6]);
  // Clipped to [0, 1] before scaling.
  close(run([[255, 0, 255]], { brightness: 0.5 }), [1, 0, 1]);
});

Deno.test("audioWindows(): the window at the drawn start, the gain, and noise of 0.01 × the peak", () => {
  const g = { ...TINY, audioSamples: 2, storedAudioSamples: 4 };
  const audio = Int16Array.of(0, 8192, -16384, 0); // 0, 0.25, −0.5, 0
  const d = viewDraw(g); // start 1 of 0…2
  assert.deepEqual([...audioWindows(audio, g, [d])], [0.25, -0.5]);
  assert.deepEqual([...audioWindows(audio, g, [{ ...d, gain: 2 }])], [0.5, -1]);
  // Noise: standard deviation 0.01 × max|x| after the gain, the same for the same seed.
  const n = 20000;
  const big = { ...g, audioSamples: n, storedAudioSamples: n };
  const tone = Float32Array.from({ length: n }, (_, k) => 0.5 * Math.sin(k / 10));
  const noisy = { ...viewDraw(big), gain: 2, noise: 0.01, noiseSeed: 42 };
  const a = audioWindows(tone, big, [noisy]);
  assert.deepEqual(a, audioWindows(tone, big, [noisy]));
  assert.notDeepEqual(a, audioWindows(tone, big, [{ ...noisy, noiseSeed: 43 }]));
  const residual = Array.from(a, (v, k) => v - 2 * tone[k]);
  const std = Math.sqrt(residual.reduce((s, v) => s + v * v, 0) / n);
  assert.ok(Math.abs(std - 0.01) < 0.0005, `noise std ${std}, expected 0.01 × peak 1`);
  // A clip without sound stays silent.
  const silent = audioWindows(new Float32Array(n), big, [noisy]);
  assert.ok(silent.every((v) => v === 0));
});

Deno.test("videoPixels() and colourJitter() leave no tensors behind", () => {
  const g = { ...TINY, frames: 2, storedFrames: 3, validFrames: 3, size: 4, storedSize: 6 };
  const video = storedVideo(g, 2);
  const before = tf.memory().numTensors;
  const draws = [0, 1].map((clip) => drawAugment(g, { seed: 1, step: 0, clip }));
  const px = videoPixels(video, g, draws);
  const out = colourJitter(px, draws);
  tf.dispose([px, out]);
  assert.equal(tf.memory().numTensors, before);
});
