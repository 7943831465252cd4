/**
 * The run folder's lifecycle: a new run refuses a folder that already holds
 * a run (unless forced), a resumed run continues from its newest complete
 * checkpoint with the same config, and `metrics.jsonl` is cut back to that
 * checkpoint so no step is listed twice.
 *
 * @module
 */
import * as path from "node:path";
import { FormatError, MismatchError } from "../util/errors.ts";
import { pathExists, writeFileAtomic } from "../io/atomic.ts";
import { listCheckpoints, readTrainState } from "./checkpoint.ts";

/** What a run folder holds for the run to start or continue. */
export interface PreparedRun {
  /** The checkpoint to resume from, when resuming. */
  resumeFrom?: string;
  /** Step of that checkpoint (0 for a new run). */
  step: number;
}

const RUN_FILES = ["config.json", "metrics.jsonl", "checkpoints"];

/**
 * Prepares `runDir` for a run whose full config is `config` (written to
 * `config.json`). Checks the folder is writable before any training.
 *
 * @example
 * ```ts
 * import { prepareRunFolder } from "./run_folder.ts";
 * const dir = await Deno.makeTempDir();
 * const r = await prepareRunFolder(dir + "/run", { config: { a: 1 }, resume: false, force: false });
 * console.assert(r.step === 0);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function prepareRunFolder(
  runDir: string,
  options: { config: unknown; resume: boolean; force: boolean },
): Promise<PreparedRun> {
  const configPath = path.join(runDir, "config.json");
  const text = JSON.stringify(options.config, null, 2) + "\n";
  const hasRun = (await Promise.all(RUN_FILES.map((f) => pathExists(path.join(runDir, f))))).some(
    Boolean,
  );
  if (options.resume) {
    if (!hasRun) throw new FormatError("nothing to resume: not a run folder", { path: runDir });
    let stored: string;
    try {
      stored = await Deno.readTextFile(configPath);
    } catch {
      throw new FormatError("nothing to resume: config.json is missing", { path: runDir });
    }
    if (JSON.stringify(JSON.parse(stored)) !== JSON.stringify(options.config)) {
      throw new MismatchError(
        `${runDir} was started with another config; resume with the same flags, or use --force to start over`,
      );
    }
    const all = await listCheckpoints(path.join(runDir, "checkpoints"));
    if (all.length === 0) {
      // Stopped before its first checkpoint: nothing was learnt, start again.
      await truncateMetrics(path.join(runDir, "metrics.jsonl"), 0);
      return { step: 0 };
    }
    const newest = all[all.length - 1];
    const state = await readTrainState(newest.path);
    await truncateMetrics(path.join(runDir, "metrics.jsonl"), state.step);
    return { resumeFrom: newest.path, step: state.step };
  }
  if (hasRun && !options.force) {
    throw new MismatchError(
      `${runDir} already holds a run; use --resume to continue it or --force to start over`,
    );
  }
  await Deno.mkdir(runDir, { recursive: true });
  if (hasRun) {
    for (const f of RUN_FILES) {
      await Deno.remove(path.join(runDir, f), { recursive: true }).catch(() => {});
    }
  }
  try {
    await writeFileAtomic(configPath, text);
  } catch (e) {
    throw new FormatError(`run folder is not writable: ${(e as Error).message}`, { path: runDir });
  }
  return { step: 0 };
}

/** Keeps the lines of `metrics.jsonl` up to `step` (rewritten atomically). */
export async function truncateMetrics(file: string, step: number): Promise<void> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch {
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
