/**
 * Checkpoints of a run: `checkpoints/step-0000500/` with `model.safetensors`
 * (every weight under its stable name, float32; the model config in the
 * metadata), `optimizer.safetensors` (the optimiser's named state) and
 * `state.json` (step, data position, seed). A checkpoint folder is built under
 * a temporary name and renamed, so a listed checkpoint is always complete.
 *
 * Loading validates names, shapes and dtypes against the expected model
 * before any tensor is made: files from elsewhere are untrusted.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as path from "node:path";
import type { VattConfig, VattConfigInput } from "../config/vatt_config.ts";
import { resolveStoredVattConfig } from "../config/stored_vatt_config.ts";
import { FormatError, MismatchError } from "../util/errors.ts";
import { removeStaleTemps, tempPathFor, writeDirAtomic } from "../io/atomic.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { INPUT_LIMITS, readInputText } from "../io/input.ts";
import {
  type DecodedSafetensors,
  type NamedArray,
  openSafetensors,
  readSafetensors,
  type TensorSpec,
  writeSafetensors,
} from "../io/safetensors.ts";
import { weightSpecs } from "../model/weight_specs.ts";
import type { Weights } from "../model/weights.ts";

/** Format tag of `state.json`. */
export const CHECKPOINT_FORMAT = "vatt-checkpoint/1";

/** Everything besides tensors needed to continue a run exactly. */
export interface TrainState {
  format: typeof CHECKPOINT_FORMAT;
  /** Optimisation steps completed. */
  step: number;
  /** Data position: epoch and offset into its shuffled order. */
  data: { epoch: number; offset: number };
  /** The run's seed (DropToken and data order are functions of seed and step). */
  seed: number;
  /** What kind of run wrote this (`pretrain`, `finetune`, …). */
  kind: string;
  /** Free-form extra state of the run kind. */
  extra?: Record<string, unknown>;
}

/** Folder name of the checkpoint at `step`. */
export function checkpointName(step: number): string {
  return `step-${String(step).padStart(7, "0")}`;
}

async function tensorsToArrays(
  tensors: Record<string, tf.Tensor | NamedArray>,
): Promise<Record<string, NamedArray>> {
  const out: Record<string, NamedArray> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (!(t instanceof tf.Tensor)) {
      out[name] = t; // host arrays (an optimiser's state off the backend) are written as they are
      continue;
    }
    const data = await t.data();
    out[name] = t.dtype === "int32"
      ? { dtype: "I32", shape: [...t.shape], data: Int32Array.from(data as Int32Array) }
      : { dtype: "F32", shape: [...t.shape], data: Float32Array.from(data as Float32Array) };
  }
  return out;
}

/**
 * Writes a checkpoint folder atomically and returns its path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { CHECKPOINT_FORMAT, readTrainState, saveCheckpoint } from "./checkpoint.ts";
 * const dir = Deno.makeTempDirSync();
 * const w = tf.variable(tf.ones([2]));
 * const state = { format: CHECKPOINT_FORMAT, step: 5, data: { epoch: 0, offset: 8 }, seed: 1, kind: "example" } as const;
 * const p = await saveCheckpoint(dir, { weights: { w }, config: {}, optimizerState: {}, state });
 * assert.ok(p.endsWith("step-0000005"));
 * assert.equal((await readTrainState(p)).data.offset, 8);
 * w.dispose();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function saveCheckpoint(
  dir: string,
  options: {
    weights: Weights;
    /** Stored in the metadata and checked on load. */
    config: unknown;
    /** The optimiser's state: tensors, or host arrays written as they are. */
    optimizerState: Record<string, tf.Tensor | NamedArray>;
    state: TrainState;
  },
): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const target = path.join(dir, checkpointName(options.state.step));
  const model = await tensorsToArrays(Object.fromEntries(Object.entries(options.weights)));
  const optimizer = await tensorsToArrays(options.optimizerState);
  await writeDirAtomic(target, async (tmp) => {
    await writeSafetensors(path.join(tmp, "model.safetensors"), model, {
      metadata: { format: CHECKPOINT_FORMAT, config: JSON.stringify(options.config) },
    });
    await writeSafetensors(path.join(tmp, "optimizer.safetensors"), optimizer, {
      metadata: { format: CHECKPOINT_FORMAT },
    });
    await writeFileAtomic(
      path.join(tmp, "state.json"),
      JSON.stringify(options.state, null, 2) + "\n",
    );
  }, { overwrite: true });
  return target;
}

/** Complete checkpoints in `dir`, oldest first (temporary leftovers are ignored). */
export async function listCheckpoints(dir: string): Promise<{ step: number; path: string }[]> {
  const out: { step: number; path: string }[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      const m = /^step-(\d{7,})$/.exec(e.name);
      if (m && e.isDirectory) out.push({ step: Number(m[1]), path: path.join(dir, e.name) });
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  return out.sort((a, b) => a.step - b.step);
}

/** Removes all but the newest `keep` checkpoints, and stale temporary folders. */
export async function pruneCheckpoints(dir: string, keep: number): Promise<void> {
  const all = await listCheckpoints(dir);
  for (const c of all.slice(0, Math.max(0, all.length - keep))) {
    // Out of the listing first, so a process killed mid-removal leaves no half checkpoint.
    const doomed = tempPathFor(c.path);
    await Deno.rename(c.path, doomed);
    await Deno.remove(doomed, { recursive: true });
  }
  // A run owns its checkpoints folder.
  await removeStaleTemps(dir, { exclusive: true });
}

/**
 * Resolves `--from RUN` or `--from RUN/checkpoints/step-N` to a checkpoint
 * folder (the newest one of a run).
 */
export async function resolveCheckpoint(from: string): Promise<string> {
  try {
    await Deno.stat(path.join(from, "state.json"));
    return from;
  } catch {
    // not a checkpoint folder itself
  }
  const all = await listCheckpoints(path.join(from, "checkpoints"));
  if (all.length === 0) {
    throw new FormatError("no complete checkpoint (checkpoints/step-*) in this run folder", {
      path: from,
    });
  }
  return all[all.length - 1].path;
}

/**
 * The path of `name` inside a checkpoint folder; a missing file (a damaged or
 * hand-edited checkpoint) is a FormatError, not an OS error.
 */
async function checkpointFile(checkpoint: string, name: string): Promise<string> {
  const file = path.join(checkpoint, name);
  try {
    if ((await Deno.stat(file)).isFile) return file;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  throw new FormatError(`incomplete checkpoint: ${name} is missing`, { path: checkpoint });
}

/** Reads a checkpoint's `state.json`, validated. */
export async function readTrainState(checkpoint: string): Promise<TrainState> {
  const file = path.join(checkpoint, "state.json");
  let raw: unknown;
  try {
    raw = JSON.parse(
      await readInputText(file, { maxBytes: INPUT_LIMITS.json, label: "state.json" }),
    );
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw new FormatError(`cannot read state.json: ${(e as Error).message}`, { path: file });
  }
  const s = raw as TrainState;
  const int = (v: unknown) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
  if (
    !s || s.format !== CHECKPOINT_FORMAT || !int(s.step) || !s.data || !int(s.data.epoch) ||
    !int(s.data.offset) || !int(s.seed)
  ) {
    throw new FormatError("not a vatt checkpoint state", { path: file });
  }
  return s;
}

/** The model config stored in a checkpoint's `model.safetensors` metadata. */
export async function readCheckpointConfig(checkpoint: string): Promise<unknown> {
  const file = await checkpointFile(checkpoint, "model.safetensors");
  const h = await openSafetensors(file);
  try {
    return JSON.parse(h.header.metadata.config ?? "null");
  } catch {
    throw new FormatError("checkpoint config is not valid JSON", { path: file });
  } finally {
    h.close();
  }
}

/**
 * Reads the weights of a checkpoint's `model.safetensors` after checking
 * they are exactly `expect` (names, shapes, dtypes): a MismatchError saying
 * the checkpoint `misfit` otherwise (e.g. "does not fit this classifier").
 */
export async function readCheckpointWeights(
  checkpoint: string,
  options: { expect: Record<string, TensorSpec>; misfit: string },
): Promise<DecodedSafetensors> {
  const file = await checkpointFile(checkpoint, "model.safetensors");
  try {
    const decoded = await readSafetensors(file, { expect: options.expect });
    assertFiniteTensors(decoded.tensors, file);
    return decoded;
  } catch (e) {
    if (e instanceof MismatchError) {
      throw new MismatchError(`checkpoint ${checkpoint} ${options.misfit}: ${e.message}`);
    }
    throw e;
  }
}

/**
 * Throws a FormatError naming the first tensor that holds NaN or ±Infinity
 * (a checkpoint saved after training diverged, or a damaged one).
 */
function assertFiniteTensors(tensors: Record<string, NamedArray>, file: string): void {
  for (const [name, arr] of Object.entries(tensors)) {
    if (arr.dtype !== "F32" && arr.dtype !== "F64") continue;
    const data = arr.data as ArrayLike<number>;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) {
        throw new FormatError(
          `tensor ${JSON.stringify(name)} holds ${
            data[i]
          } at element ${i}: not a usable checkpoint`,
          { path: file },
        );
      }
    }
  }
}

/** Assigns float32 arrays read from a checkpoint to the weights of the same names. */
export function assignWeights(weights: Weights, arrays: Record<string, NamedArray>): void {
  for (const [name, arr] of Object.entries(arrays)) {
    const v = weights[name];
    tf.tidy(() => v.assign(tf.tensor(arr.data as Float32Array, arr.shape, "float32")));
  }
}

/**
 * Loads model weights into `weights`, after checking every name, shape and
 * dtype against the model's specs (and the stored config against `config`).
 */
export async function loadModelWeights(
  checkpoint: string,
  options: { weights: Weights; config: VattConfig },
): Promise<void> {
  const expect: Record<string, TensorSpec> = {};
  for (const s of weightSpecs(options.config)) expect[s.name] = { dtype: "F32", shape: s.shape };
  const decoded = await readCheckpointWeights(checkpoint, {
    expect,
    misfit: "was made with a different model config",
  });
  const stored = decoded.metadata.config;
  if (stored !== undefined && !sameModelConfig(stored, options.config)) {
    throw new MismatchError(`checkpoint ${checkpoint} was made with a different model config`);
  }
  assignWeights(options.weights, decoded.tensors);
}

/**
 * Whether a config stored in a checkpoint (JSON text, perhaps written before
 * some fields existed) resolves to `config`.
 */
function sameModelConfig(stored: string, config: VattConfig): boolean {
  try {
    const resolved = resolveStoredVattConfig(JSON.parse(stored) as VattConfigInput);
    return JSON.stringify(resolved) === JSON.stringify(config);
  } catch {
    return false;
  }
}

/** Loads an optimiser state file as tensors (the caller disposes them). */
export async function loadOptimizerTensors(checkpoint: string): Promise<Record<string, tf.Tensor>> {
  const file = await checkpointFile(checkpoint, "optimizer.safetensors");
  const decoded = await readSafetensors(file);
  assertFiniteTensors(decoded.tensors, file);
  const out: Record<string, tf.Tensor> = {};
  for (const [name, arr] of Object.entries(decoded.tensors)) {
    if (arr.dtype !== "F32" && arr.dtype !== "I32") {
      tf.dispose(Object.values(out));
      throw new FormatError(`optimizer tensor ${name} has dtype ${arr.dtype}`, { path: file });
    }
    out[name] = tf.tensor(
      arr.data as Float32Array | Int32Array,
      arr.shape,
      arr.dtype === "I32" ? "int32" : "float32",
    );
  }
  return out;
}
