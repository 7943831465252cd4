/**
 * The `text.wordVectors` entry of `index.json`: the frozen word-vector table
 * a dataset was tokenized with, and where its vectors came from.
 *
 * @module
 */
import { FormatError } from "../../util/errors.ts";

/**
 * A dataset's word vectors: `file` holds the table `[vocabSize, dim]`
 * (tensor `table`, float32; row 0 is padding and the last row the
 * out-of-vocabulary slot, both zero), row `i` being the vector of id `i`.
 */
export interface WordVectorsSpec {
  /** The table file inside the dataset folder (`word_vectors.safetensors`). */
  file: string;
  /** SHA-256 of the table file, hex. */
  sha256: string;
  /** Vector dimension. */
  dim: number;
  /** The file the vectors were read from: its name, format and SHA-256 (of the whole file). */
  source: { file: string; format: string; sha256: string };
}

/**
 * Checks an untrusted `text.wordVectors` object; throws `FormatError`
 * naming the bad field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseWordVectorsSpec } from "./_word_vectors_spec.ts";
 * const source = { file: "v.bin", format: "word2vec-binary", sha256: "ab" };
 * const spec = { file: "word_vectors.safetensors", sha256: "cd", dim: 300, source };
 * assert.deepEqual(parseWordVectorsSpec(spec, "index.json"), spec);
 * assert.throws(() => parseWordVectorsSpec({ ...spec, dim: 0 }, "index.json"), /wordVectors.dim/);
 * ```
 */
export function parseWordVectorsSpec(value: unknown, path: string): WordVectorsSpec {
  const fail = (what: string, v: unknown): never => {
    throw new FormatError(`text.wordVectors.${what} is invalid: ${JSON.stringify(v)}`, { path });
  };
  const obj = (v: unknown, what: string): Record<string, unknown> =>
    v && typeof v === "object" && !Array.isArray(v) ? v as Record<string, unknown> : fail(what, v);
  const str = (v: unknown, what: string): string => typeof v === "string" ? v : fail(what, v);
  const w = obj(value, "(object)");
  const s = obj(w.source, "source");
  const file = str(w.file, "file");
  if (!/^[A-Za-z0-9._-]+$/.test(file) || file === "." || file === "..") fail("file", file);
  const dim = w.dim;
  if (typeof dim !== "number" || !Number.isSafeInteger(dim) || dim < 1) fail("dim", dim);
  return {
    file,
    sha256: str(w.sha256, "sha256"),
    dim: dim as number,
    source: {
      file: str(s.file, "source.file"),
      format: str(s.format, "source.format"),
      sha256: str(s.sha256, "source.sha256"),
    },
  };
}
