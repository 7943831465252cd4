/**
 * Retrieval with audio-only clips: a clip without video is no candidate and asks no query,
 * and the result counts it.
 */
import assert from "node:assert/strict";
import "@tensorflow/tfjs-backend-cpu";
import { PRESETS } from "../../../../lib/config/vatt_config.ts";
import type { Dataset } from "../../../../lib/data/shards/dataset.ts";
import { VattModel } from "../../../../lib/model/vatt.ts";
import { zeroShotRetrieval } from "../../../../lib/eval/retrieval/retrieval.ts";

/** A stand-in dataset of four clips at the tiny preset's sizes, clip `c` audio-only. */
function standIn(videoMask: number[]): Dataset {
  const ids = videoMask.map((_, i) => `c${i}`);
  const settings = {
    frames: 8,
    size: 32,
    audioSamples: 6400,
    sampleRate: 8000,
    captionsPerClip: 1,
    maxLength: 16,
  };
  return {
    size: ids.length,
    index: { settings, text: { vocabSize: 10 } },
    ids: () => Promise.resolve(ids),
    readClips: (indices: number[]) =>
      Promise.resolve({
        count: indices.length,
        ids: indices.map((i) => ids[i]),
        // Each clip its own grey level and its own caption, so embeddings differ.
        video: Uint8Array.from(
          { length: indices.length * 8 * 32 * 32 * 3 },
          (_, k) => 40 * indices[Math.floor(k / (8 * 32 * 32 * 3))],
        ),
        audio: Float32Array.from({ length: indices.length * 6400 }, (_, k) => Math.sin(k / 9)),
        audioMask: new Uint8Array(indices.length).fill(1),
        videoMask: Uint8Array.from(indices, (i) => videoMask[i]),
        text: Int32Array.from({ length: indices.length * 16 }, (_, k) =>
          k % 16 === 0 ? 1 + indices[Math.floor(k / 16)] : 0),
        textMask: new Uint8Array(indices.length).fill(1),
        label: new Int32Array(indices.length),
      }),
  } as unknown as Dataset;
}

Deno.test("zeroShotRetrieval() skips audio-only clips as candidates and queries, and counts them", async () => {
  const model = VattModel.create(PRESETS.tiny);
  try {
    const all = await zeroShotRetrieval(model, standIn([1, 1, 1, 1]), { pair: "text-video" });
    assert.deepEqual([all.queries, all.candidates], [4, 4]);
    assert.deepEqual(all.missingSide, { candidate: 0, query: 0 });
    for (const pair of ["text-video", "audio-video"] as const) {
      const r = await zeroShotRetrieval(model, standIn([1, 0, 1, 1]), { pair });
      assert.equal(r.candidates, 3, pair);
      assert.equal(r.queries, 3, pair);
      assert.deepEqual(r.missingSide, { candidate: 1, query: 0 }, pair);
      assert.equal(r.chance.medianRank, 2, pair); // (3 + 1) / 2
    }
  } finally {
    model.dispose();
  }
});
