/**
 * A word-level tokenizer for captions and its `vocab.txt` file.
 *
 * Text is NFC-normalised and lower-cased, the typographic apostrophe `’` is
 * read as `'`, and words are the runs of letters, digits, `_` and `'`
 * (`/[\p{L}\p{N}_']+/gu`). Id 0 is padding; word `i` of the vocabulary has id
 * `i + 1`; words outside the vocabulary are dropped, or (with `oov`, as for
 * word vectors) mapped to the out-of-vocabulary id `vocab.length + 1`.
 *
 * @module
 */
import { FormatError } from "../../util/errors.ts";

/** Options of {@link TextTokenizer.encode}. */
export interface EncodeOptions {
  /** Length of the returned id array: longer texts are truncated, shorter ones padded. */
  maxLength: number;
}

/**
 * What the data pipeline needs from any tokenizer: fixed-length int32 ids
 * padded with {@link TextTokenizer.padId}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type TextTokenizer, WordTokenizer } from "./tokenizer.ts";
 * const tok: TextTokenizer = new WordTokenizer(["a", "dog"]);
 * assert.equal(tok.encode("A dog!", { maxLength: 3 }).join(","), "1,2,0");
 * ```
 */
export interface TextTokenizer {
  /** Number of ids, padding included (ids are `0 … vocabSize - 1`). */
  readonly vocabSize: number;
  /** The id that fills positions after the text. */
  readonly padId: number;
  /** Token ids of `text`, truncated or padded to exactly `maxLength`. */
  encode(text: string, options: EncodeOptions): Int32Array;
}

/** Options of {@link buildVocab}. */
export interface BuildVocabOptions {
  /** Number of words to keep (the most frequent ones). */
  size: number;
}

const WORD = /[\p{L}\p{N}_']+/gu;

/**
 * Splits text into lower-case words the way {@link WordTokenizer} does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitWords } from "./tokenizer.ts";
 * assert.equal(splitWords("Don’t STOP, café-au-lait!").join(" "), "don't stop café au lait");
 * ```
 */
export function splitWords(text: string): string[] {
  if (typeof text !== "string") {
    throw new TypeError(`Cannot split words: expected a string, got ${typeof text}`);
  }
  return text.normalize("NFC").replaceAll("\u2019", "'").toLowerCase().match(WORD) ?? [];
}

/**
 * The `size` most frequent words of `captions`, most frequent first; words
 * with equal counts are ordered by code unit (so the result is deterministic).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildVocab } from "./tokenizer.ts";
 * const vocab = buildVocab(["b a", "a c", "c d"], { size: 3 });
 * assert.equal(vocab.join(","), "a,c,b");
 * ```
 */
export function buildVocab(captions: Iterable<string>, options: BuildVocabOptions): string[] {
  const { size } = options;
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new RangeError(
      `Cannot build vocabulary: size must be a non-negative integer, got ${size}`,
    );
  }
  const counts = new Map<string, number>();
  for (const caption of captions) {
    for (const word of splitWords(caption)) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, size)
    .map(([word]) => word);
}

/** Why `word` cannot be a vocabulary entry, or undefined when it can. */
function badWord(word: unknown): string | undefined {
  if (typeof word !== "string") return `is not a string (${typeof word})`;
  if (word.length === 0) return "is empty";
  if (/[\s\p{Cc}]/u.test(word)) {
    return `${JSON.stringify(word)} contains whitespace or a control character`;
  }
  return undefined;
}

/**
 * Serialises a vocabulary as `vocab.txt`: one word per line, line `i + 1`
 * holding the word of id `i + 1`, ending with a newline. Throws `TypeError`
 * on an empty, duplicate or whitespace-containing word.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeVocab, parseVocab } from "./tokenizer.ts";
 * const text = encodeVocab(["a", "dog"]);
 * assert.equal(text, "a\ndog\n");
 * assert.equal(parseVocab(text).join(), "a,dog");
 * ```
 */
export function encodeVocab(words: readonly string[]): string {
  checkVocab(words);
  return words.length === 0 ? "" : `${words.join("\n")}\n`;
}

/**
 * Parses `vocab.txt` (see {@link encodeVocab}). A leading BOM, CRLF line ends
 * and blank lines at the very end are accepted; a blank line inside, a
 * duplicate word or a word with whitespace throws {@link FormatError} naming
 * the line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseVocab } from "./tokenizer.ts";
 * assert.equal(parseVocab("a\r\ndog\r\n").join(), "a,dog");
 * assert.throws(() => parseVocab("a\n\ndog\n"), /line 2/);
 * ```
 */
export function parseVocab(text: string): string[] {
  if (typeof text !== "string") {
    throw new TypeError(`Cannot parse vocabulary: expected a string, got ${typeof text}`);
  }
  const lines = text.replace(/^\uFEFF/, "").split("\n").map((l) => l.replace(/\r$/, ""));
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  const seen = new Map<string, number>();
  lines.forEach((word, i) => {
    const line = i + 1;
    if (word === "") throw new FormatError(`vocab line ${line}: empty line`);
    const bad = badWord(word);
    if (bad) throw new FormatError(`vocab line ${line}: word ${bad}`);
    const first = seen.get(word);
    if (first !== undefined) {
      throw new FormatError(
        `vocab line ${line}: duplicate word ${JSON.stringify(word)} (first on line ${first})`,
      );
    }
    seen.set(word, line);
  });
  return lines;
}

function checkVocab(words: readonly string[]): Map<string, number> {
  if (!Array.isArray(words)) {
    throw new TypeError(`Cannot use vocabulary: expected an array of words, got ${typeof words}`);
  }
  const ids = new Map<string, number>();
  words.forEach((word, i) => {
    const bad = badWord(word);
    if (bad) throw new TypeError(`Cannot use vocabulary: word ${i} ${bad}`);
    if (ids.has(word)) {
      throw new TypeError(`Cannot use vocabulary: duplicate word ${JSON.stringify(word)} at ${i}`);
    }
    ids.set(word, i + 1);
  });
  return ids;
}

/** Checks `maxLength` and returns it. */
function checkMaxLength(maxLength: number): number {
  if (!Number.isSafeInteger(maxLength) || maxLength < 0) {
    throw new RangeError(
      `Cannot encode text: maxLength must be a non-negative integer, got ${maxLength}`,
    );
  }
  return maxLength;
}

/** Options of {@link WordTokenizer}. */
export interface WordTokenizerOptions {
  /**
   * Map unknown words to the out-of-vocabulary id `vocab.length + 1` (the
   * last id) instead of dropping them. Default `false`.
   */
  oov?: boolean;
}

/**
 * Word-level tokenizer over a fixed vocabulary: id 0 pads, word `i` of the
 * vocabulary is id `i + 1`, unknown words are dropped (or, with `oov`, get
 * the id `vocab.length + 1`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WordTokenizer } from "./tokenizer.ts";
 * const tok = new WordTokenizer(["a", "dog", "runs"]);
 * assert.equal(tok.vocabSize, 4);
 * assert.equal(tok.encode("A black dog runs.", { maxLength: 5 }).join(","), "1,2,3,0,0");
 * assert.equal(tok.knownCount("A black dog"), 2);
 * const withOov = new WordTokenizer(["a", "dog"], { oov: true });
 * assert.equal(withOov.vocabSize, 4);
 * assert.equal(withOov.encode("a black dog", { maxLength: 4 }).join(","), "1,3,2,0");
 * ```
 */
export class WordTokenizer implements TextTokenizer {
  /** The vocabulary, id `i + 1` at index `i`. */
  readonly vocab: readonly string[];
  /** Always 0. */
  readonly padId = 0;
  /** The id of unknown words (`vocab.length + 1`), or `undefined` when they are dropped. */
  readonly oovId: number | undefined;
  readonly #ids: Map<string, number>;

  /** Throws `TypeError` on an empty, duplicate or whitespace-containing word. */
  constructor(vocab: readonly string[], options: WordTokenizerOptions = {}) {
    this.#ids = checkVocab(vocab);
    this.vocab = Object.freeze([...vocab]);
    this.oovId = options.oov ? vocab.length + 1 : undefined;
  }

  /** Vocabulary size plus one (padding), plus one more with an out-of-vocabulary id. */
  get vocabSize(): number {
    return this.vocab.length + (this.oovId === undefined ? 1 : 2);
  }

  /** Ids of the known words of `text` (and unknown ones, with `oov`), truncated or zero-padded to `maxLength`. */
  encode(text: string, options: EncodeOptions): Int32Array {
    const out = new Int32Array(checkMaxLength(options.maxLength));
    let n = 0;
    for (const word of splitWords(text)) {
      if (n >= out.length) break;
      const id = this.#ids.get(word) ?? this.oovId;
      if (id !== undefined) out[n++] = id;
    }
    return out;
  }

  /** How many words of `text` are in the vocabulary (counting repeats, ignoring any length). */
  knownCount(text: string): number {
    let n = 0;
    for (const word of splitWords(text)) if (this.#ids.has(word)) n++;
    return n;
  }
}
