import assert from "node:assert/strict";
import { resolveVattConfig } from "../../../../lib/config/vatt_config.ts";
import { checkModelFitsData, type FitSubject } from "../../../../lib/data/fit.ts";
import { parseDatasetIndex } from "../../../../lib/data/shards/dataset_index.ts";
import { loadTextTokenizer, prepareTextTokenizer } from "../../../../lib/data/text/setup.ts";
import {
  prepareWordVectors,
  readWordVectorTable,
  withDatasetWordVectors,
  WORD_VECTORS_FILE,
} from "../../../../lib/data/text/word_vector_table.ts";
import { sha256File } from "../../../../lib/io/sha256.ts";
import { MismatchError } from "../../../../lib/util/errors.ts";

/** A GloVe file: words in frequency order, a phrase and a marker the tokenizer cannot read. */
const GLOVE = [
  "the 0.1 0.2",
  "</s> 9 9",
  "Dog 1 2",
  "a 3 4",
  "New-York 5 5",
  "dog 7 7", // "Dog" came first
  "runs 5 6",
  "park 7 8",
].join("\n") + "\n";

async function tempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("prepareWordVectors() takes the file's words in file order, capped, with their vectors", async () => {
  await tempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/glove.txt`, GLOVE);
    // 6 ids: padding, 4 words, OOV.
    const { words, spec } = await prepareWordVectors(
      { file: `${dir}/glove.txt`, vocabSize: 6 },
      dir,
    );
    assert.deepEqual(words, ["the", "dog", "a", "runs"]);
    assert.equal(spec.dim, 2);
    assert.equal(spec.file, WORD_VECTORS_FILE);
    assert.deepEqual(spec.source, {
      file: "glove.txt",
      format: "glove",
      sha256: await sha256File(`${dir}/glove.txt`),
    });
    const table = await readWordVectorTable(dir, spec, { vocabSize: 6 });
    // Row i is the vector of id i: padding zeros, the, Dog (as dog), a, runs, the OOV slot zeros.
    assert.deepEqual([...table], [0, 0, 0.1, 0.2, 1, 2, 3, 4, 5, 6, 0, 0].map(Math.fround));
    await assert.rejects(
      readWordVectorTable(dir, { ...spec, sha256: "0".repeat(64) }, { vocabSize: 6 }),
      /checksum/,
    );
  });
});

Deno.test("prepareTextTokenizer({ wordVectors }) writes vocab.txt and the table; unknown words get the OOV id", async () => {
  await tempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/glove.txt`, GLOVE);
    const { tokenizer, spec } = await prepareTextTokenizer(
      { wordVectors: { file: `${dir}/glove.txt` } },
      { captions: ["ignored: the vocabulary comes from the file"], outDir: dir },
    );
    assert.equal(spec.kind, "vocab");
    assert.equal(spec.vocabSize, 7); // padding, the, dog, a, runs, park, OOV
    assert.equal(spec.kind === "vocab" && spec.wordVectors?.dim, 2);
    assert.equal(await Deno.readTextFile(`${dir}/vocab.txt`), "the\ndog\na\nruns\npark\n");
    const ids = (
      t: { encode: typeof tokenizer.encode },
    ) => [...t.encode("The cat runs in a park", { maxLength: 8 })];
    assert.deepEqual(ids(tokenizer), [1, 6, 4, 6, 3, 5, 0, 0]);
    // Loaded back from the dataset folder, the tokenizer keeps the OOV id.
    assert.deepEqual(ids(await loadTextTokenizer(dir, spec)), [1, 6, 4, 6, 3, 5, 0, 0]);
    // The index entry survives index.json's validation.
    const index = {
      format: "vatt-dataset",
      version: 1,
      settings: {
        frames: 8,
        fps: 10,
        size: 32,
        audioSeconds: 0.8,
        sampleRate: 8000,
        audioSamples: 6400,
        audioDtype: "int16",
        maxLength: 16,
        captionsPerClip: 4,
        minCoverage: 0.5,
        clipsPerShard: 64,
      },
      text: spec,
      labels: { names: [], multiLabel: false },
      numShards: 0,
      shards: [],
      clips: 0,
      skipped: [],
      padded: [],
      droppedCaptions: 0,
      manifest: { file: "m.jsonl", sha256: "", rows: 0 },
    };
    const parsed = parseDatasetIndex(JSON.stringify(index));
    assert.deepEqual(parsed.text, spec);
  });
});

Deno.test("withDatasetWordVectors() and checkModelFitsData(): the model reads the dataset's vectors", () => {
  const wordVectors = {
    file: WORD_VECTORS_FILE,
    sha256: "",
    dim: 300,
    source: { file: "v.bin", format: "word2vec-binary", sha256: "" },
  };
  const sha256 = "ab".repeat(32); // of the dataset's vocab.txt
  const text = { kind: "vocab", file: "vocab.txt", vocabSize: 500, sha256, wordVectors } as const;
  const tiny = resolveVattConfig({ preset: "tiny" });
  const settings = { frames: 8, size: 32, audioSamples: 6400, sampleRate: 8000, maxLength: 16 };
  const data = { index: { settings, text } } as unknown as FitSubject;
  assert.throws(() => checkModelFitsData(tiny, data), /300-d word vectors \(the model has none\)/);
  const model = withDatasetWordVectors(tiny, text);
  assert.equal(model.text.vocabSize, 500);
  assert.equal(model.text.wordVectors?.dim, 300);
  assert.equal(model.text.wordVectors?.vocabSha256, sha256);
  checkModelFitsData(model, data);
  // Same size, other words (another vector file or cap): refused.
  const other = { index: { settings, text: { ...text, sha256: "cd".repeat(32) } } };
  assert.throws(
    () => checkModelFitsData(model, other as unknown as FitSubject),
    /another word-vector vocabulary than the model's/,
  );
  const plain = { index: { settings, text: { ...text, wordVectors: undefined } } };
  assert.throws(
    () => checkModelFitsData(model, plain as unknown as FitSubject),
    (e) => e instanceof MismatchError && /without word vectors/.test(e.message),
  );
  assert.equal(withDatasetWordVectors(tiny, { ...text, wordVectors: undefined }), tiny);
});
