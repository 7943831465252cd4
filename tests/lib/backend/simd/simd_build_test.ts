import assert from "node:assert/strict";
import * as path from "node:path";
import { ASSEMBLYSCRIPT } from "../../../../tasks/build_simd.ts";
import { SIMD_WASM_BASE64 } from "../../../../lib/backend/simd/simd_wasm.ts";

const ROOT = path.resolve(import.meta.dirname!, "../../../..");

/** Where the project's `node_modules` points a package no other package brings along. */
const HOISTED_LONG = path.join(ROOT, "node_modules/.deno/node_modules/long");
const hoisted = () => Deno.readLink(HOISTED_LONG).catch(() => null);

Deno.test("lib/backend/simd/simd_wasm.ts is the build of lib/backend/simd/kernels.as.ts", async () => {
  // As `deno task build:simd --check` runs it: in its own process, without a lock entry, so the
  // build-only compiler never enters deno.lock (and so never a fresh install), and outside the
  // project's node_modules: installed there, the compiler's long@5 took the hoisted `long` from
  // tfjs's long@4 until the next run, and every test module loading tfjs meanwhile failed.
  const before = await hoisted();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "build:simd", "--check"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  assert.equal(
    out.code,
    0,
    `run \`deno task build:simd\` and commit the result\n${dec.decode(out.stderr)}`,
  );
  assert.match(dec.decode(out.stdout), /simd_wasm\.ts is up to date/);
  const lock = await Deno.readTextFile(path.join(ROOT, "deno.lock"));
  assert.doesNotMatch(lock, /assemblyscript|binaryen/);
  assert.equal(await hoisted(), before, "the build leaves node_modules as it was");
});

Deno.test("the compiler is pinned to one version, out of deno.json's imports", async () => {
  assert.match(ASSEMBLYSCRIPT, /^npm:assemblyscript@\d+\.\d+\.\d+\/asc$/);
  const config = JSON.parse(await Deno.readTextFile(path.join(ROOT, "deno.json")));
  assert.equal(Object.keys(config.imports).some((k) => k.startsWith("assemblyscript")), false);
  assert.match(config.tasks["build:simd"], /--no-lock/);
});

Deno.test("the SIMD module imports only a memory and writes nothing when instantiated", () => {
  // The committed bytes: the test above checks they are the build's.
  const bytes = Uint8Array.from(atob(SIMD_WASM_BASE64), (c) => c.charCodeAt(0));
  const module = new WebAssembly.Module(bytes);
  assert.deepEqual(WebAssembly.Module.imports(module), [
    { module: "env", name: "memory", kind: "memory" },
  ]);
  // A memory full of a marker: instantiation must leave every byte as it was.
  const memory = new WebAssembly.Memory({ initial: 1 });
  new Uint8Array(memory.buffer).fill(0xa5);
  new WebAssembly.Instance(module, { env: { memory } });
  assert.ok(new Uint8Array(memory.buffer).every((b) => b === 0xa5));
});
