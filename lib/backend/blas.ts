/**
 * A native BLAS (OpenBLAS) through Deno's FFI, for the matrix products of the
 * wasm backend. Loading never throws: when the library is missing, FFI is not
 * permitted, or `VATT_BLAS=0` is set, {@linkcode loadBlas} answers `null` and
 * the callers keep the plain wasm kernels.
 *
 * The library is looked up as `VATT_BLAS_LIB` (a path) when set, else under
 * the usual names of the running system ({@linkcode blasLibraryNames}):
 * Debian's `libopenblas0-pthread` (`libopenblas.so.0`), Fedora's `openblas`,
 * Homebrew's `libopenblas.dylib` then macOS's own Accelerate framework,
 * `libopenblas.dll`. Large products run on
 * every core (`VATT_BLAS_THREADS` caps it), small ones on one.
 *
 * @module
 */

import { blasThreadsSetting, envValue, switchedOff, SWITCHES } from "./switches.ts";
import { nativeGemm } from "./native/native.ts";
import { coreTypeNote } from "./blas_core.ts";

const LINUX_NAMES = [
  "libopenblas.so.0",
  "libopenblas.so",
  "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
  "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0",
  "/usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblas.so.0",
  "/usr/lib/aarch64-linux-gnu/openblas-openmp/libopenblas.so.0",
  "/usr/lib64/libopenblas.so.0", // Fedora's openblas
  "/usr/lib64/libopenblasp.so.0",
];
const DARWIN_NAMES = [
  "libopenblas.dylib",
  "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
  "/usr/local/opt/openblas/lib/libopenblas.dylib",
  // Always there on macOS: Accelerate's cblas_sgemm (it has no thread setting).
  "/System/Library/Frameworks/Accelerate.framework/Accelerate",
];
const WINDOWS_NAMES = ["libopenblas.dll", "openblas.dll"];

/**
 * The library names tried (after `VATT_BLAS_LIB`) on the operating system
 * `os` (`Deno.build.os`): only that system's names, so Linux never reports a
 * failed `.dll`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { blasLibraryNames } from "./blas.ts";
 * assert.equal(blasLibraryNames("linux")[0], "libopenblas.so.0");
 * assert.ok(!blasLibraryNames("linux").some((n) => n.endsWith(".dll")));
 * assert.ok(blasLibraryNames("darwin").some((n) => n.includes("Accelerate.framework")));
 * assert.deepEqual(blasLibraryNames("windows"), ["libopenblas.dll", "openblas.dll"]);
 * ```
 */
export function blasLibraryNames(os: string): readonly string[] {
  if (os === "darwin") return DARWIN_NAMES;
  if (os === "windows") return WINDOWS_NAMES;
  return LINUX_NAMES;
}

/** Library names tried in order (after `VATT_BLAS_LIB`) on this system. */
export const BLAS_LIBRARY_NAMES: readonly string[] = blasLibraryNames(
  typeof Deno === "undefined" ? "linux" : Deno.build.os,
);

/**
 * One line for a user whose runs take the slow path (no native BLAS), from
 * {@linkcode blasStatus}'s `status` on the system `os`: what to install, or
 * that FFI is not permitted; `null` when there is nothing to say (the BLAS
 * loaded, or `VATT_BLAS=0` turned it off on purpose).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { blasAdvice } from "./blas.ts";
 * assert.equal(blasAdvice("OpenBLAS (libopenblas.so.0, 1 thread)", "linux"), null);
 * assert.equal(blasAdvice("off (VATT_BLAS=0)", "linux"), null);
 * const linux = blasAdvice("OpenBLAS not found (no library)", "linux")!;
 * assert.match(linux, /apt-get install libopenblas0-pthread/);
 * assert.match(linux, /dnf install openblas/);
 * assert.match(blasAdvice("OpenBLAS not found (x)", "darwin")!, /brew install openblas/);
 * assert.match(blasAdvice("FFI not permitted (run with --allow-ffi)", "linux")!, /--allow-ffi/);
 * ```
 */
export function blasAdvice(status: string, os: string): string | null {
  if (/^(OpenBLAS|Accelerate) \(/.test(status) || status.startsWith("off")) return null;
  const fix = !status.includes("not found")
    ? status
    : os === "darwin"
    ? "Accelerate did not load; brew install openblas"
    : os === "windows"
    ? "put libopenblas.dll on PATH"
    : "Debian/Ubuntu: sudo apt-get install libopenblas0-pthread; Fedora: sudo dnf install openblas";
  return "note: no BLAS library loaded, so matrix products take the slow path " +
    `(the demo takes about twice as long; the run goes on). To speed it up: ${fix} ` +
    "(or set VATT_BLAS_LIB to the library's path)";
}

const CBLAS_ROW_MAJOR = 101;
const CBLAS_NO_TRANS = 111;
const CBLAS_TRANS = 112;

const SYMBOLS = {
  cblas_sgemm: {
    // order, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc
    parameters: [
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "f32",
      "buffer",
      "i32",
      "buffer",
      "i32",
      "f32",
      "buffer",
      "i32",
    ],
    result: "void",
  },
  // OpenBLAS only; Accelerate has none (its products then run as it decides).
  openblas_set_num_threads: { parameters: ["i32"], result: "void", optional: true },
  openblas_get_num_threads: { parameters: [], result: "i32", optional: true },
} as const;

/** One row-major single-precision product `C = alpha·op(A)·op(B) + beta·C`. */
export interface Gemm {
  /** Rows of `op(A)` and `C`. */
  m: number;
  /** Columns of `op(B)` and `C`. */
  n: number;
  /** Columns of `op(A)`, rows of `op(B)`. */
  k: number;
  /** `A` is stored `[k, m]` and used transposed (else stored `[m, k]`). */
  transA?: boolean;
  /** `B` is stored `[n, k]` and used transposed (else stored `[k, n]`). */
  transB?: boolean;
  /** `A` from its first value (rows `lda` apart; contiguous by default). */
  a: Float32Array;
  /** `B` from its first value (rows `ldb` apart). */
  b: Float32Array;
  /** `C` from its first value (rows `ldc` apart), written in place. */
  c: Float32Array;
  /** Row strides of `A`, `B`, `C` as stored (default: their widths, i.e. contiguous). */
  lda?: number;
  /** See `lda`. */
  ldb?: number;
  /** See `lda`. */
  ldc?: number;
  /** Default 1. */
  alpha?: number;
  /** Default 0 (`C` is overwritten; with 1 it is accumulated into). */
  beta?: number;
}

/** A loaded native BLAS. */
export interface NativeBlas {
  /** The library that loaded (a name or a path). */
  library: string;
  /** Runs one product; see {@linkcode Gemm}. */
  gemm(g: Gemm): void;
  /** Threads for products of at least {@linkcode BLAS_PARALLEL_MIN_MACS} (smaller ones use one). */
  threads(): number;
  /** Sets the threads for large products. */
  setThreads(n: number): void;
}

/**
 * Whether the environment turns the native BLAS off (`VATT_BLAS=0`, `off` or `false`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { blasDisabledByEnv } from "./blas.ts";
 * // Read-only: test modules run in parallel and share the process's environment.
 * const v = (Deno.env.get("VATT_BLAS") ?? "").trim().toLowerCase();
 * assert.equal(blasDisabledByEnv(), ["0", "off", "false", "no"].includes(v));
 * ```
 */
export function blasDisabledByEnv(): boolean {
  return switchedOff(SWITCHES.blas);
}

let cached: { blas: NativeBlas | null; reason: string } | undefined;

/**
 * Products with fewer multiply-adds than this (2²⁵ ≈ 3.4·10⁷) run on one
 * thread. Measured on 2 cores (`tasks/_bench_worker.ts`, 5 alternating runs
 * each): with 2²¹ as the limit, `tiny` (products up to 8·10⁶) took 51 ms a
 * step on 2 threads against 39 ms on one, as OpenBLAS's second thread spins
 * after each product on the core the JavaScript thread needs; with 2²⁵ both
 * take 40 ms. `small`'s dense products (10⁸–10⁹) gain: 1.4–1.6 s a step on 2
 * threads against 2.1–2.2 s on one. Where the native kernels load
 * (`native/native.ts`), these products split over their pool instead, each
 * part on one BLAS thread, and OpenBLAS's threads never run (`native/gemm.c`).
 */
export const BLAS_PARALLEL_MIN_MACS = 1 << 25;

/**
 * Threads for large products: `VATT_BLAS_THREADS` when set, else every core
 * (`blasThreadsSetting()` of `switches.ts`). Products below
 * {@linkcode BLAS_PARALLEL_MIN_MACS} always run on one. On a machine whose
 * cores are busy with other work, `VATT_BLAS_THREADS=1` can be faster: a
 * multithreaded product waits for its slowest thread. The thread count of a
 * product depends only on its size and this setting, so two runs (and a run
 * and its resume) with one setting compute the same bits; OpenBLAS splits a
 * product by thread count, so another setting may change the last bits.
 */
function open(names: readonly string[]): { blas: NativeBlas | null; reason: string } {
  if (typeof Deno === "undefined" || typeof Deno.dlopen !== "function") {
    return { blas: null, reason: "no FFI in this runtime" };
  }
  const coreType = coreTypeNote(); // set by the entry point, if at all (blas_core.ts)
  let lastError = "";
  for (const name of names) {
    let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
    try {
      lib = Deno.dlopen(name, SYMBOLS);
    } catch (e) {
      lastError = (e as Error).message;
      if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
        return { blas: null, reason: "FFI not permitted (run with --allow-ffi)" };
      }
      continue;
    }
    const s = lib.symbols;
    let maxThreads = 1;
    // The library's thread count is one per process, and several isolates (Deno's parallel test
    // modules, workers) may share the library: read it back instead of trusting a cached value.
    let current = -1;
    const threadsNow = () => s.openblas_get_num_threads?.() ?? current;
    const blas: NativeBlas = {
      library: name,
      gemm(g) {
        const transA = g.transA ?? false;
        const transB = g.transB ?? false;
        const big = maxThreads > 1 && g.m * g.n * g.k >= BLAS_PARALLEL_MIN_MACS;
        // Where the native kernels load, their pool splits large products, each part on one
        // BLAS thread (lib/backend/native/gemm.c): the BLAS's threads never run.
        const pool = big && s.openblas_set_num_threads ? nativeGemm(name) : null;
        const want = big && !pool ? maxThreads : 1;
        if (want !== threadsNow()) {
          s.openblas_set_num_threads?.(want);
          current = want;
        }
        const args = [
          g.m,
          g.n,
          g.k,
          g.alpha ?? 1,
          g.a,
          g.lda ?? (transA ? g.m : g.k),
          g.b,
          g.ldb ?? (transB ? g.k : g.n),
          g.beta ?? 0,
          g.c,
          g.ldc ?? g.n,
        ] as const;
        if (pool) pool.gemm(transA, transB, ...args);
        else {
          const ta = transA ? CBLAS_TRANS : CBLAS_NO_TRANS;
          s.cblas_sgemm(CBLAS_ROW_MAJOR, ta, transB ? CBLAS_TRANS : CBLAS_NO_TRANS, ...args);
        }
      },
      threads: () => maxThreads,
      setThreads: (n) => {
        maxThreads = Math.max(1, Math.floor(n));
      },
    };
    blas.setThreads(blasThreadsSetting());
    const n = blas.threads();
    const threads = n === 1 ? "1 thread" : `${n} threads on large products`;
    const kind = name.includes("Accelerate") ? "Accelerate" : "OpenBLAS";
    const kernels = coreType && kind === "OpenBLAS" ? `, ${coreType}` : "";
    return { blas, reason: `${kind} (${name}, ${threads}${kernels})` };
  }
  // Deno says "Could not open library: Could not open library: NAME: why"; once is enough.
  const why = lastError.split("\n")[0].replace(/^(Could not open library: )+/, "");
  return { blas: null, reason: `OpenBLAS not found (${why || "no library"})` };
}

/**
 * Loads OpenBLAS once per process and returns it, or `null` when it is absent,
 * not permitted, or switched off with `VATT_BLAS=0`. Never throws.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadBlas } from "./blas.ts";
 * const blas = loadBlas(); // null without OpenBLAS
 * if (blas) {
 *   const c = new Float32Array(1);
 *   blas.gemm({ m: 1, n: 1, k: 2, a: new Float32Array([1, 2]), b: new Float32Array([3, 4]), c });
 *   assert.equal(c[0], 11);
 * }
 * ```
 */
export function loadBlas(): NativeBlas | null {
  if (blasDisabledByEnv()) return null;
  if (!cached) {
    const override = envValue(SWITCHES.blasLib);
    cached = open(override ? [override] : BLAS_LIBRARY_NAMES);
  }
  return cached.blas;
}

/**
 * One line saying whether the native BLAS is in use, and why not.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { blasDisabledByEnv, blasStatus } from "./blas.ts";
 * if (blasDisabledByEnv()) assert.equal(blasStatus(), "off (VATT_BLAS=0)");
 * else assert.match(blasStatus(), /^(OpenBLAS|Accelerate|FFI|no FFI)/);
 * ```
 */
export function blasStatus(): string {
  if (blasDisabledByEnv()) return "off (VATT_BLAS=0)";
  loadBlas();
  return cached!.reason;
}

/**
 * The native BLAS that {@linkcode loadBlas} loaded, for the kernels that are
 * registered only where it did. Throws `Error` when it has not loaded.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadBlas, loadedBlas } from "./blas.ts";
 * if (loadBlas()) assert.equal(loadedBlas(), loadBlas());
 * else assert.throws(() => loadedBlas(), /not loaded/);
 * ```
 */
export function loadedBlas(): NativeBlas {
  if (!cached?.blas) throw new Error("The native BLAS is not loaded");
  return cached.blas;
}
