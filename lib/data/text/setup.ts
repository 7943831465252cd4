/**
 * Choosing the text tokenizer of a dataset: a vocabulary built from the
 * manifest's captions, a given `vocab.txt`, a Hugging Face `tokenizer.json`,
 * or the words of a word-vector file (with its frozen table); and loading it
 * back from a dataset folder.
 *
 * @module
 */
import * as path from "node:path";
import { FormatError } from "../../util/errors.ts";
import { writeFileAtomic } from "../../io/atomic.ts";
import { INPUT_LIMITS, readInputBytes } from "../../io/input.ts";
import { sha256Bytes } from "../../io/sha256.ts";
import type { TextSpec, WordVectorsSpec } from "../shards/dataset_index.ts";
import { loadHfTokenizer } from "./hf_tokenizer.ts";
import {
  buildVocab,
  encodeVocab,
  parseVocab,
  type TextTokenizer,
  WordTokenizer,
} from "./tokenizer.ts";
import { prepareWordVectors, type WordVectorSource } from "./word_vector_table.ts";

/** Where the tokenizer comes from; exactly one field. */
export interface TextSource {
  /** Build a vocabulary of the N most frequent caption words. */
  buildVocab?: number;
  /** Reuse this `vocab.txt`. */
  vocabFile?: string;
  /** Use this Hugging Face `tokenizer.json`. */
  tokenizerFile?: string;
  /** Take the vocabulary and a frozen table from this word-vector file (see `word_vector_table.ts`). */
  wordVectors?: WordVectorSource;
}

async function readBytes(file: string, what: string): Promise<Uint8Array> {
  try {
    return await readInputBytes(file, { maxBytes: INPUT_LIMITS.vocabulary, label: what });
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw new FormatError(`cannot read ${what}: ${(e as Error).message}`, { path: file });
  }
}

/**
 * Prepares the tokenizer and writes its file (`vocab.txt` or
 * `tokenizer.json`) into `outDir`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { prepareTextTokenizer } from "./setup.ts";
 * const dir = await Deno.makeTempDir();
 * const { spec } = await prepareTextTokenizer({ buildVocab: 10 }, { captions: ["a red ball"], outDir: dir });
 * assert.equal(spec.kind, "vocab");
 * assert.equal(spec.vocabSize, 4);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function prepareTextTokenizer(
  source: TextSource,
  options: { captions: Iterable<string>; outDir: string },
): Promise<{ tokenizer: TextTokenizer; spec: TextSpec }> {
  const given = [
    source.buildVocab !== undefined,
    !!source.vocabFile,
    !!source.tokenizerFile,
    !!source.wordVectors,
  ].filter(Boolean).length;
  if (given !== 1) {
    throw new RangeError(
      `Give exactly one of buildVocab, vocabFile, tokenizerFile, wordVectors (got ${given})`,
    );
  }
  if (source.wordVectors) return await fromWordVectors(source.wordVectors, options.outDir);
  if (source.tokenizerFile) {
    const bytes = await readBytes(source.tokenizerFile, "tokenizer file");
    const tokenizer = await loadHfTokenizer(source.tokenizerFile);
    await writeFileAtomic(path.join(options.outDir, "tokenizer.json"), bytes);
    return {
      tokenizer,
      spec: {
        kind: "hf",
        file: "tokenizer.json",
        vocabSize: tokenizer.vocabSize,
        sha256: sha256Bytes(bytes),
      },
    };
  }
  let words: string[];
  if (source.vocabFile) {
    const bytes = await readBytes(source.vocabFile, "vocabulary");
    try {
      words = parseVocab(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    } catch (e) {
      if (e instanceof FormatError) throw new FormatError(e.message, { path: source.vocabFile });
      throw new FormatError("vocabulary is not UTF-8 text", { path: source.vocabFile });
    }
  } else {
    const size = source.buildVocab!;
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`buildVocab must be a positive integer, got ${size}`);
    }
    words = buildVocab(options.captions, { size });
  }
  return await writeVocab(words, options.outDir, {});
}

/** Writes `vocab.txt` for `words`: the tokenizer and the index's text entry. */
async function writeVocab(
  words: string[],
  outDir: string,
  options: { wordVectors?: WordVectorsSpec },
): Promise<{ tokenizer: TextTokenizer; spec: TextSpec }> {
  const text = encodeVocab(words);
  await writeFileAtomic(path.join(outDir, "vocab.txt"), text);
  // Word-vector vocabularies keep unknown words (the OOV id); built or given ones drop them.
  const tokenizer = new WordTokenizer(words, { oov: options.wordVectors !== undefined });
  const spec: TextSpec = {
    kind: "vocab",
    file: "vocab.txt",
    vocabSize: tokenizer.vocabSize,
    sha256: sha256Bytes(text),
    ...(options.wordVectors ? { wordVectors: options.wordVectors } : {}),
  };
  return { tokenizer, spec };
}

/** The vocabulary and table of a word-vector file; unknown words get the OOV id. */
async function fromWordVectors(
  source: WordVectorSource,
  outDir: string,
): Promise<{ tokenizer: TextTokenizer; spec: TextSpec }> {
  const { words, spec: wordVectors } = await prepareWordVectors(source, outDir);
  return await writeVocab(words, outDir, { wordVectors });
}

/**
 * Loads the tokenizer a dataset was made with, checking its checksum.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadTextTokenizer, prepareTextTokenizer } from "./setup.ts";
 * const dir = await Deno.makeTempDir();
 * const { spec } = await prepareTextTokenizer({ buildVocab: 10 }, { captions: ["a dog"], outDir: dir });
 * const tokenizer = await loadTextTokenizer(dir, spec);
 * assert.equal(tokenizer.encode("a dog", { maxLength: 3 }).filter((id) => id > 0).length, 2);
 * await assert.rejects(loadTextTokenizer(dir, { ...spec, sha256: "0".repeat(64) }), /checksum/);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadTextTokenizer(dir: string, spec: TextSpec): Promise<TextTokenizer> {
  const file = path.join(dir, spec.file);
  const bytes = await readBytes(file, "tokenizer of the dataset");
  if (sha256Bytes(bytes) !== spec.sha256) {
    throw new FormatError("checksum does not match index.json", { path: file });
  }
  if (spec.kind === "hf") return await loadHfTokenizer(file);
  const oov = spec.wordVectors !== undefined; // word-vector vocabularies keep unknown words
  return new WordTokenizer(parseVocab(new TextDecoder().decode(bytes)), { oov });
}
