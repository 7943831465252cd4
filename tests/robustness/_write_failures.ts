/**
 * Write failures in the middle of a run: the disk fills up, or write
 * permission on the output is lost. The run must stop with a clear one-line
 * message, every checkpoint (or shard) written before must stay intact and
 * loadable, and once the cause is gone, `--resume` (or the same tokenize
 * command) must finish with the same result as a run that never failed.
 *
 * - Disk full: the output folder is a small tmpfs mounted in a private user
 *   and mount namespace (`unshare -Urm`, no privileges needed where user
 *   namespaces are enabled), so writes fail with ENOSPC once it is full.
 *   Where that is unavailable, the file size limit (`ulimit -f`, with SIGXFSZ
 *   ignored) makes large writes fail with EFBIG instead.
 * - Permission lost: the run continues under `--deny-write=<the checkpoints
 *   folder>` (or a shard's path), so Deno refuses the write (running as root,
 *   `chmod` would not stop anything).
 *
 * @module
 */
import * as path from "node:path";
import { readSafetensors } from "../../lib/io/safetensors.ts";
import { sha256File } from "../../lib/io/sha256.ts";
import { readTrainState } from "../../lib/run/checkpoint.ts";
import { type CliRun, lastLine, MAIN, runVatt } from "./_cli.ts";
import {
  CHECKPOINT_FILES,
  metricKey,
  pretrainArgs,
  type References,
  tokenizeArgs,
} from "./_references.ts";
import { REPO, robustnessSeeds } from "./_seeds.ts";

/** What one scenario saw. */
export interface WriteFailureReport {
  /** Scenario name. */
  name: string;
  /** How the failure was made. */
  method: string;
  /** The last line the failing run printed. */
  message: string;
  /** Checkpoints or shards that were there after the failure (all intact). */
  kept: number;
  /** Everything wrong; empty when the scenario passes. */
  problems: string[];
}

/** Options of the disk-full scenarios. */
export interface DiskFullOptions {
  /** A real full disk (tmpfs in a private namespace) or a file size limit; default: tmpfs when possible. */
  method?: "tmpfs" | "ulimit";
}

/** Whether `unshare -Urm` can mount a tmpfs here. */
export async function canUnshare(): Promise<boolean> {
  try {
    const out = await new Deno.Command("unshare", {
      args: [
        "-Urm",
        "sh",
        "-c",
        "d=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs $d && umount $d && rmdir $d",
      ],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

function quote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * Runs `vatt ARGS` with its output folder `out` on a tmpfs of `bytes` bytes
 * (in a private mount namespace); the folder is copied to `copyTo` after the
 * run, since the tmpfs vanishes with the namespace.
 */
async function runOnSmallDisk(
  args: string[],
  out: string,
  copyTo: string,
  bytes: number,
): Promise<CliRun> {
  await Deno.mkdir(out, { recursive: true });
  const deno = [Deno.execPath(), "run", "-A", MAIN, ...args].map(quote).join(" ");
  const script = [
    `mount -t tmpfs -o size=${bytes} tmpfs ${quote(out)} || exit 90`,
    `cd ${quote(REPO)}`,
    `${deno}`,
    "code=$?",
    `cp -a ${quote(out)} ${quote(copyTo)}`,
    "exit $code",
  ].join("\n");
  const t0 = performance.now();
  const r = await new Deno.Command("unshare", {
    args: ["-Urm", "sh", "-c", script],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  return {
    code: r.code,
    signal: r.signal,
    killed: false,
    stdout: new TextDecoder().decode(r.stdout),
    stderr: new TextDecoder().decode(r.stderr),
    ms: performance.now() - t0,
  };
}

/** Runs `vatt ARGS` with a file size limit of `bytes` (writes past it fail with EFBIG). */
async function runWithFileLimit(args: string[], bytes: number): Promise<CliRun> {
  const deno = [Deno.execPath(), "run", "-A", MAIN, ...args].map(quote).join(" ");
  // POSIX sh counts ulimit -f in 512-byte blocks; SIGXFSZ would kill the process instead.
  const script = `trap '' XFSZ\nulimit -f ${Math.floor(bytes / 512)}\ncd ${
    quote(REPO)
  }\nexec ${deno}`;
  const t0 = performance.now();
  const r = await new Deno.Command("sh", { args: ["-c", script], stdout: "piped", stderr: "piped" })
    .output();
  return {
    code: r.code,
    signal: r.signal,
    killed: false,
    stdout: new TextDecoder().decode(r.stdout),
    stderr: new TextDecoder().decode(r.stderr),
    ms: performance.now() - t0,
  };
}

/** Waits until `file` exists (polling), then kills `run`'s process; returns the run. */
async function runUntil(args: string[], file: string): Promise<CliRun> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  let done = false;
  output.finally(() => done = true);
  while (!done) {
    try {
      await Deno.stat(file);
      child.kill("SIGKILL");
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const r = await output;
  return {
    code: r.code,
    signal: r.signal,
    killed: r.signal === "SIGKILL",
    stdout: new TextDecoder().decode(r.stdout),
    stderr: new TextDecoder().decode(r.stderr),
    ms: 0,
  };
}

/** Checks that the failing run stopped cleanly: exit 1 and one `vatt: …` line naming the cause. */
function checkFailure(r: CliRun, cause: RegExp, problems: string[]): string {
  const message = lastLine(r.stderr);
  if (r.code !== 1) {
    problems.push(`the failing run exited with ${r.code ?? r.signal}, expected 1: ${message}`);
  }
  if (!message.startsWith("vatt: ")) {
    problems.push(`no one-line "vatt: …" message at the end: ${message}`);
  }
  if (!cause.test(message)) {
    problems.push(`the message does not name the cause (${cause}): ${message}`);
  }
  if (/\n\s+at /.test(r.stderr)) problems.push("a stack trace was printed");
  return message;
}

/** Checks every checkpoint of `run` against the reference; returns how many there are. */
async function checkCheckpoints(
  run: string,
  refs: References,
  problems: string[],
): Promise<number> {
  let n = 0;
  for await (const e of Deno.readDir(path.join(run, "checkpoints"))) {
    if (e.name.startsWith(".")) {
      problems.push(`temporary entry checkpoints/${e.name} left behind`);
      continue;
    }
    const dir = path.join(run, "checkpoints", e.name);
    try {
      await readSafetensors(path.join(dir, "model.safetensors"));
      await readSafetensors(path.join(dir, "optimizer.safetensors"));
      await readTrainState(dir);
      const want = refs.checkpoints.get(Number(e.name.slice(5)));
      for (const f of CHECKPOINT_FILES) {
        if (!want || (await sha256File(path.join(dir, f))) !== want[f]) {
          problems.push(`checkpoints/${e.name}/${f} differs from the uninterrupted run`);
        }
      }
      n++;
    } catch (err) {
      problems.push(`checkpoints/${e.name} does not load: ${(err as Error).message}`);
    }
  }
  if (n === 0) problems.push("no checkpoint was kept");
  return n;
}

/** Resumes `run` with full permissions and compares the end with the reference. */
async function resumeAndCompare(run: string, refs: References, problems: string[]): Promise<void> {
  const seeds = await robustnessSeeds();
  const r = await runVatt([
    ...pretrainArgs(seeds.data, run, { steps: refs.steps, keep: 2 }),
    "--resume",
  ]);
  if (r.code !== 0) {
    problems.push(`--resume after the failure failed: ${lastLine(r.stderr)}`);
    return;
  }
  const last = `step-${String(refs.steps).padStart(7, "0")}`;
  for (const f of CHECKPOINT_FILES) {
    const sha = await sha256File(path.join(run, "checkpoints", last, f));
    if (sha !== refs.checkpoints.get(refs.steps)?.[f]) {
      problems.push(`after --resume, ${last}/${f} differs from the uninterrupted run`);
    }
  }
  const lines = (await Deno.readTextFile(path.join(run, "metrics.jsonl"))).trim().split("\n");
  if (
    lines.length !== refs.steps || lines.some((l, i) => metricKey(l) !== refs.metrics.get(i + 1))
  ) {
    problems.push("after --resume, metrics.jsonl differs from the uninterrupted run");
  }
}

async function checkpointBytes(refs: References): Promise<number> {
  const dir = path.join(refs.pretrain, "checkpoints", "step-0000000");
  let n = 0;
  for await (const e of Deno.readDir(dir)) n += (await Deno.stat(path.join(dir, e.name))).size;
  return n;
}

/**
 * Pretraining on a disk that fills up: room for two checkpoints and a bit,
 * so the third checkpoint (step 4) cannot be written.
 */
export async function diskFullPretrain(
  root: string,
  refs: References,
  options: DiskFullOptions = {},
): Promise<WriteFailureReport> {
  const seeds = await robustnessSeeds();
  const problems: string[] = [];
  const ckpt = await checkpointBytes(refs);
  const room = 2 * ckpt + (1 << 20);
  const run = path.join(root, "diskfull-run");
  let r: CliRun;
  let method: string;
  if (options.method === "tmpfs" || (options.method === undefined && await canUnshare())) {
    method = `tmpfs of ${room} bytes (unshare -Urm): ENOSPC`;
    r = await runOnSmallDisk(
      pretrainArgs(seeds.data, path.join(root, "mnt"), { steps: refs.steps, keep: 2 }),
      path.join(root, "mnt"),
      run,
      room,
    );
    if (r.code === 90) problems.push("could not mount the tmpfs");
  } else {
    // The first checkpoints are written normally; the resumed run then cannot write a checkpoint file.
    method = `ulimit -f below one checkpoint file: EFBIG`;
    await runUntil(
      pretrainArgs(seeds.data, run, { steps: refs.steps, keep: 2 }),
      path.join(run, "checkpoints", "step-0000002"),
    );
    r = await runWithFileLimit([
      ...pretrainArgs(seeds.data, run, { steps: refs.steps, keep: 2 }),
      "--resume",
    ], 1 << 20);
  }
  const message = checkFailure(
    r,
    /cannot write the checkpoint of step \d+: .*(space|too large).*; the last complete checkpoint .* is kept/i,
    problems,
  );
  const kept = await checkCheckpoints(run, refs, problems);
  await resumeAndCompare(run, refs, problems);
  return { name: "pretrain, disk full", method, message, kept, problems };
}

/**
 * Pretraining that loses write permission on its checkpoints folder after
 * the first checkpoints: the next checkpoint cannot be written.
 */
export async function permissionLostPretrain(
  root: string,
  refs: References,
): Promise<WriteFailureReport> {
  const seeds = await robustnessSeeds();
  const problems: string[] = [];
  const run = path.join(root, "noperm-run");
  const args = pretrainArgs(seeds.data, run, { steps: refs.steps, keep: 2 });
  await runUntil(args, path.join(run, "checkpoints", "step-0000002"));
  const r = await runVatt([...args, "--resume"], {
    flags: [
      "--allow-read",
      `--allow-write=${run}`,
      `--deny-write=${path.join(run, "checkpoints")}`,
      "--allow-run",
      "--allow-env",
      "--allow-sys",
      "--allow-ffi",
      "--no-prompt",
    ],
  });
  const message = checkFailure(
    r,
    /cannot write the checkpoint of step \d+: .*write access.*; the last complete checkpoint .* is kept/i,
    problems,
  );
  const kept = await checkCheckpoints(run, refs, problems);
  await resumeAndCompare(run, refs, problems);
  return {
    name: "pretrain, permission lost",
    method: "--deny-write on checkpoints/",
    message,
    kept,
    problems,
  };
}

async function checkShards(out: string, refs: References, problems: string[]): Promise<number> {
  let n = 0;
  for await (const e of Deno.readDir(out)) {
    if (e.name.startsWith(".")) {
      problems.push(`temporary file ${e.name} left behind`);
      continue;
    }
    if ((await sha256File(path.join(out, e.name))) !== refs.tokenizeFiles.get(e.name)) {
      problems.push(`${e.name} differs from the uninterrupted run`);
    }
    if (e.name.endsWith(".safetensors")) n++;
  }
  return n;
}

async function rerunTokenize(out: string, refs: References, problems: string[]): Promise<void> {
  const seeds = await robustnessSeeds();
  const r = await runVatt(tokenizeArgs(seeds.manifests[0], out));
  if (r.code !== 0) {
    problems.push(`the re-run after the failure failed: ${lastLine(r.stderr)}`);
    return;
  }
  const names = new Set(refs.tokenizeFiles.keys());
  for await (const e of Deno.readDir(out)) {
    if (!names.delete(e.name)) problems.push(`unexpected ${e.name} after the re-run`);
  }
  for (const name of names) problems.push(`${name} missing after the re-run`);
  await checkShards(out, refs, problems);
}

/** Tokenizing onto a disk that fills up after a few shards. */
export async function diskFullTokenize(
  root: string,
  refs: References,
  options: DiskFullOptions = {},
): Promise<WriteFailureReport> {
  const seeds = await robustnessSeeds();
  const problems: string[] = [];
  const out = path.join(root, "diskfull-data");
  const shard =
    (await Deno.stat(path.join(refs.tokenize, "shard-00000-of-00008.safetensors"))).size;
  let r: CliRun;
  let method: string;
  if (options.method === "tmpfs" || (options.method === undefined && await canUnshare())) {
    // tmpfs counts whole pages: room for the small files and about three shards.
    const room = Math.ceil((3.5 * shard + 4 * 4096) / 4096) * 4096;
    method = `tmpfs of ${room} bytes (unshare -Urm): ENOSPC`;
    r = await runOnSmallDisk(
      tokenizeArgs(seeds.manifests[0], path.join(root, "mnt-data")),
      path.join(root, "mnt-data"),
      out,
      room,
    );
  } else {
    // The first shards are written normally; the re-run then cannot write the next one.
    method = "ulimit -f below one shard: EFBIG";
    await runUntil(
      tokenizeArgs(seeds.manifests[0], out),
      path.join(out, "shard-00002-of-00008.safetensors"),
    );
    r = await runWithFileLimit(tokenizeArgs(seeds.manifests[0], out), Math.floor(shard / 2));
  }
  const message = checkFailure(
    r,
    /cannot write shard-\d+-of-\d+\.safetensors: .*(space|too large).*complete shards are kept/i,
    problems,
  );
  const kept = await checkShards(out, refs, problems);
  await rerunTokenize(out, refs, problems);
  return { name: "tokenize, disk full", method, message, kept, problems };
}

/** Tokenizing that cannot write one of its shards (permission refused on that path). */
export async function permissionLostTokenize(
  root: string,
  refs: References,
): Promise<WriteFailureReport> {
  const seeds = await robustnessSeeds();
  const problems: string[] = [];
  const out = path.join(root, "noperm-data");
  const r = await runVatt(tokenizeArgs(seeds.manifests[0], out), {
    flags: [
      "--allow-read",
      `--allow-write=${out}`,
      `--deny-write=${path.join(out, "shard-00003-of-00008.safetensors")}`,
      "--allow-run",
      "--allow-env",
      "--allow-sys",
      "--allow-ffi",
      "--no-prompt",
    ],
  });
  const message = checkFailure(
    r,
    /cannot write shard-00003-of-00008\.safetensors: .*write access.*complete shards are kept/i,
    problems,
  );
  const kept = await checkShards(out, refs, problems);
  if (kept !== 3) problems.push(`${kept} shards kept, expected the 3 before the refused one`);
  await rerunTokenize(out, refs, problems);
  return {
    name: "tokenize, permission lost",
    method: "--deny-write on one shard's path",
    message,
    kept,
    problems,
  };
}

/** One line per scenario. */
export function formatWriteFailures(reports: WriteFailureReport[]): string {
  return reports.map((r) =>
    `write failure ${r.name} (${r.method}): ${
      r.problems.length === 0 ? "ok" : "FAILED"
    }, ${r.kept} kept; ` +
    `message: ${r.message}` + r.problems.map((p) => `\n  PROBLEM ${p}`).join("")
  ).join("\n");
}
