/**
 * The MPI launchers installed on this machine, for the distributed tests:
 * Open MPI's `mpirun` and MPICH's `mpiexec`, each with the arguments that
 * start `n` ranks of a Deno script (as root too, more ranks than cores).
 * A test with none to run skips with a visible reason.
 *
 * @module
 */

/** One installed MPI: its name and how to start ranks with it. */
export interface MpiLauncher {
  name: "openmpi" | "mpich";
  /** The launcher's argv for `n` ranks, before the program. */
  argv: (n: number) => string[];
}

/** Whether `cmd` runs (`--version` exits 0). */
function runs(cmd: string): boolean {
  try {
    return new Deno.Command(cmd, { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** The launchers installed: Open MPI's first. */
export function mpiLaunchers(): MpiLauncher[] {
  const out: MpiLauncher[] = [];
  if (runs("mpirun.openmpi")) {
    out.push({
      name: "openmpi",
      argv: (n) => ["mpirun.openmpi", "--allow-run-as-root", "--oversubscribe", "-np", `${n}`],
    });
  }
  if (runs("mpiexec.mpich")) {
    out.push({ name: "mpich", argv: (n) => ["mpiexec.mpich", "-np", `${n}`] });
  }
  // Elsewhere (no Debian alternatives): a plain `mpirun`, Open MPI's or MPICH's (Hydra).
  if (out.length === 0 && runs("mpirun")) {
    const version = new TextDecoder().decode(
      new Deno.Command("mpirun", { args: ["--version"], stdout: "piped", stderr: "piped" })
        .outputSync().stdout,
    );
    const openMpi = /Open MPI|OpenRTE/.test(version);
    out.push({
      name: openMpi ? "openmpi" : "mpich",
      argv: (n) =>
        openMpi
          ? ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", `${n}`]
          : ["mpirun", "-np", `${n}`],
    });
  }
  return out;
}

/** The reason printed when a distributed test is skipped, or `undefined` when MPI is here. */
export function mpiMissingReason(): string | undefined {
  if (mpiLaunchers().length > 0) return undefined;
  const reason = "skipped: no MPI launcher (mpirun.openmpi, mpiexec.mpich, mpirun); " +
    "install with `apt-get install openmpi-bin libopenmpi3`";
  console.warn(reason);
  return reason;
}

/** Runs `args` under `launcher` with `n` ranks; resolves to the exit code and the output. */
export async function runRanks(
  launcher: MpiLauncher,
  n: number,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const [cmd, ...rest] = launcher.argv(n);
  const out = await new Deno.Command(cmd, {
    args: [...rest, ...args],
    env: options.env,
    cwd: options.cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}
