/**
 * The torture test: `vatt pretrain` and `vatt tokenize` are killed with
 * SIGKILL at seeded random moments and restarted, again and again. After
 * every kill the output folder is checked (every listed checkpoint or shard
 * loads and is byte-identical to the same file of an uninterrupted run; the
 * metrics lines are those of the uninterrupted run; nothing else is there),
 * every restart must continue from the newest complete checkpoint or shard,
 * and the final result must equal the uninterrupted run's byte for byte
 * (`metrics.jsonl` up to the timing field `clipsPerSec`).
 *
 * Restart rule (what a user would type): `pretrain … --resume` when a
 * complete checkpoint exists, `--force` when the run was killed before its
 * first checkpoint (there is nothing to resume), and for tokenize the same
 * command again.
 *
 * @module
 */
import * as path from "node:path";
import { readSafetensors } from "../../lib/io/safetensors.ts";
import { sha256File } from "../../lib/io/sha256.ts";
import { readTrainState } from "../../lib/run/checkpoint.ts";
import { Rng } from "../../lib/util/rng.ts";
import { type CliRun, lastLine, runVatt } from "./_cli.ts";
import {
  CHECKPOINT_FILES,
  listNames,
  metricKey,
  pretrainArgs,
  type References,
  tokenizeArgs,
} from "./_references.ts";
import { robustnessSeeds } from "./_seeds.ts";

/** Options of {@linkcode torturePretrain} and {@linkcode tortureTokenize}. */
export interface TortureOptions {
  /** SIGKILLs to deliver to running processes (at least). */
  kills: number;
  /** Seed of the kill moments (default 1). */
  seed?: number;
  /** Called with a line per event. */
  log?: (line: string) => void;
}

/** What a torture run saw. */
export interface TortureReport {
  command: "pretrain" | "tokenize";
  /** SIGKILLs delivered to a running process. */
  kills: number;
  /** Runs started after a kill (each must continue from what the killed one left). */
  restarts: number;
  /** Complete runs (each ends compared with the uninterrupted run). */
  rounds: number;
  /** Output-folder checks made (after every kill and at the end of each round). */
  checks: number;
  /** Everything found wrong; empty when the test passes. */
  problems: string[];
  ms: number;
}

async function exists(p: string): Promise<boolean> {
  try {
    await Deno.lstat(p);
    return true;
  } catch {
    return false;
  }
}

function fail(run: CliRun, what: string): string {
  return `${what} failed (exit ${run.code ?? run.signal}): ${lastLine(run.stderr)}`;
}

// ------------------------------------------------------------------ pretrain

/** Checks a pretrain run folder; returns the newest complete checkpoint step (-1: none). */
async function checkPretrainFolder(
  out: string,
  ref: References,
  problems: string[],
  options: { final: boolean; steps: number },
): Promise<number> {
  const note = (m: string) => problems.push(`pretrain ${path.basename(out)}: ${m}`);
  for (const name of await listNames(out)) {
    if (!["config.json", "metrics.jsonl", "checkpoints"].includes(name) && !name.startsWith(".")) {
      note(`unexpected file ${name}`);
    }
    if (options.final && name.startsWith(".")) note(`temporary file ${name} left at the end`);
  }
  if (await exists(path.join(out, "config.json"))) {
    try {
      JSON.parse(await Deno.readTextFile(path.join(out, "config.json")));
    } catch (e) {
      note(`config.json is corrupt: ${(e as Error).message}`);
    }
  }
  let newest = -1;
  const ckptDir = path.join(out, "checkpoints");
  for (const name of await listNames(ckptDir)) {
    const m = /^step-(\d{7,})$/.exec(name);
    if (!m) {
      if (!name.startsWith(".")) note(`unexpected entry checkpoints/${name}`);
      if (options.final && name.startsWith(".")) {
        note(`temporary entry checkpoints/${name} left at the end`);
      }
      continue;
    }
    const step = Number(m[1]);
    const dir = path.join(ckptDir, name);
    const want = ref.checkpoints.get(step);
    try {
      for (const f of CHECKPOINT_FILES) {
        const sha = await sha256File(path.join(dir, f));
        if (!want || want[f] !== sha) {
          note(`checkpoints/${name}/${f} differs from the uninterrupted run`);
        }
      }
      await readSafetensors(path.join(dir, "model.safetensors"));
      await readSafetensors(path.join(dir, "optimizer.safetensors"));
      const state = await readTrainState(dir);
      if (state.step !== step) note(`checkpoints/${name} holds step ${state.step}`);
      newest = Math.max(newest, step);
    } catch (e) {
      note(`checkpoints/${name} is partial or corrupt: ${(e as Error).message}`);
    }
  }
  const metricsPath = path.join(out, "metrics.jsonl");
  if (await exists(metricsPath)) {
    const text = await Deno.readTextFile(metricsPath);
    const lines = text.split("\n");
    const tail = lines.pop() ?? ""; // after the last newline: empty, or a line cut by the kill
    if (options.final && tail !== "") note("metrics.jsonl ends with a partial line");
    lines.forEach((line, i) => {
      try {
        if (metricKey(line) !== ref.metrics.get(i + 1)) {
          note(`metrics.jsonl line ${i + 1} differs from the uninterrupted run`);
        }
      } catch {
        note(`metrics.jsonl line ${i + 1} is not JSON`);
      }
    });
    if (options.final && lines.length !== options.steps) {
      note(`metrics.jsonl has ${lines.length} lines, expected ${options.steps}`);
    }
  } else if (options.final) note("metrics.jsonl is missing");
  return newest;
}

/**
 * Kills `vatt pretrain` at random moments and restarts it until the run
 * completes, `kills` times at least (in several rounds when one run ends
 * before enough kills).
 *
 * @example
 * ```ts
 * import { makeReferences } from "./_references.ts";
 * import { torturePretrain } from "./_torture.ts";
 * const refs = await makeReferences(await Deno.makeTempDir(), 4);
 * const report = await torturePretrain(refs, { kills: 1 });
 * console.assert(report.problems.length === 0);
 * ```
 */
export async function torturePretrain(
  ref: References,
  options: TortureOptions,
): Promise<TortureReport> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const steps = ref.steps;
  const seeds = await robustnessSeeds();
  const root = await Deno.makeTempDir({ prefix: "vatt-torture-pretrain-" });
  const rng = new Rng(options.seed ?? 1);
  const report: TortureReport = {
    command: "pretrain",
    kills: 0,
    restarts: 0,
    rounds: 0,
    checks: 0,
    problems: [],
    ms: 0,
  };
  const args = (
    out: string,
    extra: string[],
  ) => [...pretrainArgs(seeds.data, out, { steps, keep: 2 }), ...extra];
  try {
    while (report.kills < options.kills) {
      report.rounds++;
      const out = path.join(root, `round-${report.rounds}`);
      let newest = -1;
      let first = true;
      while (true) {
        const extra = first ? [] : newest >= 0 ? ["--resume"] : ["--force"];
        const remaining = ref.pretrainStartupMs +
          (steps - Math.max(newest, 0)) * ref.pretrainStepMs;
        const killAfterMs = report.kills < options.kills
          ? Math.floor(rng.nextFloat() * remaining)
          : undefined;
        const r = await runVatt(args(out, extra), { killAfterMs });
        const resumed = /resuming at step (\d+)/.exec(r.stderr);
        if (!first) report.restarts++;
        if (extra[0] === "--resume") {
          if (resumed && Number(resumed[1]) !== newest) {
            report.problems.push(
              `a restart resumed at step ${resumed[1]}, the newest checkpoint was ${newest}`,
            );
          }
          if (!resumed && !r.killed) {
            report.problems.push(`a --resume run did not resume: ${lastLine(r.stderr)}`);
          }
        }
        first = false;
        if (r.killed) {
          report.kills++;
          newest = await checkPretrainFolder(out, ref, report.problems, { final: false, steps });
          report.checks++;
          log(
            `pretrain: killed after ${
              (killAfterMs! / 1000).toFixed(2)
            } s; newest checkpoint ${newest}`,
          );
          continue;
        }
        if (r.code !== 0) {
          report.problems.push(fail(r, `pretrain ${extra.join(" ")}`));
          break;
        }
        await checkPretrainFolder(out, ref, report.problems, { final: true, steps });
        report.checks++;
        const final = (await listNames(path.join(out, "checkpoints"))).filter((n) =>
          !n.startsWith(".")
        );
        const expected = [...ref.checkpoints.keys()].sort((a, b) => a - b).slice(-2).map((s) =>
          `step-${String(s).padStart(7, "0")}`
        );
        if (final.join() !== expected.join()) {
          report.problems.push(
            `final checkpoints ${final.join(", ")}, expected ${expected.join(", ")}`,
          );
        }
        log(`pretrain: round ${report.rounds} complete, identical to the uninterrupted run`);
        break;
      }
      if (report.problems.length > 0) break;
    }
  } finally {
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
  report.ms = performance.now() - started;
  return report;
}

// ------------------------------------------------------------------ tokenize

/** Checks a dataset folder against the uninterrupted one; returns the complete shards. */
async function checkTokenizeFolder(
  out: string,
  ref: Map<string, string>,
  problems: string[],
  options: { final: boolean },
): Promise<number> {
  const note = (m: string) => problems.push(`tokenize ${path.basename(out)}: ${m}`);
  let shards = 0;
  const names = await listNames(out);
  for (const name of names) {
    if (name.startsWith(".")) {
      if (options.final) note(`temporary file ${name} left at the end`);
      continue;
    }
    const want = ref.get(name);
    if (!want) {
      note(`unexpected file ${name}`);
      continue;
    }
    if ((await sha256File(path.join(out, name))) !== want) {
      note(`${name} differs from the uninterrupted run (partial or corrupt)`);
    } else if (name.endsWith(".safetensors")) {
      try {
        await readSafetensors(path.join(out, name));
        shards++;
      } catch (e) {
        note(`${name} does not load: ${(e as Error).message}`);
      }
    }
  }
  if (options.final) {
    for (const name of ref.keys()) if (!names.includes(name)) note(`${name} is missing at the end`);
  }
  return shards;
}

/**
 * Kills `vatt tokenize` at random moments and runs the same command again
 * until it completes, `kills` times at least.
 *
 * @example
 * ```ts
 * import { makeReferences } from "./_references.ts";
 * import { tortureTokenize } from "./_torture.ts";
 * const refs = await makeReferences(await Deno.makeTempDir(), 4);
 * const report = await tortureTokenize(refs, { kills: 1 });
 * console.assert(report.problems.length === 0);
 * ```
 */
export async function tortureTokenize(
  ref: References,
  options: TortureOptions,
): Promise<TortureReport> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const seeds = await robustnessSeeds();
  const root = await Deno.makeTempDir({ prefix: "vatt-torture-tokenize-" });
  const rng = new Rng(options.seed ?? 1);
  const report: TortureReport = {
    command: "tokenize",
    kills: 0,
    restarts: 0,
    rounds: 0,
    checks: 0,
    problems: [],
    ms: 0,
  };
  const total = [...ref.tokenizeFiles.keys()].filter((n) => n.endsWith(".safetensors")).length;
  try {
    while (report.kills < options.kills) {
      report.rounds++;
      const out = path.join(root, `round-${report.rounds}`);
      let shards = 0;
      let first = true;
      while (true) {
        const remaining = ref.tokenizeStartupMs + (total - shards) * ref.tokenizeShardMs;
        const killAfterMs = report.kills < options.kills
          ? Math.floor(rng.nextFloat() * remaining)
          : undefined;
        const r = await runVatt(tokenizeArgs(seeds.manifests[0], out), { killAfterMs });
        if (!first) report.restarts++;
        if (!first && r.code === 0 && shards > 0) {
          const kept = /(\d+) shards kept from an earlier run/.exec(r.stdout);
          if (!kept || Number(kept[1]) !== shards) {
            report.problems.push(`a re-run kept ${kept?.[1] ?? 0} shards, ${shards} were complete`);
          }
        }
        first = false;
        if (r.killed) {
          report.kills++;
          shards = await checkTokenizeFolder(out, ref.tokenizeFiles, report.problems, {
            final: false,
          });
          report.checks++;
          log(
            `tokenize: killed after ${
              (killAfterMs! / 1000).toFixed(2)
            } s; ${shards} complete shards`,
          );
          continue;
        }
        if (r.code !== 0) {
          report.problems.push(fail(r, "tokenize re-run"));
          break;
        }
        await checkTokenizeFolder(out, ref.tokenizeFiles, report.problems, { final: true });
        report.checks++;
        log(`tokenize: round ${report.rounds} complete, identical to the uninterrupted run`);
        break;
      }
      if (report.problems.length > 0) break;
    }
  } finally {
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
  report.ms = performance.now() - started;
  return report;
}

/**
 * Kills a process while it prunes an old checkpoint of many files: the
 * checkpoint must vanish from the listing at once (renamed away, then
 * deleted), never stay listed half deleted. Returns the problems found.
 *
 * @example
 * ```ts
 * import { tortureCheckpointPrune } from "./_torture.ts";
 * console.assert((await tortureCheckpointPrune()).length === 0);
 * ```
 */
export async function tortureCheckpointPrune(options: { files?: number } = {}): Promise<string[]> {
  const files = options.files ?? 20000;
  const dir = await Deno.makeTempDir({ prefix: "vatt-torture-prune-" });
  const problems: string[] = [];
  try {
    const old = path.join(dir, "step-0000001");
    await Deno.mkdir(old);
    for (let i = 0; i < files; i++) {
      await Deno.writeFile(path.join(old, `f${i}`), new Uint8Array(1));
    }
    for (const s of ["step-0000002", "step-0000003"]) await Deno.mkdir(path.join(dir, s));
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("./_prune_child.ts", import.meta.url).pathname, dir],
      stdout: "null",
      stderr: "null",
    }).spawn();
    let exited = false;
    child.status.then(() => exited = true);
    // Kill it once the removal has begun: the old folder has lost files, or left the listing.
    while (!exited) {
      const n = await listNames(old);
      if (n.length < files) break;
      await new Promise((r) => setTimeout(r, 2));
    }
    try {
      child.kill("SIGKILL");
    } catch {
      problems.push("the pruning process ended before it could be killed (too few files?)");
    }
    await child.status;
    const listed = (await listNames(dir)).filter((n) => !n.startsWith("."));
    if (listed.includes("step-0000001")) {
      const left = (await listNames(old)).length;
      if (left !== files) {
        problems.push(`step-0000001 is still listed with ${left} of its ${files} files`);
      }
    }
    if (!listed.includes("step-0000002") || !listed.includes("step-0000003")) {
      problems.push(`the newest checkpoints were touched: ${listed.join(", ")}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  return problems;
}

/** One line per torture report. */
export function formatTortureReport(r: TortureReport): string {
  return `torture ${r.command}: ${r.kills} kills survived, ${r.restarts} restarts, ${r.rounds} complete runs, ` +
    `${r.checks} folder checks, ${r.problems.length} problems in ${(r.ms / 1000).toFixed(1)} s` +
    r.problems.slice(0, 10).map((p) => `\n  PROBLEM ${p}`).join("");
}
