/**
 * The benchmark's JSON report and its table.
 *
 * @module
 */
import type { PeerResult } from "./_bench_peer.ts";
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

/** One PyTorch run, in one round. */
export type PeerRecord = PeerResult & { round?: number };

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
  /** The PyTorch peer per case, one run per torch thread count and round. */
  peer: Record<string, PeerRecord[]>;
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

type OkPeer = Extract<PeerResult, { ok: true }> & { round?: number };

/**
 * Our/PyTorch ratios of one case: for each round, a rate divided by the
 * fastest PyTorch run of the same round (rounds without one are left out).
 */
export function ratiosByRound(
  rates: { round?: number; clipsPerSec: number }[],
  peers: PeerRecord[],
): number[] {
  const ok = peers.filter((p): p is OkPeer => p.ok);
  const out: number[] = [];
  for (const r of rates) {
    const same = ok.filter((p) => (p.round ?? 1) === (r.round ?? 1));
    if (same.length > 0) out.push(r.clipsPerSec / Math.max(...same.map((p) => p.clipsPerSec)));
  }
  return out;
}

/**
 * The report as text: conditions, one row per case and backend (with the
 * PyTorch peer's rows and our/PyTorch ratios), and the tokenization rates.
 * With several rounds, each figure is the median over the rounds and a ratio
 * also shows its range; a ratio is always taken within one round, against that
 * round's fastest PyTorch run, so that both sides saw the same machine load.
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
  const med = (xs: (number | undefined)[]) => {
    const v = xs.filter((x): x is number => x !== undefined);
    return v.length > 0 ? median(v) : undefined;
  };
  for (const name of Object.keys(r.cases)) {
    const peerRuns = r.peer[name] ?? [];
    const backends = [...new Set(r.runs.filter((x) => x.case === name).map((x) => x.backend))];
    for (const backend of backends) {
      const all = r.runs.filter((x) => x.case === name && x.backend === backend);
      const done = all.filter((x) => x.result);
      if (done.length === 0) {
        const first = all[0];
        rows.push([name, backend, "–", "–", "", "", "", ""]);
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
      const counts = results.map((w) => w.pretrain?.numTensors).filter((c) => c !== undefined);
      const trends = [...new Set(counts.map((c) => tensorTrend(c)))];
      rows.push([
        name,
        backend,
        fixed(med(results.map((w) => w.pretrain?.medianMs)), 0),
        fixed(med(rates.map((x) => x.clipsPerSec)), 2),
        ratioText(ratiosByRound(rates, peerRuns)),
        fixed(med(results.map((w) => w.export?.clipsPerSec)), 1),
        fixed(Math.max(...results.map((w) => w.peakRssMiB)), 0),
        trends.join(", "),
      ]);
      if (done.length < all.length) {
        notes.push(`${name}/${backend}: ${all.length - done.length} round(s) failed`);
      }
    }
    const labels = new Map<string, OkPeer[]>();
    for (const peer of peerRuns) {
      if (!peer.ok) {
        notes.push(`${name}/PyTorch: ${peer.reason}`);
        continue;
      }
      const label = `PyTorch ${peer.torch} (${peer.threads} thr${
        peer.blasThreads ? `, BLAS ${peer.blasThreads}` : ""
      })`;
      labels.set(label, [...(labels.get(label) ?? []), peer]);
    }
    for (const [label, runs] of labels) {
      rows.push([
        name,
        label,
        fixed(med(runs.map((p) => p.msPerStep)), 0) + "*",
        fixed(med(runs.map((p) => p.clipsPerSec)), 2),
        ratioText(ratiosByRound(runs, peerRuns)),
        "",
        "",
        "",
      ]);
    }
  }
  out.push(table(header, rows));
  out.push(
    "step ms: median of the measured steps after warm-up (* PyTorch: mean, as the peer reports); " +
      "vs PyTorch: train clips/s ÷ the fastest PyTorch row's" +
      (rounds > 1 ? " in the same round; figures: medians over rounds, ratios (min–max)" : ""),
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
