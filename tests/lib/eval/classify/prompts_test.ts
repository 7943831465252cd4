import assert from "node:assert/strict";
import { HfTokenizer } from "../../../../lib/data/text/hf_tokenizer.ts";
import { WordTokenizer } from "../../../../lib/data/text/tokenizer.ts";
import {
  checkPrompts,
  cosineScores,
  promptText,
  vocabularyReport,
} from "../../../../lib/eval/classify/prompts.ts";

Deno.test("checkPrompts() refuses a prompt without {label}, naming it", () => {
  assert.deepEqual(checkPrompts(["{label}", "a {label} and a {label}"]), [
    "{label}",
    "a {label} and a {label}",
  ]);
  assert.throws(() => checkPrompts(["{label}", "a video of {labels"]), /"a video of \{labels"/);
  assert.throws(() => checkPrompts(["{LABEL}"]), RangeError);
  assert.equal(promptText("a {label} and a {label}", "red_ball"), "a red ball and a red ball");
});

Deno.test("vocabularyReport() counts class words out of vocabulary, with repeats, in every tokenizer kind", async (t) => {
  const names = ["red ball", "blue ball", "blue cube", "cyan"];
  const prompts = ["a video of {label}", "{label}"];
  // By hand: 7 class words; unknown: blue, blue, cube, cyan (4; distinct blue, cube, cyan);
  // "blue cube" and "cyan" have no known word; of the prompt words a, video, of, "video" is unknown.
  const expected = {
    classWords: 7,
    unknownClassWords: ["blue", "cube", "cyan"],
    unknownClassWordCount: 4,
    classesWithoutKnownWords: ["blue cube", "cyan"],
    unknownPromptWords: ["video"],
  };
  const words = ["a", "of", "red", "ball"];
  await t.step("a vocabulary that drops unknown words", () => {
    assert.deepEqual(vocabularyReport(new WordTokenizer(words), names, prompts), expected);
  });
  await t.step("a word-vector vocabulary (unknown words get the OOV id)", () => {
    const tok = new WordTokenizer(words, { oov: true });
    assert.deepEqual(vocabularyReport(tok, names, prompts), expected);
  });
  await t.step("a Hugging Face word-level tokenizer without an unknown token", () => {
    const vocab = Object.fromEntries(["[PAD]", ...words].map((w, i) => [w, i]));
    const tok = HfTokenizer.fromJson(JSON.stringify({
      normalizer: { type: "Lowercase" },
      pre_tokenizer: { type: "Whitespace" },
      model: { type: "WordLevel", vocab },
    }));
    assert.deepEqual(vocabularyReport(tok, names, prompts), expected);
  });
});

Deno.test("cosineScores() is the cosine of every video row with every class row, by hand", () => {
  // Video rows (3, 4) and (0, −1); classes (1, 0) and (1, 1).
  const s = cosineScores(new Float32Array([3, 4, 0, -1]), new Float32Array([1, 0, 1, 1]), 2);
  const expected = [0.6, 7 / 5 / Math.SQRT2, 0, -1 / Math.SQRT2];
  s.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-6, `${i}: ${v}`));
});
