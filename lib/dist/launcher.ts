/**
 * Which launcher started this process, and with how many ranks: `mpirun` of
 * Open MPI, `mpiexec` of MPICH (Hydra), a PMIx launcher, or Slurm's `srun`,
 * read from the environment each of them sets. `--distributed auto` turns
 * data parallelism on when a launcher started more than one rank.
 *
 * @module
 */

/** The choices of `--distributed`. */
export const DISTRIBUTED_MODES = ["auto", "off", "mpi"] as const;

/** A choice of `--distributed`. */
export type DistributedMode = (typeof DISTRIBUTED_MODES)[number];

/** `--distributed auto`: on when a launcher started more than one rank. */
export const DEFAULT_DISTRIBUTED: DistributedMode = "auto";

/** Which launcher family set the environment (picks the MPI library to load first). */
export type LauncherKind = "openmpi" | "mpich" | "pmix" | "slurm";

/** What the launcher's environment says about this process. */
export interface LauncherInfo {
  launcher: LauncherKind;
  /** Ranks in the job. */
  size: number;
  /** This process's rank, 0-based. */
  rank: number;
}

/** The environment variables read, per launcher: [kind, size variable, rank variable]. */
const LAUNCHER_VARIABLES: [LauncherKind, string, string][] = [
  ["openmpi", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK"],
  ["mpich", "PMI_SIZE", "PMI_RANK"],
  ["pmix", "PMIX_SIZE", "PMIX_RANK"],
  ["slurm", "SLURM_NTASKS", "SLURM_PROCID"],
];

/**
 * Every environment variable the distributed mode reads: the launchers' size
 * and rank variables, `VATT_MPI_LIB` and `VATT_MPI_ABI`. A program reads just
 * these (never the whole environment), so it runs under `--allow-env` narrowed
 * to its own variables.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DISTRIBUTED_ENV_VARIABLES } from "./launcher.ts";
 * assert.ok(DISTRIBUTED_ENV_VARIABLES.includes("OMPI_COMM_WORLD_SIZE"));
 * assert.ok(DISTRIBUTED_ENV_VARIABLES.includes("VATT_MPI_LIB"));
 * ```
 */
export const DISTRIBUTED_ENV_VARIABLES: readonly string[] = [
  ...LAUNCHER_VARIABLES.flatMap(([, size, rank]) => [size, rank]),
  "VATT_MPI_LIB",
  "VATT_MPI_ABI",
  "OMPI_MCA_odls_base_sigkill_timeout",
];

/** A whole number ≥ 0 from an environment value, else `undefined`. */
function count(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

/**
 * The launcher of this process from `env` (the first family whose size and
 * rank variables are both set and sane), or `undefined` when none is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { detectLauncher } from "./launcher.ts";
 * assert.deepEqual(
 *   detectLauncher({ OMPI_COMM_WORLD_SIZE: "4", OMPI_COMM_WORLD_RANK: "2" }),
 *   { launcher: "openmpi", size: 4, rank: 2 },
 * );
 * assert.deepEqual(detectLauncher({ PMI_SIZE: "2", PMI_RANK: "0" }), {
 *   launcher: "mpich", size: 2, rank: 0,
 * });
 * assert.equal(detectLauncher({ SLURM_NTASKS: "2", SLURM_PROCID: "5" }), undefined); // rank ≥ size
 * assert.equal(detectLauncher({}), undefined);
 * ```
 */
export function detectLauncher(env: Record<string, string | undefined>): LauncherInfo | undefined {
  for (const [launcher, sizeVar, rankVar] of LAUNCHER_VARIABLES) {
    const size = count(env[sizeVar]);
    const rank = count(env[rankVar]);
    if (size !== undefined && rank !== undefined && size >= 1 && rank < size) {
      return { launcher, size, rank };
    }
  }
  return undefined;
}

/** What `--distributed` resolves to: one process, or MPI ranks. */
export type DistributedPlan = { kind: "off" } | ({ kind: "mpi" } & LauncherInfo);

/**
 * Resolves `--distributed mode` against the launcher's environment `env`:
 * `off` is one process; `auto` is MPI when a launcher started more than one
 * rank, else one process; `mpi` requires a launcher (a RangeError otherwise,
 * naming the command to start one).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveDistributed } from "./launcher.ts";
 * const two = { OMPI_COMM_WORLD_SIZE: "2", OMPI_COMM_WORLD_RANK: "1" };
 * assert.deepEqual(resolveDistributed("auto", two), { kind: "mpi", launcher: "openmpi", size: 2, rank: 1 });
 * assert.deepEqual(resolveDistributed("off", two), { kind: "off" });
 * assert.deepEqual(resolveDistributed("auto", { PMI_SIZE: "1", PMI_RANK: "0" }), { kind: "off" });
 * assert.throws(() => resolveDistributed("mpi", {}), /not started by an MPI launcher/);
 * ```
 */
export function resolveDistributed(
  mode: DistributedMode,
  env: Record<string, string | undefined>,
): DistributedPlan {
  if (!(DISTRIBUTED_MODES as readonly string[]).includes(mode)) {
    throw new RangeError(`--distributed ${mode}: expected one of ${DISTRIBUTED_MODES.join(", ")}`);
  }
  if (mode === "off") return { kind: "off" };
  const found = detectLauncher(env);
  if (mode === "mpi" && !found) {
    throw new RangeError(
      "--distributed mpi: this process was not started by an MPI launcher " +
        "(start it with `mpirun -np N vatt …` or `srun --mpi=pmix …`)",
    );
  }
  if (!found || (mode === "auto" && found.size < 2)) return { kind: "off" };
  return { kind: "mpi", ...found };
}

/**
 * Open MPI's `mpirun` parameter that the ranks see as an `OMPI_MCA_` variable:
 * on Ctrl-C, `mpirun` sends the ranks SIGCONT at once, SIGTERM this many
 * seconds later and SIGKILL as many seconds after that (default 1).
 */
export const OPEN_MPI_STOP_GRACE_PARAMETER = "odls_base_sigkill_timeout";

/** The seconds of {@linkcode OPEN_MPI_STOP_GRACE_PARAMETER} the note suggests, and the least it accepts. */
export const SUGGESTED_STOP_GRACE_S = 10;
const LEAST_STOP_GRACE_S = 10;

/**
 * A line for rank 0 when Ctrl-C on the launcher may kill the ranks before
 * they can stop at a step's end and write a checkpoint: Open MPI's `mpirun`
 * leaves them 1 s between SIGTERM and SIGKILL unless started with `--mca
 * odls_base_sigkill_timeout` of at least 10 s (the SIGTERM then comes as
 * late: the ranks stop that many seconds after Ctrl-C). MPICH's `mpiexec` passes
 * SIGINT on and waits for the ranks, so it needs nothing: no note.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveDistributed, stopGraceNote } from "./launcher.ts";
 * const env = { OMPI_COMM_WORLD_SIZE: "2", OMPI_COMM_WORLD_RANK: "0" };
 * assert.match(stopGraceNote(resolveDistributed("auto", env), env)!, /--mca odls_base_sigkill_timeout 10/);
 * const patient = { ...env, OMPI_MCA_odls_base_sigkill_timeout: "60" };
 * assert.equal(stopGraceNote(resolveDistributed("auto", patient), patient), undefined);
 * const mpich = { PMI_SIZE: "2", PMI_RANK: "0" };
 * assert.equal(stopGraceNote(resolveDistributed("auto", mpich), mpich), undefined);
 * ```
 */
export function stopGraceNote(
  plan: DistributedPlan,
  env: Record<string, string | undefined>,
): string | undefined {
  if (plan.kind !== "mpi" || plan.launcher !== "openmpi") return undefined;
  const grace = count(env[`OMPI_MCA_${OPEN_MPI_STOP_GRACE_PARAMETER}`]) ?? 1;
  if (grace >= LEAST_STOP_GRACE_S) return undefined;
  return `note: on Ctrl-C, Open MPI's mpirun kills the ranks ${grace} s after asking them to stop, ` +
    "often too soon to end the step and write a checkpoint; start it with " +
    `\`mpirun --mca ${OPEN_MPI_STOP_GRACE_PARAMETER} ${SUGGESTED_STOP_GRACE_S} …\` ` +
    "to stop at a step's end with one";
}
