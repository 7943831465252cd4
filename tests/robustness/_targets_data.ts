/**
 * Fuzz targets of the dataset side: `index.json`, whole dataset folders
 * (`Dataset.open`, `ids`, `readClips`, the dataset's tokenizer), shards met
 * again by a resumed `tokenizeDataset`, manifests (JSONL and CSV),
 * `vocab.txt` and `tokenizer.json`.
 *
 * @module
 */
import fc from "fast-check";
import * as path from "node:path";
import { Dataset } from "../../lib/data/shards/dataset.ts";
import {
  type DatasetIndex,
  parseDatasetIndex,
  storedShape,
} from "../../lib/data/shards/dataset_index.ts";
import { HfTokenizer, loadHfTokenizer } from "../../lib/data/text/hf_tokenizer.ts";
import { readManifest } from "../../lib/data/manifest/manifest.ts";
import { loadTextTokenizer, prepareTextTokenizer } from "../../lib/data/text/setup.ts";
import { tokenizeDataset } from "../../lib/data/tokenize/tokenize.ts";
import { mergeSlices } from "../../lib/data/tokenize/merge.ts";
import { decodeSafetensors, encodeSafetensors } from "../../lib/io/safetensors.ts";
import { sha256Bytes } from "../../lib/io/sha256.ts";
import {
  applyBytePlan,
  applyJsonPlan,
  bytePlan,
  draw,
  hostileJsonValue,
  jsonPlan,
  seedCase,
} from "./_mutate.ts";
import { SEED_SETTINGS } from "./_seeds.ts";
import {
  caseDir,
  type CaseFactory,
  expect,
  readSeed,
  safetensorsHot,
  type Target,
  type TargetContext,
} from "./_target.ts";

/** Copies the files of a flat folder. */
async function copyFolder(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isFile) {
      await Deno.writeFile(path.join(to, e.name), await readSeed(path.join(from, e.name)));
    }
  }
}

/** Hostile shard metadata: right or wrong format, ids and bookkeeping. */
const shardMetadata = fc.record(
  {
    format: fc.oneof(
      { arbitrary: fc.constant("vatt-shard/1"), weight: 4 },
      { arbitrary: fc.string({ maxLength: 8 }), weight: 1 },
    ),
    ids: fc.oneof(
      { arbitrary: fc.constant("KEEP"), weight: 4 },
      {
        arbitrary: fc.array(fc.string({ maxLength: 6 }), { maxLength: 4 }).map((a) =>
          JSON.stringify(a)
        ),
        weight: 1,
      },
      { arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)), weight: 1 },
      { arbitrary: fc.string({ maxLength: 10 }), weight: 1 },
    ),
    skipped: fc.oneof(
      fc.constant("[]"),
      fc.array(fc.oneof(fc.constant(null), hostileJsonValue), { minLength: 2, maxLength: 3 }).map((
        a,
      ) => JSON.stringify(a)),
      fc.array(
        fc.record({ row: hostileJsonValue, id: hostileJsonValue, reason: hostileJsonValue }, {
          requiredKeys: [],
        }),
        { maxLength: 3 },
      ).map((a) => JSON.stringify(a)),
      fc.string({ maxLength: 10 }),
    ),
    padded: fc.oneof(
      fc.constant("[]"),
      fc.array(hostileJsonValue, { maxLength: 3 }).map((a) => JSON.stringify(a)),
      fc.array(
        fc.record({
          id: hostileJsonValue,
          videoFrames: hostileJsonValue,
          audioSamples: hostileJsonValue,
        }, {
          requiredKeys: [],
        }),
        { maxLength: 3 },
      ).map((a) => JSON.stringify(a)),
      fc.string({ maxLength: 10 }),
    ),
    dropped_captions: fc.oneof(fc.constant("0"), fc.string({ maxLength: 6 })),
  },
  { requiredKeys: ["format", "ids", "skipped", "padded"] },
);

/** Re-encodes a shard with other metadata (`ids: "KEEP"` keeps the ids). */
function withMetadata(shard: Uint8Array, meta: Record<string, string>): Uint8Array {
  const decoded = decodeSafetensors(shard);
  const metadata = { ...meta };
  if (metadata.ids === "KEEP") metadata.ids = decoded.metadata.ids;
  return encodeSafetensors(decoded.tensors, { metadata });
}

/** `index.json` text on its own, and slice indexes merged by `mergeSlices`. */
export const indexTarget: Target = {
  name: "index-json",
  description:
    "parseDatasetIndex and mergeSlices: index.json / index.slice-*.json with hostile values, deleted fields, mutated bytes",
  timeoutMs: 10_000,
  allocLimit: (bytes) => 8 * bytes + (1 << 20),
  async cases(ctx, seed, count) {
    const text = new TextDecoder().decode(await readSeed(path.join(ctx.seeds.data, "index.json")));
    const doc = JSON.parse(text);
    const sliceDoc = { ...doc, slice: { index: 0, count: 1 } };
    const plans = draw(
      fc.record({ json: fc.boolean(), jp: jsonPlan, bp: bytePlan, merge: fc.boolean() }),
      seed,
      count,
    );
    return (i) => {
      const valid = i < 2;
      const p = plans[i];
      const merge = valid ? i === 1 : p.merge;
      const base = merge ? sliceDoc : doc;
      const baseText = JSON.stringify(base, null, 2);
      const input = valid
        ? baseText
        : p.json
        ? applyJsonPlan(base, p.jp)
        : new TextDecoder().decode(applyBytePlan(new TextEncoder().encode(baseText), p.bp));
      const check = (index: DatasetIndex) => {
        expect(
          index.clips === index.shards.reduce((s, e) => s + e.clips, 0),
          "clips do not add up",
        );
        for (const s of index.shards) {
          expect(!s.file.includes("/") && !s.file.includes(".."), "file escapes");
        }
      };
      const run = async () => {
        if (!merge) return check(parseDatasetIndex(input));
        const dir = path.join(await caseDir(ctx), "data");
        await copyFolder(ctx.seeds.data, dir);
        await Deno.remove(path.join(dir, "index.json"));
        await Deno.writeTextFile(path.join(dir, "index.slice-00000-of-00001.json"), input);
        check(await mergeSlices(dir));
        check(parseDatasetIndex(await Deno.readTextFile(path.join(dir, "index.json"))));
      };
      const kind = valid ? "valid" : p.json ? "json" : "bytes";
      return Promise.resolve({
        testCase: { input: `${merge ? "index.slice" : "index"}.json ${kind}`, run, valid },
        bytes: input.length,
      });
    };
  },
};

/** A whole dataset folder with one part damaged. */
export const datasetTarget: Target = {
  name: "dataset",
  description:
    "Dataset.open / ids / readClips / loadTextTokenizer: folders with a damaged index, shard (checksum fixed or not), shard metadata or vocabulary",
  timeoutMs: 20_000,
  allocLimit: (bytes) => 3 * bytes + (1 << 20),
  async cases(ctx: TargetContext, seed: number, count: number): Promise<CaseFactory> {
    const src = ctx.seeds.data;
    const indexDoc = JSON.parse(
      new TextDecoder().decode(await readSeed(path.join(src, "index.json"))),
    );
    const shardFiles: string[] = indexDoc.shards.map((s: { file: string }) => s.file);
    let total = 0;
    for await (const e of Deno.readDir(src)) {
      total += (await Deno.stat(path.join(src, e.name))).size;
    }
    const plans = draw(
      fc.record({
        kind: fc.constantFrom(
          "index",
          "index-bytes",
          "settings",
          "shard",
          "shard",
          "shard-raw",
          "shard-meta",
          "vocab",
          "missing",
        ),
        shard: fc.nat(),
        setting: fc.constantFrom(
          "frames",
          "size",
          "audioSamples",
          "maxLength",
          "captionsPerClip",
          "clipsPerShard",
          "audioDtype",
          "clips",
          "labels",
        ),
        value: fc.oneof(
          {
            arbitrary: fc.constantFrom(
              4096,
              65536,
              2 ** 24,
              2 ** 31,
              2 ** 32,
              2 ** 40,
              2 ** 53,
              1e300,
            ),
            weight: 3,
          },
          { arbitrary: fc.constantFrom(0, 1, 2, 3, -1, 1.5), weight: 1 },
          { arbitrary: hostileJsonValue, weight: 1 },
        ),
        jp: jsonPlan,
        bp: bytePlan,
        meta: shardMetadata,
        dir: fc.boolean(),
      }),
      seed,
      count,
    );
    return (i) => {
      const valid = i === 0;
      const p = plans[i];
      const kind = valid ? "valid" : p.kind;
      const run = async () => {
        const dir = path.join(await caseDir(ctx), "data");
        await copyFolder(src, dir);
        const index = structuredClone(indexDoc);
        const k = p.shard % shardFiles.length;
        const shardPath = path.join(dir, shardFiles[k]);
        const fix = (bytes: Uint8Array, entry: { sha256: string; bytes: number }) => {
          entry.sha256 = sha256Bytes(bytes);
          entry.bytes = bytes.length;
        };
        let indexText = JSON.stringify(index);
        if (kind === "index") indexText = applyJsonPlan(index, p.jp);
        else if (kind === "settings") {
          // One sampling setting (or a shard's clip count, or the labels) made hostile.
          if (p.setting === "clips") index.shards[k].clips = p.value;
          else if (p.setting === "labels") {
            index.labels = {
              names: Array.from({ length: 64 }, (_, j) => `c${j}`),
              multiLabel: true,
            };
          } else index.settings[p.setting] = p.value;
          indexText = JSON.stringify(index);
        } else if (kind === "index-bytes") {
          await Deno.writeFile(
            path.join(dir, "index.json"),
            applyBytePlan(new TextEncoder().encode(JSON.stringify(index, null, 2)), p.bp),
          );
        } else if (kind === "shard" || kind === "shard-raw" || kind === "shard-meta") {
          const original = await readSeed(path.join(src, shardFiles[k]));
          const bytes = kind === "shard-meta"
            ? withMetadata(original, p.meta as Record<string, string>)
            : applyBytePlan(original, p.bp, safetensorsHot(original));
          await Deno.writeFile(shardPath, bytes);
          if (kind !== "shard-raw") fix(bytes, index.shards[k]);
          indexText = JSON.stringify(index);
        } else if (kind === "vocab") {
          const bytes = applyBytePlan(await readSeed(path.join(src, "vocab.txt")), p.bp);
          await Deno.writeFile(path.join(dir, "vocab.txt"), bytes);
          index.text.sha256 = sha256Bytes(bytes);
          indexText = JSON.stringify(index);
        } else if (kind === "missing") {
          await Deno.remove(shardPath);
          if (p.dir) await Deno.mkdir(shardPath);
        }
        if (kind !== "index-bytes") {
          await Deno.writeTextFile(path.join(dir, "index.json"), indexText);
        }
        const data = await Dataset.open(dir);
        try {
          const s = data.index.settings;
          const n = Math.min(data.size, 8);
          const indices = Array.from({ length: n }, (_, j) => (j * 5) % data.size);
          // Half of the cases read clips before anything else has opened the shards.
          const early = p.dir ? await data.readClips(indices) : undefined;
          const ids = await data.ids();
          expect(ids.length === data.size, `${ids.length} ids for ${data.size} clips`);
          const batch = early ?? await data.readClips(indices);
          expect(batch.count === n && batch.ids.length === n, "batch size");
          const st = storedShape(s); // what each clip stores (the span training windows come from)
          expect(batch.video.length === n * st.frames * st.size * st.size * 3, "video length");
          expect(batch.audio.length === n * st.audioSamples, "audio length");
          expect(batch.text.length === n * s.captionsPerClip * s.maxLength, "text length");
          expect(batch.ids.every((id, j) => id === ids[indices[j]]), "ids of the batch");
          const tokenizer = await loadTextTokenizer(dir, data.index.text);
          const ids2 = tokenizer.encode("a red ball moves left", { maxLength: 8 });
          expect(
            ids2.length === 8 && ids2.every((x) => x >= 0 && x < tokenizer.vocabSize),
            "token ids",
          );
        } finally {
          data.close();
        }
      };
      return Promise.resolve({ testCase: { input: `data ${kind}`, run, valid }, bytes: total });
    };
  },
};

/** A resumed tokenize run meeting a damaged "complete" shard in its folder. */
export const tokenizeResumeTarget: Target = {
  name: "tokenize-resume",
  description:
    "tokenizeDataset re-run over a folder whose kept shard is damaged (bytes or metadata)",
  timeoutMs: 30_000,
  allocLimit: (bytes) => 3 * bytes + (8 << 20),
  async cases(ctx, seed, count) {
    const src = ctx.seeds.data;
    const indexDoc = JSON.parse(
      new TextDecoder().decode(await readSeed(path.join(src, "index.json"))),
    );
    const shardFiles: string[] = indexDoc.shards.map((s: { file: string }) => s.file);
    const plans = draw(
      fc.record({ meta: fc.boolean(), shard: fc.nat(), bp: bytePlan, md: shardMetadata }),
      seed,
      count,
    );
    return async (i) => {
      const valid = i === 0;
      const p = plans[i];
      const k = p.shard % shardFiles.length;
      const original = await readSeed(path.join(src, shardFiles[k]));
      const bytes = valid
        ? original
        : p.meta
        ? withMetadata(original, p.md as Record<string, string>)
        : applyBytePlan(original, p.bp, safetensorsHot(original));
      const run = async () => {
        const dir = path.join(await caseDir(ctx), "data");
        await copyFolder(src, dir);
        await Deno.remove(path.join(dir, "index.json"));
        await Deno.writeFile(path.join(dir, shardFiles[k]), bytes);
        const result = await tokenizeDataset({
          manifest: ctx.seeds.manifests[0],
          out: dir,
          settings: SEED_SETTINGS,
          text: { buildVocab: 255 },
          workers: 1,
        });
        expect(result.resumedShards === shardFiles.length, "a damaged shard was silently remade");
        const data = await Dataset.open(dir);
        try {
          expect((await data.ids()).length === data.size, "ids");
        } finally {
          data.close();
        }
      };
      const input = `${shardFiles[k]} ${valid ? "valid" : p.meta ? "metadata" : "bytes"}`;
      return { testCase: { input, run, valid }, bytes: 3 * original.length };
    };
  },
};

// ------------------------------------------------------------------ manifests

const pathLike = fc.oneof(
  fc.constantFrom(
    "video/clip-00000.mp4",
    "../../../../etc/passwd",
    "/dev/zero",
    "/proc/self/mem",
    "http://example.com/a.mp4",
    "file:///etc/passwd",
    "a\u0000b.mp4",
    " ",
    "video/",
  ),
  fc.string({ maxLength: 20 }),
  hostileJsonValue,
);

const manifestRow = fc.oneof(
  fc.record(
    {
      id: fc.oneof(
        fc.string({ minLength: 1, maxLength: 12 }),
        fc.constantFrom("../../x", "/abs/id", "..", "a/b", "CON"),
        hostileJsonValue,
      ),
      video: pathLike,
      audio: pathLike,
      captions: fc.oneof(
        fc.array(fc.string({ maxLength: 24 }), { maxLength: 4 }),
        hostileJsonValue,
      ),
      label: fc.oneof(
        fc.string({ maxLength: 8 }),
        fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
        hostileJsonValue,
      ),
      start: fc.oneof(fc.double({ noNaN: true }), hostileJsonValue),
      end: fc.oneof(fc.double({ noNaN: true }), hostileJsonValue),
    },
    { requiredKeys: [] },
  ),
  hostileJsonValue,
);

const csvCell = fc.oneof(
  fc.string({ maxLength: 16 }),
  fc.constantFrom(
    "a,b",
    'say "hi"',
    "line\nbreak",
    '"quoted"',
    "x || y",
    '["a","b"]',
    "1.5",
    "-1",
    "1e400",
    "",
  ),
);

const manifestPlan = fc.record({
  kind: fc.constantFrom("jsonl", "jsonl", "csv", "csv", "bytes"),
  rows: fc.array(manifestRow, { minLength: 0, maxLength: 12 }),
  header: fc.shuffledSubarray([
    "id",
    "video",
    "audio",
    "captions",
    "label",
    "start",
    "end",
    "extra",
    "id ",
  ], {
    minLength: 0,
  }),
  cells: fc.array(fc.array(csvCell, { maxLength: 9 }), { maxLength: 10 }),
  quote: fc.boolean(),
  crlf: fc.boolean(),
  bom: fc.boolean(),
  badUtf8: fc.option(fc.nat(), { nil: undefined }),
  nul: fc.boolean(),
  huge: fc.option(fc.integer({ min: 1, max: 3000 }), { nil: undefined }),
  maxLine: fc.constantFrom(undefined, 256, 4096),
  format: fc.constantFrom(undefined, undefined, "jsonl" as const, "csv" as const),
  ext: fc.constantFrom(".jsonl", ".csv", ".txt"),
  source: fc.nat(),
  bp: bytePlan,
});

type ManifestPlan = typeof manifestPlan extends fc.Arbitrary<infer T> ? T : never;

function buildManifest(p: ManifestPlan, seedBytes: Uint8Array): Uint8Array {
  if (p.kind === "bytes") return applyBytePlan(seedBytes, p.bp);
  const nl = p.crlf ? "\r\n" : "\n";
  let lines: string[];
  if (p.kind === "jsonl") {
    lines = p.rows.map((r) => JSON.stringify(r) ?? "undefined");
  } else {
    const quote = (c: string) => p.quote || /[",\n]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c;
    lines = [
      p.header.join(","),
      ...p.cells.map((row) => row.map((c) => p.quote ? quote(c) : c).join(",")),
    ];
  }
  if (p.huge !== undefined && lines.length > 0) {
    // A row longer than the cap (or than 1 MiB when the cap is the default).
    const size = (p.maxLine ?? (1 << 20)) + p.huge;
    lines[p.huge % lines.length] = p.kind === "jsonl"
      ? JSON.stringify({ id: "huge", video: "v.mp4", captions: ["x".repeat(size)] })
      : `huge,v.mp4,${"x".repeat(size)}`;
  }
  let bytes = new TextEncoder().encode(
    (p.bom ? "\uFEFF" : "") + lines.join(nl) + (lines.length ? nl : ""),
  );
  if (p.badUtf8 !== undefined && bytes.length > 0) {
    const at = p.badUtf8 % bytes.length;
    bytes = new Uint8Array([...bytes.subarray(0, at), 0xc3, 0x28, 0xff, ...bytes.subarray(at)]);
  }
  if (p.nul && bytes.length > 0) bytes[Math.floor(bytes.length / 2)] = 0;
  return bytes;
}

/** JSONL and CSV manifests. */
export const manifestTarget: Target = {
  name: "manifest",
  description:
    "readManifest: JSONL/CSV with missing columns, wrong types, non-UTF-8, NULs, huge rows, hostile paths and ids",
  timeoutMs: 15_000,
  allocLimit: (bytes) => 8 * bytes + (4 << 20),
  cases(ctx, seed, count) {
    const files = ctx.seeds.manifests;
    const plans = draw(manifestPlan, seed, count);
    return async (i) => {
      const { valid, p, file } = seedCase(files, plans, i);
      const bytes = valid ? await readSeed(file) : buildManifest(p, await readSeed(file));
      const run = async () => {
        const dir = await caseDir(ctx);
        const target = path.join(dir, valid ? path.basename(file) : `m${p.ext}`);
        await Deno.writeFile(target, bytes);
        const m = await readManifest(
          target,
          valid ? {} : { maxLineBytes: p.maxLine, format: p.format },
        );
        const ids = new Set<string>();
        let last = 0;
        for (const r of m.rows) {
          expect(
            typeof r.id === "string" && r.id.trim() !== "" && !ids.has(r.id),
            `bad or duplicate id`,
          );
          ids.add(r.id);
          expect(r.row > last, "rows out of order");
          last = r.row;
          const media = r.video ?? r.audio;
          expect(media !== undefined, "a row without video or audio");
          expect(path.isAbsolute(media!) && !media!.includes("\0"), "media path");
          expect(r.captions.every((c) => typeof c === "string"), "captions");
          if (r.end !== undefined) expect(r.end > (r.start ?? 0), "end before start");
        }
        for (const e of m.errors) {
          expect(
            e.row >= 1 && typeof e.reason === "string" && !e.reason.includes("\n"),
            "error entry",
          );
        }
        if (valid) expect(m.errors.length === 0 && m.rows.length === 8, "the valid manifest");
      };
      return {
        testCase: { input: `${valid ? path.basename(file) : `${p.kind}${p.ext}`}`, run, valid },
        bytes: bytes.length,
      };
    };
  },
};

// ------------------------------------------------------------------ text tokenizers

const vocabPlan = fc.record({
  synth: fc.boolean(),
  words: fc.array(
    fc.oneof(
      fc.string({ minLength: 1, maxLength: 8 }),
      fc.string({ unit: "grapheme", minLength: 1, maxLength: 4 }),
      fc.constantFrom("a", "red", "a b", "\t", "x\u0000", "\u0085", "é", "e\u0301"),
    ),
    { maxLength: 30 },
  ),
  crlf: fc.boolean(),
  trailing: fc.integer({ min: 0, max: 2 }),
  bom: fc.boolean(),
  bp: bytePlan,
});

/** `vocab.txt` given to `--vocab`. */
export const vocabTarget: Target = {
  name: "vocab",
  description:
    "prepareTextTokenizer({vocabFile}) / WordTokenizer.encode: mutated and made-up vocab.txt",
  timeoutMs: 10_000,
  allocLimit: (bytes) => 16 * bytes + (4 << 20),
  async cases(ctx, seed, count) {
    const original = await readSeed(ctx.seeds.vocab[0]);
    const plans = draw(vocabPlan, seed, count);
    return (i) => {
      const valid = i === 0;
      const p = plans[i];
      const bytes = valid ? original : p.synth
        ? new TextEncoder().encode(
          (p.bom ? "\uFEFF" : "") + p.words.join(p.crlf ? "\r\n" : "\n") + "\n".repeat(p.trailing),
        )
        : applyBytePlan(original, p.bp);
      const run = async () => {
        const dir = await caseDir(ctx);
        await Deno.writeFile(path.join(dir, "given.txt"), bytes);
        await Deno.mkdir(path.join(dir, "out"));
        const { tokenizer, spec } = await prepareTextTokenizer({
          vocabFile: path.join(dir, "given.txt"),
        }, {
          captions: [],
          outDir: path.join(dir, "out"),
        });
        const again = await loadTextTokenizer(path.join(dir, "out"), spec);
        expect(again.vocabSize === tokenizer.vocabSize, "vocabulary does not round-trip");
        const ids = tokenizer.encode("a red ball moves left", { maxLength: 8 });
        expect(
          ids.length === 8 && ids.every((x) => x >= 0 && x < tokenizer.vocabSize),
          "token ids",
        );
      };
      return Promise.resolve({
        testCase: { input: `vocab ${valid ? "valid" : p.synth ? "synth" : "bytes"}`, run, valid },
        bytes: bytes.length,
      });
    };
  },
};

const tokenizerSynth = fc.record({
  model: fc.oneof(
    fc.record(
      {
        type: fc.oneof(
          fc.constantFrom("BPE", "WordPiece", "Unigram", "WordLevel"),
          hostileJsonValue,
        ),
        vocab: fc.oneof(
          fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(fc.nat(40), hostileJsonValue), {
            maxKeys: 8,
          }),
          fc.array(fc.tuple(fc.string({ maxLength: 4 }), fc.double({ noNaN: true })), {
            maxLength: 8,
          }),
          hostileJsonValue,
        ),
        merges: fc.oneof(fc.array(fc.string({ maxLength: 5 }), { maxLength: 4 }), hostileJsonValue),
        unk_token: fc.oneof(fc.constantFrom("[UNK]", "a"), hostileJsonValue),
        unk_id: fc.oneof(fc.nat(10), hostileJsonValue),
        continuing_subword_prefix: fc.constantFrom("##", ""),
      },
      { requiredKeys: ["type", "vocab"] },
    ),
    hostileJsonValue,
  ),
  normalizer: fc.oneof(
    fc.constant(null),
    fc.record({
      type: fc.constantFrom(
        "Lowercase",
        "NFC",
        "NFKD",
        "Strip",
        "Sequence",
        "Replace",
        "Prepend",
        "X",
      ),
    }),
    hostileJsonValue,
  ),
  pre_tokenizer: fc.oneof(
    fc.constant(null),
    fc.record({
      type: fc.constantFrom(
        "Whitespace",
        "WhitespaceSplit",
        "ByteLevel",
        "Metaspace",
        "Punctuation",
        "Digits",
        "Y",
      ),
    }),
    fc.record({
      type: fc.constant("Split"),
      pattern: fc.oneof(
        fc.record({ Regex: fc.string({ maxLength: 8 }) }),
        fc.record({ String: fc.string({ maxLength: 3 }) }),
      ),
      behavior: fc.constantFrom("Isolated", "Removed", "MergedWithPrevious", "Z"),
    }),
    hostileJsonValue,
  ),
  post_processor: fc.oneof(
    fc.constant(null),
    hostileJsonValue,
    fc.record({
      type: fc.constantFrom(
        "TemplateProcessing",
        "BertProcessing",
        "RobertaProcessing",
        "ByteLevel",
      ),
    }),
  ),
  added_tokens: fc.oneof(
    fc.array(
      fc.record({
        id: fc.oneof(fc.nat(50), hostileJsonValue),
        content: fc.oneof(fc.string({ maxLength: 5 }), hostileJsonValue),
        special: fc.boolean(),
      }),
      { maxLength: 3 },
    ),
    hostileJsonValue,
  ),
  padding: fc.oneof(fc.constant(null), fc.record({ pad_id: hostileJsonValue })),
});

/** Hugging Face `tokenizer.json` given to `--tokenizer`. */
export const tokenizerTarget: Target = {
  name: "tokenizer-json",
  description:
    "HfTokenizer.fromJson / loadHfTokenizer / encode: mutated and made-up tokenizer.json",
  timeoutMs: 15_000,
  allocLimit: (bytes) => 64 * bytes + (64 << 20),
  async cases(ctx, seed, count) {
    const files = ctx.seeds.tokenizers;
    const docs = await Promise.all(
      files.map(async (f) => JSON.parse(new TextDecoder().decode(await readSeed(f)))),
    );
    const plans = draw(
      fc.record({
        kind: fc.constantFrom("json", "json", "bytes", "synth"),
        source: fc.nat(),
        jp: jsonPlan,
        bp: bytePlan,
        synth: tokenizerSynth,
        file: fc.boolean(),
      }),
      seed,
      count,
    );
    return async (i) => {
      const valid = i < files.length;
      const p = plans[i];
      const k = (valid ? i : p.source) % files.length;
      const bytes = valid
        ? await readSeed(files[k])
        : p.kind === "json"
        ? new TextEncoder().encode(applyJsonPlan(docs[k], p.jp))
        : p.kind === "bytes"
        ? applyBytePlan(await readSeed(files[k]), p.bp)
        : new TextEncoder().encode(JSON.stringify(p.synth));
      const run = async () => {
        let tok: HfTokenizer;
        if (p.file || valid) {
          const dir = await caseDir(ctx);
          await Deno.writeFile(path.join(dir, "tokenizer.json"), bytes);
          tok = await loadHfTokenizer(path.join(dir, "tokenizer.json"));
        } else {
          tok = HfTokenizer.fromJson(new TextDecoder().decode(bytes));
        }
        for (
          const text of [
            "a red ball",
            "",
            "Ünïcödé 🎈 moves\tleft!!",
            "a red ball moves left ".repeat(40),
          ]
        ) {
          const ids = tok.encode(text, { maxLength: 16 });
          expect(ids.length === 16 && ids.every((x) => x >= 0 && x < tok.vocabSize), "token ids");
        }
      };
      const input = `${path.basename(files[k])} ${valid ? "valid" : p.kind}`;
      return { testCase: { input, run, valid }, bytes: bytes.length };
    };
  },
};
