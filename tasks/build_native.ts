/**
 * Builds the native kernels (`lib/backend/native/*.c`: elementwise kernels,
 * attention, their pool of threads) into
 * `.native/libvatt_kernels.so` (`.dylib` on macOS) with the machine's C
 * compiler, for this machine's vector instructions (`-march=native`):
 *
 * ```sh
 * deno task build:native            # build when missing or older than its source
 *                                   # (without a C compiler: says so, exits 0)
 * deno task build:native --force    # build even when up to date
 * deno task build:native --require  # exit 1 when it cannot build
 * ```
 *
 * `lib/backend/native/native.ts` loads the library when it is there; without
 * it the kernels run the SIMD WebAssembly module, which computes the same bits.
 * `CC` names another compiler.
 *
 * @module
 */
import { builtLibraryPath } from "../lib/backend/native/native.ts";

/** The folder of the sources (`*.c`) and their headers (`*.h`), relative to the repository root. */
const NATIVE_DIR = "lib/backend/native";

/** The paths of the sources and the headers in `dir`, each list sorted. */
async function nativeInputs(dir: string): Promise<{ sources: string[]; headers: string[] }> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) if (entry.isFile) names.push(entry.name);
  const paths = (ext: string) =>
    names.filter((n) => n.endsWith(ext)).sort().map((n) => `${dir}/${n}`);
  return { sources: paths(".c"), headers: paths(".h") };
}

/**
 * The compiler's flags. Bit-identity with the SIMD module rests on the first
 * two: no fused multiply-adds, and IEEE operations in the source's order (no
 * `-ffast-math`); `-fno-math-errno` only lets `sqrtf` and `rintf` vectorise.
 * On Linux the library is marked never to be unloaded (see the comment).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nativeFlags } from "./build_native.ts";
 * assert.ok(nativeFlags("linux").includes("-ffp-contract=off"));
 * assert.ok(!nativeFlags("linux").some((f) => f.includes("fast-math")));
 * assert.ok(nativeFlags("linux").includes("-Wl,-z,nodelete"));
 * ```
 */
export function nativeFlags(os: string): string[] {
  return [
    "-ffp-contract=off",
    "-fno-math-errno",
    "-O3",
    "-march=native",
    "-fPIC",
    "-pthread",
    os === "darwin" ? "-dynamiclib" : "-shared",
    // Never unloaded: Deno closes a library with the isolate that opened it (a test module,
    // a worker), and the pool's threads, waiting inside it, must outlive that; a later open
    // mapped at the same place would otherwise wake them into another copy's state.
    ...(os === "darwin" ? [] : ["-Wl,-z,nodelete"]),
    "-Wall",
  ];
}

/**
 * Builds the library unless it is newer than its source (or `force`); returns
 * the path and whether it was written, or why it could not be built.
 */
export async function buildNative(
  options: { force?: boolean } = {},
): Promise<{ path: string; written: boolean } | { error: string }> {
  const out = builtLibraryPath(
    new URL("../lib/backend/native/native.ts", import.meta.url).href,
    Deno.build.os,
  );
  if (!out) return { error: "this checkout is not on a file system" };
  const root = new URL("../", import.meta.url).pathname;
  const mtime = async (p: string) => (await Deno.stat(p).catch(() => null))?.mtime?.getTime() ?? -1;
  const { sources, headers } = await nativeInputs(`${root}${NATIVE_DIR}`);
  const newest = Math.max(...await Promise.all([...sources, ...headers].map(mtime)));
  if (!options.force && await mtime(out) >= newest) {
    return { path: out, written: false };
  }
  const cc = Deno.env.get("CC") || "cc";
  await Deno.mkdir(`${root}.native`, { recursive: true });
  const partial = `${out}.${crypto.randomUUID()}.tmp`;
  let result: Deno.CommandOutput;
  try {
    result = await new Deno.Command(cc, {
      args: [
        ...nativeFlags(Deno.build.os),
        "-o",
        partial,
        ...sources,
        ...(Deno.build.os === "linux" ? ["-ldl"] : []),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (e) {
    return { error: `no C compiler (${cc}: ${(e as Error).message.split("\n")[0]})` };
  }
  if (!result.success) {
    await Deno.remove(partial).catch(() => {});
    return { error: `${cc} failed:\n${new TextDecoder().decode(result.stderr).trim()}` };
  }
  await Deno.rename(partial, out); // whole or not at all: a running process keeps its copy
  return { path: out, written: true };
}

if (import.meta.main) {
  const built = await buildNative({ force: Deno.args.includes("--force") });
  if ("path" in built) console.log(`${built.written ? "wrote" : "up to date:"} ${built.path}`);
  else {
    console.error(
      `native kernels not built: ${built.error}; the SIMD WebAssembly kernels run instead`,
    );
    if (Deno.args.includes("--require")) Deno.exit(1);
  }
}
