/**
 * Which of OpenBLAS's kernels multiply on this CPU. OpenBLAS (0.3.21 here:
 * the `DYNAMIC_ARCH` builds of Debian and Fedora) picks its kernels by the
 * CPU's features when it loads; on an AMD processor with AVX-512 (Zen 4) it
 * picks the Intel AVX-512 ones (`Cooperlake`, `SkylakeX`), and its AVX2
 * kernels (`Haswell`) are faster there. Measured on 2 cores of an AMD EPYC
 * (sgemm 544×2048 · 2048×512, best of 12): 104–107 against 98–101 GFLOP/s on
 * one thread, 210–215 against 190–200 on two; a `small` pretraining step 1.04×
 * (median of 10 alternating processes). So where `OPENBLAS_CORETYPE` is not
 * set and the CPU is AMD's with AVX-512, `blas.ts` asks for Haswell's before
 * the library loads; `VATT_BLAS_CORE=0` leaves OpenBLAS's own pick, and an
 * `OPENBLAS_CORETYPE` of the user's is left as it is. Processes started after
 * (the benchmark's PyTorch peer, on the same OpenBLAS) inherit the setting.
 *
 * @module
 */
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
  cpuinfo(): string;
}

const PROCESS_IO: CoreTypeIo = {
  read: envValue,
  set: (name, value) => Deno.env.set(name, value),
  cpuinfo: () => Deno.build.os === "linux" ? Deno.readTextFileSync("/proc/cpuinfo") : "",
};

/**
 * Sets `OPENBLAS_CORETYPE` for this process where {@linkcode preferredCoreType}
 * asks for other kernels than OpenBLAS's own, unless it is set already or
 * `VATT_BLAS_CORE=0`; call it before the library loads. Returns a few words for
 * the BLAS's status line (`null`: OpenBLAS picks). Never throws: without the
 * permission to read `/proc/cpuinfo` or to set the variable, OpenBLAS picks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { applyBlasCoreType } from "./blas_core.ts";
 * const env = new Map<string, string>();
 * const io = {
 *   read: (n: string) => env.get(n),
 *   set: (n: string, v: string) => void env.set(n, v),
 *   cpuinfo: () => "vendor_id : AuthenticAMD\nflags : avx2 avx512f\n",
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
    const given = io.read(CORETYPE_VARIABLE);
    if (given) return `${given} kernels (${CORETYPE_VARIABLE})`;
    const core = offIn(io.read, [SWITCHES.blasCore]) ? null : preferredCoreType(io.cpuinfo());
    if (!core) return null;
    io.set(CORETYPE_VARIABLE, core);
    return `${core} kernels, chosen for this AMD AVX-512 CPU`;
  } catch {
    return null; // no permission to read the CPU's description or to set the variable
  }
}
