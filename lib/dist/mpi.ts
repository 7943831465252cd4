/**
 * The system's MPI library through Deno's FFI: init, rank and size, and the
 * collectives data parallelism needs (allreduce-sum, allgather, broadcast,
 * barrier) on typed arrays, then finalize or abort. Both ABIs are spoken:
 * Open MPI's handles are the addresses of its predefined objects
 * (`ompi_mpi_comm_world`, `ompi_mpi_float`, `ompi_mpi_op_sum`, found with
 * `dlsym`), MPICH's are integers from its `mpi.h`.
 *
 * Open MPI loads its own plugins with `dlopen` and needs `libmpi` in the
 * global symbol namespace; `Deno.dlopen` loads libraries `RTLD_LOCAL`, so the
 * library is first opened through libc's `dlopen(path, RTLD_NOW | RTLD_GLOBAL)`.
 *
 * Every call blocks the JavaScript thread until the collective completes (the
 * calls are synchronous FFI), which is what a training step needs. The
 * default error handler stays `MPI_ERRORS_ARE_FATAL`: a failed call ends the job.
 *
 * @module
 */
import type { LauncherKind } from "./launcher.ts";
import {
  type MpiAbi,
  type MpiCandidate,
  mpiLibraryCandidates,
  MpiLibraryMissingError,
} from "./library.ts";

/** Typed arrays the collectives move. */
export type MpiArray = Float32Array | Float64Array | Int32Array | Uint8Array | Uint32Array;

/**
 * The collectives a data-parallel run uses; {@linkcode SOLO} is the one-rank
 * version, {@linkcode Mpi} the MPI one.
 */
export interface Collectives {
  /** This process's rank, 0-based. */
  readonly rank: number;
  /** Ranks in the job. */
  readonly size: number;
  /**
   * The element-wise sum over ranks (every rank gets the same), in `out` when
   * given (same type and length as `x`; reused buffers spare page faults), else in a new array.
   * `out` may be `x` itself (or a view of the same memory): the sum then replaces `x`
   * (`MPI_IN_PLACE`, no second buffer).
   */
  allreduceSum<T extends Float32Array | Float64Array>(x: T, out?: T): T;
  /** Every rank's `x` (all the same length), concatenated in rank order. */
  allgather<T extends MpiArray>(x: T): T;
  /** `x` of rank `root` on every rank (in place; returns `x`). */
  broadcast(x: Uint8Array, root: number): Uint8Array;
  /** Waits for every rank. */
  barrier(): void;
}

/**
 * One process: the collectives are identities.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SOLO } from "./mpi.ts";
 * assert.deepEqual(SOLO.allreduceSum(new Float32Array([1, 2])), new Float32Array([1, 2]));
 * assert.equal(SOLO.size, 1);
 * ```
 */
export const SOLO: Collectives = {
  rank: 0,
  size: 1,
  allreduceSum: (x, out) => {
    if (!out) return x.slice() as typeof x;
    out.set(x);
    return out;
  },
  allgather: (x) => x.slice() as typeof x,
  broadcast: (x) => x,
  barrier: () => {},
};

type Handle = number | bigint;
type Fn = (...args: unknown[]) => number;

/** The symbols of libmpi used here, typed for handles of `handle` (`usize` or `i32`). */
function symbolsOf(handle: "usize" | "i32") {
  return {
    MPI_Init: { parameters: ["pointer", "pointer"], result: "i32" },
    MPI_Initialized: { parameters: ["buffer"], result: "i32" },
    MPI_Finalize: { parameters: [], result: "i32" },
    MPI_Abort: { parameters: [handle, "i32"], result: "i32" },
    MPI_Comm_size: { parameters: [handle, "buffer"], result: "i32" },
    MPI_Comm_rank: { parameters: [handle, "buffer"], result: "i32" },
    MPI_Barrier: { parameters: [handle], result: "i32" },
    MPI_Allreduce: {
      parameters: ["buffer", "buffer", "i32", handle, handle, handle],
      result: "i32",
    },
    // The same function, its send buffer given as a pointer: MPI_IN_PLACE.
    MPI_Allreduce_in_place: {
      name: "MPI_Allreduce",
      parameters: ["pointer", "buffer", "i32", handle, handle, handle],
      result: "i32",
    },
    MPI_Allgather: {
      parameters: ["buffer", "i32", handle, "buffer", "i32", handle, handle],
      result: "i32",
    },
    MPI_Bcast: { parameters: ["buffer", "i32", handle, "i32", handle], result: "i32" },
  } as const;
}

/** The predefined handles used: the world communicator, three datatypes, the sum. */
interface Handles {
  world: Handle;
  float: Handle;
  double: Handle;
  byte: Handle;
  sum: Handle;
}

/** MPICH's handles (`mpich/mpi.h`). */
const MPICH_HANDLES: Handles = {
  world: 0x44000000,
  float: 0x4c00040a,
  double: 0x4c00080b,
  byte: 0x4c00010d,
  sum: 0x58000003,
};

/** Open MPI's predefined objects whose addresses are its handles. */
const OPEN_MPI_OBJECTS: Record<keyof Handles, string> = {
  world: "ompi_mpi_comm_world",
  float: "ompi_mpi_float",
  double: "ompi_mpi_double",
  byte: "ompi_mpi_byte",
  sum: "ompi_mpi_op_sum",
};

const RTLD_NOW = 2;
const RTLD_GLOBAL = 0x100;

/** `s` as a NUL-terminated C string. */
function cString(s: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(`${s}\0`);
}

/**
 * Opens `path` globally through libc (so Open MPI's plugins find its symbols)
 * and returns a lookup of data symbols' addresses; throws when it cannot.
 */
function openGlobal(path: string): (name: string) => Handle {
  const libc = Deno.dlopen(
    "libc.so.6",
    {
      dlopen: { parameters: ["buffer", "i32"], result: "pointer" },
      dlsym: { parameters: ["pointer", "buffer"], result: "pointer" },
      dlerror: { parameters: [], result: "pointer" },
    } as const,
  );
  const handle = libc.symbols.dlopen(cString(path), RTLD_NOW | RTLD_GLOBAL);
  if (handle === null) {
    const err = libc.symbols.dlerror();
    const why = err ? Deno.UnsafePointerView.getCString(err) : "dlopen failed";
    libc.close();
    throw new Error(why);
  }
  return (name) => {
    const p = libc.symbols.dlsym(handle, cString(name));
    if (p === null) throw new Error(`${path} has no symbol ${name}`);
    return Deno.UnsafePointer.value(p);
  };
}

/** The first candidate that loads: its functions, handles and path. */
function loadLibrary(candidates: MpiCandidate[]) {
  const failures: string[] = [];
  for (const c of candidates) {
    try {
      const lookup = openGlobal(c.path);
      const lib = Deno.dlopen(c.path, symbolsOf(c.abi === "openmpi" ? "usize" : "i32"));
      const handles = c.abi === "mpich" ? MPICH_HANDLES : Object.fromEntries(
        Object.entries(OPEN_MPI_OBJECTS).map(([k, name]) => [k, lookup(name)]),
      ) as unknown as Handles;
      return {
        fns: lib.symbols as unknown as Record<string, Fn>,
        handles,
        path: c.path,
        abi: c.abi,
      };
    } catch (e) {
      failures.push(`${c.path}: ${e instanceof Error ? e.message : e}`);
    }
  }
  throw new MpiLibraryMissingError(candidates.map((c) => c.path), { cause: failures.join("; ") });
}

/** The bytes of a typed array, as a view on the same memory. */
function bytesOf(x: MpiArray): Uint8Array {
  return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
}

/** Options of {@linkcode Mpi.init}. */
export interface MpiInitOptions {
  /** The environment (`VATT_MPI_LIB`, the launcher's variables). */
  env: Record<string, string | undefined>;
  /** The launcher that started the process: its MPI is tried first. */
  launcher?: LauncherKind;
}

let opened: Mpi | undefined;

/**
 * The MPI library of this process, initialised once (`MPI_Init`); the
 * collectives of {@linkcode Collectives} over `MPI_COMM_WORLD`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Mpi } from "./mpi.ts";
 * // No MPI library under this name: one error that says what to install.
 * assert.throws(
 *   () => Mpi.init({ env: { VATT_MPI_LIB: "/nonexistent/libmpi.so.40" } }),
 *   /apt-get install openmpi-bin libopenmpi3/,
 * );
 * ```
 */
export class Mpi implements Collectives {
  readonly rank: number;
  readonly size: number;
  /** The library loaded. */
  readonly library: string;
  readonly abi: MpiAbi;
  #fns: Record<string, Fn>;
  #h: Handles;
  #finalized = false;

  private constructor(loaded: ReturnType<typeof loadLibrary>) {
    this.#fns = loaded.fns;
    this.#h = loaded.handles;
    this.library = loaded.path;
    this.abi = loaded.abi;
    const flag = new Int32Array(1);
    this.#call("MPI_Initialized", flag);
    if (flag[0] === 0) this.#call("MPI_Init", null, null);
    this.#call("MPI_Comm_size", this.#h.world, flag);
    this.size = flag[0];
    this.#call("MPI_Comm_rank", this.#h.world, flag);
    this.rank = flag[0];
  }

  /** Loads the library (see `library.ts`) and initialises MPI; the same instance on later calls. */
  static init(options: MpiInitOptions): Mpi {
    if (opened && !opened.#finalized) return opened;
    opened = new Mpi(loadLibrary(mpiLibraryCandidates(options.env, options.launcher)));
    return opened;
  }

  #call(name: string, ...args: unknown[]): void {
    if (this.#finalized) throw new Error(`${name} after MPI_Finalize`);
    const rc = this.#fns[name](...args);
    if (rc !== 0) throw new Error(`${name} failed with MPI error ${rc}`);
  }

  allreduceSum<T extends Float32Array | Float64Array>(x: T, into?: T): T {
    if (into && (into.length !== x.length || into.constructor !== x.constructor)) {
      throw new RangeError(`allreduceSum(): out has ${into.length} values for ${x.length}`);
    }
    const type = x instanceof Float64Array ? this.#h.double : this.#h.float;
    // `into` over the same memory as `x` (the same array, or another view of it): in place.
    if (into && into.buffer === x.buffer && into.byteOffset === x.byteOffset) {
      const inPlace = Deno.UnsafePointer.create(this.abi === "mpich" ? 0xffff_ffff_ffff_ffffn : 1n);
      this.#call("MPI_Allreduce_in_place", inPlace, x, x.length, type, this.#h.sum, this.#h.world);
      return x;
    }
    const out = into ?? new (x.constructor as { new (n: number): T })(x.length);
    this.#call("MPI_Allreduce", x, out, x.length, type, this.#h.sum, this.#h.world);
    return out;
  }

  allgather<T extends MpiArray>(x: T): T {
    const out = new (x.constructor as { new (n: number): T })(x.length * this.size);
    const n = x.byteLength;
    this.#call(
      "MPI_Allgather",
      bytesOf(x),
      n,
      this.#h.byte,
      bytesOf(out),
      n,
      this.#h.byte,
      this.#h.world,
    );
    return out;
  }

  broadcast(x: Uint8Array, root: number): Uint8Array {
    this.#call("MPI_Bcast", x, x.length, this.#h.byte, root, this.#h.world);
    return x;
  }

  barrier(): void {
    this.#call("MPI_Barrier", this.#h.world);
  }

  /** Ends MPI in this process (`MPI_Finalize`); the collectives throw after it. */
  finalize(): void {
    if (this.#finalized) return;
    this.#call("MPI_Finalize");
    this.#finalized = true;
  }

  /** Ends every rank of the job with exit status `code` (`MPI_Abort`); does not return normally. */
  abort(code: number): void {
    this.#fns.MPI_Abort(this.#h.world, code);
  }
}
