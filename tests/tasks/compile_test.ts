import assert from "node:assert/strict";
import * as path from "node:path";

const ROOT = path.resolve(import.meta.dirname!, "../..");

/** Runs `deno task compile` with `DENORT_BIN` set. */
async function compileWith(denortBin: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "compile"],
    cwd: ROOT,
    env: { DENORT_BIN: denortBin, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function distMtime(): Promise<number | null> {
  return (await Deno.stat(path.join(ROOT, "dist", "vatt")).catch(() => null))?.mtime?.getTime() ??
    null;
}

Deno.test("deno task compile with DENORT_BIN at the deno binary: one line naming it, nothing compiled", async () => {
  const before = await distMtime();
  const r = await compileWith(Deno.execPath());
  assert.equal(r.code, 1);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^compile: DENORT_BIN=.* is the deno binary \(it prints "deno 2\./);
  assert.match(lines[0], /denort-[\w-]+\.zip/);
  assert.equal(await distMtime(), before);
});

Deno.test("deno task compile with DENORT_BIN at a missing file: one line, nothing compiled", async () => {
  const before = await distMtime();
  const r = await compileWith("/nonexistent/denort");
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.match(r.stderr, /^compile: DENORT_BIN=\/nonexistent\/denort is not a file; download /);
  assert.equal(await distMtime(), before);
});
