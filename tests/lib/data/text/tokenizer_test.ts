import assert from "node:assert/strict";
import fc from "fast-check";
import { FormatError } from "../../../../lib/util/errors.ts";
import {
  buildVocab,
  encodeVocab,
  parseVocab,
  splitWords,
  WordTokenizer,
} from "../../../../lib/data/text/tokenizer.ts";

const VOCAB = ["a", "dog", "don't", "runs", "café", "東京", "42", "_x", "it's"];
// ids:          1     2       3        4       5       6      7     8      9

/** Pinned: text → ids with maxLength 6. */
const TABLE: [string, number[]][] = [
  ["A dog runs.", [1, 2, 4, 0, 0, 0]],
  ["DOG, dog; Dog!", [2, 2, 2, 0, 0, 0]],
  ["Don't", [3, 0, 0, 0, 0, 0]],
  ["DON’T", [3, 0, 0, 0, 0, 0]], // typographic apostrophe
  ["dont", [0, 0, 0, 0, 0, 0]], // out of vocabulary: dropped
  ["'a'", [0, 0, 0, 0, 0, 0]], // quotes stick to the word: "'a'" is unknown
  ["it's a dog's life", [9, 1, 0, 0, 0, 0]],
  ["CAFÉ", [5, 0, 0, 0, 0, 0]],
  ["cafe\u0301", [5, 0, 0, 0, 0, 0]], // decomposed é, NFC-normalised
  ["東京 42", [6, 7, 0, 0, 0, 0]],
  ["a-dog/a.dog", [1, 2, 1, 2, 0, 0]], // punctuation separates words
  ["a\u00a0dog\trun runs", [1, 2, 4, 0, 0, 0]], // NBSP and tab are spaces
  ["_x __x x", [8, 0, 0, 0, 0, 0]],
  ["42nd 42", [7, 0, 0, 0, 0, 0]],
  ["a a a a a a a a", [1, 1, 1, 1, 1, 1]], // truncated
  ["cat cat cat cat cat cat cat a", [1, 0, 0, 0, 0, 0]], // OOV dropped before truncating
  ["", [0, 0, 0, 0, 0, 0]],
  [" \n\t ", [0, 0, 0, 0, 0, 0]],
  ["🐶 dog 🐶", [2, 0, 0, 0, 0, 0]],
];

Deno.test("WordTokenizer.encode() matches the pinned table", async (t) => {
  const tok = new WordTokenizer(VOCAB);
  for (const [text, ids] of TABLE) {
    await t.step(JSON.stringify(text), () => {
      const out = tok.encode(text, { maxLength: 6 });
      assert.ok(out instanceof Int32Array);
      assert.deepEqual([...out], ids);
    });
  }
});

Deno.test("WordTokenizer counts vocabulary with padding and known words without truncation", () => {
  const tok = new WordTokenizer(VOCAB);
  assert.equal(tok.vocabSize, VOCAB.length + 1);
  assert.equal(tok.padId, 0);
  assert.equal(tok.knownCount("a a a a a a a a cat"), 8);
  assert.equal(tok.knownCount("cat"), 0);
  assert.deepEqual([...tok.encode("a dog", { maxLength: 0 })], []);
  assert.deepEqual([...tok.encode("a dog", { maxLength: 1 })], [1]);
});

Deno.test("WordTokenizer rejects bad vocabularies and bad lengths", () => {
  assert.throws(() => new WordTokenizer(["a", "a"]), TypeError);
  assert.throws(() => new WordTokenizer(["a", ""]), TypeError);
  assert.throws(() => new WordTokenizer(["a b"]), TypeError);
  assert.throws(() => new WordTokenizer([1 as unknown as string]), TypeError);
  const tok = new WordTokenizer(["a"]);
  assert.throws(() => tok.encode("a", { maxLength: -1 }), RangeError);
  assert.throws(() => tok.encode("a", { maxLength: 2.5 }), RangeError);
  assert.throws(() => tok.encode(undefined as unknown as string, { maxLength: 2 }), TypeError);
});

Deno.test("WordTokenizer.encode() output is always maxLength in-range ids, padding only at the end", () => {
  const tok = new WordTokenizer(VOCAB);
  fc.assert(
    fc.property(fc.string({ maxLength: 60 }), fc.nat({ max: 12 }), (text, maxLength) => {
      const out = tok.encode(text, { maxLength });
      assert.equal(out.length, maxLength);
      const firstPad = out.indexOf(0);
      for (let i = 0; i < out.length; i++) {
        assert.ok(out[i] >= 0 && out[i] < tok.vocabSize);
        if (firstPad >= 0 && i >= firstPad) assert.equal(out[i], 0);
      }
      assert.equal(firstPad < 0 ? maxLength : firstPad, Math.min(maxLength, tok.knownCount(text)));
    }),
    { numRuns: 300 },
  );
});

Deno.test("splitWords() lower-cases and splits on non-word characters", () => {
  assert.deepEqual(splitWords("Hello, WORLD! it's 3pm_ok"), ["hello", "world", "it's", "3pm_ok"]);
  assert.deepEqual(splitWords("ÄÖÜ straße"), ["äöü", "straße"]);
});

Deno.test("buildVocab() orders by frequency, then by code unit, and merges case", async (t) => {
  await t.step("frequency first, ties alphabetical", () => {
    assert.deepEqual(buildVocab(["b b a", "c a", "d"], { size: 3 }), ["a", "b", "c"]);
    assert.deepEqual(buildVocab(["d c b a", "d"], { size: 10 }), ["d", "a", "b", "c"]);
  });
  await t.step("case is merged", () => {
    assert.deepEqual(buildVocab(["Dog dog DOG", "cat"], { size: 5 }), ["dog", "cat"]);
  });
  await t.step("ties use code-unit order, not locale order", () => {
    assert.deepEqual(buildVocab(["z é a"], { size: 3 }), ["a", "z", "é"]);
  });
  await t.step("does not depend on caption order", () => {
    const captions = ["x y z", "y z", "w w", "q"];
    assert.deepEqual(
      buildVocab(captions, { size: 4 }),
      buildVocab([...captions].reverse(), { size: 4 }),
    );
  });
  await t.step("size 0 and bad sizes", () => {
    assert.deepEqual(buildVocab(["a"], { size: 0 }), []);
    assert.throws(() => buildVocab(["a"], { size: -1 }), RangeError);
    assert.throws(() => buildVocab(["a"], { size: 1.5 }), RangeError);
  });
  await t.step("accepts any iterable", () => {
    function* gen() {
      yield "b a";
      yield "b";
    }
    assert.deepEqual(buildVocab(gen(), { size: 2 }), ["b", "a"]);
  });
});

Deno.test("encodeVocab() and parseVocab() round-trip", () => {
  const words = buildVocab(["The dog's café runs", "東京 42 the"], { size: 10 });
  const text = encodeVocab(words);
  assert.equal(text.split("\n").length, words.length + 1);
  assert.deepEqual(parseVocab(text), words);
  assert.equal(encodeVocab([]), "");
  assert.deepEqual(parseVocab(""), []);
  const tok = new WordTokenizer(parseVocab(text));
  assert.equal(tok.encode("the", { maxLength: 1 })[0], words.indexOf("the") + 1);
});

Deno.test("parseVocab() accepts BOM, CRLF and trailing blank lines", () => {
  assert.deepEqual(parseVocab("\uFEFFa\r\nb\r\n\r\n\n"), ["a", "b"]);
  assert.deepEqual(parseVocab("a\nb"), ["a", "b"]);
});

Deno.test("parseVocab() rejects malformed files with the line number", async (t) => {
  const cases: [string, string, RegExp][] = [
    ["empty line inside", "a\n\nb\n", /line 2: empty line/],
    ["duplicate", "a\nb\na\n", /line 3: duplicate word "a" \(first on line 1\)/],
    ["space inside", "a\nb c\n", /line 2: .*whitespace/],
    ["leading tab", "a\n\tb\n", /line 2: .*whitespace/],
    ["trailing space", "a \n", /line 1: .*whitespace/],
    ["control character", "a\nb\u0007\n", /line 2: .*control/],
    ["blank line first", "\na\n", /line 1: empty line/],
  ];
  for (const [name, text, message] of cases) {
    await t.step(name, () => {
      assert.throws(() => parseVocab(text), (e: unknown) => {
        assert.ok(e instanceof FormatError);
        assert.match(e.message, message);
        assert.ok(!e.message.includes("\n"));
        return true;
      });
    });
  }
});

Deno.test("encodeVocab() rejects words that could not round-trip", () => {
  assert.throws(() => encodeVocab(["a", "a"]), TypeError);
  assert.throws(() => encodeVocab(["a\nb"]), TypeError);
  assert.throws(() => encodeVocab([""]), TypeError);
});

Deno.test("WordTokenizer with oov maps unknown words to the last id instead of dropping them", () => {
  const tok = new WordTokenizer(["a", "dog"], { oov: true });
  assert.equal(tok.oovId, 3);
  assert.equal(tok.vocabSize, 4); // padding, a, dog, OOV
  assert.deepEqual([...tok.encode("A cat chases a dog", { maxLength: 6 })], [1, 3, 3, 1, 2, 0]);
  assert.deepEqual([...tok.encode("cat cat cat", { maxLength: 2 })], [3, 3]); // truncated
  assert.equal(tok.knownCount("A cat"), 1, "unknown words are still not known");
  assert.equal(new WordTokenizer(["a"]).oovId, undefined);
});
