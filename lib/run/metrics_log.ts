/**
 * A run's metrics log, `metrics.jsonl`: one JSON line per step (pretraining)
 * or per epoch (fine-tuning), each with its `step`, appended as the run goes
 * and cut back to a checkpoint's step when the run resumes.
 *
 * @module
 */
import * as path from "node:path";
import { writeFileAtomic } from "../io/atomic.ts";
import { appendJsonl } from "../io/jsonl.ts";
import { INPUT_LIMITS, readInputText } from "../io/input.ts";
import { FormatError } from "../util/errors.ts";

/** The metrics log of the run in `runDir`. */
export function metricsPath(runDir: string): string {
  return path.join(runDir, "metrics.jsonl");
}

/**
 * Appends one line to the run's `metrics.jsonl` (created when missing).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { appendMetrics, metricsPath } from "./metrics_log.ts";
 * const dir = Deno.makeTempDirSync();
 * await appendMetrics(dir, { step: 1, loss: 2.5 });
 * await appendMetrics(dir, { step: 2, loss: 2 });
 * assert.equal(Deno.readTextFileSync(metricsPath(dir)), '{"step":1,"loss":2.5}\n{"step":2,"loss":2}\n');
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function appendMetrics<T extends { step: number }>(
  runDir: string,
  line: T,
): Promise<void> {
  await appendJsonl(metricsPath(runDir), line);
}

/**
 * Keeps the lines of a metrics log up to `step` (rewritten atomically); a
 * line cut by a kill is dropped, and a missing file stays missing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { truncateMetrics } from "./metrics_log.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/metrics.jsonl`, '{"step":1}\n{"step":2}\n{"step":3}\n{"st');
 * await truncateMetrics(`${dir}/metrics.jsonl`, 2);
 * assert.equal(Deno.readTextFileSync(`${dir}/metrics.jsonl`), '{"step":1}\n{"step":2}\n');
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function truncateMetrics(file: string, step: number): Promise<void> {
  let text: string;
  try {
    text = await readInputText(file, { maxBytes: INPUT_LIMITS.manifest, label: "metrics log" });
  } catch (e) {
    if (e instanceof FormatError) throw e;
    return;
  }
  const keep = text.split("\n").filter((line) => {
    if (!line.trim()) return false;
    try {
      const s = JSON.parse(line).step;
      return typeof s === "number" && s <= step;
    } catch {
      return false; // a line cut by a kill
    }
  });
  await writeFileAtomic(file, keep.map((l) => l + "\n").join(""));
}
