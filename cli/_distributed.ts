/**
 * The `--distributed` option of `vatt pretrain` and `vatt finetune`, and what
 * a command does around a data-parallel run: start MPI when the launcher
 * started several ranks, check every rank resolved the same config, let rank
 * 0 alone touch the run folder, and end the whole job when one rank fails.
 *
 * @module
 */
import { Option } from "@commander-js/extra-typings";
import { checkSameOnAllRanks, fromRankZero } from "../lib/dist/agree.ts";
import {
  DEFAULT_DISTRIBUTED,
  DISTRIBUTED_ENV_VARIABLES,
  DISTRIBUTED_MODES,
  type DistributedMode,
  resolveDistributed,
  stopGraceNote,
} from "../lib/dist/launcher.ts";
import { type Collectives, Mpi, SOLO } from "../lib/dist/mpi.ts";
import { describeError } from "./cli_error.ts";

/**
 * The `--distributed` option; its default is `DEFAULT_DISTRIBUTED` of `lib/dist/launcher.ts`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { distributedOption } from "./_distributed.ts";
 * assert.equal(distributedOption().defaultValue, "auto");
 * ```
 */
export function distributedOption() {
  return new Option(
    "--distributed <mode>",
    "data parallelism over MPI: auto (on when mpirun/mpiexec/srun started 2+ ranks), off, or mpi",
  ).choices(DISTRIBUTED_MODES).default(DEFAULT_DISTRIBUTED);
}

/** A command's view of the ranks: one process, or MPI. */
export interface Ranks {
  collectives: Collectives;
  /** Whether this rank prints progress and writes the run folder (rank 0). */
  leader: boolean;
  /** Throws `RankMismatchError` unless `text` (the resolved config) is the same on every rank. */
  agree: (text: string) => void;
  /** Rank 0's `value` on every rank. */
  fromLeader: <T>(value: T) => T;
  /** Waits for every rank, then ends MPI (after a run that finished or stopped on request). */
  finish: () => void;
  /**
   * A failure on this rank: with MPI, prints its line and aborts the whole job
   * (every rank exits non-zero, none waits forever in a collective); with one
   * process, returns the error for the caller to throw.
   */
  fail: (error: unknown) => unknown;
  /** A line the leader prints before the run (unless quiet): how to make Ctrl-C leave a checkpoint. */
  note?: string;
}

/**
 * The variables of {@linkcode DISTRIBUTED_ENV_VARIABLES} that are set and may
 * be read (one that Deno's `--allow-env` does not grant reads as unset).
 */
function launcherEnvironment(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const name of DISTRIBUTED_ENV_VARIABLES) {
    try {
      env[name] = Deno.env.get(name);
    } catch {
      // not granted: unset for this program
    }
  }
  return env;
}

/**
 * The ranks of this process from `--distributed mode` and the launcher's
 * environment (MPI is initialised here when the run is distributed).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startRanks } from "./_distributed.ts";
 * const ranks = startRanks("off");
 * assert.equal(ranks.collectives.size, 1);
 * assert.equal(ranks.leader, true);
 * assert.equal(ranks.fromLeader("run/checkpoints/step-0000002"), "run/checkpoints/step-0000002");
 * ```
 */
export function startRanks(mode: DistributedMode): Ranks {
  const env = launcherEnvironment();
  const plan = resolveDistributed(mode, env);
  if (plan.kind === "off") {
    return {
      collectives: SOLO,
      leader: true,
      agree: () => {},
      fromLeader: (v) => v,
      finish: () => {},
      fail: (e) => e,
    };
  }
  const mpi = Mpi.init({ env, launcher: plan.launcher });
  return {
    collectives: mpi,
    leader: mpi.rank === 0,
    note: mpi.rank === 0 ? stopGraceNote(plan, env) : undefined,
    agree: (text) => checkSameOnAllRanks(mpi, text, "the resolved config (flags, data, model)"),
    fromLeader: (v) => fromRankZero(mpi, v),
    finish: () => {
      mpi.barrier();
      mpi.finalize();
    },
    fail: (error) => {
      const { message, exitCode } = describeError(error);
      console.error(`vatt: ${mpi.size > 1 ? `rank ${mpi.rank}: ` : ""}${message}`);
      mpi.abort(exitCode);
      return error;
    },
  };
}

/**
 * Refuses a data-parallel run that cannot be one: a global batch that does not
 * split evenly, or a backend that cannot read tensors back synchronously.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SOLO } from "../lib/dist/mpi.ts";
 * import { checkDistributable, type Ranks } from "./_distributed.ts";
 * const two = { collectives: { ...SOLO, size: 2 } } as Ranks;
 * assert.throws(() => checkDistributable(two, { batchSize: 7, backend: "cpu" }), /multiple of 2/);
 * assert.throws(() => checkDistributable(two, { batchSize: 8, backend: "webgpu" }), /cpu and wasm/);
 * assert.doesNotThrow(() => checkDistributable(two, { batchSize: 8, backend: "wasm" }));
 * assert.throws(() => checkDistributable(two, { batchSize: 8, backend: "cpu", mixup: 0.2 }), /mixup/);
 * assert.throws(() => checkDistributable(two, { batchSize: 8, backend: "cpu", accumulate: 2 }), /one process/);
 * ```
 */
export function checkDistributable(
  ranks: Ranks,
  run: { batchSize: number; backend: string; mixup?: number; accumulate?: number },
): void {
  const size = ranks.collectives.size;
  if (size === 1) return;
  if (run.batchSize % size !== 0) {
    throw new RangeError(
      `--batch ${run.batchSize} does not split over ${size} ranks; give a multiple of ${size}`,
    );
  }
  if (run.backend !== "cpu" && run.backend !== "wasm") {
    throw new RangeError(`--distributed runs on the cpu and wasm backends, not ${run.backend}`);
  }
  if ((run.mixup ?? 0) > 0) throw new RangeError("--mixup is not available with --distributed yet");
  if ((run.accumulate ?? 1) > 1) {
    throw new RangeError(
      "--accumulate is for one process: with --distributed each rank already takes its share of --batch",
    );
  }
}
