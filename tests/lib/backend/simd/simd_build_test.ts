import assert from "node:assert/strict";
import { buildSimdWasm, SIMD_OUTPUT, simdModuleText } from "../../../../tasks/build_simd.ts";

Deno.test("lib/backend/simd/simd_wasm.ts is the build of lib/backend/simd/kernels.as.ts", async () => {
  const bytes = await buildSimdWasm();
  assert.ok(WebAssembly.validate(bytes));
  const committed = await Deno.readTextFile(new URL(`../../../../${SIMD_OUTPUT}`, import.meta.url));
  assert.equal(
    committed,
    simdModuleText(bytes),
    "run `deno task build:simd` and commit the result",
  );
});

Deno.test("the SIMD module imports only a memory and writes nothing when instantiated", async () => {
  const module = new WebAssembly.Module(await buildSimdWasm());
  assert.deepEqual(WebAssembly.Module.imports(module), [
    { module: "env", name: "memory", kind: "memory" },
  ]);
  // A memory full of a marker: instantiation must leave every byte as it was.
  const memory = new WebAssembly.Memory({ initial: 1 });
  new Uint8Array(memory.buffer).fill(0xa5);
  new WebAssembly.Instance(module, { env: { memory } });
  assert.ok(new Uint8Array(memory.buffer).every((b) => b === 0xa5));
});
