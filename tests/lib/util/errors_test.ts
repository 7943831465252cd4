import assert from "node:assert/strict";
import { FormatError, MismatchError } from "../../../lib/util/errors.ts";

Deno.test("FormatError names its file and keeps the cause", () => {
  const cause = new Error("inner");
  const e = new FormatError("bad header", { path: "a.npy", cause });
  assert.equal(e.name, "FormatError");
  assert.equal(e.message, "a.npy: bad header");
  assert.equal(e.path, "a.npy");
  assert.equal(e.cause, cause);
  assert.equal(new FormatError("bad header").message, "bad header");
});

Deno.test("MismatchError is an Error with its own name", () => {
  const e = new MismatchError("8 frames, model expects 16");
  assert.ok(e instanceof Error);
  assert.equal(e.name, "MismatchError");
});
