/**
 * The valid files the robustness suite starts from: a small demo media
 * folder (mp4 videos, WAV/FLAC/MP3/Ogg/Opus sounds, manifest), its tokenized
 * dataset, a two-step pretraining run with checkpoints, tone files and video
 * containers made with the bundled ffmpeg, and small safetensors, npy,
 * parquet, vocabulary and tokenizer.json files.
 *
 * Built once per machine under the temp folder (in a private folder renamed
 * into place, so concurrent builders never see half of it) and reused.
 *
 * @module
 */
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { generateDemoData } from "../../lib/demo/demo_data.ts";
import { ffmpegPath } from "../../lib/data/media/ffmpeg_path.ts";
import { tokenizeDataset } from "../../lib/data/tokenize/tokenize.ts";
import { encodeWav } from "../../lib/data/media/wav.ts";
import { writeNpy } from "../../lib/io/npy.ts";
import { writeEmbeddingsParquet } from "../../lib/io/parquet.ts";
import { type NamedArray, writeSafetensors } from "../../lib/io/safetensors.ts";
import { sha256Bytes } from "../../lib/io/sha256.ts";

/** The repository root (where `deno.json` and `cli/main.ts` are). */
export const REPO = fileURLToPath(new URL("../../", import.meta.url));

/** Tokenize settings of the tiny preset, with small shards. */
export const SEED_SETTINGS = {
  frames: 8,
  fps: 10,
  size: 32,
  audioSeconds: 0.8,
  sampleRate: 8000,
  clipsPerShard: 3,
};

/** Where every seed file is. */
export interface Seeds {
  /** The folder holding all of them. */
  root: string;
  /** Demo media folder with `manifest.jsonl` (8 clips). */
  media: string;
  /** The demo manifest, JSONL and CSV. */
  manifests: string[];
  /** The tokenized dataset (3 shards). */
  data: string;
  /** A pretraining run folder (2 steps, checkpoints at 0, 1, 2). */
  run: string;
  /** Its newest checkpoint. */
  checkpoint: string;
  /** Small audio files, one per format. */
  audio: string[];
  /** Small video files, one per container. */
  video: string[];
  /** Safetensors files (all dtypes; a dataset shard; a checkpoint's weights). */
  safetensors: string[];
  /** `.npy` files. */
  npy: string[];
  /** Embeddings Parquet files. */
  parquet: string[];
  /** JSON Lines files (the run's metrics). */
  jsonl: string[];
  /** `vocab.txt` files. */
  vocab: string[];
  /** `tokenizer.json` files. */
  tokenizers: string[];
}

const SEEDS_VERSION = 1;

/** Folders of `lib/` whose code shapes the seed files (formats, model weights, tokenizing). */
const SEED_SOURCES = [
  "lib/config",
  "lib/data",
  "lib/demo",
  "lib/io",
  "lib/model",
  "lib/run",
  "lib/train",
];

/** A short hash of the code the seeds depend on, so a change of format rebuilds them. */
async function sourceHash(): Promise<string> {
  const files: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const p = path.join(dir, e.name);
      if (e.isDirectory) await walk(p);
      else if (e.name.endsWith(".ts")) files.push(p);
    }
  };
  for (const dir of SEED_SOURCES) await walk(path.join(REPO, dir));
  const parts: string[] = [];
  for (const f of files.sort()) {
    parts.push(path.relative(REPO, f), sha256Bytes(await Deno.readFile(f)));
  }
  return sha256Bytes(parts.join("\n")).slice(0, 12);
}

async function ffmpeg(args: string[]): Promise<boolean> {
  const out = await new Deno.Command(ffmpegPath(), {
    args: ["-hide_banner", "-nostdin", "-loglevel", "error", "-y", ...args],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).output();
  return out.success;
}

/** Runs `deno run -A cli/main.ts …` and throws with its stderr on failure. */
async function vatt(args: string[]): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", path.join(REPO, "cli/main.ts"), ...args],
    cwd: REPO,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`vatt ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

async function makeAudio(dir: string): Promise<string[]> {
  const sine = (rate: number, ch = 1) =>
    ch === 1 ? ["-f", "lavfi", "-i", `sine=frequency=440:sample_rate=${rate}:duration=0.3`] : [
      ...["-f", "lavfi", "-i", `sine=frequency=440:sample_rate=${rate}:duration=0.3`],
      ...["-f", "lavfi", "-i", `sine=frequency=660:sample_rate=${rate}:duration=0.3`],
      ...["-filter_complex", "[0:a][1:a]amerge=inputs=2"],
    ];
  const specs: [string, string[]][] = [
    ["s16.wav", [...sine(8000), "-c:a", "pcm_s16le"]],
    ["u8-stereo.wav", [...sine(8000, 2), "-c:a", "pcm_u8"]],
    ["s24.wav", [...sine(8000), "-c:a", "pcm_s24le"]],
    ["f32.wav", [...sine(8000), "-c:a", "pcm_f32le"]],
    ["f64-stereo.wav", [...sine(8000, 2), "-c:a", "pcm_f64le"]],
    ["mulaw.wav", [...sine(8000), "-c:a", "pcm_mulaw"]],
    ["tone.flac", [...sine(8000, 2), "-c:a", "flac"]],
    ["tone.mp3", [...sine(8000), "-c:a", "libmp3lame", "-b:a", "32k"]],
    ["tone.ogg", [...sine(8000, 2), "-c:a", "libvorbis", "-q:a", "2"]],
    ["tone.opus", [...sine(8000), "-c:a", "libopus", "-b:a", "16k"]],
    ["tone.m4a", [...sine(8000), "-c:a", "aac", "-b:a", "32k"]],
  ];
  const out: string[] = [];
  for (const [name, args] of specs) {
    const file = path.join(dir, name);
    if (await ffmpeg([...args, "-fflags", "+bitexact", "-map_metadata", "-1", file])) {
      out.push(file);
    }
  }
  // One written by vatt's own encoder (float, with a fact chunk).
  const tone = Float32Array.from({ length: 2400 }, (_, i) => 0.5 * Math.sin(i / 7));
  await Deno.writeFile(
    path.join(dir, "own.wav"),
    encodeWav([tone], { sampleRate: 8000, format: "float32" }),
  );
  out.push(path.join(dir, "own.wav"));
  return out;
}

async function makeVideo(dir: string): Promise<string[]> {
  const src = ["-f", "lavfi", "-i", "testsrc=size=32x24:rate=10:duration=0.5"];
  const specs: [string, string[]][] = [
    ["clip.mp4", ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "ultrafast"]],
    ["clip.mkv", ["-c:v", "mpeg4"]],
    ["clip.avi", ["-c:v", "mjpeg"]],
    ["clip.webm", ["-c:v", "libvpx-vp9", "-deadline", "realtime"]],
    ["clip.gif", []],
  ];
  const out: string[] = [];
  for (const [name, args] of specs) {
    const file = path.join(dir, name);
    if (await ffmpeg([...src, ...args, "-fflags", "+bitexact", "-map_metadata", "-1", file])) {
      out.push(file);
    }
  }
  return out;
}

async function makeTensorFiles(dir: string): Promise<{ st: string; npy: string[]; pq: string[] }> {
  const st = path.join(dir, "all-dtypes.safetensors");
  await writeSafetensors(st, {
    f64: { dtype: "F64", shape: [2], data: new Float64Array([1.5, -2]) },
    f32: { dtype: "F32", shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
    f16: { dtype: "F16", shape: [3], data: new Uint16Array([0x3c00, 0, 0xc000]) },
    bf16: { dtype: "BF16", shape: [1, 2], data: new Uint16Array([0x3f80, 0x4000]) },
    i64: { dtype: "I64", shape: [2], data: new BigInt64Array([1n, -1n]) },
    i32: { dtype: "I32", shape: [], data: new Int32Array([7]) },
    i16: { dtype: "I16", shape: [2], data: new Int16Array([-3, 3]) },
    i8: { dtype: "I8", shape: [0, 4], data: new Int8Array(0) },
    u64: { dtype: "U64", shape: [1], data: new BigUint64Array([2n ** 60n]) },
    u32: { dtype: "U32", shape: [2, 1], data: new Uint32Array([1, 2]) },
    u16: { dtype: "U16", shape: [2], data: new Uint16Array([9, 10]) },
    u8: { dtype: "U8", shape: [4, 2], data: Uint8Array.from({ length: 8 }, (_, i) => i) },
    bool: { dtype: "BOOL", shape: [3], data: new Uint8Array([1, 0, 1]) },
  }, { metadata: { format: "vatt-test/1", ids: JSON.stringify(["a", "b"]) } });
  const npy: [string, NamedArray][] = [
    ["f32.npy", { dtype: "F32", shape: [3, 4], data: new Float32Array(12).fill(0.25) }],
    ["i64.npy", { dtype: "I64", shape: [5], data: new BigInt64Array(5).fill(-7n) }],
    ["u8.npy", { dtype: "U8", shape: [2, 2, 2], data: new Uint8Array(8).fill(3) }],
    ["bool.npy", { dtype: "BOOL", shape: [], data: new Uint8Array([1]) }],
    ["f16.npy", { dtype: "F16", shape: [0], data: new Uint16Array(0) }],
  ];
  const npyFiles: string[] = [];
  for (const [name, array] of npy) {
    await writeNpy(path.join(dir, name), array);
    npyFiles.push(path.join(dir, name));
  }
  const vectors = Float32Array.from({ length: 40 }, (_, i) => i / 8);
  const ids = Array.from({ length: 10 }, (_, i) => `clip-${i}`);
  const pq = [path.join(dir, "emb.parquet"), path.join(dir, "emb-plain.parquet")];
  await writeEmbeddingsParquet(pq[0], { ids, modality: "video", vectors }, {
    dim: 4,
    rowGroupSize: 3,
  });
  await writeEmbeddingsParquet(
    pq[1],
    {
      ids: ids.slice(0, 5),
      modality: "text",
      index: [0, 1, 2, 3, 4],
      vectors: vectors.slice(0, 20),
    },
    { dim: 4, codec: "UNCOMPRESSED" },
  );
  return { st, npy: npyFiles, pq };
}

async function makeTokenizers(dir: string): Promise<string[]> {
  const word = path.join(dir, "wordlevel.tokenizer.json");
  await Deno.writeTextFile(
    word,
    JSON.stringify({
      version: "1.0",
      normalizer: { type: "Lowercase" },
      pre_tokenizer: { type: "Whitespace" },
      added_tokens: [{ id: 0, content: "[PAD]", special: true }, {
        id: 1,
        content: "[UNK]",
        special: true,
      }],
      padding: { pad_id: 0 },
      model: {
        type: "WordLevel",
        vocab: { "[PAD]": 0, "[UNK]": 1, a: 2, red: 3, ball: 4, moves: 5, left: 6, right: 7 },
        unk_token: "[UNK]",
      },
    }),
  );
  const bpe = path.join(dir, "bpe.tokenizer.json");
  await Deno.writeTextFile(
    bpe,
    JSON.stringify({
      version: "1.0",
      normalizer: { type: "Sequence", normalizers: [{ type: "NFC" }, { type: "Lowercase" }] },
      pre_tokenizer: {
        type: "ByteLevel",
        add_prefix_space: false,
        trim_offsets: true,
        use_regex: true,
      },
      post_processor: {
        type: "TemplateProcessing",
        single: [{ SpecialToken: { id: "<s>", type_id: 0 } }, {
          Sequence: { id: "A", type_id: 0 },
        }],
        pair: [{ Sequence: { id: "A", type_id: 0 } }, { Sequence: { id: "B", type_id: 1 } }],
        special_tokens: { "<s>": { id: "<s>", ids: [1], tokens: ["<s>"] } },
      },
      decoder: { type: "ByteLevel" },
      added_tokens: [{ id: 0, content: "<pad>", special: true }, {
        id: 1,
        content: "<s>",
        special: true,
      }],
      model: {
        type: "BPE",
        vocab: { "<pad>": 0, "<s>": 1, r: 2, e: 3, d: 4, re: 5, red: 6, "Ġ": 7, b: 8, a: 9, l: 10 },
        merges: ["r e", "re d"],
        unk_token: null,
      },
    }),
  );
  return [word, bpe];
}

/** Builds the seeds into `root` (which must not exist). */
async function build(root: string): Promise<Seeds> {
  for (const sub of ["audio", "video", "tensors", "tokenizers"]) {
    await Deno.mkdir(path.join(root, sub), { recursive: true });
  }
  const media = path.join(root, "media");
  await generateDemoData(media, {
    clips: 8,
    seed: 3,
    seconds: 1,
    width: 64,
    height: 48,
    fps: 10,
    sampleRate: 8000,
  });
  const jsonl = path.join(media, "manifest.jsonl");
  const rows = (await Deno.readTextFile(jsonl)).trim().split("\n").map((l) => JSON.parse(l));
  const csv = path.join(media, "manifest.csv");
  const cell = (v: string) => /[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
  await Deno.writeTextFile(
    csv,
    [
      "id,video,audio,captions,label",
      ...rows.map((r) =>
        [r.id, r.video, r.audio ?? "", r.captions.join(" || "), r.label].map(cell).join(",")
      ),
    ].join("\n") + "\n",
  );
  const data = path.join(root, "data");
  await tokenizeDataset({
    manifest: jsonl,
    out: data,
    settings: SEED_SETTINGS,
    text: { buildVocab: 255 },
  });
  const run = path.join(root, "run");
  await vatt([
    "pretrain",
    data,
    "--out",
    run,
    "--steps",
    "2",
    "--batch",
    "2",
    "--backend",
    "cpu",
    "--checkpoint-every",
    "1",
    "--keep",
    "5",
    "--lr",
    "1e-3",
  ]);
  const checkpoint = path.join(run, "checkpoints", "step-0000002");
  const tensors = await makeTensorFiles(path.join(root, "tensors"));
  const shards = [];
  for await (const e of Deno.readDir(data)) {
    if (e.name.endsWith(".safetensors")) shards.push(e.name);
  }
  shards.sort();
  return {
    root,
    media,
    manifests: [jsonl, csv],
    data,
    run,
    checkpoint,
    audio: await makeAudio(path.join(root, "audio")),
    video: [...(await makeVideo(path.join(root, "video"))), path.join(media, rows[0].video)],
    safetensors: [
      tensors.st,
      path.join(data, shards[0]),
      path.join(checkpoint, "model.safetensors"),
    ],
    npy: tensors.npy,
    parquet: tensors.pq,
    jsonl: [path.join(run, "metrics.jsonl")],
    vocab: [path.join(data, "vocab.txt")],
    tokenizers: await makeTokenizers(path.join(root, "tokenizers")),
  };
}

function mapPaths(seeds: Seeds, fn: (p: string) => string): Seeds {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(seeds)) {
    out[key] = Array.isArray(value) ? value.map(fn) : fn(value);
  }
  return out as unknown as Seeds;
}

/**
 * The seeds, built on first use and then reused from
 * `$TMPDIR/vatt-robustness-seeds/v1-<hash of the lib/ code they depend on>`.
 *
 * @example
 * ```ts
 * import { robustnessSeeds } from "./_seeds.ts";
 * const seeds = await robustnessSeeds();
 * console.assert(seeds.audio.length > 0);
 * ```
 */
export async function robustnessSeeds(): Promise<Seeds> {
  const base = path.join(Deno.env.get("TMPDIR") ?? "/tmp", "vatt-robustness-seeds");
  const target = path.join(base, `v${SEEDS_VERSION}-${await sourceHash()}`);
  const load = async () => {
    try {
      const relative = JSON.parse(await Deno.readTextFile(path.join(target, "seeds.json")));
      return mapPaths(relative, (p) => path.join(target, p));
    } catch {
      return undefined;
    }
  };
  const found = await load();
  if (found) return found;
  await Deno.mkdir(base, { recursive: true });
  const work = await Deno.makeTempDir({ dir: base, prefix: ".build-" });
  try {
    const seeds = await build(work);
    const relative = mapPaths(seeds, (p) => path.relative(work, p));
    await Deno.writeTextFile(path.join(work, "seeds.json"), JSON.stringify(relative, null, 2));
    await Deno.rename(work, target);
    // Seeds of older code are of no more use.
    for await (const e of Deno.readDir(base)) {
      if (/^v\d+-/.test(e.name) && path.join(base, e.name) !== target) {
        await Deno.remove(path.join(base, e.name), { recursive: true }).catch(() => {});
      }
    }
  } catch (e) {
    // Another process may have finished first: its copy is as good.
    await Deno.remove(work, { recursive: true }).catch(() => {});
    const other = await load();
    if (other) return other;
    throw e;
  }
  return (await load())!;
}
