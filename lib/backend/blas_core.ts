/**
 * Which of OpenBLAS's kernels multiply on this CPU. OpenBLAS (0.3.21 here:
 * the `DYNAMIC_ARCH` builds of Debian and Fedora) picks its kernels by the
 * CPU's features when it loads; on an AMD processor with AVX-512 (Zen 4) it
 * picks the Intel AVX-512 ones (`Cooperlake`, `SkylakeX`), and its AVX2
 * kernels (`Haswell`) are faster there. Measured on 2 cores of an AMD EPYC
 * (sgemm 544×2048 · 2048×512, best of 12): 104–107 against 98–101 GFLOP/s on
 * one thread, 210–215 against 190–200 on two; a `small` pretraining step 1.04×
 * (median of 10 alternating processes). So where `OPENBLAS_CORETYPE` is not set and the CPU is AMD's with AVX-512, the programs' entry points (`vatt`, the bench and its workers, the profile) ask for Haswell's first thing, before the library loads ({@linkcode applyBlasCoreType}); `VATT_BLAS_CORE=0` leaves OpenBLAS's own pick, and an `OPENBLAS_CORETYPE` of the user's is left as it is. Processes started after (the benchmark's PyTorch peer, on the same OpenBLAS) inherit the setting. Only an entry point sets it, at its start: a library that set the environment while other threads read it (the test runner's parallel modules share one process) would race them.
 *
 * @module
 */
import { nativeKernels } from "./native/native.ts";
import { envValue, offIn, SWITCHES } from "./switches.ts";

/** OpenBLAS's variable naming the kernels to use. */
export const CORETYPE_VARIABLE = "OPENBLAS_CORETYPE";

/**
 * The kernels to ask OpenBLAS for on the CPU `/proc/cpuinfo` describes:
 * `Haswell` on an AMD processor with AVX-512, else `null` (OpenBLAS's pick).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { preferredCoreType } from "./blas_core.ts";
 * const zen4 = "vendor_id\t: AuthenticAMD\nflags\t\t: fpu sse avx2 fma avx512f avx512bw\n";
 * assert.equal(preferredCoreType(zen4), "Haswell");
 * assert.equal(preferredCoreType(zen4.replace(" avx512f avx512bw", "")), null); // Zen 3
 * assert.equal(preferredCoreType(zen4.replace("AuthenticAMD", "GenuineIntel")), null);
 * assert.equal(preferredCoreType(""), null);
 * ```
 */
export function preferredCoreType(cpuinfo: string): "Haswell" | null {
  const amd = /^vendor_id\s*:\s*AuthenticAMD\s*$/m.test(cpuinfo);
  const flags = cpuinfo.match(/^flags\s*:(.*)$/m)?.[1].trim().split(/\s+/) ?? [];
  return amd && flags.includes("avx512f") ? "Haswell" : null;
}

/** What {@linkcode applyBlasCoreType} reads and writes (the process's by default). */
export interface CoreTypeIo {
  read(name: string): string | undefined;
  set(name: string, value: string): void;
  /** The kernels this CPU should get ({@linkcode preferredCoreType}). */
  preferred(): "Haswell" | null;
}

/** Asks the native kernels' library (no permission beyond FFI), else `/proc/cpuinfo` (all). */
function preferredHere(): "Haswell" | null {
  const native = nativeKernels();
  if (native) return native.cpuAmdAvx512() ? "Haswell" : null;
  return Deno.build.os === "linux"
    ? preferredCoreType(Deno.readTextFileSync("/proc/cpuinfo"))
    : null;
}

const PROCESS_IO: CoreTypeIo = {
  read: envValue,
  set: (name, value) => Deno.env.set(name, value),
  preferred: preferredHere,
};

/**
 * Sets `OPENBLAS_CORETYPE` for this process where {@linkcode preferredCoreType}
 * asks for other kernels than OpenBLAS's own, unless it is set already or
 * `VATT_BLAS_CORE=0`; call it before the library loads. Returns a few words for
 * the BLAS's status line (`null`: OpenBLAS picks). Never throws: without the
 * native kernels' library and without the permission to read `/proc/cpuinfo`,
 * or to set the variable, OpenBLAS picks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { applyBlasCoreType } from "./blas_core.ts";
 * const env = new Map<string, string>();
 * const io = {
 *   read: (n: string) => env.get(n),
 *   set: (n: string, v: string) => void env.set(n, v),
 *   preferred: () => "Haswell" as const,
 * };
 * assert.equal(applyBlasCoreType(io), "Haswell kernels, chosen for this AMD AVX-512 CPU");
 * assert.equal(env.get("OPENBLAS_CORETYPE"), "Haswell");
 * assert.equal(applyBlasCoreType(io), "Haswell kernels (OPENBLAS_CORETYPE)"); // set already
 * env.clear();
 * env.set("VATT_BLAS_CORE", "0");
 * assert.equal(applyBlasCoreType(io), null);
 * assert.equal(env.get("OPENBLAS_CORETYPE"), undefined);
 * ```
 */
export function applyBlasCoreType(io: CoreTypeIo = PROCESS_IO): string | null {
  try {
    const given = coreTypeNote(io.read);
    if (given) return given;
    const core = offIn(io.read, [SWITCHES.blasCore]) ? null : io.preferred();
    if (!core) return null;
    io.set(CORETYPE_VARIABLE, core);
    return `${core} kernels, chosen for this AMD AVX-512 CPU`;
  } catch {
    return null; // no permission to read the CPU's description or to set the variable
  }
}

/**
 * The kernels `OPENBLAS_CORETYPE` asks for, for the BLAS's status line
 * (`null` where it is unset: OpenBLAS picks by the CPU's features).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { coreTypeNote } from "./blas_core.ts";
 * const read = (n: string) => n === "OPENBLAS_CORETYPE" ? "Haswell" : undefined;
 * assert.equal(coreTypeNote(read), "Haswell kernels (OPENBLAS_CORETYPE)");
 * assert.equal(coreTypeNote(() => undefined), null);
 * ```
 */
export function coreTypeNote(
  read: (name: string) => string | undefined = envValue,
): string | null {
  const given = read(CORETYPE_VARIABLE);
  return given ? `${given} kernels (${CORETYPE_VARIABLE})` : null;
}
