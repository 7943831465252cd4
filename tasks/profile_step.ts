/**
 * `deno run -A tasks/profile_step.ts [tiny|small] [--warmup N] [--runs N] [--backend wasm|cpu] [--top N] [--phases]`:
 * where one pretraining step of a benchmark case (`tasks/_bench_sizes.ts`)
 * spends its time. After the warm-up steps, `--runs` steps run under
 * `tf.profile` (a step calls the same kernels in the same order every time);
 * each kernel call's time is its least over the runs, so that a preemption or
 * a garbage collection on a shared machine does not land on one kernel.
 * Prints the least unprofiled step time, the least profiled step's wall time,
 * the time inside kernels and outside them (tfjs's bookkeeping, the gradient
 * tape, JavaScript between kernels), and per kernel name: calls,
 * milliseconds, and megabytes it allocated. Kernels that only move or
 * reshape data (Identity, Reshape, Transpose, Concat, Slice, Tile, Cast, Pad,
 * Gather) are marked as copies; custom-gradient scopes (`unnamed scope`, `…__op`) time
 * the kernels inside them again, so they are listed but not added to the kernel time.
 *
 * The profiled step is slower than an unprofiled one (every kernel is timed
 * alone); the split between kernels is what to read, not the total.
 *
 * `--phases` then times the parts of the native encoder layer (one kernel to
 * the profile, most of a step) over `--runs` more unprofiled steps in a row,
 * and prints them (`tasks/_profile_phases.ts`): each part's time summed over
 * the threads, and how well each pass used the threads.
 *
 * @module
 */
import { applyBlasCoreType } from "../lib/backend/blas_core.ts";
import * as tf from "@tensorflow/tfjs-core";
import { parseArgs } from "node:util";
import { nativeKernels } from "../lib/backend/native/native.ts";
import { initBackend } from "../lib/backend/select.ts";
import { resolveVattConfig } from "../lib/config/vatt_config.ts";
import { createStepBench } from "./_bench_step.ts";
import { BENCH_CASES, type CaseName } from "./_bench_sizes.ts";
import { phaseReport } from "./_profile_phases.ts";

const COPY_KERNELS = new Set([
  "Identity",
  "Reshape",
  "Transpose",
  "Concat",
  "Slice",
  "Tile",
  "Cast",
  "PadV2",
  "GatherV2",
  "StridedSlice",
]);

/** A scope around other kernels (tfjs's customGrad ops), not a kernel of its own. */
const isScope = (name: string) => name === "unnamed scope" || name.endsWith("__op");

/** Per kernel name: calls, milliseconds, bytes allocated. */
interface KernelTotals {
  calls: number;
  ms: number;
  bytes: number;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: {
      warmup: { type: "string", default: "10" },
      runs: { type: "string", default: "5" },
      backend: { type: "string", default: "wasm" },
      top: { type: "string", default: "25" },
      phases: { type: "boolean", default: false },
    },
    allowPositionals: true,
  });
  const name = (positionals[0] ?? "tiny") as CaseName;
  const c = BENCH_CASES[name];
  if (!c) throw new RangeError(`unknown case ${name} (tiny or small)`);
  await initBackend(values.backend as "wasm" | "cpu");
  const bench = createStepBench(resolveVattConfig(c.model), {
    batch: c.batch,
    captions: c.captions,
  });
  for (let i = 0; i < Number(values.warmup); i++) await bench.step();
  const native = values.phases ? nativeKernels() : null;
  if (values.phases && !native) throw new Error("--phases: the native kernels are not loaded");
  const runs = Math.max(1, Number(values.runs));
  let plainMs = Infinity;
  let wall = Infinity;
  let best: { name: string; ms: number; bytes: number }[] = [];
  for (let r = 0; r < runs; r++) {
    let t0 = performance.now();
    await bench.step();
    plainMs = Math.min(plainMs, performance.now() - t0);
    t0 = performance.now();
    const info = await tf.profile(async () => {
      await bench.step();
    });
    wall = Math.min(wall, performance.now() - t0);
    const calls = info.kernels.map((k) => ({
      name: k.name,
      ms: typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0,
      bytes: Math.max(0, k.bytesAdded),
    }));
    if (r === 0) best = calls;
    else if (calls.length !== best.length || calls.some((k, i) => k.name !== best[i].name)) {
      throw new Error("the step's kernels changed between runs");
    } else calls.forEach((k, i) => (best[i].ms = Math.min(best[i].ms, k.ms)));
  }
  const byName = new Map<string, KernelTotals>();
  let inside = 0;
  for (const k of best) {
    if (!isScope(k.name)) inside += k.ms;
    const t = byName.get(k.name) ?? { calls: 0, ms: 0, bytes: 0 };
    t.calls++;
    t.ms += k.ms;
    t.bytes += k.bytes;
    byName.set(k.name, t);
  }
  const copies = [...byName].filter(([n]) => COPY_KERNELS.has(n));
  const sum = (xs: [string, KernelTotals][], f: (t: KernelTotals) => number) =>
    xs.reduce((a, [, t]) => a + f(t), 0);
  console.log(
    `${name} on ${tf.getBackend()}: unprofiled step ${plainMs.toFixed(1)} ms; profiled step ` +
      `${wall.toFixed(1)} ms: ${inside.toFixed(1)} ms in ${
        best.filter((k) => !isScope(k.name)).length
      } kernel calls (least over ` +
      `${runs} runs), ${(wall - inside).toFixed(1)} ms outside kernels`,
  );
  console.log(
    `copies: ${sum(copies, (t) => t.calls)} calls, ${sum(copies, (t) => t.ms).toFixed(1)} ms, ` +
      `${(sum(copies, (t) => t.bytes) / 2 ** 20).toFixed(1)} MiB allocated`,
  );
  const rows = [...byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(values.top));
  console.log("kernel                      calls       ms   share     MiB");
  for (const [n, t] of rows) {
    console.log(
      `${(n + (COPY_KERNELS.has(n) ? " (copy)" : isScope(n) ? " (scope)" : "")).padEnd(26)} ${
        String(t.calls).padStart(6)
      } ` +
        `${t.ms.toFixed(1).padStart(8)} ${(100 * t.ms / inside).toFixed(1).padStart(6)}% ` +
        `${(t.bytes / 2 ** 20).toFixed(1).padStart(7)}`,
    );
  }
  if (native) {
    native.layerPhases(true); // steps in a row: a profiled step between would change them
    for (let i = 0; i < runs; i++) await bench.step();
    console.log(phaseReport(native.layerPhases(false), runs, native.threads()).join("\n"));
  }
  bench.dispose();
}

if (import.meta.main) {
  applyBlasCoreType(); // first: OpenBLAS reads it when it loads (lib/backend/blas_core.ts)
  await main();
}
