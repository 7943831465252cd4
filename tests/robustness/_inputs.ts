/**
 * Hostile special files as inputs (issue 18, hangs and memory blow-ups): every
 * reader of the toolkit — manifest, vocabulary, tokenizer, audio, shard,
 * `index.json`, `state.json`, `config.json`, `--config`, embeddings, word
 * vectors — given a FIFO, `/dev/zero` or `/dev/urandom` (directly or through
 * a symlink). Each must end in bounded time with one FormatError line that
 * names the path and what it is, having read nothing.
 *
 * @module
 */
import * as path from "node:path";
import { readManifest } from "../../lib/data/manifest/manifest.ts";
import { type DatasetOptions, datasetReader } from "../../lib/data/manifest/datasets/mod.ts";
import { loadAudioWindow } from "../../lib/data/media/audio_load.ts";
import { decodeAudioFile } from "../../lib/data/media/audio_decode.ts";
import { Dataset } from "../../lib/data/shards/dataset.ts";
import { loadHfTokenizer } from "../../lib/data/text/hf_tokenizer.ts";
import { prepareTextTokenizer } from "../../lib/data/text/setup.ts";
import { readWordVectors } from "../../lib/data/text/word_vectors.ts";
import { mergeSlices } from "../../lib/data/tokenize/merge.ts";
import { readEmbeddings } from "../../lib/eval/embeddings/read.ts";
import { readNpy } from "../../lib/io/npy.ts";
import { openEmbeddingsParquet } from "../../lib/io/parquet.ts";
import { openSafetensors, readSafetensors } from "../../lib/io/safetensors.ts";
import { sha256File } from "../../lib/io/sha256.ts";
import { readRunRecord } from "../../lib/run/trained_on.ts";
import { readTrainState } from "../../lib/run/checkpoint.ts";
import { prepareRunFolder } from "../../lib/run/run_folder.ts";
import { readJsonFlag } from "../../cli/_options.ts";

/** One reader given one special file, and how it ended. */
export interface InputCase {
  name: string;
  /** Ended within the limit (a FIFO left blocking is unblocked afterwards). */
  bounded: boolean;
  /** Refused with one line naming the path and its kind. */
  clean: boolean;
  message: string;
}

/** What {@linkcode hostileInputs} found. */
export interface InputsReport {
  cases: InputCase[];
  problems: string[];
}

const LIMIT_MS = 5_000;

/** A reader: reads `file` (a special file placed under the name the reader expects). */
interface Reader {
  name: string;
  /** The file name the reader looks for, in the folder `dir` passed to `read`. */
  file: string;
  read: (file: string, dir: string) => Promise<unknown>;
}

const READERS: Reader[] = [
  { name: "manifest", file: "manifest.jsonl", read: (f) => readManifest(f) },
  {
    name: "vocab.txt",
    file: "vocab.txt",
    read: (f, d) => prepareTextTokenizer({ vocabFile: f }, { captions: [], outDir: d + "/o" }),
  },
  { name: "tokenizer.json", file: "tokenizer.json", read: (f) => loadHfTokenizer(f) },
  {
    name: "audio window (wav)",
    file: "a.wav",
    read: (f) => loadAudioWindow(f, { sampleRate: 16000, seconds: 0.8 }),
  },
  { name: "audio decode (flac)", file: "a.flac", read: (f) => decodeAudioFile(f) },
  { name: "shard (safetensors, whole)", file: "s.safetensors", read: (f) => readSafetensors(f) },
  { name: "shard (safetensors, opened)", file: "s.safetensors", read: (f) => openSafetensors(f) },
  { name: "shard checksum", file: "s.safetensors", read: (f) => sha256File(f) },
  { name: "index.json", file: "index.json", read: (_f, d) => Dataset.open(d) },
  {
    name: "slice index (--merge)",
    file: "index.slice-0-of-1.json",
    read: (_f, d) => mergeSlices(d),
  },
  { name: "state.json", file: "state.json", read: (_f, d) => readTrainState(d) },
  {
    name: "config.json (trained-on record)",
    file: "config.json",
    read: (_f, d) =>
      Deno.mkdir(`${d}/c/x`, { recursive: true }).then(() => readRunRecord(`${d}/c/x`)),
  },
  {
    name: "config.json (resume)",
    file: "config.json",
    read: (_f, d) => prepareRunFolder(d, { config: {}, resume: true, force: false }),
  },
  { name: "--config", file: "config.json", read: (f) => readJsonFlag("--config", f) },
  { name: "embeddings (npy)", file: "e.npy", read: (f) => readNpy(f) },
  { name: "embeddings (jsonl)", file: "e.jsonl", read: (f) => readEmbeddings(f) },
  { name: "embeddings (parquet)", file: "e.parquet", read: (f) => openEmbeddingsParquet(f) },
  {
    name: "embeddings (safetensors)",
    file: "e.safetensors",
    read: (f) => readEmbeddings(f),
  },
  { name: "word vectors", file: "w.vec", read: (f) => readWordVectors(f) },
  ...annotation("howto100m", "caption.json"),
  ...annotation("audioset", "class_labels_indices.csv"),
  ...annotation("kinetics", "annotations/train.csv", { split: "train" }),
  ...annotation("ucf101", "ucfTrainTestlist/classInd.txt"),
  ...annotation("esc50", "meta/esc50.csv"),
  ...annotation("msrvtt", "MSRVTT_JSFUSION_test.csv"),
  ...annotation("youcook2", "annotations/youcookii_annotations_trainval.json"),
];

/** A dataset's annotation file, read by `vatt manifest DATASET ROOT`. */
function annotation(dataset: string, file: string, options: DatasetOptions = {}): Reader[] {
  return [{
    name: `${dataset} annotation`,
    file,
    read: async (_f, d) =>
      (await datasetReader(dataset))(d, { ...options, skipMissingCheck: true }),
  }];
}

async function mkfifo(p: string): Promise<boolean> {
  return await new Deno.Command("mkfifo", { args: [p], stderr: "null" }).output().then(
    (r) => r.success,
    () => false,
  );
}

/** Opens a blocked FIFO's other end so a reader stuck in `open` can finish. */
async function unblock(fifo: string): Promise<void> {
  try {
    const w = await Deno.open(fifo, { write: true });
    w.close();
  } catch {
    // nothing to unblock
  }
}

async function runCase(
  reader: Reader,
  special: { kind: string; make: (p: string) => Promise<boolean>; what: RegExp },
  root: string,
  n: number,
): Promise<InputCase | undefined> {
  const dir = path.join(root, `case-${n}`);
  const file = path.join(dir, reader.file);
  await Deno.mkdir(path.dirname(file), { recursive: true });
  if (!await special.make(file)) return undefined;
  const name = `${reader.name} ← ${special.kind}`;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((res) =>
    timer = setTimeout(() => res("timeout"), LIMIT_MS)
  );
  const outcome = await Promise.race([
    reader.read(file, dir).then(
      () => ({ ok: true, error: undefined }),
      (e) => ({ ok: false, error: e }),
    ),
    timeout,
  ]);
  clearTimeout(timer);
  if (outcome === "timeout") {
    await unblock(file);
    return { name, bounded: false, clean: false, message: "" };
  }
  const message = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
  const clean = !outcome.ok && !message.includes("\n") && message.includes(reader.file) &&
    special.what.test(message);
  return { name, bounded: true, clean, message };
}

/**
 * Runs every reader against a FIFO, `/dev/zero` and `/dev/urandom` (as
 * symlinks named like the file the reader expects) in folders under `root`.
 *
 * @example
 * ```ts
 * import { hostileInputs } from "./_inputs.ts";
 * const dir = await Deno.makeTempDir();
 * const report = await hostileInputs(dir);
 * console.assert(report.problems.length === 0);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function hostileInputs(root: string): Promise<InputsReport> {
  const specials = [
    { kind: "FIFO", make: mkfifo, what: /is a FIFO/ },
    ...["/dev/zero", "/dev/urandom"].map((dev) => ({
      kind: dev,
      make: (p: string) => Deno.symlink(dev, p).then(() => true, () => false),
      what: /is a character device/,
    })),
  ];
  const cases: InputCase[] = [];
  let n = 0;
  for (const reader of READERS) {
    for (const special of specials) {
      const c = await runCase(reader, special, root, n++);
      if (c) cases.push(c);
    }
  }
  const problems = cases.filter((c) => !c.bounded || !c.clean).map((c) =>
    `${c.name}: ${c.bounded ? `not clean: ${JSON.stringify(c.message)}` : "hang"}`
  );
  return { cases, problems };
}

/**
 * The report, one line a case.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatInputs } from "./_inputs.ts";
 * assert.match(formatInputs({ cases: [], problems: [] }), /0 cases/);
 * ```
 */
export function formatInputs(report: InputsReport): string {
  const lines = report.cases.map((c) =>
    `${c.bounded && c.clean ? "ok  " : "FAIL"} ${c.name}: ${c.message}`
  );
  return [
    `hostile inputs: ${report.cases.length} cases, ${report.problems.length} problems`,
    ...lines,
  ]
    .join("\n");
}
