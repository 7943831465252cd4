/**
 * The text side of zero-shot classification, as pure functions: prompts with
 * a `{label}` slot, the class-name words a dataset's tokenizer does not know,
 * CLIP's prompt ensembling, and the cosine scores of clips against classes.
 * Used by `zero_shot.ts`.
 *
 * @module
 */
import { DEFAULT_ZERO_SHOT_PROMPT } from "../../config/eval_config.ts";
import { splitWords, type TextTokenizer } from "../../data/text/tokenizer.ts";
import { encodeCaption } from "../../data/tokenize/clip.ts";

/** The placeholder a prompt must hold: replaced by each class name. */
export const LABEL_SLOT = "{label}";

/**
 * Checks prompts: at least one, each holding {@linkcode LABEL_SLOT}. Returns
 * them (left out: `[DEFAULT_ZERO_SHOT_PROMPT]`, `lib/config/eval_config.ts`);
 * a `RangeError` naming the offending prompt otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkPrompts } from "./prompts.ts";
 * assert.deepEqual(checkPrompts(["a video of {label}"]), ["a video of {label}"]);
 * assert.throws(() => checkPrompts(["a video"]), /"a video" has no \{label\}/);
 * assert.throws(() => checkPrompts([]), /at least one prompt/);
 * assert.deepEqual(checkPrompts(), ["a video of {label}"]);
 * ```
 */
export function checkPrompts(
  prompts: readonly string[] = [DEFAULT_ZERO_SHOT_PROMPT],
): string[] {
  if (prompts.length === 0) {
    throw new RangeError("zero-shot classification needs at least one prompt");
  }
  for (const p of prompts) {
    if (typeof p !== "string" || !p.includes(LABEL_SLOT)) {
      throw new RangeError(
        `prompt ${JSON.stringify(p)} has no ${LABEL_SLOT} to put the class name in`,
      );
    }
  }
  return [...prompts];
}

/**
 * The text of class `name` in `prompt`: every `{label}` replaced by the name,
 * its underscores read as spaces.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { promptText } from "./prompts.ts";
 * assert.equal(promptText("a video of {label}", "playing_guitar"), "a video of playing guitar");
 * ```
 */
export function promptText(prompt: string, name: string): string {
  return prompt.replaceAll(LABEL_SLOT, name.replaceAll("_", " "));
}

/** Which words of the class names and prompts the dataset's tokenizer does not know. */
export interface VocabularyReport {
  /** Words in all class names (with repeats). */
  classWords: number;
  /** The class-name words out of vocabulary (each once, in class order). */
  unknownClassWords: string[];
  /** How many of {@linkcode classWords} are out of vocabulary (with repeats). */
  unknownClassWordCount: number;
  /** Classes none of whose words is known: nothing but the prompt tells them apart. */
  classesWithoutKnownWords: string[];
  /** Words of the prompts (outside `{label}`) out of vocabulary, each once. */
  unknownPromptWords: string[];
}

/**
 * Whether the tokenizer knows `word`: a word-level vocabulary counts it (a
 * word-vector vocabulary's OOV id is not knowing); any other tokenizer
 * (Hugging Face) is taken to know it when it encodes to more than the empty
 * text does — so sub-words and an `[UNK]` token count as known.
 */
function knows(tokenizer: TextTokenizer, word: string): boolean {
  const counted = (tokenizer as { knownCount?: (text: string) => number }).knownCount;
  if (typeof counted === "function") return counted.call(tokenizer, word) > 0;
  const empty = encodeCaption(tokenizer, "", 16).join();
  return encodeCaption(tokenizer, word, 16).join() !== empty;
}

/**
 * The words of class names and prompts that `tokenizer` does not know (see
 * {@linkcode VocabularyReport}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WordTokenizer } from "../../data/text/tokenizer.ts";
 * import { vocabularyReport } from "./prompts.ts";
 * const tok = new WordTokenizer(["a", "of", "red", "ball"]);
 * const r = vocabularyReport(tok, ["red ball", "blue_ball", "cyan cube"], ["a video of {label}"]);
 * assert.equal(r.classWords, 6);
 * assert.deepEqual(r.unknownClassWords, ["blue", "cyan", "cube"]);
 * assert.equal(r.unknownClassWordCount, 3);
 * assert.deepEqual(r.classesWithoutKnownWords, ["cyan cube"]);
 * assert.deepEqual(r.unknownPromptWords, ["video"]);
 * ```
 */
export function vocabularyReport(
  tokenizer: TextTokenizer,
  names: readonly string[],
  prompts: readonly string[],
): VocabularyReport {
  const unknown = new Set<string>();
  const without: string[] = [];
  let classWords = 0;
  let unknownCount = 0;
  for (const name of names) {
    const words = splitWords(promptText(LABEL_SLOT, name));
    const missing = words.filter((w) => !knows(tokenizer, w));
    classWords += words.length;
    unknownCount += missing.length;
    for (const w of missing) unknown.add(w);
    if (missing.length === words.length) without.push(name);
  }
  const promptWords = new Set(prompts.flatMap((p) => splitWords(p.replaceAll(LABEL_SLOT, " "))));
  return {
    classWords,
    unknownClassWords: [...unknown],
    unknownClassWordCount: unknownCount,
    classesWithoutKnownWords: without,
    unknownPromptWords: [...promptWords].filter((w) => !knows(tokenizer, w)),
  };
}

/** Rows of `[n, d]` scaled to unit L2 norm (sums in float64; a zero row stays zero). */
function normalizeRows(x: Float32Array, d: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i += d) {
    let ss = 0;
    for (let j = 0; j < d; j++) ss += x[i + j] * x[i + j];
    const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    for (let j = 0; j < d; j++) out[i + j] = x[i + j] * inv;
  }
  return out;
}

/**
 * CLIP's prompt ensembling: `embeddings` holds `[C, P, d]` text embeddings
 * (class-major); each is L2-normalised, the P of a class averaged, and the
 * mean normalised again. Returns `[C, d]` unit rows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ensemblePrompts } from "./prompts.ts";
 * // One class, two prompts: (3, 4) → (0.6, 0.8) and (0, 2) → (0, 1); mean (0.3, 0.9) → /√0.9.
 * const t = ensemblePrompts(new Float32Array([3, 4, 0, 2]), { classes: 1, prompts: 2, dim: 2 });
 * assert.ok(Math.abs(t[0] - 0.3 / Math.sqrt(0.9)) < 1e-6);
 * assert.ok(Math.abs(t[1] - 0.9 / Math.sqrt(0.9)) < 1e-6);
 * ```
 */
export function ensemblePrompts(
  embeddings: Float32Array,
  shape: { classes: number; prompts: number; dim: number },
): Float32Array {
  const { classes, prompts, dim } = shape;
  if (embeddings.length !== classes * prompts * dim) {
    throw new RangeError(
      `${embeddings.length} values are not ${classes} classes × ${prompts} prompts × ${dim}`,
    );
  }
  const unit = normalizeRows(embeddings, dim);
  const mean = new Float32Array(classes * dim);
  for (let c = 0; c < classes; c++) {
    for (let p = 0; p < prompts; p++) {
      const at = (c * prompts + p) * dim;
      for (let j = 0; j < dim; j++) mean[c * dim + j] += unit[at + j] / prompts;
    }
  }
  return normalizeRows(mean, dim);
}

/**
 * Cosine similarities `[N, C]` of `video` rows `[N, d]` and `classes` rows
 * `[C, d]` (both normalised here; sums in float64).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cosineScores } from "./prompts.ts";
 * const s = cosineScores(new Float32Array([2, 0]), new Float32Array([1, 0, 1, 1]), 2);
 * assert.equal(s[0], 1);
 * assert.ok(Math.abs(s[1] - Math.SQRT1_2) < 1e-6);
 * ```
 */
export function cosineScores(
  video: Float32Array,
  classes: Float32Array,
  dim: number,
): Float32Array {
  const v = normalizeRows(video, dim);
  const t = normalizeRows(classes, dim);
  const n = v.length / dim, c = t.length / dim;
  const out = new Float32Array(n * c);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < c; k++) {
      let dot = 0;
      for (let j = 0; j < dim; j++) dot += v[i * dim + j] * t[k * dim + j];
      out[i * c + k] = dot;
    }
  }
  return out;
}
