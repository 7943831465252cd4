/**
 * The PyTorch peer of the benchmark: finds a python that imports `torch`
 * (`python3`, then Debian's `/usr/bin/python3`, or `VATT_PEER_PYTHON`), and
 * runs `../shared/peer/vatt_torch.py` (or `VATT_PEER`) with given flags.
 * Never required: every failure is an answer, not an exception.
 *
 * @module
 */
import * as path from "node:path";
import { fileURLToPath } from "node:url";

/** What the peer printed, or why it did not run. */
export type PeerResult =
  | {
    ok: true;
    /** Mean milliseconds per step over its measured steps (the peer reports the mean). */
    msPerStep: number;
    clipsPerSec: number;
    params: number;
    torch: string;
    /** torch's threads (`--threads`). */
    threads: number;
    /**
     * OpenBLAS's threads, when pinned (`OPENBLAS_NUM_THREADS`). Debian's torch multiplies
     * matrices with the system OpenBLAS, whose threads `--threads` does not limit.
     */
    blasThreads?: number;
    python: string;
    flags: string[];
  }
  | { ok: false; reason: string; flags?: string[] };

async function run(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  const p = new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" });
  const r = await p.output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

/** The peer script: `VATT_PEER`, else `../shared/peer/vatt_torch.py` beside the project. */
export function peerScript(): string {
  const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
  return Deno.env.get("VATT_PEER") ?? path.join(root, "..", "shared", "peer", "vatt_torch.py");
}

/** The first python that imports torch, with its torch version, or the reason there is none. */
export async function findTorchPython(): Promise<
  { python: string; torch: string } | { python: null; reason: string }
> {
  const candidates = [Deno.env.get("VATT_PEER_PYTHON"), "python3", "/usr/bin/python3"].filter(
    (x): x is string => !!x,
  );
  const tried: string[] = [];
  for (const python of candidates) {
    try {
      const r = await run(python, ["-c", "import torch; print(torch.__version__)"]);
      if (r.code === 0) return { python, torch: r.out.trim() };
      tried.push(`${python}: no torch`);
    } catch {
      tried.push(`${python}: not found`);
    }
  }
  return { python: null, reason: `no python with torch (${tried.join("; ")})` };
}

/**
 * Runs the peer once with `flags`, with torch on `threads.torch` threads and,
 * when given, OpenBLAS pinned to `threads.blas`.
 */
export async function runPeer(
  python: string,
  flags: string[],
  threads: { torch: number; blas?: number },
): Promise<PeerResult> {
  const script = peerScript();
  try {
    await Deno.stat(script);
  } catch {
    return { ok: false, reason: `peer script not found at ${script}`, flags };
  }
  const args = [script, ...flags, "--threads", String(threads.torch)];
  const env: Record<string, string> = threads.blas
    ? { OPENBLAS_NUM_THREADS: String(threads.blas), OMP_NUM_THREADS: String(threads.torch) }
    : {};
  const r = await run(python, args, env);
  const line = r.out.trim().split("\n").filter((l) => l.startsWith("{")).at(-1);
  if (r.code !== 0 || !line) {
    const why = r.err.trim().split("\n").at(-1) ?? `exit code ${r.code}`;
    return { ok: false, reason: `peer failed: ${why}`, flags };
  }
  const j = JSON.parse(line);
  return {
    ok: true,
    msPerStep: j.ms_per_step,
    clipsPerSec: j.clips_per_s,
    params: j.params,
    torch: j.torch,
    threads: j.threads,
    ...(threads.blas ? { blasThreads: threads.blas } : {}),
    python,
    flags,
  };
}
