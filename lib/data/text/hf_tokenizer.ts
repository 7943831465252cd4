/**
 * A {@link TextTokenizer} backed by a Hugging Face `tokenizer.json` (BPE,
 * WordPiece, Unigram or word-level vocabularies), through
 * `@huggingface/tokenizers`.
 *
 * @module
 */
import { Tokenizer } from "@huggingface/tokenizers";
import { FormatError } from "../../util/errors.ts";
import { INPUT_LIMITS, readInputBytes } from "../../io/input.ts";
import type { EncodeOptions, TextTokenizer } from "./tokenizer.ts";

export type { EncodeOptions, TextTokenizer } from "./tokenizer.ts";

/** Options of {@link HfTokenizer.fromJson} and {@link loadHfTokenizer}. */
export interface HfTokenizerOptions {
  /**
   * The parsed `tokenizer_config.json` (special token names such as
   * `pad_token`, `unk_token`). Default `{}`.
   */
  config?: Record<string, unknown>;
  /** Add the special tokens of the post-processor (`[CLS] … [SEP]`). Default true. */
  addSpecialTokens?: boolean;
  /**
   * The padding id. Default: `padding.pad_id` of `tokenizer.json`, else the
   * id of the config's `pad_token`, else of an added token named `[PAD]`,
   * `<pad>` or `<|pad|>`, else 0.
   */
  padId?: number;
}

/** Options of {@link loadHfTokenizer}. */
export interface LoadHfTokenizerOptions extends Omit<HfTokenizerOptions, "config"> {
  /** Path of a `tokenizer_config.json` to read alongside. */
  configPath?: string;
}

const MODEL_TYPES = ["BPE", "WordPiece", "Unigram", "WordLevel"];
const PAD_NAMES = ["[PAD]", "<pad>", "<|pad|>"];
/** Ids at or above this (16 Mi) are refused: no real vocabulary is that large. */
const MAX_ID = 1 << 24;

/**
 * A Hugging Face tokenizer giving fixed-length int32 ids: the text is encoded
 * (with special tokens unless disabled), tokens the vocabulary cannot map to
 * an id are dropped, and the ids are truncated or padded with `padId` to
 * `maxLength`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HfTokenizer } from "./hf_tokenizer.ts";
 * const tok = HfTokenizer.fromJson(JSON.stringify({
 *   normalizer: { type: "Lowercase" },
 *   pre_tokenizer: { type: "Whitespace" },
 *   model: { type: "WordLevel", vocab: { "[PAD]": 0, "[UNK]": 1, "a": 2, "dog": 3 }, unk_token: "[UNK]" },
 * }));
 * assert.equal(tok.vocabSize, 4);
 * assert.equal(tok.padId, 0);
 * assert.equal(tok.encode("A cat", { maxLength: 4 }).join(","), "2,1,0,0");
 * ```
 */
export class HfTokenizer implements TextTokenizer {
  readonly vocabSize: number;
  readonly padId: number;
  readonly #tokenizer: Tokenizer;
  readonly #addSpecialTokens: boolean;

  private constructor(tokenizer: Tokenizer, vocabSize: number, padId: number, special: boolean) {
    this.#tokenizer = tokenizer;
    this.vocabSize = vocabSize;
    this.padId = padId;
    this.#addSpecialTokens = special;
  }

  /**
   * Builds a tokenizer from the text of a `tokenizer.json`. Throws
   * {@link FormatError} when the text is not JSON or not a tokenizer the
   * library can build; missing `normalizer`, `pre_tokenizer`,
   * `post_processor`, `decoder` and `added_tokens` are taken as absent.
   */
  static fromJson(text: string, options: HfTokenizerOptions = {}): HfTokenizer {
    if (typeof text !== "string") {
      throw new TypeError(`Cannot read tokenizer.json: expected a string, got ${typeof text}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text.replace(/^\uFEFF/, ""));
    } catch (e) {
      throw new FormatError(`tokenizer.json is not valid JSON: ${(e as Error).message}`);
    }
    if (!isRecord(json)) throw new FormatError("tokenizer.json is not a JSON object");
    if (!isRecord(json.model)) throw new FormatError('tokenizer.json has no "model" object');
    if (json.added_tokens !== undefined && !Array.isArray(json.added_tokens)) {
      throw new FormatError('tokenizer.json: "added_tokens" is not an array');
    }
    const added = (json.added_tokens ?? []) as unknown[];
    added.forEach((t, i) => {
      if (
        !isRecord(t) || !isId(t.id) || t.id >= MAX_ID || typeof t.content !== "string" ||
        t.content === ""
      ) {
        throw new FormatError(
          `tokenizer.json: added_tokens[${i}] needs an integer "id" and a non-empty "content"`,
        );
      }
    });
    const type = json.model.type;
    if (type !== undefined && !MODEL_TYPES.includes(type as string)) {
      throw new FormatError(
        `tokenizer.json: unsupported model type ${JSON.stringify(type)} ` +
          `(expected one of ${MODEL_TYPES.join(", ")})`,
      );
    }
    const vocabProblem = checkModelVocab(json.model.vocab);
    if (vocabProblem) throw new FormatError(`tokenizer.json: model.vocab ${vocabProblem}`);
    const full: Record<string, unknown> = {
      normalizer: null,
      pre_tokenizer: null,
      post_processor: null,
      decoder: null,
      ...json,
      added_tokens: added,
    };
    const config: Record<string, unknown> = { ...(options.config ?? {}) };
    // Word-level models name their unknown token in the model; the library reads it from config.
    if (config.unk_token === undefined && typeof json.model.unk_token === "string") {
      config.unk_token = json.model.unk_token;
    }
    let tokenizer: Tokenizer;
    let vocab: Map<string, number>;
    try {
      tokenizer = new Tokenizer(full, config);
      vocab = tokenizer.get_vocab(true);
      // Some broken parts (a post-processor without a template, say) only fail when used.
      tokenizer.encode("Probe 1, two.", { add_special_tokens: options.addSpecialTokens ?? true });
    } catch (e) {
      throw new FormatError(`tokenizer.json cannot be used: ${(e as Error).message}`, { cause: e });
    }
    let maxId = -1;
    for (const id of vocab.values()) if (isId(id) && id > maxId) maxId = id;
    for (const t of added as { id: number }[]) if (t.id > maxId) maxId = t.id;
    if (maxId < 0) throw new FormatError("tokenizer.json has an empty vocabulary");
    const vocabSize = maxId + 1;

    let padId = options.padId;
    if (padId === undefined) {
      const padding = json.padding;
      const names = [config.pad_token, ...PAD_NAMES].filter((n) => typeof n === "string");
      if (isRecord(padding) && isId(padding.pad_id)) padId = padding.pad_id;
      else padId = names.map((n) => vocab.get(n as string)).find(isId) ?? 0;
    }
    if (!isId(padId) || padId >= vocabSize) {
      throw new RangeError(`Cannot use tokenizer: padId ${padId} is not an id below ${vocabSize}`);
    }
    return new HfTokenizer(tokenizer, vocabSize, padId, options.addSpecialTokens ?? true);
  }

  /** Ids of `text`, truncated or padded with {@link HfTokenizer.padId} to `maxLength`. */
  encode(text: string, options: EncodeOptions): Int32Array {
    const { maxLength } = options;
    if (!Number.isSafeInteger(maxLength) || maxLength < 0) {
      throw new RangeError(
        `Cannot encode text: maxLength must be a non-negative integer, got ${maxLength}`,
      );
    }
    if (typeof text !== "string") {
      throw new TypeError(`Cannot encode text: expected a string, got ${typeof text}`);
    }
    let ids: unknown[];
    try {
      ids = this.#tokenizer.encode(text, { add_special_tokens: this.#addSpecialTokens }).ids;
    } catch (e) {
      throw new FormatError(`tokenizer failed: ${(e as Error).message}`, { cause: e });
    }
    const out = new Int32Array(maxLength).fill(this.padId);
    let n = 0;
    for (const id of ids) {
      if (n >= maxLength) break;
      if (isId(id) && id < this.vocabSize) out[n++] = id;
    }
    return out;
  }
}

/**
 * Reads a `tokenizer.json` (and optionally a `tokenizer_config.json`) into an
 * {@link HfTokenizer}. Throws {@link FormatError} (with the path) on an
 * unreadable or malformed file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadHfTokenizer } from "./hf_tokenizer.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/tokenizer.json`, JSON.stringify({
 *   pre_tokenizer: { type: "WhitespaceSplit" },
 *   model: { type: "WordLevel", vocab: { "<pad>": 0, "hi": 1 } },
 * }));
 * const tok = await loadHfTokenizer(`${dir}/tokenizer.json`);
 * assert.equal(tok.encode("hi hi", { maxLength: 3 }).join(","), "1,1,0");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadHfTokenizer(
  path: string,
  options: LoadHfTokenizerOptions = {},
): Promise<HfTokenizer> {
  const { configPath, ...rest } = options;
  let config: Record<string, unknown> | undefined;
  if (configPath !== undefined) {
    const parsed = parseJsonFile(await readText(configPath), configPath);
    if (!isRecord(parsed)) {
      throw new FormatError("tokenizer_config.json is not a JSON object", { path: configPath });
    }
    config = parsed;
  }
  const text = await readText(path);
  try {
    return HfTokenizer.fromJson(text, { ...rest, config });
  } catch (e) {
    if (e instanceof FormatError) throw new FormatError(e.message, { path, cause: e.cause });
    throw e;
  }
}

async function readText(path: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await readInputBytes(path, { maxBytes: INPUT_LIMITS.vocabulary, label: "tokenizer" });
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw new FormatError(`cannot read file: ${(e as Error).message}`, { path, cause: e });
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new FormatError("file is not valid UTF-8", { path });
  }
}

function parseJsonFile(text: string, path: string): unknown {
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (e) {
    throw new FormatError(`not valid JSON: ${(e as Error).message}`, { path });
  }
}

/** Why a model vocabulary is unusable, or undefined. */
function checkModelVocab(vocab: unknown): string | undefined {
  if (isRecord(vocab)) {
    for (const [token, id] of Object.entries(vocab)) {
      if (!isId(id) || id >= MAX_ID) {
        return `maps ${JSON.stringify(token.slice(0, 40))} to ${JSON.stringify(id)}, ` +
          `not an integer id in [0, ${MAX_ID})`;
      }
    }
    return undefined;
  }
  if (Array.isArray(vocab)) {
    if (vocab.length >= MAX_ID) return `has ${vocab.length} entries, more than ${MAX_ID}`;
    const bad = vocab.findIndex((e) =>
      !Array.isArray(e) || typeof e[0] !== "string" || typeof e[1] !== "number"
    );
    return bad < 0 ? undefined : `entry ${bad} is not a [token, score] pair`;
  }
  return "is missing or not an object or array";
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isId(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}
