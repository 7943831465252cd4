/**
 * Finding the system's MPI library: `VATT_MPI_LIB` (a path) when set, else
 * Open MPI's `libmpi.so.40` and MPICH's `libmpich.so.12`, the library of the
 * launcher that started the process first (a rank of Open MPI's `mpirun` must
 * load Open MPI, one of MPICH's `mpiexec` MPICH).
 *
 * @module
 */
import type { LauncherKind } from "./launcher.ts";

/** The environment variable that names the MPI library to load (a path). */
export const MPI_LIB_VARIABLE = "VATT_MPI_LIB";

/** The two MPI ABIs this binding speaks: handles as addresses (Open MPI) or integers (MPICH). */
export type MpiAbi = "openmpi" | "mpich";

/** A library to try: its name or path, and its ABI. */
export interface MpiCandidate {
  path: string;
  abi: MpiAbi;
}

const OPEN_MPI: MpiCandidate[] = [
  { path: "libmpi.so.40", abi: "openmpi" },
  { path: "libmpi.40.dylib", abi: "openmpi" },
];
const MPICH: MpiCandidate[] = [
  { path: "libmpich.so.12", abi: "mpich" },
  { path: "libmpi.12.dylib", abi: "mpich" },
];

/**
 * The ABI of a library path: MPICH when its file name says `mpich` (or is
 * MPICH's `libmpi.so.12`/`libmpi.12.dylib`), else Open MPI.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { abiOfLibrary } from "./library.ts";
 * assert.equal(abiOfLibrary("/usr/lib/x86_64-linux-gnu/libmpich.so.12"), "mpich");
 * assert.equal(abiOfLibrary("/opt/ompi/lib/libmpi.so.40"), "openmpi");
 * assert.equal(abiOfLibrary("/opt/intel/lib/libmpi.so.12"), "mpich");
 * ```
 */
export function abiOfLibrary(path: string): MpiAbi {
  const file = path.split("/").pop() ?? path;
  return /mpich|libmpi\.so\.12|libmpi\.12\./.test(file) ? "mpich" : "openmpi";
}

/**
 * The libraries to try, in order: `env.VATT_MPI_LIB` alone when set (its ABI
 * from its name, or `VATT_MPI_ABI=openmpi|mpich`), else Open MPI then MPICH,
 * MPICH first under MPICH's launcher.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mpiLibraryCandidates } from "./library.ts";
 * assert.equal(mpiLibraryCandidates({}, undefined)[0].path, "libmpi.so.40");
 * assert.equal(mpiLibraryCandidates({}, "mpich")[0].path, "libmpich.so.12");
 * assert.deepEqual(mpiLibraryCandidates({ VATT_MPI_LIB: "/x/libmpich.so" }, "openmpi"), [
 *   { path: "/x/libmpich.so", abi: "mpich" },
 * ]);
 * ```
 */
export function mpiLibraryCandidates(
  env: Record<string, string | undefined>,
  launcher: LauncherKind | undefined,
): MpiCandidate[] {
  const given = env[MPI_LIB_VARIABLE];
  if (given) {
    const abi = env.VATT_MPI_ABI === "mpich" || env.VATT_MPI_ABI === "openmpi"
      ? env.VATT_MPI_ABI
      : abiOfLibrary(given);
    return [{ path: given, abi }];
  }
  return launcher === "mpich" ? [...MPICH, ...OPEN_MPI] : [...OPEN_MPI, ...MPICH];
}

/**
 * No MPI library could be loaded: names what was tried and what to install.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MpiLibraryMissingError } from "./library.ts";
 * const e = new MpiLibraryMissingError(["libmpi.so.40", "libmpich.so.12"]);
 * assert.match(e.message, /apt-get install openmpi-bin libopenmpi3/);
 * assert.match(e.message, /tried libmpi\.so\.40, libmpich\.so\.12/);
 * ```
 */
export class MpiLibraryMissingError extends Error {
  constructor(tried: string[], options: { cause?: unknown } = {}) {
    super(
      `no MPI library could be loaded (tried ${tried.join(", ")}): install Open MPI ` +
        "(`apt-get install openmpi-bin libopenmpi3`) or MPICH (`apt-get install mpich`), " +
        `or set ${MPI_LIB_VARIABLE} to the library's path`,
      options,
    );
    this.name = "MpiLibraryMissingError";
  }
}
