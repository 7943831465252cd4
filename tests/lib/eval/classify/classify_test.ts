import assert from "node:assert/strict";
import { classificationReport } from "../../../../lib/eval/classify/classify.ts";

Deno.test("classificationReport() on single-label logits: accuracy, loss, chance, confusion", () => {
  // 3 clips × 6 classes.
  const logits = new Float32Array([
    5,
    1,
    0,
    0,
    0,
    0, // true 0: right
    1,
    0,
    2,
    3,
    4,
    5, // true 1: last of 6
    0,
    0,
    9,
    0,
    0,
    1, // true 5: rank 2
  ]);
  const labels = new Int32Array([0, 1, 5]);
  const r = classificationReport(logits, labels, {
    numClasses: 6,
    multiLabel: false,
    confusion: true,
  });
  assert.equal(r.clips, 3);
  assert.equal(r.top1, 1 / 3);
  assert.equal(r.top5, 2 / 3);
  assert.deepEqual(r.chance, { top1: 1 / 6, top5: 5 / 6 });
  let loss = 0;
  for (let i = 0; i < 3; i++) {
    const row = Array.from(logits.subarray(i * 6, i * 6 + 6));
    loss -= Math.log(Math.exp(row[labels[i]]) / row.reduce((s, v) => s + Math.exp(v), 0));
  }
  assert.ok(Math.abs(r.loss - loss / 3) < 1e-9);
  assert.equal(r.confusion![0][0], 1);
  assert.equal(r.confusion![1][5], 1);
  assert.equal(r.confusion![5][2], 1);
  assert.equal(r.confusion!.flat().reduce((a, b) => a + b, 0), 3);
  assert.equal(r.mAP, undefined);
});

Deno.test("classificationReport() takes top-K with K = C when there are fewer than 5 classes", () => {
  const r = classificationReport(new Float32Array([0, 1, 1, 0]), new Int32Array([0, 0]), {
    numClasses: 2,
    multiLabel: false,
  });
  assert.equal(r.top1, 0.5);
  assert.equal(r.top5, 1);
  assert.equal(r.chance.top5, 1);
  assert.equal(r.confusion, undefined);
});

Deno.test("classificationReport() on multi-label logits: mAP, ROC-AUC, sigmoid loss", () => {
  const logits = new Float32Array([2, -1, 0.5, 1, -2, 0]);
  const targets = new Uint8Array([1, 0, 1, 1, 0, 0]); // 2 clips × 3 classes
  const r = classificationReport(logits, targets, { numClasses: 3, multiLabel: true });
  assert.equal(r.clips, 2);
  // class 0: both positive → AP 1, AUC undefined; class 1: no positive; class 2: pos 0.5 > neg 0.
  assert.equal(r.mAP, 1);
  assert.equal(r.rocAuc, 1);
  const sig = (z: number) => 1 / (1 + Math.exp(-z));
  let loss = 0;
  logits.forEach((z, i) => {
    loss -= targets[i] ? Math.log(sig(z)) : Math.log(1 - sig(z));
  });
  assert.ok(Math.abs(r.loss - loss / 6) < 1e-9);
  assert.equal(r.chance.mAP, 3 / 6);
  assert.equal(r.chance.rocAuc, 0.5);
  assert.equal(r.top1, undefined);
});

Deno.test("classificationReport() rejects logits that do not split into rows", () => {
  assert.throws(
    () =>
      classificationReport(new Float32Array(5), new Int32Array([0, 0]), {
        numClasses: 2,
        multiLabel: false,
      }),
    RangeError,
  );
});

Deno.test("classifyDataset() with views averages each clip's logits over windows × crops", async () => {
  const tf = await import("@tensorflow/tfjs-core");
  await import("@tensorflow/tfjs-backend-cpu");
  await tf.setBackend("cpu");
  const { classifyDataset } = await import("../../../../lib/eval/classify/classify.ts");
  const { planViews } = await import("../../../../lib/eval/classify/views.ts");
  // A stand-in classifier that is not linear in its input: logits [m², a], with m the mean of
  // the video it sees (scaled to [−1, 1]) and a the mean of its audio.
  const classifier = {
    spec: { labels: { names: ["x", "y"] } },
    logits: (
      x: {
        video: import("@tensorflow/tfjs-core").Tensor;
        audio: import("@tensorflow/tfjs-core").Tensor;
      },
    ) =>
      tf.tidy(() => {
        const m = tf.mean(tf.reshape(x.video, [x.video.shape[0], -1]), 1);
        const a = tf.mean(x.audio, 1);
        return tf.stack([tf.square(m), a], 1);
      }),
  };
  // One stored clip of 3 frames of 4×4 pixels, pixel value 30·t + 10·x + y; audio [0.2, 0.4, 0.8].
  const video = new Uint8Array(3 * 4 * 4 * 3);
  for (let t = 0; t < 3; t++) {
    for (let y = 0; y < 4; y++) {
      for (let x = 0; x < 4; x++) {
        const at = ((t * 4 + y) * 4 + x) * 3;
        video.fill(30 * t + 10 * x + y, at, at + 3);
      }
    }
  }
  const data = {
    size: 1,
    index: {
      // The model takes 2 frames of 2×2 and 2 audio samples; clips store 3 frames of 4×4 and 3.
      settings: {
        frames: 2,
        size: 2,
        audioSamples: 2,
        storedFrames: 3,
        storedSize: 4,
        storedAudioSamples: 3,
        captionsPerClip: 1,
        maxLength: 1,
      },
      labels: { multiLabel: false },
    },
    readClips: () =>
      Promise.resolve({
        count: 1,
        ids: ["clip"],
        video,
        videoFrames: Int32Array.of(3),
        audio: Float32Array.of(0.2, 0.4, 0.8),
        audioMask: Uint8Array.of(1),
        text: new Int32Array(1),
        textMask: Uint8Array.of(0),
        label: Int32Array.of(1),
      }),
  };
  // The model takes 2 frames of 2×2 and 2 samples: 2 windows start at frames 0 and 1 (samples 0
  // and 1); 3 crops of rows 1–2 at columns 0–1, 1–2, 2–3. A view's mean pixel is
  // (30f + 15) + (10x₀ + 5) + 1.5, so the six views' means are:
  const viewMeans = [21.5, 31.5, 41.5, 51.5, 61.5, 71.5];
  const expected0 = viewMeans.reduce((s, v) => s + (v / 127.5 - 1) ** 2, 0) / 6;
  const expected1 = (0.3 + 0.6) / 2; // audio windows [0.2, 0.4] and [0.4, 0.8]
  const views = planViews(
    { frames: 3, size: 4, audioSamples: 3 },
    { frames: 2, size: 2, audioSamples: 2 },
    { windows: 2, crops: 3 },
  );
  const before = tf.memory().numTensors;
  // deno-lint-ignore no-explicit-any
  const out = await classifyDataset(classifier as any, data as any, { views });
  assert.equal(tf.memory().numTensors, before);
  assert.ok(Math.abs(out.logits[0] - expected0) < 1e-6, `${out.logits[0]} vs ${expected0}`);
  assert.ok(Math.abs(out.logits[1] - expected1) < 1e-6, `${out.logits[1]} vs ${expected1}`);
  // Logits are averaged, not the view means: the logit of the mean view would differ.
  const meanView = viewMeans.reduce((s, v) => s + v, 0) / 6;
  assert.ok(Math.abs(out.logits[0] - (meanView / 127.5 - 1) ** 2) > 1e-3);
});
