/**
 * A process that takes the run-folder lock of `Deno.args[0]`, prints `locked`,
 * and holds it until its stdin closes (then releases it), or until it is
 * killed. Used by the lock tests as "a live run".
 *
 * @module
 */
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { acquireRunLock } from "../lib/run/lock.ts";

/** Starts a holder of `dir`'s lock (or its lock file `name`); resolves once it holds it. */
export async function startLockHolder(dir: string, name?: string): Promise<Deno.ChildProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", fileURLToPath(import.meta.url), dir, ...(name ? [name] : [])],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("locked\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`lock holder exited: ${text}`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  await child.stdout.cancel();
  return child;
}

/** Ends a holder: `kill` SIGKILLs it (no release, as a crash), else its stdin is closed. */
export async function stopLockHolder(child: Deno.ChildProcess, kill = false): Promise<void> {
  if (kill) child.kill("SIGKILL");
  await child.stdin.close().catch(() => {});
  await child.status;
}

if (import.meta.main) {
  const lock = acquireRunLock(path.resolve(Deno.args[0]), { name: Deno.args[1] });
  console.log("locked");
  const buf = new Uint8Array(1);
  while ((await Deno.stdin.read(buf)) !== null) {
    // hold until stdin closes
  }
  lock.release();
}
