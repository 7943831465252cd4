/**
 * The native encoder layer's time by part (`lib/backend/native/phases.h`), as
 * `tasks/profile_step.ts --phases` prints it: each part's milliseconds a step
 * summed over the threads and its share of them, then each pass's wall time
 * against its parts' time (how well the threads were used: 100 % when every
 * thread worked the whole pass).
 *
 * @module
 */
import { LAYER_PHASES } from "../lib/backend/native/native.ts";

/** The passes whose parts' labels start with the same word. */
const PASSES = ["forward", "backward", "weights"] as const;

/**
 * The lines of the report of `ns` (nanoseconds per {@linkcode LAYER_PHASES}
 * entry, summed over `steps` steps) on `threads` threads.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LAYER_PHASES } from "../lib/backend/native/native.ts";
 * import { phaseReport } from "./_profile_phases.ts";
 * const ns = new BigInt64Array(LAYER_PHASES.length);
 * ns[LAYER_PHASES.indexOf("forward: MLP products")] = 6_000_000n; // 3 ms a step
 * ns[LAYER_PHASES.indexOf("forward: attention")] = 2_000_000n;
 * ns[LAYER_PHASES.indexOf("wall: forward")] = 5_000_000n;
 * const lines = phaseReport(ns, 2, 2);
 * assert.ok(lines.some((l) => /forward: MLP products +3\.00 +75\.0%/.test(l)));
 * assert.ok(lines.some((l) => /^forward +2\.50 +4\.00 +80\.0%$/.test(l))); // 4 / (2 × 2.5)
 * ```
 */
export function phaseReport(ns: BigInt64Array, steps: number, threads: number): string[] {
  const ms = (i: number) => Number(ns[i]) / 1e6 / steps;
  const parts = LAYER_PHASES.flatMap((label, i) => label.startsWith("wall:") ? [] : [i]);
  const total = parts.reduce((sum, i) => sum + ms(i), 0);
  const lines = [
    `native layer: ms a step summed over ${threads} thread(s), ${steps} step(s)`,
    `${"part".padEnd(38)} ${"ms".padStart(8)} ${"share".padStart(7)}`,
    ...parts.map((i) =>
      `${LAYER_PHASES[i].padEnd(38)} ${ms(i).toFixed(2).padStart(8)} ${
        (100 * ms(i) / (total || 1)).toFixed(1).padStart(6)
      }%`
    ),
    `${"pass".padEnd(10)} ${"wall ms".padStart(8)} ${"parts ms".padStart(9)} ${
      "threads used".padStart(12)
    }`,
  ];
  for (const pass of PASSES) {
    const wall = ms(LAYER_PHASES.indexOf(`wall: ${pass}`));
    const work = parts.filter((i) => LAYER_PHASES[i].startsWith(`${pass}:`))
      .reduce((sum, i) => sum + ms(i), 0);
    const used = wall > 0 ? `${(100 * work / (threads * wall)).toFixed(1)}%` : "–";
    lines.push(
      `${pass.padEnd(10)} ${wall.toFixed(2).padStart(8)} ${work.toFixed(2).padStart(9)} ${
        used.padStart(12)
      }`,
    );
  }
  return lines;
}
