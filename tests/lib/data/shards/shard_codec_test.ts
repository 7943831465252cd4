import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { batchToTensors } from "../../../../lib/data/shards/batches.ts";
import type { ClipBatch } from "../../../../lib/data/shards/dataset.ts";
import { buildShard } from "../../../../lib/data/shards/shard_codec.ts";
import type { TokenizedClip } from "../../../../lib/data/shards/tokenized_clip.ts";

const SETTINGS = {
  frames: 1,
  fps: 10,
  size: 1,
  audioSeconds: 0.001,
  sampleRate: 8000,
  audioSamples: 8,
  audioDtype: "int16" as const,
  maxLength: 1,
  captionsPerClip: 1,
  minCoverage: 0.5,
  clipsPerShard: 8,
};

function clipWith(audio: Float32Array): TokenizedClip {
  return {
    ok: true,
    id: "a",
    video: new Uint8Array(3),
    videoFrames: 1,
    audio,
    audioSamples: audio.length,
    hasAudio: true,
    text: new Int32Array(1),
    textMask: new Uint8Array(1),
    droppedCaptions: 0,
    labels: [],
  };
}

/** The model-input audio of a shard built from `audio`: written by buildShard, read by batchToTensors. */
function roundTrip(audio: Float32Array): Float32Array {
  const { tensors } = buildShard([clipWith(audio)], {
    settings: SETTINGS,
    labels: { names: [], multiLabel: false },
    skipped: [],
  });
  assert.equal(tensors.audio.dtype, "I16");
  const batch = {
    count: 1,
    ids: ["a"],
    video: tensors.video.data,
    audio: tensors.audio.data,
    audioMask: tensors.audio_mask.data,
    text: tensors.text.data,
    textMask: tensors.text_mask.data,
    label: tensors.label.data,
  } as unknown as ClipBatch;
  const t = batchToTensors(batch, SETTINGS);
  const out = t.audio.dataSync() as Float32Array;
  tf.dispose(Object.values(t));
  return out;
}

Deno.test("int16 shard audio is read back with the scale it was written with", async (t) => {
  await t.step("values k/32768 (any 16-bit source) come back bit for bit", () => {
    const audio = Float32Array.from([
      -1,
      -0.75,
      -24575 / 32768,
      -1 / 32768,
      0,
      0.5,
      12345 / 32768,
      32767 / 32768,
    ]);
    assert.deepEqual([...roundTrip(audio)], [...audio]);
  });
  await t.step(
    "any value in [−1, 1] comes back within 1/32768 (half a step below 32767/32768)",
    () => {
      const audio = Float32Array.from([-0.3, 0.1, 0.999, 1, -0.123456, 0.7777, 1e-6, -1]);
      const back = roundTrip(audio);
      audio.forEach((v, i) => {
        const bound = v > 32767 / 32768 ? 1 / 32768 : 1 / 65536;
        assert.ok(Math.abs(back[i] - v) <= bound, `${v} came back as ${back[i]}`);
      });
    },
  );
});
