/**
 * The run folder's lifecycle: a new run refuses a folder that already holds
 * a run (unless forced), a resumed run continues from its newest complete
 * checkpoint with the same config, and `metrics.jsonl` is cut back to that
 * checkpoint so no step is listed twice. `config.json` also records the
 * backend's effective kernel switches (`VATT_*`) under `kernels`, for the
 * record only: a resumed run is not compared on them.
 *
 * @module
 */
import * as path from "node:path";
import { FormatError, MismatchError } from "../util/errors.ts";
import { pathExists, removeStaleTemps, writeFileAtomic } from "../io/atomic.ts";
import { INPUT_LIMITS, readInputText } from "../io/input.ts";
import { effectiveSwitches } from "../backend/switches.ts";
import { listCheckpoints, readTrainState } from "./checkpoint.ts";
import { acquireRunLock, checkRunLock, type RunLock } from "./lock.ts";
import { metricsPath, truncateMetrics } from "./metrics_log.ts";

/** What a run folder holds for the run to start or continue. */
export interface PreparedRun {
  /** The checkpoint to resume from, when resuming. */
  resumeFrom?: string;
  /** Step of that checkpoint (0 for a new run). */
  step: number;
  /** The run-folder lock, when asked for (`lock: true`): release it when the run ends. */
  lock?: RunLock;
  /** Checkpoints newer than a given `checkpoint` to resume from: removed (their steps run again). */
  dropped?: string[];
}

const RUN_FILES = ["config.json", "metrics.jsonl", "checkpoints"];

/** The key of `config.json` that records the kernel switches (not compared on resume). */
export const KERNELS_KEY = "kernels";

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `config` as written to `config.json`: with the effective kernel switches. */
function withKernels(config: unknown): unknown {
  return isRecord(config) ? { ...config, [KERNELS_KEY]: effectiveSwitches() } : config;
}

/** `config` as compared on resume: without the recorded kernel switches. */
function comparable(config: unknown): unknown {
  if (!isRecord(config)) return config;
  const { [KERNELS_KEY]: _, ...rest } = config;
  return rest;
}

/**
 * Each leaf that differs between `was` and `now`: its dotted path and both
 * values, with the flag that sets it where `flags` names one (the longest
 * dotted prefix of the path that it holds).
 */
function differences(
  was: unknown,
  now: unknown,
  flags: Readonly<Record<string, string>>,
  at = "",
): { path: string; text: string }[] {
  if (isRecord(was) && isRecord(now)) {
    const keys = [...new Set([...Object.keys(was), ...Object.keys(now)])];
    return keys.flatMap((k) => differences(was[k], now[k], flags, at ? `${at}.${k}` : k));
  }
  if (JSON.stringify(was) === JSON.stringify(now)) return [];
  const show = (v: unknown) => v === undefined ? "absent" : JSON.stringify(v);
  const parts = at.split(".");
  let flag: string | undefined;
  for (let n = parts.length; n > 0 && flag === undefined; n--) {
    flag = flags[parts.slice(0, n).join(".")];
  }
  const by = flag ? `${flag}: ` : "";
  return [{ path: at, text: `${at} (${by}was ${show(was)}, now ${show(now)})` }];
}

/** Options of {@linkcode prepareRunFolder}. */
export interface PrepareRunOptions {
  /** The run's full config, written to `config.json`. */
  config: unknown;
  /** Continue from the newest checkpoint. */
  resume: boolean;
  /** Start over in a folder that holds a run. */
  force: boolean;
  /**
   * Take the run-folder lock and hold it until `PreparedRun.lock.release()`
   * (or the program's end): what a command that trains does. Without it, the
   * folder is only checked not to be locked by a live process. Either way a
   * locked folder is refused before anything in it is written or deleted.
   */
  lock?: boolean;
  /**
   * Dotted paths of `config` that may differ on resume (e.g. `train.steps`, to
   * run longer); `config.json` then takes the new values.
   */
  mayDiffer?: readonly string[];
  /** The run's total steps: resuming from a checkpoint past them is refused. */
  steps?: number;
  /**
   * With `resume`: the checkpoint to continue from instead of the newest, a
   * folder in the run's `checkpoints/` (its path, or its name `step-…`);
   * newer checkpoints are removed and their steps run again.
   */
  checkpoint?: string;
  /** Dotted config paths → the flag that sets each, named when a resume is refused. */
  flags?: Readonly<Record<string, string>>;
}

/**
 * Prepares `runDir` for a run whose full config is `config` (written to
 * `config.json`, with the effective kernel switches under `kernels`). Checks
 * the folder is writable before any training. A folder another live process
 * holds the lock of (see `lock.ts`) is refused before anything is touched.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { prepareRunFolder } from "./run_folder.ts";
 * const dir = Deno.makeTempDirSync();
 * const r = await prepareRunFolder(dir + "/run", { config: { a: 1 }, resume: false, force: false, lock: true });
 * assert.equal(r.step, 0);
 * const written = JSON.parse(Deno.readTextFileSync(dir + "/run/config.json"));
 * assert.equal(written.a, 1);
 * assert.equal(typeof written.kernels.VATT_FUSED, "string");
 * await assert.rejects(
 *   prepareRunFolder(dir + "/run", { config: { a: 1 }, resume: true, force: false }),
 *   /is in use by pid/,
 * );
 * r.lock?.release();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function prepareRunFolder(
  runDir: string,
  options: PrepareRunOptions,
): Promise<PreparedRun> {
  // A folder a live process writes is refused first, naming that process.
  if (await pathExists(runDir)) checkRunLock(runDir);
  const hasRun = (await Promise.all(RUN_FILES.map((f) => pathExists(path.join(runDir, f))))).some(
    Boolean,
  );
  if (options.resume && !hasRun) {
    throw new FormatError("nothing to resume: not a run folder", { path: runDir });
  }
  if (!options.resume && hasRun && !options.force) {
    throw new MismatchError(
      `${runDir} already holds a run; use --resume to continue it or --force to start over`,
    );
  }
  // The lock before any write: nothing in a folder a live run writes is cleaned or replaced.
  let lock: RunLock | undefined;
  if (options.lock) {
    await Deno.mkdir(runDir, { recursive: true });
    lock = acquireRunLock(runDir);
  }
  try {
    const prepared = options.resume
      ? await resumeRun(runDir, options)
      : await freshRun(runDir, options.config, hasRun);
    return lock ? { ...prepared, lock } : prepared;
  } catch (e) {
    lock?.release();
    throw e;
  }
}

/** Checks the stored config and cuts `metrics.jsonl` back to the newest checkpoint. */
async function resumeRun(
  runDir: string,
  options: Pick<PrepareRunOptions, "config" | "mayDiffer" | "steps" | "checkpoint" | "flags">,
): Promise<PreparedRun> {
  const { config, mayDiffer = [] } = options;
  const configPath = path.join(runDir, "config.json");
  await removeStaleTemps(runDir, { exclusive: true }); // left by a run killed mid-write
  let stored: string;
  try {
    stored = await readInputText(configPath, { maxBytes: INPUT_LIMITS.json, label: "config.json" });
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw new FormatError("nothing to resume: config.json is missing", { path: runDir });
  }
  const changed = differences(
    comparable(JSON.parse(stored)),
    comparable(config),
    options.flags ?? {},
  );
  const refused = changed.filter((d) => !mayDiffer.includes(d.path));
  if (refused.length > 0) {
    throw new MismatchError(
      `${runDir} was started with another config: ${refused.map((d) => d.text).join(", ")}; ` +
        `resume with the same flags, or use --force to start over`,
    );
  }
  const all = await listCheckpoints(path.join(runDir, "checkpoints"));
  const newest = options.checkpoint !== undefined
    ? await givenCheckpoint(runDir, options.checkpoint, all)
    : all.at(-1);
  const step = newest ? (await readTrainState(newest.path)).step : 0;
  if (options.steps !== undefined && step > options.steps) {
    throw new MismatchError(
      `${runDir} has a checkpoint at step ${step}, past the ${options.steps} steps asked for; ` +
        `resume with at least ${step} steps`,
    );
  }
  if (changed.length > 0) {
    await writeFileAtomic(configPath, JSON.stringify(withKernels(config), null, 2) + "\n");
  }
  // Without a checkpoint (stopped before its first) nothing was learnt: start again.
  await truncateMetrics(metricsPath(runDir), step);
  const dropped = all.filter((c) => c.step > step).map((c) => c.path);
  for (const c of dropped) await Deno.remove(c, { recursive: true });
  if (!newest) return { step: 0 };
  return dropped.length > 0
    ? { resumeFrom: newest.path, step, dropped }
    : { resumeFrom: newest.path, step };
}

/** The checkpoint `given` (a path, or a name in `runDir/checkpoints`), which must be one of `all`. */
async function givenCheckpoint(
  runDir: string,
  given: string,
  all: { step: number; path: string }[],
): Promise<{ step: number; path: string }> {
  const real = async (p: string) => await Deno.realPath(p).catch(() => undefined);
  const asName = path.join(runDir, "checkpoints", given);
  const target = (await real(given)) ?? (await real(asName));
  for (const c of all) {
    if (target !== undefined && (await real(c.path)) === target) return c;
  }
  const names = all.map((c) => path.basename(c.path)).join(", ") || "none";
  throw new FormatError(
    `--resume ${given}: not a complete checkpoint of this run (its checkpoints: ${names})`,
    { path: runDir },
  );
}

/** Empties the run's own files (only those) and writes `config.json`. */
async function freshRun(runDir: string, config: unknown, hasRun: boolean): Promise<PreparedRun> {
  const configPath = path.join(runDir, "config.json");
  const text = JSON.stringify(withKernels(config), null, 2) + "\n";
  await Deno.mkdir(runDir, { recursive: true });
  await removeStaleTemps(runDir, { exclusive: true }); // left by a run killed mid-write
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
