import assert from "node:assert/strict";
import { resolveVattConfig } from "../../../lib/config/vatt_config.ts";
import { DEFAULT_WORD_VECTORS } from "../../../lib/config/word_vectors_config.ts";

Deno.test("resolveVattConfig() completes text.wordVectors and leaves configs without it unchanged", () => {
  const plain = resolveVattConfig({ preset: "tiny" });
  assert.ok(!("wordVectors" in plain.text), "absent: a learned embedding, as before");
  assert.deepEqual(resolveVattConfig({ text: { wordVectors: null as never } }), plain);
  const c = resolveVattConfig({ text: { wordVectors: { dim: 50 } as never } });
  assert.deepEqual(c.text.wordVectors, { ...DEFAULT_WORD_VECTORS, dim: 50 });
  // Resolving a resolved config gives it back (checkpoints compare configs as JSON).
  assert.deepEqual(resolveVattConfig(JSON.parse(JSON.stringify(c))), c);
});

Deno.test("resolveVattConfig() rejects bad text.wordVectors fields, naming them", () => {
  const bad = (wordVectors: unknown) => () =>
    resolveVattConfig({ text: { wordVectors: wordVectors as never } });
  assert.throws(bad({ dim: 0 }), /text.wordVectors.dim must be in \[1, 10000\], got 0/);
  assert.throws(bad({ dim: 300, activation: "relu" }), /text.wordVectors.activation must be/);
  assert.throws(bad({ dim: 300, bias: "yes" }), /text.wordVectors.bias must be a boolean/);
  assert.throws(bad([300]), /text.wordVectors must be an object or null/);
  assert.throws(bad({ dim: 300, vocabSha256: "abc" }), /vocabSha256 must be a SHA-256 in hex/);
});
