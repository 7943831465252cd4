import assert from "node:assert/strict";
import { mergeSlices } from "../../../../lib/data/tokenize/merge.ts";
import { sliceIndexFileName } from "../../../../lib/data/shards/dataset_index.ts";
import { MismatchError } from "../../../../lib/util/errors.ts";

/** A valid (empty) slice index, as a slice of `count` writes it. */
function sliceIndex(index: number, count: number): string {
  return JSON.stringify({
    format: "vatt-dataset",
    version: 1,
    settings: {
      frames: 1,
      fps: 1,
      size: 2,
      audioSeconds: 1,
      sampleRate: 4,
      audioSamples: 4,
      audioDtype: "float32",
      maxLength: 2,
      captionsPerClip: 1,
      minCoverage: 0,
      clipsPerShard: 2,
    },
    text: { kind: "vocab", file: "vocab.txt", vocabSize: 4, sha256: "" },
    labels: { names: [], multiLabel: false },
    numShards: 1,
    shards: [],
    clips: 0,
    skipped: [],
    padded: [],
    droppedCaptions: 0,
    slice: { index, count },
  });
}

Deno.test("mergeSlices() with a slice count of 2^52 in a hostile index fails at once, listing at most 10 missing slices", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const count = 2 ** 52;
    await Deno.writeTextFile(`${dir}/${sliceIndexFileName(0, 1)}`, sliceIndex(0, count));
    const rss0 = Deno.memoryUsage().rss;
    const t0 = performance.now();
    await assert.rejects(
      mergeSlices(dir),
      (e) =>
        e instanceof MismatchError &&
        e.message.startsWith(
          `slices 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and ${
            count - 11
          } more of ${count} have not finished`,
        ),
    );
    assert.ok(performance.now() - t0 < 1000);
    assert.ok(Deno.memoryUsage().rss - rss0 < 64 * 1024 * 1024);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("mergeSlices() names exactly the slices that have not finished", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/${sliceIndexFileName(1, 4)}`, sliceIndex(1, 4));
    await assert.rejects(mergeSlices(dir), /^MismatchError: slices 0, 2, 3 of 4 have not finished/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
