/**
 * Ctrl-C during a training run: the first asks the run to stop at the next
 * step (it writes a checkpoint), the second exits at once.
 *
 * @module
 */
import { CliError } from "./cli_error.ts";

/** A SIGINT listener a run polls through `stopRequested`. */
export interface StopSignal {
  /** Whether Ctrl-C has been pressed once. */
  stopRequested(): boolean;
  /** Removes the listener. */
  dispose(): void;
}

/**
 * Listens for Ctrl-C until `dispose()`; `signals` adds others (an MPI rank
 * also takes the SIGTERM that `mpirun` sends when it is interrupted). With
 * `whileParent`, a stop is also requested once the parent process (an MPI
 * rank's launcher: `mpirun`, `orted`, Hydra's proxy) is gone, as after a second
 * Ctrl-C on Open MPI's `mpirun`, which then exits without ending the ranks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listenForStop } from "./_interrupt.ts";
 * const stop = listenForStop(["SIGINT"], { whileParent: true });
 * assert.equal(stop.stopRequested(), false); // the parent is still here
 * stop.dispose();
 * ```
 */
export function listenForStop(
  signals: Deno.Signal[] = ["SIGINT"],
  options: { whileParent?: boolean } = {},
): StopSignal {
  const parent = options.whileParent ? Deno.ppid : undefined;
  let stop = false;
  const onSignal = () => {
    if (stop) Deno.exit(130); // a second Ctrl-C does not wait
    stop = true;
  };
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  return {
    stopRequested: () => stop || (parent !== undefined && Deno.ppid !== parent),
    dispose: () => signals.forEach((s) => Deno.removeSignalListener(s, onSignal)),
  };
}

/**
 * {@linkcode listenForStop} for a run of `ranks` processes: an MPI rank also
 * takes SIGTERM (what `mpirun` sends when interrupted, and Slurm at a time
 * limit) and stops when its launcher is gone.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listenForRunStop } from "./_interrupt.ts";
 * const stop = listenForRunStop(2);
 * assert.equal(stop.stopRequested(), false);
 * stop.dispose();
 * ```
 */
export function listenForRunStop(ranks: number): StopSignal {
  return ranks > 1 ? listenForStop(["SIGINT", "SIGTERM"], { whileParent: true }) : listenForStop();
}

/**
 * The error (exit 130) of a run that stopped on Ctrl-C; `undefined` for a
 * run that finished.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { interruptedError } from "./_interrupt.ts";
 * const e = interruptedError({ stopped: true, step: 7, checkpoint: "run/checkpoints/step-0000007" });
 * assert.equal(e?.exitCode, 130);
 * assert.match(e!.message, /interrupted at step 7; .*continue with --resume/);
 * assert.equal(interruptedError({ stopped: false, step: 9, checkpoint: "c" }), undefined);
 * ```
 */
export function interruptedError(
  result: { stopped: boolean; step: number; checkpoint: string },
): CliError | undefined {
  if (!result.stopped) return undefined;
  return new CliError(
    `interrupted at step ${result.step}; checkpoint ${result.checkpoint}; continue with --resume`,
    130,
  );
}
