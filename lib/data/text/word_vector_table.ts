/**
 * A dataset's vocabulary and frozen table from a word-vector file: the words
 * come from the file in file order (those that are one word to
 * {@linkcode splitWords}), id 0 pads, word `i` is id `i + 1` and the last id
 * is out-of-vocabulary. The table `[vocabSize, D]` is written into the
 * dataset folder (`word_vectors.safetensors`), so training needs no other
 * file; a model built on it stores the table in its checkpoints.
 *
 * @module
 */
import * as path from "node:path";
import {
  resolveVattConfig,
  type VattConfig,
  type VattConfigInput,
} from "../../config/vatt_config.ts";
import { DEFAULT_WORD_VECTORS } from "../../config/word_vectors_config.ts";
import { writeFileAtomic } from "../../io/atomic.ts";
import { INPUT_LIMITS, readInputBytes } from "../../io/input.ts";
import { decodeSafetensors, encodeSafetensors } from "../../io/safetensors.ts";
import { sha256Bytes, sha256File } from "../../io/sha256.ts";
import { FormatError } from "../../util/errors.ts";
import type { TextSpec, WordVectorsSpec } from "../shards/dataset_index.ts";
import { splitWords } from "./tokenizer.ts";
import { readWordVectors, type WordVectorFormat } from "./word_vectors.ts";

/** File name of the table inside a dataset folder. */
export const WORD_VECTORS_FILE = "word_vectors.safetensors";

/**
 * Ids of a word-vector vocabulary when none is given: the paper's 2^16
 * (padding, 65,534 words, out-of-vocabulary).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_WORD_VECTOR_VOCAB_SIZE } from "./word_vector_table.ts";
 * assert.equal(DEFAULT_WORD_VECTOR_VOCAB_SIZE, 65536);
 * ```
 */
export const DEFAULT_WORD_VECTOR_VOCAB_SIZE = 65536;

/**
 * The vocabulary word of a word in a vector file: the file word when the
 * tokenizer reads it as exactly one word (lower-cased), otherwise
 * `undefined` (phrases, punctuation, `</s>`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { vocabWordOf } from "./word_vector_table.ts";
 * assert.equal(vocabWordOf("Dog"), "dog");
 * assert.equal(vocabWordOf("New_York"), "new_york");
 * assert.equal(vocabWordOf("</s>"), undefined);
 * assert.equal(vocabWordOf("ice cream"), undefined);
 * ```
 */
export function vocabWordOf(word: string): string | undefined {
  const words = splitWords(word);
  return words.length === 1 && words[0].length === word.length ? words[0] : undefined;
}

/** Where a word-vector vocabulary comes from. */
export interface WordVectorSource {
  /** The vector file. */
  file: string;
  /** Its format; detected when left out. */
  format?: WordVectorFormat;
  /** Ids of the vocabulary (padding and OOV included): at most `vocabSize − 2` words. */
  vocabSize?: number;
  /** The file's SHA-256 when the caller has it already (it is computed otherwise). */
  sha256?: string;
}

/**
 * Reads the vocabulary and vectors of `source.file` (stopping once the
 * vocabulary is full) and writes the table into `outDir`; returns the words
 * (ids `1 … n`) and the index entry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { prepareWordVectors, readWordVectorTable } from "./word_vector_table.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/v.txt`, "The 1 2\n</s> 0 0\nthe 7 7\ndog 3 4\ncat 5 6\n");
 * const { words, spec } = await prepareWordVectors({ file: `${dir}/v.txt`, vocabSize: 4 }, dir);
 * assert.deepEqual(words, ["the", "dog"]); // "</s>" is no word, the second "the" a repeat
 * assert.equal(spec.source.format, "glove");
 * const table = await readWordVectorTable(dir, spec, { vocabSize: 4 });
 * assert.deepEqual([...table], [0, 0, 1, 2, 3, 4, 0, 0]); // padding, the, dog, OOV slot
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function prepareWordVectors(
  source: WordVectorSource,
  outDir: string,
): Promise<{ words: string[]; spec: WordVectorsSpec }> {
  const vocabSize = source.vocabSize ?? DEFAULT_WORD_VECTOR_VOCAB_SIZE;
  if (!Number.isSafeInteger(vocabSize) || vocabSize < 3) {
    throw new RangeError(
      `Cannot build a word-vector vocabulary of ${vocabSize} ids: padding, one word and the OOV id need 3`,
    );
  }
  const read = await readWordVectors(source.file, {
    format: source.format,
    maxWords: vocabSize - 2,
    accept: vocabWordOf,
  });
  if (read.words.length === 0) {
    throw new FormatError("word vectors: no entry is a single word the tokenizer reads", {
      path: source.file,
    });
  }
  const dim = read.dim;
  const rows = read.words.length + 2;
  const table = new Float32Array(rows * dim);
  table.set(read.vectors, dim); // row 0: padding; last row: the OOV slot
  const sourceInfo = {
    file: path.basename(source.file),
    format: read.format,
    sha256: source.sha256 ?? await sha256File(source.file),
  };
  const bytes = encodeSafetensors(
    { table: { dtype: "F32", shape: [rows, dim], data: table } },
    { metadata: { source: JSON.stringify(sourceInfo) } },
  );
  await writeFileAtomic(path.join(outDir, WORD_VECTORS_FILE), bytes);
  return {
    words: read.words,
    spec: { file: WORD_VECTORS_FILE, sha256: sha256Bytes(bytes), dim, source: sourceInfo },
  };
}

/**
 * Reads a dataset's word-vector table `[vocabSize, dim]` (row-major),
 * checking its checksum and shape.
 */
export async function readWordVectorTable(
  dir: string,
  spec: WordVectorsSpec,
  options: { vocabSize: number },
): Promise<Float32Array> {
  const file = path.join(dir, spec.file);
  const bytes = await readInputBytes(file, {
    maxBytes: INPUT_LIMITS.table,
    label: "word-vector table",
  }).catch((e) => {
    if (e instanceof FormatError) throw e;
    throw new FormatError(`cannot read the word-vector table: ${(e as Error).message}`, {
      path: file,
    });
  });
  if (sha256Bytes(bytes) !== spec.sha256) {
    throw new FormatError("checksum does not match index.json", { path: file });
  }
  const { tensors } = decodeSafetensors(bytes, {
    path: file,
    expect: { table: { dtype: "F32", shape: [options.vocabSize, spec.dim] } },
  });
  return tensors.table.data as Float32Array;
}

/**
 * The model config for a dataset: with word vectors, `text.vocabSize`,
 * `text.wordVectors.dim` and `.vocabSha256` come from the dataset (the other
 * word-vector fields from `config` or their defaults); without, `config`
 * unchanged.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveVattConfig } from "../../config/vatt_config.ts";
 * import { withDatasetWordVectors } from "./word_vector_table.ts";
 * const source = { file: "v.bin", format: "word2vec-binary", sha256: "" };
 * const wordVectors = { file: "word_vectors.safetensors", sha256: "", dim: 50, source };
 * const sha256 = "ab".repeat(32);
 * const text = { kind: "vocab", file: "vocab.txt", vocabSize: 12, sha256, wordVectors } as const;
 * const c = withDatasetWordVectors(resolveVattConfig({ preset: "tiny" }), text);
 * assert.equal(c.text.vocabSize, 12);
 * assert.deepEqual(c.text.wordVectors, { dim: 50, activation: "gelu", bias: false, vocabSha256: sha256 });
 * ```
 */
export function withDatasetWordVectors(config: VattConfig, text: TextSpec): VattConfig {
  if (text.kind !== "vocab" || !text.wordVectors) return config;
  const wordVectors = { ...(config.text.wordVectors ?? DEFAULT_WORD_VECTORS) };
  wordVectors.dim = text.wordVectors.dim;
  wordVectors.vocabSha256 = text.sha256; // later datasets must hold the same words
  return resolveVattConfig({
    ...config,
    text: { ...config.text, vocabSize: text.vocabSize, wordVectors },
  } as VattConfigInput);
}

/**
 * Problems of reading a dataset's captions with a model: word vectors on one
 * side only, another dimension or another vocabulary size (empty: fits).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveVattConfig } from "../../config/vatt_config.ts";
 * import { wordVectorMisfits } from "./word_vector_table.ts";
 * const text = { kind: "vocab", file: "vocab.txt", vocabSize: 12, sha256: "" } as const;
 * assert.deepEqual(wordVectorMisfits(resolveVattConfig({ preset: "tiny" }), text), []);
 * const wv = resolveVattConfig({ text: { vocabSize: 12, wordVectors: { dim: 50, activation: "gelu", bias: false } } });
 * assert.match(wordVectorMisfits(wv, text)[0], /without word vectors/);
 * ```
 */
export function wordVectorMisfits(model: VattConfig, text: TextSpec): string[] {
  const m = model.text.wordVectors;
  const d = text.kind === "vocab" ? text.wordVectors : undefined;
  if (!m && !d) return [];
  if (!m) return [`captions tokenized with ${d!.dim}-d word vectors (the model has none)`];
  if (!d) {
    return [
      `captions tokenized without word vectors (the model reads ${m.dim}-d ones: tokenize with --word-vectors)`,
    ];
  }
  const out: string[] = [];
  if (m.dim !== d.dim) out.push(`${d.dim}-d word vectors (model expects ${m.dim})`);
  if (model.text.vocabSize !== text.vocabSize) {
    out.push(`a word-vector vocabulary of ${text.vocabSize} (model has ${model.text.vocabSize})`);
  } else if (m.vocabSha256 !== undefined && m.vocabSha256 !== text.sha256) {
    out.push("another word-vector vocabulary than the model's (vocab.txt differs)");
  }
  return out;
}

/**
 * The frozen table of a dataset whose captions use word vectors (see
 * {@linkcode readWordVectorTable}); `undefined` for other datasets.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readDatasetWordVectors } from "./word_vector_table.ts";
 * const text = { kind: "vocab", file: "vocab.txt", vocabSize: 12, sha256: "" } as const;
 * assert.equal(await readDatasetWordVectors({ dir: ".", index: { text } }), undefined);
 * ```
 */
export async function readDatasetWordVectors(
  data: { dir: string; index: { text: TextSpec } },
): Promise<Float32Array | undefined> {
  const text = data.index.text;
  if (text.kind !== "vocab" || !text.wordVectors) return undefined;
  return await readWordVectorTable(data.dir, text.wordVectors, { vocabSize: text.vocabSize });
}
