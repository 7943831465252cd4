/**
 * The benchmark's JSON report and its table.
 *
 * @module
 */
import type { PeerResult } from "./_bench_peer.ts";
import type { WorkerResult } from "./_bench_worker.ts";

/** One case on one backend. */
export interface RunRecord {
  case: string;
  backend: string;
  result?: WorkerResult;
  /** Why it did not run. */
  skipped?: string;
  /** Why it failed. */
  error?: string;
}

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
  cases: Record<string, { label: string; batch: number }>;
  runs: RunRecord[];
  /** Remarks on how some measurements were taken. */
  notes: string[];
  /** The PyTorch peer per case, one run per torch thread count. */
  peer: Record<string, PeerResult[]>;
  /** `tasks/bench_tokenize.ts`'s report, or `{ error }`. */
  tokenize: unknown;
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

/**
 * The report as text: conditions, one row per case and backend (with the
 * PyTorch peer's row and our/PyTorch ratios), and the tokenization rates.
 */
export function formatReport(r: BenchReport): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(
    `vatt benchmark — ${r.date}, ${m.os}/${m.arch}, ${m.cpus} CPUs, Deno ${m.deno}, ` +
      `load ${m.loadBefore?.join(" ") ?? "?"} → ${m.loadAfter?.join(" ") ?? "?"}`,
  );
  out.push(`matrix products (wasm+blas): ${r.blas}`);
  for (const [name, c] of Object.entries(r.cases)) {
    out.push(`${name}: batch ${c.batch}; ${c.label}`);
  }
  out.push("");
  const header = [
    "case",
    "backend",
    "step ms",
    "train clips/s",
    "vs PyTorch",
    "export clips/s",
    "peak RSS MiB",
    "tensors/step",
  ];
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const name of Object.keys(r.cases)) {
    const peerRuns = r.peer[name] ?? [];
    const ok = peerRuns.filter((p): p is Extract<PeerResult, { ok: true }> => p.ok);
    const peerRate = ok.length > 0 ? Math.max(...ok.map((p) => p.clipsPerSec)) : undefined;
    for (const run of r.runs.filter((x) => x.case === name)) {
      if (run.skipped || run.error) {
        rows.push([name, run.backend, "–", "–", "", "", "", ""]);
        notes.push(
          `${name}/${run.backend}: ${
            run.skipped ? "skipped: " + run.skipped : "failed: " + run.error
          }`,
        );
        continue;
      }
      const w = run.result!;
      const rate = w.pretrain?.clipsPerSec;
      rows.push([
        name,
        run.backend,
        fixed(w.pretrain?.medianMs, 0),
        fixed(rate, 2),
        rate !== undefined && peerRate ? `${(rate / peerRate).toFixed(2)}×` : "",
        fixed(w.export?.clipsPerSec, 1),
        fixed(w.peakRssMiB, 0),
        tensorTrend(w.pretrain?.numTensors),
      ]);
    }
    for (const peer of peerRuns) {
      if (!peer.ok) {
        notes.push(`${name}/PyTorch: ${peer.reason}`);
        continue;
      }
      rows.push([
        name,
        `PyTorch ${peer.torch} (${peer.threads} thr${
          peer.blasThreads ? `, BLAS ${peer.blasThreads}` : ""
        })`,
        fixed(peer.msPerStep, 0) + "*",
        fixed(peer.clipsPerSec, 2),
        peerRate ? `${(peer.clipsPerSec / peerRate).toFixed(2)}×` : "",
        "",
        "",
        "",
      ]);
    }
  }
  out.push(table(header, rows));
  out.push(
    "step ms: median of the measured steps after warm-up (* PyTorch: mean, as the peer reports); " +
      "vs PyTorch: train clips/s ÷ the fastest PyTorch row's",
  );
  for (const n of [...(r.notes ?? []), ...notes]) out.push(`  ${n}`);
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
