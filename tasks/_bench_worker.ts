/**
 * One benchmark measurement in its own process (so that peak memory and the
 * backend's state belong to it alone), started by `tasks/bench.ts`:
 *
 * ```sh
 * deno run -A tasks/_bench_worker.ts '{"case":"tiny","backend":"wasm","what":["pretrain","export"]}'
 * ```
 *
 * The native BLAS follows the environment (`VATT_BLAS=0` keeps it off). Prints
 * one line `BENCH_RESULT {json}` ({@linkcode WorkerResult}).
 *
 * @module
 */
import { applyBlasCoreType } from "../lib/backend/blas_core.ts";
import { hugePagesStatus } from "../lib/backend/native/huge_pages.ts";
import * as tf from "@tensorflow/tfjs-core";
import { blasKernelState } from "../lib/backend/kernels/matmul.ts";
import { blasStatus } from "../lib/backend/blas.ts";
import { initBackend } from "../lib/backend/select.ts";
import { resolveVattConfig } from "../lib/config/vatt_config.ts";
import { BENCH_CASES, type CaseName } from "./_bench_sizes.ts";
import { createStepBench } from "./_bench_step.ts";

/** What the parent asks for. */
export interface WorkerSpec {
  case: CaseName;
  backend: "cpu" | "wasm" | "webgpu";
  what: ("pretrain" | "export")[];
  /** Override the case's measured steps / warm-up steps. */
  steps?: number;
  warmup?: number;
  /** Export batches measured (default: the case's). */
  exportBatches?: number;
  /** Recompute each transformer layer in the backward pass (`--recompute layers`). */
  recompute?: boolean;
}

/** What the worker answers. */
export interface WorkerResult {
  case: CaseName;
  backend: string;
  /** Matrix products: native BLAS or not (wasm only). */
  blas: string;
  /** The wasm heap's huge pages (`hugePagesStatus()`; wasm only). */
  hugePages?: string;
  batch: number;
  params: number;
  pretrain?: {
    /** Milliseconds of each measured step. */
    stepMs: number[];
    medianMs: number;
    clipsPerSec: number;
    /** Median milliseconds of forward + backward, and of the optimiser (Adam). */
    gradMs: number;
    optimizerMs: number;
    /** Live tensors after each step (warm-up included). */
    numTensors: number[];
    /** Products run natively / by the wasm kernel in one measured step. */
    products?: { native: number; fallback: number };
  };
  export?: { batchMs: number[]; medianMs: number; clipsPerSec: number };
  /** Peak resident memory of the process, MiB (VmHWM where the OS has it, else sampled). */
  peakRssMiB: number;
}

/** The median of `xs` (the mean of the two middle values for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

let sampledPeak = 0;
function sampleRss(): void {
  sampledPeak = Math.max(sampledPeak, Deno.memoryUsage().rss);
}

async function peakRssMiB(): Promise<number> {
  sampleRss();
  try {
    const status = await Deno.readTextFile("/proc/self/status");
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(status);
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux
  }
  return sampledPeak / 2 ** 20;
}

/** Runs the measurements of `spec` in this process. */
export async function measure(spec: WorkerSpec): Promise<WorkerResult> {
  const c = BENCH_CASES[spec.case];
  if (!c) throw new RangeError(`Unknown case ${JSON.stringify(spec.case)}`);
  await initBackend(spec.backend);
  const config = resolveVattConfig(c.model);
  const bench = createStepBench(config, {
    batch: c.batch,
    captions: c.captions,
    recompute: spec.recompute,
  });
  const result: WorkerResult = {
    case: c.name,
    backend: spec.backend,
    blas: spec.backend === "wasm"
      ? (blasKernelState().active ? blasStatus() : `off: ${blasStatus()}`)
      : "n/a",
    ...(spec.backend === "wasm" ? { hugePages: hugePagesStatus() } : {}),
    batch: c.batch,
    params: bench.model.parameterCounts().total,
    peakRssMiB: 0,
  };
  const timer = setInterval(sampleRss, 25);
  try {
    if (spec.what.includes("pretrain")) {
      const warmup = spec.warmup ?? c.warmup;
      const steps = spec.steps ?? c.steps;
      const stepMs: number[] = [];
      const gradMs: number[] = [];
      const optimizerMs: number[] = [];
      const numTensors: number[] = [];
      let products: { native: number; fallback: number } | undefined;
      for (let i = 0; i < warmup + steps; i++) {
        blasKernelState({ reset: true });
        const t0 = performance.now();
        const phases = await bench.step();
        const ms = performance.now() - t0;
        if (i >= warmup) {
          stepMs.push(ms);
          gradMs.push(phases.gradMs);
          optimizerMs.push(phases.optimizerMs);
        }
        const s = blasKernelState();
        if (s.active) products = { native: s.native, fallback: s.fallback };
        numTensors.push(tf.memory().numTensors);
        sampleRss();
      }
      const medianMs = median(stepMs);
      result.pretrain = {
        stepMs,
        medianMs,
        clipsPerSec: c.batch / (medianMs / 1000),
        gradMs: median(gradMs),
        optimizerMs: median(optimizerMs),
        numTensors,
        products,
      };
    }
    if (spec.what.includes("export")) {
      const n = spec.exportBatches ?? c.exportBatches;
      const batchMs: number[] = [];
      for (let i = 0; i < c.exportWarmup + n; i++) {
        const t0 = performance.now();
        await bench.embed();
        if (i >= c.exportWarmup) batchMs.push(performance.now() - t0);
        sampleRss();
      }
      const medianMs = median(batchMs);
      result.export = { batchMs, medianMs, clipsPerSec: c.batch / (medianMs / 1000) };
    }
  } finally {
    clearInterval(timer);
    bench.dispose();
  }
  result.peakRssMiB = await peakRssMiB();
  return result;
}

if (import.meta.main) {
  applyBlasCoreType(); // first: OpenBLAS reads it when it loads (lib/backend/blas_core.ts)
  const spec = JSON.parse(Deno.args[0] ?? "{}") as WorkerSpec;
  const result = await measure(spec);
  console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
}
