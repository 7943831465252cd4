/**
 * `deno task bench`: the side-by-side benchmark.
 *
 * For the `tiny` and (reduced-input) `small` cases of `tasks/_bench_sizes.ts`
 * at batch 8, on each backend available here (cpu, wasm, wasm with OpenBLAS
 * matrix products on every core (the default) and on one thread, webgpu on a hardware
 * adapter), each measurement in its own process:
 * - pretraining step throughput: clips/s of the median step after warm-up;
 * - embedding export throughput: clips/s of the median inference batch, and
 *   the peers' inference batches (`tasks/peer_forward.py`) in the same rounds;
 * - peak resident memory of the process, and the live-tensor count per step;
 * - tokenization throughput (`tasks/bench_tokenize.ts` on demo clips);
 * - the peers at the same sizes, alternating with ours in every round: PyTorch
 *   (`../shared/peer/vatt_torch.py`) when a python with torch is found (torch
 *   on 2 threads, on 1, and on 1 with its OpenBLAS pinned to 1) and
 *   TensorFlow (`../shared/peer/vatt_tf.py`) when a python with tensorflow is
 *   found (`VATT_TF_PYTHON`, else `python3`; 2 and 1 threads, and XLA), each
 *   with the BLAS it multiplies on; our throughput over the fastest peer's;
 * - each step's FLOPs from the config (`tasks/_bench_flops.ts`), achieved
 *   GFLOP/s, and its fraction of OpenBLAS's sgemm rate measured at start on
 *   one thread and on every core.
 * Prints a table and writes everything as JSON (`--json`, default
 * `bench-results.json`). The pure-JS cpu backend runs `tiny` only unless
 * `--backends` names it (a `small` step takes minutes there).
 *
 * Usage:
 * ```sh
 * deno task bench                       # everything
 * deno task bench:pretrain              # pretraining steps and the peer only
 * deno task bench --presets tiny --backends wasm,wasm+blas --json /tmp/b.json
 * ```
 *
 * @module
 */
import { applyBlasCoreType } from "../lib/backend/blas_core.ts";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { blasStatus, loadBlas } from "../lib/backend/blas.ts";
import { nativeKernels, nativeStatus } from "../lib/backend/native/native.ts";
import { probeWebGpu } from "../lib/backend/select.ts";
import { SWITCHES } from "../lib/backend/switches.ts";
import { resolveVattConfig } from "../lib/config/vatt_config.ts";
import {
  benchDistributed,
  type DistributedBench,
  formatDistributed,
} from "./_bench_distributed.ts";
import { betterCeiling, forwardMacs, measureSgemmCeiling, stepFlops } from "./_bench_flops.ts";
import { findPeerPython, type PeerFramework, type PeerPython, runPeer } from "./_bench_peer.ts";
import {
  type BenchReport,
  formatReport,
  type PeerRecord,
  type RunRecord,
} from "./_bench_report.ts";
import { BENCH_CASES, type CaseName, peerFlags } from "./_bench_sizes.ts";
import type { WorkerResult, WorkerSpec } from "./_bench_worker.ts";

const USAGE = `usage: deno task bench [options]
  --only LIST        pretrain,export,tokenize,distributed (default: all four; the peers run with
                     pretrain, and forward only with export; distributed: 2 MPI ranks × 1
                     thread vs 1 process × 2 threads, per case of --presets)
  --presets LIST     tiny,small (default both)
  --backends LIST    cpu,wasm,wasm+blas,wasm+blas-1,webgpu (default: every one available;
                     cpu: tiny only; wasm+blas-1: OpenBLAS on one thread instead of every core;
                     wasm+blas-recompute: layers recomputed in the backward pass, asked for only;
                     wasm+blas-tfjs-backprop: tfjs's own backward pass instead of the eager one
                     that frees each node's memory when done, VATT_EAGER_BACKPROP=0, asked for only;
                     wasm+blas-simd: without the native kernels (VATT_NATIVE=0): the SIMD
                     WebAssembly elementwise kernels, attention's blocks one BLAS call each,
                     OpenBLAS's own threads; asked for only)
  --steps N          measured pretraining steps (default per case: tiny 30, small 3)
  --warmup N         warm-up steps (default per case: tiny 150, small 2)
  --tokenize-clips N demo clips for the tokenization run (default 16)
  --software-gpu     also run webgpu on a software adapter (llvmpipe)
  --peer-threads L   peer thread settings, N (torch threads) or N/M (and OpenBLAS pinned to
                     M; Debian's torch multiplies matrices with the system OpenBLAS, which
                     --threads does not limit); default 2,1,1/1. The ratios use the fastest.
  --tf-runs LIST      TensorFlow peer settings, N (intra-op threads) or Nx (with XLA);
                     default 2,1,2x,1x
  --no-tf            do not run the TensorFlow peer
  --no-peer          run no peer (neither PyTorch nor TensorFlow)
  --rounds N         measure everything N times, alternating ours and the peer's, and report
                     medians over rounds with the ratios' range (default 1; on a shared
                     machine 3 or more, since single runs vary by ±30 %)
  --json PATH        where to write the results (default bench-results.json)`;

type BackendKey =
  | "cpu"
  | "wasm"
  | "wasm+blas"
  | "wasm+blas-1"
  | "wasm+blas-recompute"
  | "wasm+blas-tfjs-backprop"
  | "wasm+blas-simd"
  | "webgpu";
const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

function fail(message: string): never {
  console.error(`bench: ${message}`);
  console.error(USAGE);
  Deno.exit(2);
}

function list<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]) {
  if (value === undefined) return undefined;
  const items = value.split(",").map((s) => s.trim()).filter(Boolean);
  for (const item of items) {
    if (!allowed.includes(item as T)) {
      fail(`${flag}: unknown ${JSON.stringify(item)} (expected ${allowed.join(", ")})`);
    }
  }
  return items as T[];
}

function count(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) fail(`${flag} must be a positive integer`);
  return Number(value);
}

async function loadAverage(): Promise<number[] | null> {
  try {
    return (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).map(Number);
  } catch {
    return null;
  }
}

async function runWorker(
  spec: WorkerSpec,
  blas: { on: boolean; threads?: number; tfjsBackprop?: boolean; noNative?: boolean },
): Promise<WorkerResult | string> {
  const env: Record<string, string> = { VATT_BLAS: blas.on ? "1" : "0" };
  if (blas.tfjsBackprop) env[SWITCHES.eagerBackprop] = "0";
  if (blas.noNative) env[SWITCHES.native] = "0";
  if (blas.threads) env.VATT_BLAS_THREADS = String(blas.threads);
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", path.join(ROOT, "tasks", "_bench_worker.ts"), JSON.stringify(spec)],
    env,
    stdout: "piped",
    stderr: "piped",
  });
  const r = await cmd.output();
  const out = new TextDecoder().decode(r.stdout);
  const line = out.split("\n").find((l) => l.startsWith("BENCH_RESULT "));
  if (r.code === 0 && line) return JSON.parse(line.slice("BENCH_RESULT ".length));
  const err = new TextDecoder().decode(r.stderr).split("\n").filter((l) =>
    l.trim() && !l.includes("XDG_RUNTIME_DIR")
  );
  return `exit ${r.code}: ${err.slice(-3).join(" | ")}`;
}

async function runTokenize(clips: number): Promise<unknown> {
  const script = path.join(ROOT, "tasks", "bench_tokenize.ts");
  try {
    await Deno.stat(script);
  } catch {
    return { error: "tasks/bench_tokenize.ts is not there" };
  }
  const dir = await Deno.makeTempDir({ prefix: "vatt-bench-" });
  const json = path.join(dir, "tokenize.json");
  try {
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script, "--clips", String(clips), "--runs", "2", "--json", json],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (r.code !== 0) {
      const err = new TextDecoder().decode(r.stderr).trim().split("\n").slice(-2).join(" | ");
      return { error: `bench_tokenize exit ${r.code}: ${err}` };
    }
    return JSON.parse(await Deno.readTextFile(json));
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

type PeerSetting = {
  framework: PeerFramework;
  threads: { torch: number; blas?: number };
  xla: boolean;
};

/**
 * One round of every peer setting on `flags` (training steps, or inference
 * batches when `forwardOnly`), appended to `into` with the round and BLAS.
 */
async function runPeerRound(into: PeerRecord[], o: {
  name: string;
  flags: string[];
  settings: PeerSetting[];
  peerPythons: Partial<Record<PeerFramework, PeerPython | { python: null; reason: string }>>;
  round: number;
  rounds: number;
  forwardOnly?: boolean;
}): Promise<void> {
  const tag = (o.forwardOnly ? " forward only" : "") +
    (o.rounds > 1 ? ` (round ${o.round}/${o.rounds})` : "");
  const roundField = o.rounds > 1 ? { round: o.round } : {};
  for (const { framework, threads, xla } of o.settings) {
    const found = o.peerPythons[framework];
    if (!found) continue;
    if (found.python === null) {
      if (o.round === 1 && !into.some((p) => p.framework === framework)) {
        into.push({ ok: false, reason: found.reason, framework });
      }
      continue;
    }
    const label = framework === "pytorch"
      ? `PyTorch ${found.version}, torch ${threads.torch} thr` +
        (threads.blas ? `, OpenBLAS ${threads.blas} thr` : "")
      : `TensorFlow ${found.version}${xla ? " XLA" : ""}, ${threads.torch} thr`;
    console.error(`bench: ${o.name} on ${label} (${found.python})${tag} …`);
    const peer = await runPeer(found.python, o.flags, threads, {
      framework,
      xla,
      ...(o.forwardOnly ? { forwardOnly: true } : {}),
    });
    const blasInfo = { blas: found.blas, ...(found.referenceBlas ? { referenceBlas: true } : {}) };
    into.push({ ...peer, ...roundField, ...blasInfo });
    console.error(
      peer.ok
        ? `bench:   ${peer.msPerStep.toFixed(0)} ms/${o.forwardOnly ? "batch" : "step"}, ` +
          `${peer.clipsPerSec.toFixed(2)} clips/s`
        : `bench:   ${peer.reason}`,
    );
  }
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: Deno.args,
      options: {
        only: { type: "string" },
        presets: { type: "string" },
        backends: { type: "string" },
        steps: { type: "string" },
        warmup: { type: "string" },
        "tokenize-clips": { type: "string" },
        "software-gpu": { type: "boolean" },
        "no-peer": { type: "boolean" },
        "no-tf": { type: "boolean" },
        "tf-runs": { type: "string" },
        "peer-threads": { type: "string" },
        rounds: { type: "string" },
        json: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    fail((e as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const only = list(
    "--only",
    values.only,
    ["pretrain", "export", "tokenize", "distributed"] as const,
  ) ?? ["pretrain", "export", "tokenize", "distributed"];
  const presets = list("--presets", values.presets, ["tiny", "small"] as const) ??
    ["tiny", "small"];
  const askedBackends = list(
    "--backends",
    values.backends,
    [
      "cpu",
      "wasm",
      "wasm+blas",
      "wasm+blas-1",
      "wasm+blas-recompute",
      "wasm+blas-tfjs-backprop",
      "wasm+blas-simd",
      "webgpu",
    ] as const,
  );
  const steps = count("--steps", values.steps);
  const warmup = values.warmup === "0" ? 0 : count("--warmup", values.warmup);
  const tokenizeClips = count("--tokenize-clips", values["tokenize-clips"]) ?? 16;
  const rounds = count("--rounds", values.rounds) ?? 1;
  const jsonPath = values.json ?? "bench-results.json";
  const peerThreads = (values["peer-threads"] ?? "2,1,1/1").split(",").map((t) => {
    const m = /^(\d+)(?:\/(\d+))?$/.exec(t.trim());
    if (!m || Number(m[1]) < 1 || (m[2] !== undefined && Number(m[2]) < 1)) {
      fail(`--peer-threads: ${JSON.stringify(t)} is not N or N/M`);
    }
    return { torch: Number(m[1]), ...(m[2] ? { blas: Number(m[2]) } : {}) };
  });
  const tfRuns = (values["tf-runs"] ?? "2,1,2x,1x").split(",").map((t) => {
    const m = /^(\d+)(x?)$/.exec(t.trim());
    if (!m || Number(m[1]) < 1) fail(`--tf-runs: ${JSON.stringify(t)} is not N or Nx`);
    return { threads: Number(m[1]), xla: m[2] === "x" };
  });

  // What this machine has.
  const cores = navigator.hardwareConcurrency || 1;
  const gpu = await probeWebGpu();
  const available: Record<BackendKey, string | null> = {
    cpu: null,
    wasm: null,
    "wasm+blas": loadBlas() ? null : blasStatus(),
    "wasm+blas-1": !loadBlas()
      ? blasStatus()
      : cores < 2 || Deno.env.get("VATT_BLAS_THREADS")
      ? "the default already uses one thread"
      : null,
    "wasm+blas-recompute": loadBlas() ? null : blasStatus(),
    "wasm+blas-tfjs-backprop": loadBlas() ? null : blasStatus(),
    "wasm+blas-simd": loadBlas() ? (nativeKernels() ? null : nativeStatus()) : blasStatus(),
    webgpu: !gpu.adapter
      ? gpu.detail
      : gpu.software && !values["software-gpu"]
      ? `software adapter (${gpu.detail}); --software-gpu runs it`
      : null,
  };
  const backends: BackendKey[] = askedBackends ??
    ["cpu", "wasm", "wasm+blas", "wasm+blas-1", "webgpu"];
  const loadBefore = await loadAverage();
  const started = new Date();
  console.error(
    `bench: ${navigator.hardwareConcurrency} CPUs, load ${loadBefore?.join(" ") ?? "?"}; ` +
      `matrix products: ${blasStatus()}; native kernels: ${nativeStatus()}`,
  );
  const blas = loadBlas();
  const measureCeiling = (when: string) => {
    const c = blas ? measureSgemmCeiling(blas, cores) : null;
    if (c) {
      console.error(
        `bench: sgemm ${c.shape.join("×")} (${when}): ${c.oneThread.toFixed(0)} GFLOP/s on ` +
          `1 thread, ${c.allThreads.toFixed(0)} on ${cores}`,
      );
    }
    return c;
  };
  const ceilingAtStart = measureCeiling("start");

  const runs: RunRecord[] = [];
  const notes: string[] = [];
  const peers: Record<string, PeerRecord[]> = {};
  const exportPeers: Record<string, PeerRecord[]> = {};
  const what = only.filter((w): w is "pretrain" | "export" => w === "pretrain" || w === "export");
  const peerPythons: Partial<Record<PeerFramework, PeerPython | { python: null; reason: string }>> =
    {};
  if (what.length > 0 && !values["no-peer"]) {
    peerPythons.pytorch = await findPeerPython("pytorch");
    if (!values["no-tf"]) peerPythons.tensorflow = await findPeerPython("tensorflow");
    for (const [framework, p] of Object.entries(peerPythons)) {
      console.error(
        `bench: peer ${framework}: ` +
          (p.python === null ? p.reason : `${p.version} (${p.python}), ${p.blas}`),
      );
    }
  }
  const flopsByCase: Record<string, number> = {};
  for (const name of presets as CaseName[]) {
    const c = BENCH_CASES[name];
    flopsByCase[name] = stepFlops(forwardMacs(resolveVattConfig(c.model), c));
    peers[name] = [];
    exportPeers[name] = [];
    for (let round = 1; round <= rounds; round++) {
      const tag = rounds > 1 ? ` (round ${round}/${rounds})` : "";
      const roundField = rounds > 1 ? { round } : {};
      for (const backend of what.length > 0 ? backends : []) {
        const record: RunRecord = { case: name, backend, ...roundField };
        if (available[backend] !== null) {
          record.skipped = available[backend]!;
          if (round === 1) runs.push(record);
          continue;
        }
        if (backend === "cpu" && name !== "tiny" && !askedBackends?.includes("cpu")) {
          record.skipped = "a step takes minutes on the pure-JS backend; --backends cpu runs it";
          if (round === 1) runs.push(record);
          continue;
        }
        runs.push(record);
        console.error(`bench: ${name} on ${backend}${tag} …`);
        // Without OpenBLAS a `small` step takes minutes: one warm-up and one measured step.
        const slow = name === "small" && backend === "wasm";
        if (slow && !steps && round === 1) {
          notes.push(`${name}/${backend}: 1 warm-up + 1 measured step (minutes each)`);
        }
        const spec: WorkerSpec = {
          case: name,
          backend: backend.startsWith("wasm") ? "wasm" : backend as "cpu" | "webgpu",
          what,
          ...(steps ? { steps } : slow ? { steps: 1 } : {}),
          ...(warmup !== undefined ? { warmup } : slow ? { warmup: 1 } : {}),
          ...(slow ? { exportBatches: 1 } : {}),
          ...(backend === "wasm+blas-recompute" ? { recompute: true } : {}),
        };
        const result = await runWorker(spec, {
          on: backend.startsWith("wasm+blas"),
          ...(backend === "wasm+blas-1" ? { threads: 1 } : {}),
          ...(backend === "wasm+blas-tfjs-backprop" ? { tfjsBackprop: true } : {}),
          ...(backend === "wasm+blas-simd" ? { noNative: true } : {}),
        });
        if (typeof result === "string") {
          record.error = result;
          console.error(`bench:   failed: ${result}`);
        } else {
          record.result = result;
          const p = result.pretrain;
          console.error(
            `bench:   ${
              p ? `${p.medianMs.toFixed(0)} ms/step, ${p.clipsPerSec.toFixed(2)} clips/s; ` : ""
            }` +
              `${result.export ? `export ${result.export.clipsPerSec.toFixed(1)} clips/s; ` : ""}` +
              `peak ${result.peakRssMiB.toFixed(0)} MiB`,
          );
        }
      }
      const m = resolveVattConfig(c.model);
      const model = {
        video: m.video,
        audio: m.audio,
        text: m.text,
        backbone: m.video.backbone,
        dropToken: m.dropToken,
      };
      const settings = [
        ...peerThreads.map((threads) => ({ framework: "pytorch" as const, threads, xla: false })),
        ...tfRuns.map((t) => ({
          framework: "tensorflow" as const,
          threads: { torch: t.threads },
          xla: t.xla,
        })),
      ];
      if (what.includes("pretrain")) {
        const flags = peerFlags(
          { ...c, ...(steps ? { steps } : {}), ...(warmup !== undefined ? { warmup } : {}) },
          model,
        );
        await runPeerRound(peers[name], { name, flags, settings, peerPythons, round, rounds });
      }
      if (what.includes("export")) {
        const flags = peerFlags({ ...c, warmup: c.exportWarmup, steps: c.exportBatches }, model);
        await runPeerRound(exportPeers[name], {
          name,
          flags,
          settings,
          peerPythons,
          round,
          rounds,
          forwardOnly: true,
        });
      }
    }
  }
  let tokenize: unknown = null;
  if (only.includes("tokenize")) {
    console.error(`bench: tokenization of ${tokenizeClips} demo clips …`);
    tokenize = await runTokenize(tokenizeClips);
  }
  const distributed: Record<string, DistributedBench> = {};
  for (const name of only.includes("distributed") ? presets as CaseName[] : []) {
    console.error(`bench: 2 MPI ranks × 1 thread vs 1 process × 2 threads (${name}) …`);
    distributed[name] = await benchDistributed(name, { steps, warmup });
    console.error(`bench:   ${formatDistributed(distributed[name])}`);
  }
  const report: BenchReport = {
    benchmark: "vatt",
    date: started.toISOString(),
    seconds: (Date.now() - started.getTime()) / 1000,
    machine: {
      os: Deno.build.os,
      arch: Deno.build.arch,
      cpus: navigator.hardwareConcurrency,
      deno: Deno.version.deno,
      loadBefore,
      loadAfter: await loadAverage(),
    },
    blas: blasStatus(),
    native: nativeStatus(),
    cases: Object.fromEntries(
      (presets as CaseName[]).map((
        n,
      ) => [n, { label: BENCH_CASES[n].label, batch: BENCH_CASES[n].batch }]),
    ),
    runs,
    notes,
    peer: peers,
    exportPeer: exportPeers,
    peers: peerPythons,
    stepFlops: flopsByCase,
    // The better of the start's and the end's: one measurement may find a core taken.
    ceiling: betterCeiling(ceilingAtStart, measureCeiling("end")),
    tokenize,
    distributed,
  };
  console.log(formatReport(report));
  for (const d of Object.values(distributed)) console.log(`\n${formatDistributed(d)}`);
  await Deno.writeTextFile(jsonPath, JSON.stringify(report, null, 2) + "\n");
  console.log(`\nwrote ${jsonPath}`);
}

if (import.meta.main) {
  applyBlasCoreType(); // first: OpenBLAS reads it when it loads; the workers and peers inherit it
  await main();
}
