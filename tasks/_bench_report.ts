/**
 * The benchmark's JSON report and its table.
 *
 * @module
 */
import type { SgemmCeiling } from "./_bench_flops.ts";
import type { PeerPython, PeerResult } from "./_bench_peer.ts";
import type { WorkerResult } from "./_bench_worker.ts";

/** One case on one backend, in one round. */
export interface RunRecord {
  case: string;
  backend: string;
  /** 1-based round (`--rounds`); absent in reports of one round. */
  round?: number;
  result?: WorkerResult;
  /** Why it did not run. */
  skipped?: string;
  /** Why it failed. */
  error?: string;
}

/** One peer run (PyTorch or TensorFlow), in one round, with its BLAS when known. */
export type PeerRecord = PeerResult & { round?: number; blas?: string; referenceBlas?: boolean };

/** Everything a `deno task bench` run measured. */
export interface BenchReport {
  benchmark: "vatt";
  date: string;
  seconds: number;
  machine: {
    os: string;
    arch: string;
    cpus: number;
    deno: string;
    /** 1-, 5- and 15-minute load averages before and after the run (Linux). */
    loadBefore: number[] | null;
    loadAfter: number[] | null;
  };
  blas: string;
  /** The native kernels in use (`nativeStatus()`): the library, or why not. */
  native?: string;
  cases: Record<string, { label: string; batch: number }>;
  runs: RunRecord[];
  /** Remarks on how some measurements were taken. */
  notes: string[];
  /** The peers per case, one run per framework, thread setting and round. */
  peer: Record<string, PeerRecord[]>;
  /**
   * The peers' inference runs per case (`tasks/peer_forward.py`), compared with the
   * export rate; absent in reports written before them.
   */
  exportPeer?: Record<string, PeerRecord[]>;
  /** The peers' pythons, versions and BLAS, or why a peer did not run. */
  peers?: Record<string, PeerPython | { python: null; reason: string }>;
  /** FLOPs of one training step per case (`tasks/_bench_flops.ts`). */
  stepFlops?: Record<string, number>;
  /** OpenBLAS's measured sgemm rates on this machine, or null without OpenBLAS. */
  ceiling?: SgemmCeiling | null;
  /** `tasks/bench_tokenize.ts`'s report, or `{ error }`. */
  tokenize: unknown;
  /** The distributed row (`tasks/_bench_distributed.ts`), when measured. */
  distributed?: unknown;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

const fixed = (x: number | undefined, digits = 1) => (x === undefined ? "" : x.toFixed(digits));

/** Whether the live-tensor count stayed the same from the first step on. */
function tensorTrend(counts: number[] | undefined): string {
  if (!counts || counts.length === 0) return "";
  const first = counts[0];
  const last = counts.at(-1)!;
  return counts.every((n) => n === first) ? `flat ${first}` : `${first}→${last}`;
}

/** The median of `xs` (the mean of the two middle values for an even count). */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** A ratio's median over rounds, with its range when there are several. */
function ratioText(ratios: number[]): string {
  if (ratios.length === 0) return "";
  const m = `${median(ratios).toFixed(2)}×`;
  if (ratios.length === 1) return m;
  return `${m} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`;
}

type OkPeer = Extract<PeerResult, { ok: true }> & {
  round?: number;
  blas?: string;
  referenceBlas?: boolean;
};

/** The fastest successful peer run of `round`, if any. */
function fastestPeer(peers: PeerRecord[], round: number): OkPeer | undefined {
  const same = peers.filter((p): p is OkPeer => p.ok && (p.round ?? 1) === round);
  return same.length > 0
    ? same.reduce((a, b) => (b.clipsPerSec > a.clipsPerSec ? b : a))
    : undefined;
}

/**
 * Our/peer ratios of one case: for each round, a rate divided by the fastest
 * peer run (any framework) of the same round (rounds without one are left out).
 */
export function ratiosByRound(
  rates: { round?: number; clipsPerSec: number }[],
  peers: PeerRecord[],
): number[] {
  const out: number[] = [];
  for (const r of rates) {
    const fastest = fastestPeer(peers, r.round ?? 1);
    if (fastest) out.push(r.clipsPerSec / fastest.clipsPerSec);
  }
  return out;
}

/** Whether the fastest peer of any round multiplied on the reference BLAS. */
function againstReferenceBlas(peers: PeerRecord[], rounds: number): boolean {
  for (let round = 1; round <= rounds; round++) {
    if (fastestPeer(peers, round)?.referenceBlas) return true;
  }
  return false;
}

/** A peer row's label: framework, version, XLA, threads. */
function peerLabel(p: OkPeer): string {
  if (p.framework === "tensorflow") {
    const version = p.torch.replace(/^tensorflow /, "").replace(/ XLA$/, "");
    return `TensorFlow ${version}${p.xla ? " XLA" : ""} (${p.threads} thr)`;
  }
  return `PyTorch ${p.torch} (${p.threads} thr${p.blasThreads ? `, BLAS ${p.blasThreads}` : ""})`;
}

/** GFLOP/s of a step, and its fraction of the sgemm ceiling on `threads` threads. */
function flopCells(
  r: BenchReport,
  name: string,
  msPerStep: number | undefined,
  threads: number,
): [string, string] {
  const flops = r.stepFlops?.[name];
  if (!flops || msPerStep === undefined) return ["", ""];
  const rate = flops / (msPerStep * 1e6);
  const c = r.ceiling;
  const ceiling = c ? (threads > 1 ? c.allThreads : c.oneThread) : undefined;
  return [rate.toFixed(1), ceiling ? `${((100 * rate) / ceiling).toFixed(1)}%` : ""];
}

/** Threads our backend multiplies on: every core for `wasm+blas` (also recomputing, with tfjs's backward pass or the SIMD elementwise kernels), one otherwise. */
const backendThreads = (backend: string, cpus: number) =>
  backend === "wasm+blas" || backend === "wasm+blas-recompute" ||
    backend === "wasm+blas-tfjs-backprop" || backend === "wasm+blas-simd"
    ? cpus
    : 1;

/**
 * The report as text: conditions, one row per case and backend (with the
 * peers' rows and our/fastest-peer ratios, for training steps and for the
 * export's inference batches), and the tokenization rates.
 * With several rounds, each figure is the median over the rounds and a ratio
 * also shows its range; a ratio is always taken within one round, against that
 * round's fastest peer run, so that both sides saw the same machine load.
 */
export function formatReport(r: BenchReport): string {
  const out: string[] = [];
  const m = r.machine;
  const rounds = Math.max(1, ...r.runs.map((x) => x.round ?? 1));
  out.push(
    `vatt benchmark — ${r.date}, ${m.os}/${m.arch}, ${m.cpus} CPUs, Deno ${m.deno}, ` +
      `load ${m.loadBefore?.join(" ") ?? "?"} → ${m.loadAfter?.join(" ") ?? "?"}` +
      (rounds > 1 ? `, ${rounds} rounds` : ""),
  );
  out.push(`matrix products (wasm+blas): ${r.blas}`);
  if (r.native) out.push(`native kernels: ${r.native}`);
  const heap = r.runs.find((x) => x.backend === "wasm+blas" && x.result?.hugePages);
  if (heap) out.push(`wasm heap (wasm+blas): huge pages ${heap.result!.hugePages}`);
  const c = r.ceiling;
  if (c) {
    out.push(
      `sgemm ceiling (OpenBLAS ${c.shape.join("×")}): ${
        c.oneThread.toFixed(0)
      } GFLOP/s on 1 thread, ` +
        `${c.allThreads.toFixed(0)} on ${c.threads}`,
    );
  }
  for (const [framework, p] of Object.entries(r.peers ?? {})) {
    out.push(
      p.python === null
        ? `peer ${framework}: not run (${p.reason})`
        : `peer ${framework} ${p.version} (${p.python}): ${p.blas}` +
          (p.referenceBlas ? " — REFERENCE BLAS" : ""),
    );
  }
  for (const [name, cs] of Object.entries(r.cases)) {
    const f = r.stepFlops?.[name];
    out.push(
      `${name}: batch ${cs.batch}; ${cs.label}` +
        (f ? `; ${(f / 1e9).toFixed(2)} GFLOP a step` : ""),
    );
  }
  out.push("");
  const header = [
    "case",
    "backend",
    "step ms",
    "train clips/s",
    "vs fastest peer",
    "GFLOP/s",
    "% ceiling",
    "export clips/s",
    "export vs peer",
    "peak RSS MiB",
    "tensors/step",
  ];
  const rows: string[][] = [];
  const notes: string[] = [];
  const refCases: string[] = [];
  const med = (xs: (number | undefined)[]) => {
    const v = xs.filter((x): x is number => x !== undefined);
    return v.length > 0 ? median(v) : undefined;
  };
  for (const name of Object.keys(r.cases)) {
    const peerRuns = r.peer[name] ?? [];
    const exportPeerRuns = r.exportPeer?.[name] ?? [];
    const refMark = againstReferenceBlas(peerRuns, rounds);
    const exportRefMark = againstReferenceBlas(exportPeerRuns, rounds);
    if (refMark || exportRefMark) refCases.push(name);
    const backends = [...new Set(r.runs.filter((x) => x.case === name).map((x) => x.backend))];
    for (const backend of backends) {
      const all = r.runs.filter((x) => x.case === name && x.backend === backend);
      const done = all.filter((x) => x.result);
      if (done.length === 0) {
        const first = all[0];
        rows.push([name, backend, "–", "–", "", "", "", "", "", "", ""]);
        notes.push(
          `${name}/${backend}: ${
            first.skipped ? "skipped: " + first.skipped : "failed: " + first.error
          }`,
        );
        continue;
      }
      const results = done.map((x) => x.result!);
      const rates = done.flatMap((x) =>
        x.result!.pretrain ? [{ round: x.round, clipsPerSec: x.result!.pretrain.clipsPerSec }] : []
      );
      const exportRates = done.flatMap((x) =>
        x.result!.export ? [{ round: x.round, clipsPerSec: x.result!.export.clipsPerSec }] : []
      );
      const counts = results.map((w) => w.pretrain?.numTensors).filter((c) => c !== undefined);
      const trends = [...new Set(counts.map((c) => tensorTrend(c)))];
      const stepMs = med(results.map((w) => w.pretrain?.medianMs));
      rows.push([
        name,
        backend,
        fixed(stepMs, 0),
        fixed(med(rates.map((x) => x.clipsPerSec)), 2),
        ratioText(ratiosByRound(rates, peerRuns)) + (refMark ? " †" : ""),
        ...flopCells(r, name, stepMs, backendThreads(backend, m.cpus)),
        fixed(med(exportRates.map((x) => x.clipsPerSec)), 1),
        ratioText(ratiosByRound(exportRates, exportPeerRuns)) + (exportRefMark ? " †" : ""),
        fixed(Math.max(...results.map((w) => w.peakRssMiB)), 0),
        trends.join(", "),
      ]);
      if (done.length < all.length) {
        notes.push(`${name}/${backend}: ${all.length - done.length} round(s) failed`);
      }
    }
    const labels = new Map<string, { train: OkPeer[]; forward: OkPeer[] }>();
    for (const [kind, list] of [["train", peerRuns], ["forward", exportPeerRuns]] as const) {
      for (const peer of list) {
        if (!peer.ok) {
          const who = peer.framework === "tensorflow" ? "TensorFlow" : "PyTorch";
          notes.push(
            `${name}/${who}${kind === "forward" ? " (forward only)" : ""}: ${peer.reason}`,
          );
          continue;
        }
        const label = peerLabel(peer);
        const entry = labels.get(label) ?? { train: [], forward: [] };
        entry[kind].push(peer);
        labels.set(label, entry);
      }
    }
    for (const [label, { train, forward }] of labels) {
      const stepMs = med(train.map((p) => p.msPerStep));
      const p = train[0] ?? forward[0];
      const threads = p.framework === "tensorflow" ? p.threads : p.blasThreads ?? m.cpus;
      rows.push([
        name,
        label + (p.referenceBlas ? " †" : ""),
        train.length > 0 ? fixed(stepMs, 0) + "*" : "",
        fixed(med(train.map((p) => p.clipsPerSec)), 2),
        ratioText(ratiosByRound(train, peerRuns)),
        ...flopCells(r, name, stepMs, threads),
        fixed(med(forward.map((p) => p.clipsPerSec)), 1),
        ratioText(ratiosByRound(forward, exportPeerRuns)),
        "",
        "",
      ]);
    }
  }
  out.push(table(header, rows));
  out.push(
    "step ms: median of the measured steps after warm-up (* peers: mean, as they report); " +
      "vs fastest peer: train clips/s ÷ the fastest peer row's (PyTorch or TensorFlow)" +
      (rounds > 1 ? " in the same round; figures: medians over rounds, ratios (min–max)" : ""),
  );
  if (Object.values(r.exportPeer ?? {}).some((runs) => runs.some((p) => p.ok))) {
    out.push(
      "export clips/s: clips embedded per second by the median inference batch (peers: the " +
        "mean of tasks/peer_forward.py on their model: eval mode, no DropToken, no gradients); " +
        "export vs peer: ÷ the " +
        "fastest peer's export clips/s" + (rounds > 1 ? " in the same round" : ""),
    );
  }
  if (r.stepFlops) {
    out.push(
      "GFLOP/s: the step's matrix-product FLOPs from the config (forward + backward ≈ 3× forward, " +
        "after DropToken) ÷ step time; % ceiling: of the sgemm rate on as many threads " +
        "(one, or all for wasm+blas, PyTorch without a BLAS pin and TensorFlow on 2+)",
    );
  }
  if (refCases.length > 0) {
    out.push(
      `† the fastest peer of ${refCases.join(", ")} multiplies on the REFERENCE BLAS ` +
        "(netlib): that ratio measures the peer's BLAS, not our speed",
    );
  }
  for (const n of new Set([...(r.notes ?? []), ...notes])) out.push(`  ${n}`);
  const tok = r.tokenize as
    | {
      error?: string;
      clips?: number;
      results?: { name: string; clipsPerSecond: { median: number } }[];
    }
    | null;
  if (tok) {
    out.push("");
    if (tok.error) out.push(`tokenize: ${tok.error}`);
    else {
      out.push(
        `tokenize (${tok.clips} demo clips): ` +
          (tok.results ?? []).map((x) => `${x.name} ${x.clipsPerSecond.median.toFixed(1)} clips/s`)
            .join(", "),
      );
    }
  }
  return out.join("\n");
}
