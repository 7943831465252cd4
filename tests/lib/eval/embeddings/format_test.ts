import assert from "node:assert/strict";
import { formatFromPath, npyRowsPath } from "../../../../lib/eval/embeddings/format.ts";

Deno.test("formatFromPath() reads the format from the extension", () => {
  assert.equal(formatFromPath("a/e.npy"), "npy");
  assert.equal(formatFromPath("e.SAFETENSORS"), "safetensors");
  assert.equal(formatFromPath("e.parquet"), "parquet");
  assert.equal(formatFromPath("e.jsonl"), "jsonl");
  assert.equal(formatFromPath("e.ndjson"), "jsonl");
  assert.equal(formatFromPath("e.csv"), undefined);
  assert.equal(formatFromPath("npy"), undefined);
});

Deno.test("npyRowsPath() puts the row list beside the matrix", () => {
  assert.equal(npyRowsPath("out/e.npy"), "out/e.npy.rows.jsonl");
});
