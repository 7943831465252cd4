import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Dataset } from "../../lib/data/shards/dataset.ts";
import { splitWords } from "../../lib/data/text/tokenizer.ts";
import { generateDemoData } from "../../lib/demo/demo_data.ts";
import { readSafetensors } from "../../lib/io/safetensors.ts";
import { sha256File } from "../../lib/io/sha256.ts";

// ------------------------------ fixtures: a small demo dataset and a word2vec text file of its words

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const ROOT = await Deno.makeTempDir({ prefix: "vatt-cli-word-vectors-test-" });
globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(ROOT, { recursive: true });
  } catch {
    // already gone
  }
});
const { manifestPath: MANIFEST } = await generateDemoData(join(ROOT, "demo"), {
  clips: 6,
  seed: 11,
  seconds: 1,
  width: 64,
  height: 48,
  fps: 10,
  sampleRate: 8000,
});
const CAPTION_WORDS = [
  ...new Set(
    (await Deno.readTextFile(MANIFEST)).trim().split("\n")
      .flatMap((row) => (JSON.parse(row).captions as string[]).flatMap(splitWords)),
  ),
];
/** Every caption word but the first (left out: it is out of vocabulary), 3-d vectors. */
const VECTOR_WORDS = ["</s>", ...CAPTION_WORDS.slice(1)];
const VECTORS = join(ROOT, "vectors.txt");
await Deno.writeTextFile(
  VECTORS,
  `${VECTOR_WORDS.length} 3\n` + VECTOR_WORDS.map((w, i) => `${w} ${i} 0.5 -1\n`).join(""),
);

interface Result {
  code: number;
  stdout: string[];
  stderr: string[];
}

/** Runs `vatt …` as a subprocess. */
async function vatt(...args: string[]): Promise<Result> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "-A", "cli/main.ts", ...args],
    cwd: REPO,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const lines = (b: Uint8Array) => new TextDecoder().decode(b).split("\n").filter((l) => l !== "");
  return { code: out.code, stdout: lines(out.stdout), stderr: lines(out.stderr) };
}

const FLAGS = ["--preset", "tiny", "--quiet"];

Deno.test("vatt tokenize --word-vectors, then pretrain: the vocabulary and the frozen table come from the file", async () => {
  const data = join(ROOT, "data");
  const r = await vatt("tokenize", MANIFEST, "--out", data, ...FLAGS, "--word-vectors", VECTORS);
  assert.equal(r.code, 0, r.stderr.join("\n"));
  const words = VECTOR_WORDS.length - 1; // "</s>" is no word the tokenizer reads
  assert.match(
    r.stdout[1],
    new RegExp(`^vocabulary: ${words} words of vectors.txt \\(word2vec-text, 3-d\\)`),
  );
  const vocab = (await Deno.readTextFile(join(data, "vocab.txt"))).trim().split("\n");
  assert.deepEqual(vocab, VECTOR_WORDS.slice(1), "file order");
  const dataset = await Dataset.open(data);
  try {
    const text = dataset.index.text;
    assert.equal(text.vocabSize, words + 2);
    assert.equal(text.kind === "vocab" && text.wordVectors?.dim, 3);
  } finally {
    dataset.close();
  }

  const run = join(ROOT, "run");
  const p = await vatt("pretrain", data, "--out", run, "--steps", "2", "--batch", "4", "--quiet");
  assert.equal(p.code, 0, p.stderr.join("\n"));
  const config = JSON.parse(await Deno.readTextFile(join(run, "config.json")));
  assert.equal(config.model.text.vocabSize, words + 2);
  assert.deepEqual(config.model.text.wordVectors, {
    dim: 3,
    activation: "gelu",
    bias: false,
    vocabSha256: await sha256File(join(data, "vocab.txt")),
  });
  const { tensors } = await readSafetensors(
    join(run, "checkpoints", "step-0000002", "model.safetensors"),
  );
  const table = tensors["text/word_vectors/table"];
  assert.deepEqual(table.shape, [words + 2, 3]);
  // Row 1 is the first kept word, "</s>" (file index 0) being skipped: [1, 0.5, −1].
  assert.deepEqual([...table.data.subarray(3, 6)], [1, 0.5, -1]);
  assert.ok(!("text/embedding" in tensors));
});

Deno.test("vatt tokenize --word-vectors with a malformed file exits 1 with one line naming the line", async () => {
  const bad = join(ROOT, "bad.txt");
  await Deno.writeTextFile(bad, "dog 1 2 3\ncat 1 2\n");
  const r = await vatt(
    "tokenize",
    MANIFEST,
    "--out",
    join(ROOT, "bad"),
    ...FLAGS,
    "--word-vectors",
    bad,
  );
  assert.equal(r.code, 1);
  assert.equal(r.stderr.length, 1, r.stderr.join("\n"));
  assert.match(
    r.stderr[0],
    /^vatt: .*bad\.txt: word vectors line 2: expected a word and 3 values, got 2/,
  );
});

Deno.test("vatt tokenize: --word-vectors excludes --vocab, --vocab-size needs --word-vectors (exit 2)", async () => {
  const both = await vatt(
    "tokenize",
    MANIFEST,
    "--out",
    join(ROOT, "u1"),
    "--word-vectors",
    VECTORS,
    "--vocab",
    "v.txt",
  );
  assert.equal(both.code, 2);
  assert.match(both.stderr[0], /give only one of .*--word-vectors/);
  const size = await vatt("tokenize", MANIFEST, "--out", join(ROOT, "u2"), "--vocab-size", "100");
  assert.equal(size.code, 2);
  assert.match(size.stderr[0], /--vocab-size goes with --word-vectors/);
});
