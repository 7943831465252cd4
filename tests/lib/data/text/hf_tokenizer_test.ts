import assert from "node:assert/strict";
import { FormatError } from "../../../../lib/util/errors.ts";
import {
  HfTokenizer,
  loadHfTokenizer,
  type TextTokenizer,
} from "../../../../lib/data/text/hf_tokenizer.ts";

function special(id: number, content: string) {
  return {
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  };
}

/** A hand-written word-level tokenizer.json with [CLS] … [SEP] around each text. */
function wordLevelJson(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [
      special(0, "[PAD]"),
      special(1, "[UNK]"),
      special(6, "[CLS]"),
      special(7, "[SEP]"),
    ],
    normalizer: { type: "Lowercase" },
    pre_tokenizer: { type: "Whitespace" },
    post_processor: {
      type: "TemplateProcessing",
      single: [
        { SpecialToken: { id: "[CLS]", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "[SEP]", type_id: 0 } },
      ],
      pair: [],
      special_tokens: {
        "[CLS]": { id: "[CLS]", ids: [6], tokens: ["[CLS]"] },
        "[SEP]": { id: "[SEP]", ids: [7], tokens: ["[SEP]"] },
      },
    },
    decoder: null,
    model: {
      type: "WordLevel",
      vocab: { "[PAD]": 0, "[UNK]": 1, a: 2, dog: 3, runs: 4, ".": 5, "[CLS]": 6, "[SEP]": 7 },
      unk_token: "[UNK]",
    },
    ...extra,
  });
}

Deno.test("HfTokenizer encodes a word-level tokenizer.json with special tokens", async (t) => {
  const tok: TextTokenizer = HfTokenizer.fromJson(wordLevelJson());
  assert.equal(tok.vocabSize, 8);
  assert.equal(tok.padId, 0);
  const table: [string, number, number[]][] = [
    ["A dog runs.", 8, [6, 2, 3, 4, 5, 7, 0, 0]],
    ["a cat", 6, [6, 2, 1, 7, 0, 0]], // unknown word → [UNK]
    ["DOG", 3, [6, 3, 7]],
    ["a dog runs", 3, [6, 2, 3]], // truncated
    ["", 4, [6, 7, 0, 0]],
  ];
  for (const [text, maxLength, ids] of table) {
    await t.step(JSON.stringify(text), () => {
      const out = tok.encode(text, { maxLength });
      assert.ok(out instanceof Int32Array);
      assert.deepEqual([...out], ids);
    });
  }
});

Deno.test("HfTokenizer can leave out special tokens and drops tokens with no id", () => {
  const plain = HfTokenizer.fromJson(wordLevelJson(), { addSpecialTokens: false });
  assert.deepEqual([...plain.encode("A dog runs.", { maxLength: 6 })], [2, 3, 4, 5, 0, 0]);
  const noUnk = HfTokenizer.fromJson(
    JSON.stringify({
      pre_tokenizer: { type: "WhitespaceSplit" },
      model: { type: "WordLevel", vocab: { "<pad>": 0, hi: 1, there: 2 } },
    }),
  );
  assert.deepEqual([...noUnk.encode("hi you there", { maxLength: 4 })], [1, 2, 0, 0]);
});

Deno.test("HfTokenizer chooses the padding id from padding, config or token names", () => {
  const fromPadding = HfTokenizer.fromJson(
    wordLevelJson({ padding: { pad_id: 5, pad_token: "." } }),
    { addSpecialTokens: false },
  );
  assert.equal(fromPadding.padId, 5);
  assert.deepEqual([...fromPadding.encode("dog", { maxLength: 3 })], [3, 5, 5]);
  const fromConfig = HfTokenizer.fromJson(wordLevelJson(), { config: { pad_token: "[SEP]" } });
  assert.equal(fromConfig.padId, 7);
  const given = HfTokenizer.fromJson(wordLevelJson(), { padId: 1 });
  assert.equal(given.padId, 1);
  assert.throws(() => HfTokenizer.fromJson(wordLevelJson(), { padId: 8 }), RangeError);
});

Deno.test("HfTokenizer runs a WordPiece model", () => {
  const tok = HfTokenizer.fromJson(JSON.stringify({
    normalizer: { type: "BertNormalizer", lowercase: true },
    pre_tokenizer: { type: "BertPreTokenizer" },
    model: {
      type: "WordPiece",
      unk_token: "[UNK]",
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab: { "[PAD]": 0, "[UNK]": 1, play: 2, "##ing": 3, "##ed": 4, ",": 5 },
    },
  }));
  assert.deepEqual([...tok.encode("Playing, played xyz", { maxLength: 7 })], [2, 3, 5, 2, 4, 1, 0]);
});

Deno.test("HfTokenizer.fromJson() rejects malformed tokenizer.json with FormatError", async (t) => {
  const cases: [string, string][] = [
    ["not JSON", "{model:"],
    ["truncated JSON", wordLevelJson().slice(0, 100)],
    ["an array", "[]"],
    ["no model", "{}"],
    ["unknown model", '{"model":{"type":"Nope","vocab":{"a":0}}}'],
    ["vocab of the wrong type", '{"model":{"type":"BPE","vocab":3,"merges":[]}}'],
    ["negative id", '{"model":{"type":"WordLevel","vocab":{"a":-1}}}'],
    ["string id", '{"model":{"type":"WordLevel","vocab":{"a":"0"}}}'],
    ["huge id", '{"model":{"type":"WordLevel","vocab":{"a":4294967296}}}'],
    ["empty vocab", '{"model":{"type":"WordLevel","vocab":{}}}'],
    [
      "added_tokens not an array",
      '{"model":{"type":"WordLevel","vocab":{"a":0}},"added_tokens":{}}',
    ],
    [
      "added token without id",
      '{"model":{"type":"WordLevel","vocab":{"a":0}},"added_tokens":[{"content":"x"}]}',
    ],
    [
      "unknown pre-tokenizer",
      '{"model":{"type":"WordLevel","vocab":{"a":0}},"pre_tokenizer":{"type":"Nope"}}',
    ],
    [
      "broken post-processor",
      '{"model":{"type":"WordLevel","vocab":{"a":0}},"post_processor":{"type":"TemplateProcessing"}}',
    ],
  ];
  for (const [name, text] of cases) {
    await t.step(name, () => {
      assert.throws(() => HfTokenizer.fromJson(text), (e: unknown) => {
        assert.ok(e instanceof FormatError, `${name}: ${e}`);
        assert.ok(!e.message.includes("\n"));
        return true;
      });
    });
  }
});

Deno.test("loadHfTokenizer() reads files and reports bad ones with their path", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/tokenizer.json`, wordLevelJson());
    await Deno.writeTextFile(`${dir}/tokenizer_config.json`, '{"pad_token":"[UNK]"}');
    const tok = await loadHfTokenizer(`${dir}/tokenizer.json`, {
      configPath: `${dir}/tokenizer_config.json`,
    });
    assert.equal(tok.padId, 1);
    assert.deepEqual([...tok.encode("dog", { maxLength: 4 })], [6, 3, 7, 1]);

    await Deno.writeFile(`${dir}/bad.json`, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]));
    await Deno.writeTextFile(`${dir}/broken.json`, '{"model": ');
    await Deno.writeTextFile(`${dir}/array_config.json`, "[1]");
    for (
      const [path, configPath] of [
        [`${dir}/missing.json`, undefined],
        [`${dir}/bad.json`, undefined],
        [`${dir}/broken.json`, undefined],
        [`${dir}/tokenizer.json`, `${dir}/array_config.json`],
      ]
    ) {
      await assert.rejects(loadHfTokenizer(path!, { configPath }), (e: unknown) => {
        assert.ok(e instanceof FormatError);
        assert.ok(e.path === path || e.path === configPath, e.message);
        return true;
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
