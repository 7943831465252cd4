import assert from "node:assert/strict";
import { extname, join } from "node:path";
import { tokenizeClip } from "../../../../lib/data/tokenize/clip.ts";
import { Dataset } from "../../../../lib/data/shards/dataset.ts";
import { storedShape, type TokenizeSettings } from "../../../../lib/data/shards/dataset_index.ts";
import {
  DEMO_AUDIO_FORMATS,
  type DemoManifestRow,
  generateDemoData,
} from "../../../../lib/demo/demo_data.ts";
import { ffmpegPath } from "../../../../lib/data/media/ffmpeg_path.ts";
import { HfTokenizer } from "../../../../lib/data/text/hf_tokenizer.ts";
import { readManifest } from "../../../../lib/data/manifest/manifest.ts";
import { loadTextTokenizer, type TextSource } from "../../../../lib/data/text/setup.ts";
import { buildVocab, encodeVocab, WordTokenizer } from "../../../../lib/data/text/tokenizer.ts";
import {
  tokenizeDataset,
  type TokenizeOptions,
  type TokenizeResult,
} from "../../../../lib/data/tokenize/tokenize.ts";
import { mergeSlices } from "../../../../lib/data/tokenize/merge.ts";
import { encodeWav } from "../../../../lib/data/media/wav.ts";
import { FormatError, MismatchError } from "../../../../lib/util/errors.ts";
import { writeSafetensors } from "../../../../lib/io/safetensors.ts";
import { sha256File } from "../../../../lib/io/sha256.ts";

// ------------------------------------------------ fixtures: one demo dataset for the whole file

const ROOT = await Deno.makeTempDir({ prefix: "vatt-tokenize-test-" });
globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(ROOT, { recursive: true });
  } catch {
    // already gone
  }
});
const DEMO = join(ROOT, "demo");
const demo = await generateDemoData(DEMO, {
  clips: 12,
  seed: 7,
  seconds: 1,
  width: 64,
  height: 48,
  fps: 10,
  sampleRate: 8000,
});
const ROWS: DemoManifestRow[] = (await Deno.readTextFile(demo.manifestPath)).trim().split("\n")
  .map((line) => JSON.parse(line));

/** The tiny preset's sampling: 8 frames of 32² at 10 fps, 0.8 s of 8 kHz audio. */
const TINY: Partial<TokenizeSettings> = {
  frames: 8,
  fps: 10,
  size: 32,
  audioSeconds: 0.8,
  sampleRate: 8000,
};

async function ffmpeg(args: string[]): Promise<void> {
  const out = await new Deno.Command(ffmpegPath(), {
    args: ["-hide_banner", "-nostdin", "-loglevel", "error", "-y", ...args],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
}

// Bad and odd inputs, next to the demo files (paths in manifests are relative to DEMO).
const BAD = join(DEMO, "bad");
await Deno.mkdir(BAD);
await Deno.writeFile(
  join(BAD, "corrupt.mp4"),
  Uint8Array.from({ length: 4096 }, (_, i) => i * 7919 % 251),
);
const goodMp4 = await Deno.readFile(join(DEMO, ROWS[0].video));
await Deno.writeFile(join(BAD, "truncated.mp4"), goodMp4.subarray(0, goodMp4.length >> 1));
await Deno.writeFile(join(BAD, "empty.mp4"), new Uint8Array());
await Deno.writeTextFile(join(BAD, "notes.txt"), "not a sound at all\n".repeat(40));
await ffmpeg([
  "-f",
  "lavfi",
  "-i",
  "testsrc=size=64x48:rate=10:duration=0.2",
  "-pix_fmt",
  "yuv420p",
  join(BAD, "short.mp4"),
]);
await ffmpeg([
  "-f",
  "lavfi",
  "-i",
  "testsrc=size=64x48:rate=10:duration=1",
  "-pix_fmt",
  "yuv420p",
  join(BAD, "silent.mp4"),
]);
await Deno.writeFile(
  join(BAD, "short.wav"),
  encodeWav([Float32Array.from({ length: 1600 }, (_, i) => 0.5 * Math.sin(i / 3))], {
    sampleRate: 8000,
  }),
);
// Tests run as root in CI, where chmod 000 does not stop reads: a folder stands in for the file.
const IS_ROOT = Deno.uid() === 0;
if (IS_ROOT) {
  await Deno.mkdir(join(BAD, "unreadable.mp4"));
} else {
  await Deno.copyFile(join(DEMO, ROWS[0].video), join(BAD, "unreadable.mp4"));
  await Deno.chmod(join(BAD, "unreadable.mp4"), 0o000);
}
/** Every word of the demo captions: demo clips always keep a caption. */
const VOCAB_FILE = join(BAD, "vocab.txt");
await Deno.writeTextFile(
  VOCAB_FILE,
  encodeVocab(buildVocab(ROWS.flatMap((r) => r.captions), { size: 100000 })),
);

/** Writes a JSONL manifest into the demo folder; strings are written as raw lines. */
async function writeManifest(name: string, lines: (object | string)[]): Promise<string> {
  const file = join(DEMO, name);
  await Deno.writeTextFile(
    file,
    lines.map((l) => typeof l === "string" ? l : JSON.stringify(l)).join("\n") + "\n",
  );
  return file;
}

async function run(
  manifest: string,
  out: string,
  options: Partial<TokenizeOptions> & { clipsPerShard?: number } = {},
): Promise<TokenizeResult> {
  const { clipsPerShard = 3, settings, ...rest } = options;
  return await tokenizeDataset({
    manifest,
    out,
    settings: { ...TINY, clipsPerShard, ...settings },
    text: { buildVocab: 1000 },
    workers: 2,
    ...rest,
  });
}

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

async function shardNames(dir: string): Promise<string[]> {
  return (await names(dir)).filter((n) => n.endsWith(".safetensors"));
}

/** Asserts two folders hold the same files with the same bytes (the named ones, or all). */
async function assertSameFiles(a: string, b: string, only?: string[]): Promise<void> {
  const list = only ?? await names(a);
  if (!only) assert.deepEqual(await names(b), list);
  for (const name of list) {
    const [x, y] = [await Deno.readFile(join(a, name)), await Deno.readFile(join(b, name))];
    if (name.endsWith(".json") && !(x.length === y.length && x.every((v, i) => v === y[i]))) {
      const [lx, ly] = [
        new TextDecoder().decode(x).split("\n"),
        new TextDecoder().decode(y).split("\n"),
      ];
      const at = lx.findIndex((l, i) => l !== ly[i]);
      assert.fail(
        `${name} differs at line ${at + 1}: ${JSON.stringify(lx[at])} vs ${JSON.stringify(ly[at])}`,
      );
    }
    assert.ok(x.length === y.length && x.every((v, i) => v === y[i]), `${name} differs`);
  }
}

/** First index where two arrays differ, or -1. */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

function assertSameArray(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string) {
  const at = firstDifference(actual, expected);
  assert.equal(
    at,
    -1,
    `${what}: lengths ${actual.length}/${expected.length}, first difference at ${at}`,
  );
}

// The mixed manifest: demo rows, a corrupt video (row 4), a clip cut short by `end` (row 7,
// padded) and a malformed line (row 8). 13 valid rows, 3 per shard: 5 shards.
const MIXED = await writeManifest("mixed.jsonl", [
  ...ROWS.slice(0, 3),
  { ...ROWS[3], id: "broken", video: "bad/corrupt.mp4" },
  ...ROWS.slice(3, 5),
  { ...ROWS[5], end: 0.5 },
  '{"id": "half a row", ',
  ...ROWS.slice(6),
]);
const MIXED_SHARDS = 5;

const REF = join(ROOT, "reference");
let reference: Promise<TokenizeResult> | undefined;
/** One uninterrupted, unsliced run of the mixed manifest into REF (made once, on first use). */
function referenceRun(): Promise<TokenizeResult> {
  reference ??= run(MIXED, REF);
  return reference;
}

// ------------------------------------------------------------------------------- round trip

Deno.test("tokenizeDataset() → Dataset.readClips() gives back exactly what tokenizeClip() made, ids in order", async () => {
  const { index } = await referenceRun();
  const dir = REF;
  assert.equal(index.numShards, MIXED_SHARDS);
  const data = await Dataset.open(dir);
  try {
    const manifest = await readManifest(MIXED);
    const rows = manifest.rows.filter((r) => r.id !== "broken");
    assert.equal(data.size, 12);
    assert.deepEqual(await data.ids(), rows.map((r) => r.id));
    const s = data.index.settings;
    const tokenizer = await loadTextTokenizer(dir, data.index.text);
    const labelIndex = new Map(data.index.labels.names.map((n, i) => [n, i]));
    // Read in reverse order: positions are global, the result follows the request.
    const order = rows.map((_, i) => rows.length - 1 - i);
    const batch = await data.readClips(order);
    // Shards hold the stored span and size (longer and larger than the model's window).
    const st = storedShape(s);
    const fb = st.frames * st.size * st.size * 3;
    const tl = s.captionsPerClip * s.maxLength;
    for (const [j, i] of order.entries()) {
      const clip = await tokenizeClip(rows[i], { settings: s, tokenizer, labelIndex });
      assert.ok(clip.ok, `${rows[i].id} was skipped`);
      assert.equal(batch.ids[j], rows[i].id);
      assertSameArray(batch.video.subarray(j * fb, (j + 1) * fb), clip.video, `${clip.id} video`);
      // Shards store round(v · 32768) clipped to int16 (lib/data/media/pcm16.ts).
      const pcm = Int16Array.from(
        clip.audio,
        (v) => Math.min(32767, Math.round(Math.max(-1, Math.min(1, v)) * 32768)),
      );
      const a = st.audioSamples;
      assertSameArray(batch.audio.subarray(j * a, (j + 1) * a), pcm, `${clip.id} audio`);
      assert.equal(batch.audioMask[j], clip.hasAudio ? 1 : 0);
      assertSameArray(batch.text.subarray(j * tl, (j + 1) * tl), clip.text, `${clip.id} text`);
      assertSameArray(
        batch.textMask.subarray(j * s.captionsPerClip, (j + 1) * s.captionsPerClip),
        clip.textMask,
        `${clip.id} text mask`,
      );
      assert.equal(batch.label[j], labelIndex.get(rows[i].label as string));
      assert.ok(clip.textMask[0] === 1 && clip.text[0] > 0, `${clip.id} has a caption`);
    }
    // The row with `end: 0.5` keeps 5 real frames and 0.5 s of sound; the rest is padding.
    const cut = rows.findIndex((r) => r.end === 0.5);
    assert.deepEqual(data.index.padded, [{ id: rows[cut].id, videoFrames: 5, audioSamples: 4000 }]);
    const one = await data.readClips([cut]);
    const frame = (f: number) => one.video.subarray(f * fb / st.frames, (f + 1) * fb / st.frames);
    for (let f = 5; f < st.frames; f++) assertSameArray(frame(f), frame(4), `padded frame ${f}`);
    assert.deepEqual([...one.videoFrames!], [5]);
    assert.ok(one.audio.subarray(4000).every((v) => v === 0), "audio after `end` is silent");
    assert.ok(one.audio.subarray(3000, 4000).some((v) => v !== 0), "audio before `end` is kept");
  } finally {
    data.close();
  }
});

Deno.test("windowSeconds and storedSize: shards store the span and size asked for, the index records both windows", async () => {
  const out = join(ROOT, "stored-span");
  const { index } = await run(demo.manifestPath, out, {
    settings: { windowSeconds: 1, storedSize: 40 },
  });
  const s = index.settings;
  assert.equal(index.version, 3);
  // The model's window: 8 frames of 32², 0.8 s = 6400 samples at 8 kHz.
  assert.deepEqual([s.frames, s.size, s.audioSamples], [8, 32, 6400]);
  // Stored: 1 s = 10 frames of 40², and audio for every window start: 6400 + 0.2 s · 8000.
  assert.deepEqual(
    [s.windowSeconds, s.storedFrames, s.storedSize, s.storedAudioSamples],
    [1, 10, 40, 8000],
  );
  const data = await Dataset.open(out);
  try {
    const batch = await data.readClips([0]);
    assert.equal(batch.video.length, 10 * 40 * 40 * 3);
    assert.equal(batch.audio.length, 8000);
    assert.deepEqual([...batch.videoFrames!], [10]); // the demo clips last 1 s: all real
    // No padding reported: every clip covers the model's window.
    assert.deepEqual(data.index.padded, []);
  } finally {
    data.close();
  }
});

Deno.test("Dataset verifies shard checksums on read: a flipped byte is a FormatError", async () => {
  await referenceRun();
  const dir = REF;
  const copy = join(ROOT, "flipped");
  await Deno.mkdir(copy);
  for (const name of await names(dir)) await Deno.copyFile(join(dir, name), join(copy, name));
  const shard1 = join(copy, "shard-00001-of-00005.safetensors");
  const bytes = await Deno.readFile(shard1);
  bytes[bytes.length >> 1] ^= 0x40;
  await Deno.writeFile(shard1, bytes);
  const data = await Dataset.open(copy); // sizes still match: the damage shows on read
  try {
    await data.readClips([0, 1, 2]); // shard 0 is fine
    await assert.rejects(
      data.readClips([3]),
      (e) => e instanceof FormatError && /checksum/.test(e.message),
    );
  } finally {
    data.close();
  }
  await Deno.writeFile(shard1, bytes.subarray(0, bytes.length - 10));
  await assert.rejects(
    Dataset.open(copy),
    (e) => e instanceof FormatError && /bytes/.test(e.message),
  );
});

// ----------------------------------------------------------------------------------- resume

Deno.test("an interrupted run resumes to the same index.json and byte-identical shards", async () => {
  await referenceRun();
  const ref = REF;
  const out = join(ROOT, "resume");
  const controller = new AbortController();
  await assert.rejects(
    run(MIXED, out, {
      signal: controller.signal,
      onProgress: (p) => p.shards === 1 && controller.abort(),
    }),
    (e) => (e as Error).name === "AbortError",
  );
  // Only whole shards are left, and no index.
  assert.deepEqual(await names(out), [
    "shard-00000-of-00005.safetensors",
    "tokenize.json",
    "vocab.txt",
  ]);
  await assertSameFiles(ref, out, ["shard-00000-of-00005.safetensors"]);
  // A temporary file of a writer that was killed (process 999999999 cannot exist).
  const leftover = join(out, ".shard-00002-of-00005.safetensors.tmp-999999999-00aa11bb");
  await Deno.writeTextFile(leftover, "half a shard");

  const again = await run(MIXED, out);
  assert.equal(again.resumedShards, 1);
  assert.ok(!again.index.shards.some((s) => s.file.startsWith(".")));
  await assertSameFiles(ref, out); // index.json, tokenize.json, vocab.txt and every shard

  // A shard lost later (deleted) is made again, the others are kept.
  await Deno.remove(join(out, "shard-00004-of-00005.safetensors"));
  const third = await run(MIXED, out);
  assert.equal(third.resumedShards, 4);
  await assertSameFiles(ref, out);

  // A shard file that is not ours under a shard's name is reported, not taken as done.
  await writeSafetensors(join(out, "shard-00004-of-00005.safetensors"), {
    x: { dtype: "U8", shape: [1], data: new Uint8Array(1) },
  }, { metadata: { format: "something-else" } });
  await assert.rejects(
    run(MIXED, out),
    (e) => e instanceof FormatError && /not a shard of this dataset/.test(e.message),
  );
});

// ----------------------------------------------------------------------------------- slices

Deno.test("3 slices + mergeSlices() give the same index.json and shards as one run", async () => {
  await referenceRun();
  const ref = REF;
  const out = join(ROOT, "slices");
  await Deno.mkdir(out);
  // Leftovers of killed writers: slice 0's shard 3 (its own) and slice 1's shard 1.
  const own = ".shard-00003-of-00005.safetensors.tmp-999999999-00aa11bb";
  const other = ".shard-00001-of-00005.safetensors.tmp-999999999-00cc22dd";
  for (const name of [own, other]) await Deno.writeTextFile(join(out, name), "partial");

  const slice = (index: number) => run(MIXED, out, { slice: { index, count: 3 } });
  const [s0, s2] = await Promise.all([slice(0), slice(2)]); // one folder, written at once
  assert.deepEqual(s0.index.shards.map((s) => s.index), [0, 3]);
  assert.deepEqual(s2.index.shards.map((s) => s.index), [2]);
  assert.deepEqual(s0.index.skipped.map((s) => s.row), [8]); // the malformed line, once
  assert.deepEqual(s2.index.skipped, []);
  const files = await names(out);
  assert.ok(!files.includes(own), "slice 0 cleans its own leftover");
  assert.ok(
    files.includes(other),
    "slice 0 leaves slice 1's files alone (its writer may be alive elsewhere)",
  );
  assert.ok(!files.includes("index.json"));
  await assert.rejects(
    mergeSlices(out),
    (e) => e instanceof MismatchError && /slices 1 of 3/.test(e.message),
  );
  await assert.rejects(Dataset.open(out), FormatError);

  const s1 = await slice(1);
  assert.deepEqual(s1.index.skipped.map((s) => [s.row, s.id]), [[4, "broken"]]);
  assert.ok(!(await names(out)).includes(other));
  const merged = await mergeSlices(out);
  const want = JSON.parse(await Deno.readTextFile(join(ref, "index.json")));
  assert.deepEqual(JSON.parse(await Deno.readTextFile(join(out, "index.json"))), want);
  assert.deepEqual(JSON.parse(JSON.stringify(merged)), want);
  await assertSameFiles(ref, out, await shardNames(ref));
  assert.deepEqual(await shardNames(out), await shardNames(ref));
  // A merge whose shard was damaged after the slice finished is refused.
  await Deno.writeTextFile(join(out, "shard-00002-of-00005.safetensors"), "damaged");
  await assert.rejects(
    mergeSlices(out),
    (e) => e instanceof FormatError && /checksum/.test(e.message),
  );
});

// ------------------------------------------------------------------------------- bad inputs

interface BadCase {
  name: string;
  line: object | string;
  id?: string;
  file?: string;
  reason: RegExp;
  /** A row the manifest reader rejects (no clip is decoded for it). */
  manifestLevel?: boolean;
}

const BASE = ROWS[0];
const BAD_CASES: BadCase[] = [
  ["corrupt video (random bytes named .mp4)", "bad/corrupt.mp4", /^cannot decode video: /],
  ["truncated mp4", "bad/truncated.mp4", /^cannot decode video: /],
  ["empty file", "bad/empty.mp4", /^file is empty/],
  [
    IS_ROOT
      ? "unreadable file (a folder: root reads chmod 000 files)"
      : "unreadable file (chmod 000)",
    "bad/unreadable.mp4",
    IS_ROOT ? /^not a regular file$/ : /permission denied/i,
  ],
  ["missing path", "bad/missing.mp4", /^file not found$/],
].map(([name, video, reason], k) => ({
  name: name as string,
  line: { ...BASE, id: `bad-${k}`, video },
  id: `bad-${k}`,
  file: video as string,
  reason: reason as RegExp,
}));
BAD_CASES.push(
  {
    name: "unknown format (a text file as audio)",
    line: { ...BASE, id: "text-audio", audio: "bad/notes.txt" },
    id: "text-audio",
    file: "bad/notes.txt",
    reason: /no audio stream|cannot decode audio/,
  },
  {
    name: "clip shorter than the window (0.2 s)",
    line: { id: "short", video: "bad/short.mp4", captions: BASE.captions, label: BASE.label },
    id: "short",
    file: "bad/short.mp4",
    reason: /^clip shorter than the window: 2 of 8 frames$/,
  },
  {
    name: "audio file shorter than the window",
    line: { ...BASE, id: "short-audio", audio: "bad/short.wav" },
    id: "short-audio",
    file: "bad/short.wav",
    reason: /^audio shorter than the window: 1600 of 6400 samples$/,
  },
  // A clip whose captions have no known word is kept without captions (tests/lib/data/tokenize/clip_test.ts).
  {
    name: "malformed manifest row (bad JSON)",
    line: '{"id": "cut", "video": ',
    reason: /not valid JSON/,
    manifestLevel: true,
  },
  {
    name: "malformed manifest row (missing id)",
    line: { video: BASE.video, captions: BASE.captions },
    reason: /^missing id$/,
    manifestLevel: true,
  },
);

const VOCAB: TextSource = { vocabFile: VOCAB_FILE };

Deno.test("onError skip: every bad input is recorded with row, file and one-line reason; the rest is kept", async () => {
  const lines = [ROWS[0], ROWS[1], ...BAD_CASES.map((c) => c.line), ROWS[2]];
  const manifest = await writeManifest("bad_skip.jsonl", lines);
  const out = join(ROOT, "bad-skip");
  const { index } = await run(manifest, out, { text: VOCAB, clipsPerShard: 4, onError: "skip" });
  assert.equal(index.skipped.length, BAD_CASES.length);
  BAD_CASES.forEach((c, k) => {
    const got = index.skipped[k];
    assert.equal(got.row, 3 + k, c.name);
    assert.equal(got.id, c.id, c.name);
    assert.equal(got.file, c.file, c.name);
    assert.match(got.reason, c.reason, c.name);
    assert.ok(!got.reason.includes("\n") && !got.reason.includes(ROOT), `${c.name}: ${got.reason}`);
  });
  const data = await Dataset.open(out);
  try {
    assert.deepEqual(await data.ids(), [ROWS[0].id, ROWS[1].id, ROWS[2].id]);
    const batch = await data.readClips([0, 1, 2]);
    assert.deepEqual([...batch.audioMask], [1, 1, 1]);
  } finally {
    data.close();
  }
});

Deno.test("onError fail: each bad input stops the run with its row and reason; written shards stay", async (t) => {
  // Rows 1–4 fill shards 0 and 1; the bad row 5 shares shard 2 with a good row decoded alongside.
  const lines = (bad: object | string) => [...ROWS.slice(0, 4), bad, ROWS[4]];
  const goodShards = ["shard-00000-of-00003.safetensors", "shard-00001-of-00003.safetensors"];
  const refDir = join(ROOT, "bad-fail-reference");
  const refManifest = await writeManifest("bad_fail_ref.jsonl", lines(BAD_CASES[0].line));
  await run(refManifest, refDir, { text: VOCAB, clipsPerShard: 2 });
  for (const [k, c] of BAD_CASES.entries()) {
    await t.step(c.name, async () => {
      const manifest = await writeManifest(`bad_fail_${k}.jsonl`, lines(c.line));
      const out = join(ROOT, `bad-fail-${k}`);
      await assert.rejects(
        run(manifest, out, { text: VOCAB, clipsPerShard: 2, onError: "fail" }),
        (e) => {
          assert.ok(e instanceof FormatError, String(e));
          assert.match(e.message, /row 5\b/);
          assert.match(e.message.replace(/^.*?row 5\b[^:]*: /, ""), c.reason);
          assert.ok(!e.message.includes("\n"));
          return true;
        },
      );
      if (c.manifestLevel) {
        // Found before any clip is decoded: nothing but the run record is written.
        assert.deepEqual(await names(out), ["tokenize.json"]);
      } else {
        assert.deepEqual(await names(out), [...goodShards, "tokenize.json", "vocab.txt"]);
        await assertSameFiles(refDir, out, goodShards);
      }
    });
  }
  await t.step("nothing keeps decoding after the failing call returns", async () => {
    const manifest = await writeManifest("bad_fail_first.jsonl", [
      BAD_CASES[0].line,
      ...ROWS.slice(0, 6),
    ]);
    // Two workers: whatever was in flight when the bad clip failed has finished by the return.
    // (How many good clips the other worker completes meanwhile depends on the machine's load.)
    let done = 0;
    await assert.rejects(
      run(manifest, join(ROOT, "bad-fail-first"), {
        text: VOCAB,
        clipsPerShard: 8,
        onError: "fail",
        onProgress: (p) => done = p.done,
      }),
      FormatError,
    );
    const atReturn = done;
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(done, atReturn, "clips were still being decoded after the run failed");
    assert.ok(atReturn < 7, `${atReturn} clips handled: the run went on past the failure`);
    // One worker: no clip starts after the failing one.
    let serial = 0;
    await assert.rejects(
      run(manifest, join(ROOT, "bad-fail-first-serial"), {
        text: VOCAB,
        clipsPerShard: 8,
        onError: "fail",
        workers: 1,
        onProgress: (p) => serial = p.done,
      }),
      FormatError,
    );
    assert.ok(serial <= 1, `${serial} clips handled after the first (bad) one failed`);
  });
  await t.step(
    "a fail run over a complete dataset that skipped a clip leaves it intact",
    async () => {
      const before = await names(refDir);
      await assert.rejects(
        run(refManifest, refDir, { text: VOCAB, clipsPerShard: 2, onError: "fail" }),
        (e) => e instanceof FormatError && /row 5 \(bad-0\): cannot decode video/.test(e.message),
      );
      assert.deepEqual(await names(refDir), before);
      const index = JSON.parse(await Deno.readTextFile(join(refDir, "index.json")));
      for (const s of index.shards) assert.equal(await sha256File(join(refDir, s.file)), s.sha256);
    },
  );
});

// ------------------------------------------------------------------------------ folder rules

Deno.test("output folder: foreign content refused without force, same command resumes, other settings refused", async (t) => {
  const manifest = await writeManifest("small.jsonl", ROWS.slice(0, 3));
  const opts = { clipsPerShard: 2 };

  await t.step(
    "a non-empty foreign folder is refused without force, kept apart with it",
    async () => {
      const out = join(ROOT, "foreign");
      await Deno.mkdir(join(out, ".git"), { recursive: true });
      await Deno.writeTextFile(join(out, "notes.txt"), "mine");
      await assert.rejects(
        run(manifest, out, opts),
        (e) => e instanceof MismatchError && /not empty/.test(e.message),
      );
      assert.deepEqual(await names(out), [".git", "notes.txt"]);
      const { index } = await run(manifest, out, { ...opts, force: true });
      assert.equal(index.clips, 3);
      const after = await names(out);
      assert.ok(
        after.includes(".git") && after.includes("notes.txt"),
        "force removes only dataset files",
      );
    },
  );

  const out = join(ROOT, "rules");
  const first = await run(manifest, out, opts);
  const indexText = await Deno.readTextFile(join(out, "index.json"));

  await t.step("the same command twice is a resume that changes nothing", async () => {
    const second = await run(manifest, out, opts);
    assert.equal(second.resumedShards, first.index.numShards);
    assert.equal(await Deno.readTextFile(join(out, "index.json")), indexText);
  });

  await t.step("other settings are refused without force and start over with it", async () => {
    const before = await Promise.all((await shardNames(out)).map((n) => sha256File(join(out, n))));
    const other = { ...opts, settings: { size: 24 } };
    await assert.rejects(
      run(manifest, out, other),
      (e) => e instanceof MismatchError && /other settings/.test(e.message),
    );
    const still = await Promise.all((await shardNames(out)).map((n) => sha256File(join(out, n))));
    assert.deepEqual(still, before);
    assert.equal(await Deno.readTextFile(join(out, "index.json")), indexText);
    const redone = await run(manifest, out, { ...other, force: true });
    assert.equal(redone.resumedShards, 0);
    assert.equal(redone.index.settings.size, 24);
    const data = await Dataset.open(out);
    data.close();
  });

  await t.step("a changed vocabulary file is another run, not a resume", async () => {
    const vocab = join(ROOT, "rules-vocab.txt");
    await Deno.copyFile(VOCAB_FILE, vocab);
    const dir = join(ROOT, "rules-vocab");
    await run(manifest, dir, { ...opts, text: { vocabFile: vocab } });
    await Deno.writeTextFile(vocab, "red\nblue\ngreen\nyellow\nsquare\n");
    await assert.rejects(
      run(manifest, dir, { ...opts, text: { vocabFile: vocab } }),
      (e) => e instanceof MismatchError && /other settings/.test(e.message),
    );
  });
});

// ---------------------------------------------------------------------------- text sources

function special(id: number, content: string) {
  return {
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  };
}

Deno.test("--vocab reuse: the dataset's vocab.txt is the given file, with its sha256 in index.text", async () => {
  const vocab = join(ROOT, "reuse-vocab.txt");
  await Deno.writeTextFile(
    vocab,
    "a\nred\nblue\ngreen\nyellow\ncircle\nsquare\ntriangle\nleft\nright\nmoving\n",
  );
  const manifest = await writeManifest("vocab_reuse.jsonl", ROWS.slice(0, 2));
  const out = join(ROOT, "vocab-reuse");
  const { index } = await run(manifest, out, { text: { vocabFile: vocab } });
  assert.deepEqual(index.text, {
    kind: "vocab",
    file: "vocab.txt",
    vocabSize: 12,
    sha256: await sha256File(vocab),
  });
  assert.equal(await sha256File(join(out, "vocab.txt")), index.text.sha256);
  const tok = new WordTokenizer((await Deno.readTextFile(vocab)).trim().split("\n"));
  const loaded = await loadTextTokenizer(out, index.text);
  const data = await Dataset.open(out);
  try {
    const batch = await data.readClips([0, 1]);
    const s = index.settings;
    for (let j = 0; j < 2; j++) {
      const kept = ROWS[j].captions.filter((c) => tok.knownCount(c) > 0).slice(
        0,
        s.captionsPerClip,
      );
      kept.forEach((caption, p) => {
        const at = (j * s.captionsPerClip + p) * s.maxLength;
        const want = tok.encode(caption, { maxLength: s.maxLength });
        assertSameArray(batch.text.subarray(at, at + s.maxLength), want, caption);
        assertSameArray(loaded.encode(caption, { maxLength: s.maxLength }), want, caption);
      });
      assert.equal(
        batch.textMask.subarray(j * s.captionsPerClip, (j + 1) * s.captionsPerClip)
          .reduce((a, b) => a + b, 0),
        kept.length,
      );
    }
  } finally {
    data.close();
  }
});

Deno.test("--tokenizer: tokenizer.json is copied with its sha256, and a padding id ≠ 0 is stored as 0", async () => {
  // Word level: [UNK] is 0, [PAD] is 1, then some of the demo words.
  const words = buildVocab(ROWS.flatMap((r) => r.captions), { size: 20 });
  const vocab: Record<string, number> = { "[UNK]": 0, "[PAD]": 1 };
  words.forEach((w, i) => vocab[w] = i + 2);
  const json = JSON.stringify(
    {
      version: "1.0",
      truncation: null,
      padding: null,
      added_tokens: [special(0, "[UNK]"), special(1, "[PAD]")],
      normalizer: { type: "Lowercase" },
      pre_tokenizer: { type: "Whitespace" },
      post_processor: null,
      decoder: null,
      model: { type: "WordLevel", vocab, unk_token: "[UNK]" },
    },
    null,
    1,
  );
  const file = join(ROOT, "tokenizer-src.json");
  await Deno.writeTextFile(file, json);
  const hf = HfTokenizer.fromJson(json);
  assert.equal(hf.padId, 1);

  const manifest = await writeManifest("hf.jsonl", ROWS.slice(0, 3));
  const out = join(ROOT, "hf");
  const { index } = await run(manifest, out, { text: { tokenizerFile: file } });
  assert.deepEqual(index.text, {
    kind: "hf",
    file: "tokenizer.json",
    vocabSize: 22,
    sha256: await sha256File(file),
  });
  assert.equal(await Deno.readTextFile(join(out, "tokenizer.json")), json);
  assert.equal((await loadTextTokenizer(out, index.text)).padId, 1);

  const s = index.settings;
  const data = await Dataset.open(out);
  try {
    const batch = await data.readClips([0, 1, 2]);
    let pads = 0;
    let unknowns = 0;
    for (let j = 0; j < 3; j++) {
      ROWS[j].captions.slice(0, s.captionsPerClip).forEach((caption, p) => {
        const raw = hf.encode(caption, { maxLength: s.maxLength });
        const at = (j * s.captionsPerClip + p) * s.maxLength;
        const stored = batch.text.subarray(at, at + s.maxLength);
        raw.forEach((id, k) => {
          if (id === 1) pads++;
          if (id === 0) unknowns++;
          // Padding (1) is stored as 0, and the token that had id 0 takes id 1.
          assert.equal(stored[k], id === 1 ? 0 : id === 0 ? 1 : id, `${caption} @${k}`);
        });
      });
    }
    assert.ok(pads > 0 && unknowns > 0, "the captions exercise both padding and id 0");
  } finally {
    data.close();
  }
});

// -------------------------------------------------------------------------------- decoders

Deno.test("every audio format of the demo generator (wav, flac, mp3, ogg, opus, mp4 AAC) tokenizes with audio_mask 1", async () => {
  await referenceRun();
  const dir = REF;
  const data = await Dataset.open(dir);
  try {
    const ids = await data.ids();
    const batch = await data.readClips(ids.map((_, i) => i));
    const a = data.index.settings.audioSamples;
    const formats = new Set<string>();
    ids.forEach((id, j) => {
      const row = ROWS.find((r) => r.id === id)!;
      const format = row.audio ? extname(row.audio).slice(1) : "mp4";
      formats.add(format);
      assert.equal(batch.audioMask[j], 1, `${id} (${format})`);
      const pcm = batch.audio.subarray(j * a, (j + 1) * a);
      const rms = Math.sqrt(Array.from(pcm).reduce((sum, v) => sum + (v / 32768) ** 2, 0) / a);
      assert.ok(rms > 0.01, `${id} (${format}) is silent: rms ${rms}`);
    });
    assert.deepEqual([...formats].sort(), [...DEMO_AUDIO_FORMATS].sort());
  } finally {
    data.close();
  }
  // A video without a sound track (and no audio file) is kept, with audio_mask 0.
  const manifest = await writeManifest("silent.jsonl", [
    { id: "silent", video: "bad/silent.mp4", captions: BASE.captions, label: BASE.label },
  ]);
  const out = join(ROOT, "silent");
  const { index } = await run(manifest, out);
  assert.equal(index.clips, 1);
  const silent = await Dataset.open(out);
  try {
    const batch = await silent.readClips([0]);
    assert.equal(batch.audioMask[0], 0);
    assert.ok(batch.audio.every((v) => v === 0));
  } finally {
    silent.close();
  }
});
