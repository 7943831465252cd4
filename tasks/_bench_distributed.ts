/**
 * The distributed rows of `deno task bench`: `vatt pretrain` on the demo
 * dataset at the tiny preset's settings (batch 8, wasm with OpenBLAS) as
 * 1 process × 2 BLAS threads and as 2 MPI ranks × 1 thread each, through the
 * real CLI and `mpirun`, for the tiny preset and for the small preset's
 * transformers (6 layers, 512 wide) on those inputs. The throughput is the
 * median of the per-step clips/s of `metrics.jsonl` after the warm-up steps.
 *
 * @module
 */
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { demoDataset } from "../tests/_fixtures.ts";
import { mpiLaunchers } from "../tests/_mpi.ts";

const MAIN = fileURLToPath(new URL("../cli/main.ts", import.meta.url));

/** What the distributed row measured, or why it did not. */
export type DistributedBench =
  | {
    case: string;
    launcher: string;
    steps: number;
    /** Median clips/s of one process with 2 BLAS threads. */
    oneProcess: number;
    /** Median clips/s (global batch) of 2 ranks with 1 BLAS thread each. */
    twoRanks: number;
    /** `twoRanks / oneProcess`: above 1, the 2 ranks are faster. */
    ratio: number;
  }
  | { skipped: string }
  | { error: string };

/** The median of `xs`. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs `argv` with `env`; the median clips/s of `run`'s steps after `warmup`, or an error text. */
async function clipsPerSec(
  argv: string[],
  options: { env: Record<string, string>; run: string; warmup: number },
): Promise<number | string> {
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    env: options.env,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    return `exit ${out.code}: ${new TextDecoder().decode(out.stderr).trim().split("\n").pop()}`;
  }
  const lines = (await Deno.readTextFile(path.join(options.run, "metrics.jsonl"))).trim().split(
    "\n",
  );
  return median(lines.slice(options.warmup).map((l) => JSON.parse(l).clipsPerSec));
}

/** The cases: the model over the tiny preset (`--config`), and its default steps. */
export const DISTRIBUTED_CASES = {
  tiny: { label: "tiny", config: {}, steps: 10, warmup: 3 },
  small: {
    label: "small transformers (6 × 512) on the tiny inputs",
    config: Object.fromEntries(
      ["video", "audio", "text"].map((m) => [
        m,
        { backbone: { layers: 6, hidden: 512, mlp: 2048, heads: 8 } },
      ]),
    ),
    steps: 3,
    warmup: 1,
  },
} as const;

/** Measures the row of `name`: `steps` measured after `warmup` steps (the case's by default). */
export async function benchDistributed(
  name: keyof typeof DISTRIBUTED_CASES,
  options: { steps?: number; warmup?: number } = {},
): Promise<DistributedBench> {
  const launcher = mpiLaunchers()[0];
  if (!launcher) return { skipped: "no MPI launcher (apt-get install openmpi-bin libopenmpi3)" };
  const c = DISTRIBUTED_CASES[name];
  const steps = options.steps ?? c.steps;
  const warmup = options.warmup ?? c.warmup;
  const { data } = await demoDataset({ clips: 16 });
  const dir = await Deno.makeTempDir({ prefix: "vatt-bench-dist-" });
  const config = path.join(dir, "config.json");
  await Deno.writeTextFile(config, JSON.stringify(c.config));
  const total = steps + warmup;
  const pretrain = (run: string) => [
    ...[Deno.execPath(), "run", "-A", MAIN, "pretrain", data, "--out", run, "--batch", "8"],
    ...["--steps", `${total}`, "--backend", "wasm", "--checkpoint-every", `${total}`, "--quiet"],
    ...["--config", config],
  ];
  try {
    const one = path.join(dir, "one");
    const two = path.join(dir, "two");
    const oneProcess = await clipsPerSec(pretrain(one), {
      env: { VATT_BLAS_THREADS: "2" },
      run: one,
      warmup,
    });
    if (typeof oneProcess === "string") return { error: `1 process: ${oneProcess}` };
    // Open MPI passes the launcher's environment on to the ranks.
    const twoRanks = await clipsPerSec([...launcher.argv(2), ...pretrain(two)], {
      env: { VATT_BLAS_THREADS: "1" },
      run: two,
      warmup,
    });
    if (typeof twoRanks === "string") return { error: `2 ranks: ${twoRanks}` };
    return {
      case: `${c.label} (demo dataset, batch 8, wasm + OpenBLAS)`,
      launcher: launcher.name,
      steps,
      oneProcess,
      twoRanks,
      ratio: twoRanks / oneProcess,
    };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** The row as one line of the report. */
export function formatDistributed(d: DistributedBench): string {
  if ("skipped" in d) return `distributed: skipped, ${d.skipped}`;
  if ("error" in d) return `distributed: failed, ${d.error}`;
  return `distributed (${d.case}, ${d.launcher}, median of ${d.steps} steps): ` +
    `1 process × 2 threads ${d.oneProcess.toFixed(2)} clips/s, 2 ranks × 1 thread ` +
    `${d.twoRanks.toFixed(2)} clips/s, ratio ${d.ratio.toFixed(2)}`;
}
