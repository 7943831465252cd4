/**
 * The commands that read a pretrained model (`eval retrieval`, `eval
 * zero-shot`, `export`) refuse a fine-tuned run by name, saying which command
 * takes it, before any weight is read.
 *
 * @module
 */
import * as path from "node:path";
import { CliError } from "./cli_error.ts";
import { INPUT_LIMITS, readInputText } from "../lib/io/input.ts";

/**
 * Throws a CliError (exit 2) when `--from` (a run folder, or a checkpoint
 * inside one) is a `vatt finetune` run; anything else passes, for the model
 * loader to judge.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkPretrainedRun } from "./_pretrained_run.ts";
 * const run = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${run}/config.json`, JSON.stringify({ kind: "finetune" }));
 * await assert.rejects(
 *   checkPretrainedRun(`${run}/checkpoints/step-0000006`, "eval retrieval"),
 *   /is a fine-tuned classifier run .*vatt eval classify DATA --from/,
 * );
 * Deno.writeTextFileSync(`${run}/config.json`, JSON.stringify({ kind: "pretrain" }));
 * await checkPretrainedRun(run, "eval retrieval"); // passes
 * Deno.removeSync(run, { recursive: true });
 * ```
 */
export async function checkPretrainedRun(from: string, command: string): Promise<void> {
  for (const dir of [from, path.dirname(path.dirname(from))]) {
    let kind: unknown;
    try {
      const file = path.join(dir, "config.json");
      kind = JSON.parse(await readInputText(file, { maxBytes: INPUT_LIMITS.json }))?.kind;
    } catch {
      continue; // not a run folder: the checkpoint itself, or unreadable
    }
    if (kind === "finetune") {
      throw new CliError(
        `${from} is a fine-tuned classifier run (vatt finetune): evaluate it with ` +
          `vatt eval classify DATA --from ${from}; vatt ${command} takes a pretrained run ` +
          `(vatt pretrain)`,
        2,
      );
    }
    return;
  }
}
