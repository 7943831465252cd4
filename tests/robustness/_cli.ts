/**
 * Running the real `vatt` command as a subprocess
 * (`deno run <flags> cli/main.ts …`), whole or killed part-way.
 *
 * @module
 */
import * as path from "node:path";
import { REPO } from "./_seeds.ts";

/** The CLI entry point. */
export const MAIN = path.join(REPO, "cli", "main.ts");

/** How a run ended. */
export interface CliRun {
  /** Exit code (`undefined` when killed by a signal). */
  code: number | undefined;
  /** The signal that ended it, if any. */
  signal: Deno.Signal | null;
  /** Whether this harness killed it. */
  killed: boolean;
  stdout: string;
  stderr: string;
  /** Wall time in milliseconds. */
  ms: number;
}

/** Options of {@linkcode runVatt}. */
export interface RunVattOptions {
  /** Deno permission flags (default `-A`). */
  flags?: string[];
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Kill with SIGKILL after this many milliseconds (if still running). */
  killAfterMs?: number;
  /** Run through this program instead (its arguments come first, then deno's). */
  wrapper?: string[];
}

/**
 * Runs `vatt ARGS` and collects its output; with `killAfterMs` the process is
 * killed with SIGKILL at that moment unless it ended before.
 *
 * @example
 * ```ts
 * import { runVatt } from "./_cli.ts";
 * const r = await runVatt(["--version"]);
 * console.assert(r.code === 0);
 * ```
 */
export async function runVatt(args: string[], options: RunVattOptions = {}): Promise<CliRun> {
  const denoArgs = ["run", ...(options.flags ?? ["-A"]), MAIN, ...args];
  const [program, ...pre] = options.wrapper ?? [Deno.execPath()];
  const child = new Deno.Command(program, {
    args: options.wrapper ? [...pre, Deno.execPath(), ...denoArgs] : denoArgs,
    cwd: REPO,
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const t0 = performance.now();
  let killed = false;
  let exited = false;
  const timer = options.killAfterMs === undefined ? undefined : setTimeout(() => {
    if (exited) return;
    try {
      child.kill("SIGKILL");
      killed = true;
    } catch {
      // it ended on its own just now
    }
  }, options.killAfterMs);
  const [stdout, stderr, status] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.status.then((s) => {
      exited = true;
      return s;
    }),
  ]);
  clearTimeout(timer);
  const ms = performance.now() - t0;
  const bySignal = status.signal !== null;
  return {
    code: bySignal ? undefined : status.code,
    signal: status.signal,
    killed: killed && status.signal === "SIGKILL",
    stdout,
    stderr,
    ms,
  };
}

/** The last non-empty line of a text. */
export function lastLine(text: string): string {
  return text.trim().split("\n").filter((l) => l.trim()).pop() ?? "";
}
