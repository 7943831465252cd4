/**
 * `deno task repro`: the reproducibility check of the toolkit, on the tiny
 * preset and the demo dataset, through the real CLI, on the cpu and wasm
 * backends:
 * 1. two runs with the same seed and data give bit-identical checkpoints and
 *    identical metrics;
 * 2. a run killed (SIGKILL) mid-way and continued with `--resume` ends with
 *    the same checkpoint bytes and the same per-step losses as the
 *    uninterrupted run.
 * Prints one line per check and exits 1 if any fails.
 *
 * @module
 */
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { demoDataset } from "../tests/_fixtures.ts";

const STEPS = 12;
const MAIN = fileURLToPath(new URL("../cli/main.ts", import.meta.url));

function pretrainArgs(data: string, out: string, backend: string, extra: string[] = []): string[] {
  return [
    "run",
    "-A",
    MAIN,
    "pretrain",
    data,
    "--out",
    out,
    "--backend",
    backend,
    "--steps",
    String(STEPS),
    "--batch",
    "4",
    "--lr",
    "1e-3",
    "--final-lr",
    "1e-4",
    "--warmup",
    "2",
    "--checkpoint-every",
    "2",
    "--seed",
    "7",
    ...extra,
  ];
}

async function runCli(args: string[]): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(
      `vatt ${args[3]} failed: ${new TextDecoder().decode(out.stderr).trim().split("\n").pop()}`,
    );
  }
}

async function finalState(
  runDir: string,
): Promise<{ model: Uint8Array; optimizer: Uint8Array; losses: string }> {
  const ckpt = path.join(runDir, "checkpoints", `step-${String(STEPS).padStart(7, "0")}`);
  const metrics = (await Deno.readTextFile(path.join(runDir, "metrics.jsonl"))).trim().split("\n")
    .map((l) => JSON.parse(l)).map((m) => `${m.step}:${m.loss}`).join(",");
  return {
    model: await Deno.readFile(path.join(ckpt, "model.safetensors")),
    optimizer: await Deno.readFile(path.join(ckpt, "optimizer.safetensors")),
    losses: metrics,
  };
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

async function killMidway(args: string[], runDir: string): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), { args, stdout: "null", stderr: "null" }).spawn();
  // Wait for a checkpoint after step 0, then kill at once (no chance to clean up).
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    let found = false;
    try {
      for await (const e of Deno.readDir(path.join(runDir, "checkpoints"))) {
        if (/^step-\d+$/.test(e.name) && e.name !== "step-0000000") found = true;
      }
    } catch {
      // not yet created
    }
    if (found) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    child.kill("SIGKILL");
  } catch {
    // already finished
  }
  await child.status;
}

const { data } = await demoDataset({ clips: 32 });
const root = await Deno.makeTempDir({ prefix: "vatt-repro-" });
let failures = 0;
const report = (ok: boolean, what: string) => {
  console.log(`${ok ? "PASS" : "FAIL"} ${what}`);
  if (!ok) failures++;
};
try {
  for (const backend of ["cpu", "wasm"]) {
    const a = path.join(root, `${backend}-a`);
    const b = path.join(root, `${backend}-b`);
    const c = path.join(root, `${backend}-c`);
    await runCli(pretrainArgs(data, a, backend));
    await runCli(pretrainArgs(data, b, backend));
    const sa = await finalState(a);
    const sb = await finalState(b);
    report(
      same(sa.model, sb.model) && same(sa.optimizer, sb.optimizer) && sa.losses === sb.losses,
      `${backend}: two runs with seed 7 give bit-identical checkpoints and losses (${STEPS} steps)`,
    );
    await killMidway(pretrainArgs(data, c, backend), c);
    await runCli(pretrainArgs(data, c, backend, ["--resume"]));
    const sc = await finalState(c);
    report(
      same(sa.model, sc.model) && same(sa.optimizer, sc.optimizer) && sa.losses === sc.losses,
      `${backend}: a run killed mid-way and resumed equals the uninterrupted run`,
    );
  }
} finally {
  await Deno.remove(root, { recursive: true });
}
console.log(failures === 0 ? "repro: all checks passed" : `repro: ${failures} check(s) failed`);
Deno.exit(failures === 0 ? 0 : 1);
