/**
 * The peers of the benchmark, the same step in another framework:
 * - PyTorch: a python that imports `torch` (`VATT_PEER_PYTHON`, `python3`,
 *   then Debian's `/usr/bin/python3`) runs `../shared/peer/vatt_torch.py`
 *   (or `VATT_PEER`);
 * - TensorFlow: a python that imports `tensorflow` (`VATT_TF_PYTHON`, then
 *   `python3`, `/usr/bin/python3`) runs `../shared/peer/vatt_tf.py` (or
 *   `VATT_TF_PEER`), optionally with XLA.
 * Each reports which BLAS its products use. Never required: every failure is
 * an answer, not an exception.
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
    /** Which framework ran (absent in reports written before the TensorFlow peer). */
    framework?: PeerFramework;
    /** TensorFlow with XLA (`--xla`). */
    xla?: boolean;
    /**
     * Inference timed instead of a training step (`peer_forward.py`: eval
     * mode, no DropToken, no gradients): msPerStep is per forward batch.
     */
    forwardOnly?: boolean;
  }
  | { ok: false; reason: string; flags?: string[]; framework?: PeerFramework };

/** The peers' frameworks. */
export type PeerFramework = "pytorch" | "tensorflow";

/** A python that runs a peer, its framework's version, and the BLAS its products use. */
export interface PeerPython {
  python: string;
  /** The framework's version, e.g. `1.13.1`. */
  version: string;
  /** Which library multiplies, e.g. `OpenBLAS (/usr/lib/…/libopenblas.so.0)` or `oneDNN`. */
  blas: string;
  /** The products run on the reference BLAS (netlib): a ratio against this peer measures its BLAS. */
  referenceBlas: boolean;
}

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

/** The forward-only driver: imports a peer script's model and times inference. */
export const FORWARD_DRIVER = fileURLToPath(new URL("./peer_forward.py", import.meta.url));

/**
 * The peer script of `framework`: `VATT_PEER` (PyTorch) or `VATT_TF_PEER`
 * (TensorFlow), else `../shared/peer/vatt_torch.py` or `vatt_tf.py` beside the
 * project.
 */
export function peerScript(framework: PeerFramework = "pytorch"): string {
  const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
  const [env, file] = framework === "pytorch"
    ? ["VATT_PEER", "vatt_torch.py"]
    : ["VATT_TF_PEER", "vatt_tf.py"];
  return Deno.env.get(env) ?? path.join(root, "..", "shared", "peer", file);
}

/**
 * Prints the torch version, then the BLAS libraries mapped into the process
 * after a product (Debian's torch links `libblas.so.3`, which the system's
 * alternatives point at OpenBLAS or at the reference BLAS).
 */
const TORCH_PROBE = `
import os, torch
a = torch.ones(64, 64); a @ a
print(torch.__version__)
libs = sorted({os.path.realpath(l.split()[-1]) for l in open("/proc/self/maps")
               if "blas" in l.split()[-1].lower() or "mkl" in l.split()[-1].lower()})
import re
info = re.search(r"BLAS_INFO=\\w+", torch.__config__.show())
print(";".join(libs) + "|" + (info.group(0) if info else ""))
`;

const TF_PROBE = `
import os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf
print(tf.__version__)
try:
    from tensorflow.python.util import _pywrap_util_port as p
    print("oneDNN" if p.IsMklEnabled() else "Eigen")
except Exception:
    print("oneDNN?")
`;

/**
 * The BLAS behind torch's products, from the libraries its process maps:
 * OpenBLAS, MKL, BLIS, or the reference BLAS.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { torchBlas } from "./_bench_peer.ts";
 * const open = torchBlas("/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3|BLAS_INFO=generic");
 * assert.equal(open.referenceBlas, false);
 * assert.match(open.blas, /^OpenBLAS/);
 * const ref = torchBlas("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0|BLAS_INFO=generic");
 * assert.equal(ref.referenceBlas, true);
 * ```
 */
export function torchBlas(line: string): { blas: string; referenceBlas: boolean } {
  const [libs, info] = line.split("|");
  const paths = libs.split(";").filter(Boolean);
  const names: [RegExp, string][] = [[/openblas/i, "OpenBLAS"], [/mkl/i, "MKL"], [/blis/i, "BLIS"]];
  for (const [re, name] of names) {
    const hit = paths.find((p) => re.test(p));
    if (hit) {
      return { blas: `${name} (${hit}; torch's ${info || "BLAS_INFO ?"})`, referenceBlas: false };
    }
  }
  const where = paths[0] ?? "no BLAS library mapped";
  return {
    blas: `reference BLAS (${where}; torch's ${info || "BLAS_INFO ?"})`,
    referenceBlas: true,
  };
}

/** The first python that runs `framework`'s probe, with what it printed, or why there is none. */
export async function findPeerPython(
  framework: PeerFramework,
): Promise<PeerPython | { python: null; reason: string }> {
  const env = Deno.env.get(framework === "pytorch" ? "VATT_PEER_PYTHON" : "VATT_TF_PYTHON");
  const candidates = [env, "python3", "/usr/bin/python3"].filter((x): x is string => !!x);
  const module = framework === "pytorch" ? "torch" : "tensorflow";
  const tried: string[] = [];
  for (const python of [...new Set(candidates)]) {
    try {
      const r = await run(python, ["-c", framework === "pytorch" ? TORCH_PROBE : TF_PROBE]);
      const [version, detail] = r.out.trim().split("\n").slice(-2);
      if (r.code === 0 && detail !== undefined) {
        if (framework === "tensorflow") {
          return { python, version, blas: detail, referenceBlas: false };
        }
        return { python, version, ...torchBlas(detail) };
      }
      tried.push(`${python}: no ${module}`);
    } catch {
      tried.push(`${python}: not found`);
    }
  }
  return { python: null, reason: `no python with ${module} (${tried.join("; ")})` };
}

/**
 * Runs a peer once with `flags`, on `threads.torch` threads (the framework's
 * intra-op threads) and, when given, OpenBLAS pinned to `threads.blas`;
 * TensorFlow with XLA when `xla`; inference batches instead of training steps
 * when `forwardOnly` (the export row's comparison: `tasks/peer_forward.py`
 * builds the peer script's model and times its inference pass, so the peer
 * scripts need no mode of their own).
 */
export async function runPeer(
  python: string,
  flags: string[],
  threads: { torch: number; blas?: number },
  options: { framework?: PeerFramework; xla?: boolean; forwardOnly?: boolean } = {},
): Promise<PeerResult> {
  const framework = options.framework ?? "pytorch";
  const script = peerScript(framework);
  try {
    await Deno.stat(script);
  } catch {
    return { ok: false, reason: `peer script not found at ${script}`, flags, framework };
  }
  // Forward only: this repository's driver imports the peer script's model and times inference.
  const args = options.forwardOnly
    ? [FORWARD_DRIVER, "--peer", script, "--framework", framework, ...flags]
    : [script, ...flags];
  args.push("--threads", String(threads.torch));
  if (options.xla) args.push("--xla");
  const env: Record<string, string> = threads.blas
    ? { OPENBLAS_NUM_THREADS: String(threads.blas), OMP_NUM_THREADS: String(threads.torch) }
    : {};
  const r = await run(python, args, env);
  const line = r.out.trim().split("\n").filter((l) => l.startsWith("{")).at(-1);
  if (r.code !== 0 || !line) {
    const why = r.err.trim().split("\n").at(-1) ?? `exit code ${r.code}`;
    return { ok: false, reason: `peer failed: ${why}`, flags, framework };
  }
  const j = JSON.parse(line);
  if (options.forwardOnly && j.mode !== "forward") {
    return { ok: false, reason: `${FORWARD_DRIVER} did not time a forward pass`, flags, framework };
  }
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
    framework,
    ...(options.xla ? { xla: true } : {}),
    ...(options.forwardOnly ? { forwardOnly: true } : {}),
  };
}
