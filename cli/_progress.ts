/**
 * Progress on long work: a bar (via `cli-progress`) on a terminal, plain
 * periodic lines otherwise (logs, CI). Writes to stderr so stdout stays
 * machine-readable.
 *
 * @module
 */
import cliProgress from "cli-progress";
import process from "node:process";

/** A progress reporter. */
export interface Progress {
  /** Sets the position and an optional short status text. */
  update(done: number, status?: string): void;
  /** Ends the bar (or prints the last line). */
  stop(): void;
}

/** A duration as `42s`, `1m15s` or `2h05m`; `?` when unknown. */
function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "?";
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/**
 * A progress reporter for `total` units of `unit`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createProgress } from "./_progress.ts";
 * const p = createProgress({ label: "tokenize", total: 10, unit: "clips", quiet: true });
 * assert.doesNotThrow(() => {
 *   p.update(5, "1 skipped");
 *   p.stop();
 * });
 * ```
 */
export function createProgress(
  options: { label: string; total: number; unit: string; quiet?: boolean; intervalMs?: number },
): Progress {
  const started = performance.now();
  if (options.quiet) return { update() {}, stop() {} };
  const rate = (done: number) => done / Math.max(1e-9, (performance.now() - started) / 1000);
  if (Deno.stderr.isTerminal()) {
    const bar = new cliProgress.SingleBar({
      format:
        `${options.label} [{bar}] {value}/{total} ${options.unit} | {rate} ${options.unit}/s | ETA {eta_text} {status}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
    }, cliProgress.Presets.shades_classic);
    bar.start(options.total, 0, { rate: "0.0", eta_text: "?", status: "" });
    return {
      update(done, status = "") {
        const r = rate(done);
        bar.update(done, {
          rate: r.toFixed(1),
          eta_text: formatSeconds((options.total - done) / r),
          status,
        });
      },
      stop() {
        bar.stop();
      },
    };
  }
  const interval = options.intervalMs ?? 5000;
  let last = -Infinity;
  let lastDone = 0;
  let lastStatus = "";
  const line = (done: number, status: string) => {
    const r = rate(done);
    const pct = options.total > 0 ? ((100 * done) / options.total).toFixed(0) : "100";
    console.error(
      `${options.label}: ${done}/${options.total} ${options.unit} (${pct}%), ${
        r.toFixed(1)
      } ${options.unit}/s, ETA ${formatSeconds((options.total - done) / r)}${
        status ? `, ${status}` : ""
      }`,
    );
  };
  return {
    update(done, status = "") {
      lastDone = done;
      lastStatus = status;
      const now = performance.now();
      if (now - last >= interval) {
        last = now;
        line(done, status);
      }
    },
    stop() {
      line(lastDone, lastStatus);
    },
  };
}
