import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { buildNative } from "../../tasks/build_native.ts";

const TASK = fileURLToPath(new URL("../../tasks/build_native.ts", import.meta.url));

Deno.test("build:native without a compiler says why in one line, exits 0, and 1 with --require", async () => {
  const run = async (args: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", TASK, "--force", ...args],
      env: { CC: "/nonexistent/cc" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { code: out.code, stderr: new TextDecoder().decode(out.stderr).trim() };
  };
  const soft = await run([]);
  assert.equal(soft.code, 0);
  assert.match(
    soft.stderr,
    /^native kernels not built: no C compiler \(\/nonexistent\/cc: .*\); the SIMD WebAssembly kernels run instead$/,
  );
  assert.equal((await run(["--require"])).code, 1);
});

Deno.test("buildNative() leaves a library newer than its source alone", async () => {
  const first = await buildNative();
  if ("error" in first) return console.log(`build_native_test: ${first.error}: skipped`);
  const again = await buildNative();
  assert.ok("path" in again && !again.written && again.path === first.path);
});
