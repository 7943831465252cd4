/**
 * `--resume [checkpoint]` of the training commands: the run-folder options it
 * gives, and the line that names checkpoints a resume from an older one removed.
 *
 * @module
 */
import * as path from "node:path";
import type { PreparedRun } from "../lib/run/run_folder.ts";

/** The description of `--resume [checkpoint]` in `--help`. */
export const RESUME_HELP = "continue from the newest checkpoint in --out, or from the one named " +
  "(its path or step-…; newer ones are removed)";

/**
 * `prepareRunFolder`'s `resume` and `checkpoint` for the value of `--resume`:
 * `false` (not given), `true` (bare: the newest) or a checkpoint.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resumeOptions } from "./_resume.ts";
 * assert.deepEqual(resumeOptions(true), { resume: true, checkpoint: undefined });
 * assert.deepEqual(resumeOptions("step-0000002"), { resume: true, checkpoint: "step-0000002" });
 * assert.deepEqual(resumeOptions(false), { resume: false, checkpoint: undefined });
 * ```
 */
export function resumeOptions(
  value: string | boolean,
): { resume: boolean; checkpoint: string | undefined } {
  return { resume: value !== false, checkpoint: typeof value === "string" ? value : undefined };
}

/**
 * The line saying which newer checkpoints a resume from an older one removed, or `undefined`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeDropped } from "./_resume.ts";
 * const line = describeDropped("pretrain", { resumeFrom: "r/checkpoints/step-0000002", step: 2, dropped: ["r/checkpoints/step-0000004"] });
 * assert.equal(line, "pretrain: resuming from step-0000002; removed the newer step-0000004");
 * assert.equal(describeDropped("pretrain", { step: 0 }), undefined);
 * ```
 */
export function describeDropped(label: string, prepared: PreparedRun): string | undefined {
  if (!prepared.dropped || !prepared.resumeFrom) return undefined;
  const names = prepared.dropped.map((c) => path.basename(c)).join(", ");
  return `${label}: resuming from ${
    path.basename(prepared.resumeFrom)
  }; removed the newer ${names}`;
}
