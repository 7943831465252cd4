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
  if (options.quiet) return { update() {}, stop() {} };
  const rate = rateMeter();
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
          rate: Number.isFinite(r) ? r.toFixed(1) : "?",
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
  let printed = "";
  const line = (done: number, status: string) => {
    const text = progressLine(options, { done, rate: rate(done), status });
    // The same position and status twice (a last update, then stop) prints once.
    if (text !== printed) console.error(text);
    printed = text;
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

/**
 * Units per second since the first update, or `NaN` until a unit has been
 * timed: the first update only starts the clock (a reporter created just
 * before it, or resumed at step 50, has no real duration to divide by).
 */
function rateMeter(): (done: number) => number {
  let first: { done: number; at: number } | undefined;
  return (done) => {
    const now = performance.now();
    first ??= { done, at: now };
    const seconds = (now - first.at) / 1000;
    return done > first.done && seconds > 0 ? (done - first.done) / seconds : NaN;
  };
}

/**
 * One plain progress line; the rate and ETA are left out while the rate is unknown.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { progressLine } from "./_progress.ts";
 * const o = { label: "pretrain", total: 10, unit: "steps" };
 * assert.equal(progressLine(o, { done: 1, rate: NaN, status: "loss 1.000" }), "pretrain: 1/10 steps (10%), loss 1.000");
 * assert.equal(progressLine(o, { done: 5, rate: 2.5, status: "" }), "pretrain: 5/10 steps (50%), 2.5 steps/s, ETA 2s");
 * ```
 */
export function progressLine(
  options: { label: string; total: number; unit: string },
  at: { done: number; rate: number; status: string },
): string {
  const { done, rate, status } = at;
  const pct = options.total > 0 ? ((100 * done) / options.total).toFixed(0) : "100";
  const speed = Number.isFinite(rate)
    ? `, ${rate.toFixed(1)} ${options.unit}/s, ETA ${formatSeconds((options.total - done) / rate)}`
    : "";
  return `${options.label}: ${done}/${options.total} ${options.unit} (${pct}%)${speed}${
    status ? `, ${status}` : ""
  }`;
}
