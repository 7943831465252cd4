import assert from "node:assert/strict";
import { Dataset } from "../../../../lib/data/shards/dataset.ts";
import { shardFileName } from "../../../../lib/data/shards/dataset_index.ts";
import { buildShard } from "../../../../lib/data/shards/shard_codec.ts";
import { writeSafetensors } from "../../../../lib/io/safetensors.ts";
import { sha256File } from "../../../../lib/io/sha256.ts";
import { FormatError } from "../../../../lib/util/errors.ts";

const settings = {
  frames: 1,
  fps: 1,
  size: 2,
  audioSeconds: 1,
  sampleRate: 4,
  audioSamples: 4,
  audioDtype: "float32" as const,
  maxLength: 2,
  captionsPerClip: 1,
  minCoverage: 0,
  clipsPerShard: 2,
};
const labels = { names: [], multiLabel: false };

function clip(id: string, text: number[], audio = new Float32Array(4)) {
  return {
    ok: true as const,
    id,
    video: new Uint8Array(12).fill(7),
    videoFrames: 1,
    audio,
    audioSamples: 4,
    hasAudio: true,
    text: Int32Array.from(text),
    textMask: Uint8Array.of(1),
    droppedCaptions: 0,
    labels: [],
  };
}

/** A one-shard dataset of `clips` with a vocabulary of `vocabSize` ids, checksums correct. */
async function writeDataset(dir: string, clips: ReturnType<typeof clip>[], vocabSize: number) {
  const shard = buildShard(clips, { settings, labels, skipped: [] });
  const file = shardFileName(0, 1);
  await writeSafetensors(`${dir}/${file}`, shard.tensors, { metadata: shard.metadata });
  const entry = {
    file,
    index: 0,
    clips: clips.length,
    sha256: await sha256File(`${dir}/${file}`),
    bytes: (await Deno.stat(`${dir}/${file}`)).size,
  };
  await Deno.writeTextFile(
    `${dir}/index.json`,
    JSON.stringify({
      format: "vatt-dataset",
      version: 1,
      settings,
      text: { kind: "vocab", file: "vocab.txt", vocabSize, sha256: "" },
      labels,
      numShards: 1,
      shards: [entry],
      clips: clips.length,
      skipped: [],
      padded: [],
      droppedCaptions: 0,
    }),
  );
}

async function openError(dir: string): Promise<unknown> {
  const data = await Dataset.open(dir);
  try {
    await data.readClips([0]);
    return undefined;
  } catch (e) {
    return e;
  } finally {
    data.close();
  }
}

Deno.test("a shard with token ids outside the vocabulary (-7, 5000 of 1024) is refused on load, naming shard and clip", async () => {
  for (const [bad, shown] of [[-7, "-7"], [5000, "5000"], [1024, "1024"]] as const) {
    const dir = await Deno.makeTempDir();
    try {
      await writeDataset(dir, [clip("good", [1, 0]), clip("evil", [3, bad])], 1024);
      const e = await openError(dir);
      assert.ok(e instanceof FormatError, String(e));
      assert.match(e.message, /shard-00000-of-00001\.safetensors: clip "evil": token id/);
      assert.ok(
        e.message.includes(`token id ${shown} is outside the vocabulary (0..1023)`),
        e.message,
      );
      // Every clip of the shard is refused (the check is per shard, on load).
      const data = await Dataset.open(dir);
      await assert.rejects(data.ids(), FormatError);
      data.close();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("ids 0 .. vocabSize-1 load; the largest id is accepted", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeDataset(dir, [clip("a", [1023, 0]), clip("b", [0, 0])], 1024);
    const data = await Dataset.open(dir);
    const batch = await data.readClips([0, 1]);
    assert.deepEqual([...batch.text], [1023, 0, 0, 0]);
    data.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a float32 shard with an inf or NaN audio sample is refused on load, naming the clip", async () => {
  for (const v of [Infinity, NaN]) {
    const dir = await Deno.makeTempDir();
    try {
      const audio = Float32Array.of(0, 0.5, v, 0);
      await writeDataset(dir, [clip("ok", [1, 0]), clip("loud", [1, 0], audio)], 4);
      const e = await openError(dir);
      assert.ok(e instanceof FormatError, String(e));
      assert.match(
        e.message,
        new RegExp(`clip "loud": audio sample 2 is ${v}, not a finite number`),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});
