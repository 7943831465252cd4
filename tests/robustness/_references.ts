/**
 * The uninterrupted runs that the torture test and the write-failure
 * scenarios compare against: `vatt tokenize` of the seed media and
 * `vatt pretrain` of the seed dataset, through the real CLI, with the flags
 * every interrupted run uses too.
 *
 * @module
 */
import * as path from "node:path";
import { sha256File } from "../../lib/io/sha256.ts";
import { type CliRun, lastLine, runVatt } from "./_cli.ts";
import { robustnessSeeds } from "./_seeds.ts";

/** The reference runs and what was measured on them. */
export interface References {
  /** Pretrain run folder (every checkpoint kept). */
  pretrain: string;
  /** Tokenized dataset folder. */
  tokenize: string;
  /** Pretraining steps. */
  steps: number;
  /** Seconds to the first metrics line, and per step (for picking kill moments). */
  pretrainStartupMs: number;
  pretrainStepMs: number;
  /** Milliseconds to the first shard, and per shard. */
  tokenizeStartupMs: number;
  tokenizeShardMs: number;
  /** sha256 of every file of the dataset folder, by name. */
  tokenizeFiles: Map<string, string>;
  /** sha256 of each checkpoint file, by step then file name. */
  checkpoints: Map<number, Record<string, string>>;
  /** Metrics lines without their timing field, by step. */
  metrics: Map<number, string>;
}

/** The files of a checkpoint folder. */
export const CHECKPOINT_FILES = ["model.safetensors", "optimizer.safetensors", "state.json"];

/** Flags of every pretrain run (the reference keeps all checkpoints, the others 2). */
export function pretrainArgs(
  data: string,
  out: string,
  options: { steps: number; keep: number },
): string[] {
  return [
    "pretrain",
    data,
    "--out",
    out,
    "--steps",
    String(options.steps),
    "--batch",
    "2",
    "--backend",
    "wasm",
    "--lr",
    "1e-3",
    "--checkpoint-every",
    "2",
    "--keep",
    String(options.keep),
    "--seed",
    "0",
  ];
}

/** Flags of every tokenize run: one clip per shard, so there are many moments to kill it. */
export function tokenizeArgs(manifest: string, out: string): string[] {
  return [
    "tokenize",
    manifest,
    "--out",
    out,
    "--preset",
    "tiny",
    "--clips-per-shard",
    "1",
    "--workers",
    "1",
  ];
}

/** A metrics line without its timing field, for comparison. */
export function metricKey(line: string): string {
  const m = JSON.parse(line);
  delete m.clipsPerSec;
  return JSON.stringify(m);
}

async function exists(p: string): Promise<boolean> {
  try {
    await Deno.lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** Runs `fn` while polling for `file`; returns the run and when the file first appeared. */
async function timeUntil(
  file: string,
  fn: () => Promise<CliRun>,
): Promise<{ run: CliRun; appearedMs: number }> {
  const t0 = performance.now();
  let appearedMs = -1;
  let done = false;
  const poll = (async () => {
    while (!done && appearedMs < 0) {
      if (await exists(file)) appearedMs = performance.now() - t0;
      else await new Promise((r) => setTimeout(r, 25));
    }
  })();
  const run = await fn();
  done = true;
  await poll;
  return { run, appearedMs: appearedMs < 0 ? run.ms : appearedMs };
}

/** Names in a folder, sorted (none when it does not exist). */
export async function listNames(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) out.push(e.name);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort();
}

/**
 * Makes the reference runs in `root` (pretraining `steps` steps, a
 * checkpoint every 2).
 *
 * @example
 * ```ts
 * import { makeReferences } from "./_references.ts";
 * const refs = await makeReferences(await Deno.makeTempDir(), 4);
 * console.assert(refs.checkpoints.size === 3);
 * ```
 */
export async function makeReferences(root: string, steps = 8): Promise<References> {
  const seeds = await robustnessSeeds();
  const pretrain = path.join(root, "ref-pretrain");
  const tokenize = path.join(root, "ref-tokenize");
  const p = await timeUntil(
    path.join(pretrain, "metrics.jsonl"),
    () => runVatt(pretrainArgs(seeds.data, pretrain, { steps, keep: 1000 })),
  );
  if (p.run.code !== 0) {
    throw new Error(`the reference pretrain run failed: ${lastLine(p.run.stderr)}`);
  }
  const t = await timeUntil(
    path.join(tokenize, "shard-00000-of-00008.safetensors"),
    () => runVatt(tokenizeArgs(seeds.manifests[0], tokenize)),
  );
  if (t.run.code !== 0) {
    throw new Error(`the reference tokenize run failed: ${lastLine(t.run.stderr)}`);
  }
  const checkpoints = new Map<number, Record<string, string>>();
  for (const name of await listNames(path.join(pretrain, "checkpoints"))) {
    const shas: Record<string, string> = {};
    for (const f of CHECKPOINT_FILES) {
      shas[f] = await sha256File(path.join(pretrain, "checkpoints", name, f));
    }
    checkpoints.set(Number(name.slice(5)), shas);
  }
  const metrics = new Map<number, string>();
  for (
    const line of (await Deno.readTextFile(path.join(pretrain, "metrics.jsonl"))).trim().split("\n")
  ) {
    metrics.set(JSON.parse(line).step, metricKey(line));
  }
  const tokenizeFiles = new Map<string, string>();
  for (const name of await listNames(tokenize)) {
    tokenizeFiles.set(name, await sha256File(path.join(tokenize, name)));
  }
  const shards = [...tokenizeFiles.keys()].filter((n) => n.endsWith(".safetensors")).length;
  return {
    pretrain,
    tokenize,
    steps,
    pretrainStartupMs: p.appearedMs,
    pretrainStepMs: Math.max(50, (p.run.ms - p.appearedMs) / steps),
    tokenizeStartupMs: t.appearedMs,
    tokenizeShardMs: Math.max(20, (t.run.ms - t.appearedMs) / Math.max(1, shards - 1)),
    tokenizeFiles,
    checkpoints,
    metrics,
  };
}
