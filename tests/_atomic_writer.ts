/**
 * A process that starts an atomic write of `Deno.args[0]`, prints the
 * temporary file's path, and keeps writing it until its stdin closes (then
 * commits) or it is killed. Used by the stale-temporary tests as "a live
 * writer" of another process.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { AtomicFile } from "../lib/io/atomic.ts";

/** Starts a writer of `path`; resolves with the process and its temporary file. */
export async function startAtomicWriter(
  path: string,
): Promise<{ child: Deno.ChildProcess; tempPath: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", fileURLToPath(import.meta.url), path],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`writer exited: ${text}`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  await child.stdout.cancel();
  return { child, tempPath: text.trim() };
}

if (import.meta.main) {
  const out = await AtomicFile.create(Deno.args[0]);
  await out.write(new TextEncoder().encode("partial"));
  console.log(out.tempPath);
  for await (const _ of Deno.stdin.readable) {
    // wait for stdin to close
  }
  await out.commit();
}
