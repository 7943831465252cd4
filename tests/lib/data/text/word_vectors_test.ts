import assert from "node:assert/strict";
import { FormatError } from "../../../../lib/util/errors.ts";
import {
  detectWordVectorFormat,
  MAX_WORD_VECTOR_VALUES,
  readWordVectors,
} from "../../../../lib/data/text/word_vectors.ts";

const WORDS: [string, number[]][] = [
  ["the", [0.5, -1, 2]],
  ["dog", [1.25, 0, -0.75]],
  ["café", [3, 4, 5]], // two-byte UTF-8
];

/** A word2vec binary file built byte by byte: "V D\n", then word, space, D float32 LE, "\n". */
function word2vecBinary(
  rows: [string, number[]][],
  options: { newline?: boolean; header?: string } = {},
): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [
    enc.encode(options.header ?? `${rows.length} ${rows[0][1].length}\n`),
  ];
  for (const [word, values] of rows) {
    parts.push(enc.encode(`${word} `));
    const bytes = new Uint8Array(4 * values.length);
    const view = new DataView(bytes.buffer);
    values.forEach((v, i) => view.setFloat32(4 * i, v, true));
    parts.push(bytes);
    if (options.newline ?? true) parts.push(enc.encode("\n"));
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const text = (rows: [string, number[]][]) => rows.map(([w, v]) => `${w} ${v.join(" ")}\n`).join("");

async function withFile(
  content: Uint8Array | string,
  fn: (file: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/vectors`;
  if (typeof content === "string") await Deno.writeTextFile(file, content);
  else await Deno.writeFile(file, content);
  try {
    await fn(file);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function expectRows(read: { words: string[]; vectors: Float32Array; dim: number }): void {
  assert.deepEqual(read.words, WORDS.map(([w]) => w));
  assert.equal(read.dim, 3);
  assert.deepEqual([...read.vectors], WORDS.flatMap(([, v]) => v));
}

Deno.test("readWordVectors() parses each format, detected from the file", async (t) => {
  await t.step("word2vec binary (with the optional newline after each vector)", async () => {
    await withFile(word2vecBinary(WORDS), async (file) => {
      const read = await readWordVectors(file);
      assert.equal(read.format, "word2vec-binary");
      expectRows(read);
      assert.equal(read.declared, 3);
      assert.equal(read.complete, true);
    });
  });
  await t.step("word2vec binary without newlines between records", async () => {
    await withFile(word2vecBinary(WORDS, { newline: false }), async (file) => {
      expectRows(await readWordVectors(file));
    });
  });
  await t.step("word2vec text", async () => {
    await withFile(`3 3\n${text(WORDS)}`, async (file) => {
      const read = await readWordVectors(file);
      assert.equal(read.format, "word2vec-text");
      expectRows(read);
    });
  });
  await t.step(
    "GloVe text (no header; CRLF line ends and a final line without newline)",
    async () => {
      await withFile(text(WORDS).replaceAll("\n", "\r\n").replace(/\r\n$/, ""), async (file) => {
        const read = await readWordVectors(file);
        assert.equal(read.format, "glove");
        expectRows(read);
        assert.equal(read.declared, undefined);
      });
    },
  );
  await t.step("an explicit format overrides detection", async () => {
    // "2 1" reads as a word2vec header; as GloVe it is the word "2" with the value 1.
    await withFile("2 1\n3 4\n", async (file) => {
      const read = await readWordVectors(file, { format: "glove" });
      assert.deepEqual(read.words, ["2", "3"]);
      assert.deepEqual([...read.vectors], [1, 4]);
    });
  });
});

Deno.test("detectWordVectorFormat() tells the three formats apart from their first bytes", () => {
  assert.equal(detectWordVectorFormat(word2vecBinary(WORDS)), "word2vec-binary");
  assert.equal(
    detectWordVectorFormat(new TextEncoder().encode(`3 3\n${text(WORDS)}`)),
    "word2vec-text",
  );
  assert.equal(detectWordVectorFormat(new TextEncoder().encode(text(WORDS))), "glove");
  assert.throws(
    () => detectWordVectorFormat(new TextEncoder().encode("just words\n")),
    FormatError,
  );
});

Deno.test("readWordVectors() keeps accepted words once, in file order, and stops at maxWords", async (t) => {
  await t.step("accept maps and filters; a repeat keeps its first vector", async () => {
    const rows: [string, number[]][] = [["The", [1]], ["</s>", [2]], ["the", [3]], ["Dog", [4]]];
    await withFile(text(rows), async (file) => {
      const read = await readWordVectors(file, {
        accept: (w) => /^[a-z]+$/i.test(w) ? w.toLowerCase() : undefined,
      });
      assert.deepEqual(read.words, ["the", "dog"]);
      assert.deepEqual([...read.vectors], [1, 4]);
      assert.equal(read.skipped, 2);
    });
  });
  await t.step("reading stops at maxWords: a broken line after it is never read", async () => {
    await withFile(`${text(WORDS)}broken line here\n`, async (file) => {
      const read = await readWordVectors(file, { maxWords: 2 });
      assert.deepEqual(read.words, ["the", "dog"]);
      assert.equal(read.complete, false);
      await assert.rejects(readWordVectors(file), /line 4/);
    });
  });
  await t.step("binary: stops at maxWords too", async () => {
    const truncated = word2vecBinary(WORDS).slice(0, -6); // the last vector cut short
    await withFile(truncated, async (file) => {
      await assert.rejects(readWordVectors(file), /file/);
      assert.deepEqual((await readWordVectors(file, { maxWords: 2 })).words, ["the", "dog"]);
    });
  });
});

Deno.test("readWordVectors() names the line (text) or record (binary) of malformed input", async (t) => {
  const cases: [string, string | Uint8Array, RegExp][] = [
    ["a short line", `the 1 2 3\ndog 1 2\n`, /line 2: expected a word and 3 values, got 2/],
    [
      "a non-number",
      `3 3\nthe 1 2 3\ndog 1 x 3\ncat 1 2 3\n`,
      /line 3: value 2 "x" is not a number/,
    ],
    ["an empty line inside", `the 1 2 3\n\ndog 1 2 3\n`, /line 2: empty line/],
    [
      "fewer words than the header",
      `3 3\nthe 1 2 3\n`,
      /announces 3 words but the file ends after 1/,
    ],
    [
      "more words than the header",
      `1 3\nthe 1 2 3\ndog 1 2 3\n`,
      /line 3: more words than the header's 1/,
    ],
    ["a bad dimension", `2 0\n`, /line 1: dimension 0/],
    [
      "a binary vector cut short",
      word2vecBinary(WORDS.slice(0, 2)).slice(0, -5),
      /record 2 .*"dog".*ends inside its vector/,
    ],
    ["a binary NaN", word2vecBinary([["a", [NaN]]]), /record 1 .*value 1 is not finite/],
  ];
  for (const [name, content, pattern] of cases) {
    await t.step(name, async () => {
      await withFile(content, async (file) => {
        const e = await readWordVectors(file).then(() => undefined, (e) => e);
        assert.ok(e instanceof FormatError, `${name}: ${e}`);
        assert.match(e.message, pattern);
        assert.ok(e.message.startsWith(file), "the message names the file");
        assert.ok(!e.message.includes("\n"), "one line");
      });
    });
  }
});

Deno.test("readWordVectors() refuses absurd sizes before allocating", async (t) => {
  await t.step("a text header of V·D past the limit", async () => {
    await withFile(`4000000000 300\nthe ${"1 ".repeat(300)}\n`, async (file) => {
      await assert.rejects(readWordVectors(file), RangeError);
    });
  });
  await t.step("a binary header announcing more bytes than the file holds", async () => {
    await withFile(word2vecBinary(WORDS, { header: "1000000 3\n" }), async (file) => {
      await assert.rejects(readWordVectors(file), /more than the file's .* bytes/);
    });
  });
  await t.step(
    "maxWords bounds the allocation: a capped read of a large header is fine",
    async () => {
      await withFile(word2vecBinary(WORDS), async (file) => {
        assert.equal((await readWordVectors(file, { maxWords: 1 })).vectors.length, 3);
      });
      assert.ok(MAX_WORD_VECTOR_VALUES >= 65536 * 300, "the paper's table fits");
    },
  );
  await t.step("a missing file is a FormatError naming it", async () => {
    await assert.rejects(readWordVectors("/nonexistent/vectors.bin"), /nonexistent.*cannot read/);
  });
});
