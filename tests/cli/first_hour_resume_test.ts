/**
 * Run length and resuming as a new user types them (issue 15): `--epochs` for
 * pretrain, `--resume PATH` for a given checkpoint, and a refused resume that
 * names the flag of each differing field, in pretrain and finetune alike.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { demoDataset } from "../_fixtures.ts";
import { writeUntrainedRun } from "../_untrained_run.ts";
import { errorLines, runVatt } from "./_run.ts";

const fixture = await demoDataset({ clips: 32 });
const BASE = ["--lr", "1e-3", "--backend", "wasm"];

async function checkpoints(run: string): Promise<string[]> {
  const names = [];
  for await (const e of Deno.readDir(path.join(run, "checkpoints"))) names.push(e.name);
  return names.sort();
}

Deno.test("pretrain --epochs N runs ceil(N × clips / batch) steps and says so; with --steps it is one line", async () => {
  const dir = await Deno.makeTempDir();
  const run = path.join(dir, "run");
  // 32 clips, batch 12: 0.5 epochs = ceil(16 / 12) = 2 steps.
  const r = await runVatt([
    "pretrain",
    fixture.data,
    "--out",
    run,
    "--epochs",
    "0.5",
    "--batch",
    "12",
    ...BASE,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /pretrain: --epochs 0\.5 over 32 clips at batch 12 = 2 steps \(ceil\(0\.5 × 32 \/ 12\)\)/,
  );
  assert.match(r.stdout, /pretrained 2 steps/);
  const both = await runVatt([
    "pretrain",
    fixture.data,
    "--out",
    path.join(dir, "both"),
    "--epochs",
    "1",
    "--steps",
    "3",
    ...BASE,
  ]);
  assert.equal(both.code, 2);
  assert.deepEqual(errorLines(both).length, 1, both.stderr);
  assert.match(errorLines(both)[0], /--epochs and --steps exclude each other/);
  await assert.rejects(Deno.stat(path.join(dir, "both")), Deno.errors.NotFound);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("pretrain --resume PATH continues from that checkpoint, removing the newer ones", async () => {
  const dir = await Deno.makeTempDir();
  const run = path.join(dir, "run");
  const args = [
    "pretrain",
    fixture.data,
    "--out",
    run,
    "--batch",
    "4",
    "--checkpoint-every",
    "1",
    "--keep",
    "5",
    ...BASE,
  ];
  assert.equal((await runVatt([...args, "--steps", "3"])).code, 0);
  assert.deepEqual(await checkpoints(run), [
    "step-0000000",
    "step-0000001",
    "step-0000002",
    "step-0000003",
  ]);
  const missing = await runVatt([...args, "--steps", "3", "--resume", "step-0000009"]);
  assert.equal(missing.code, 1);
  assert.match(
    errorLines(missing).at(-1)!,
    /--resume step-0000009: not a complete checkpoint of this run \(its checkpoints: step-0000000, .*step-0000003\)/,
  );
  assert.equal((await checkpoints(run)).length, 4); // nothing removed
  const r = await runVatt([
    ...args,
    "--steps",
    "4",
    "--resume",
    path.join(run, "checkpoints", "step-0000001"),
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /pretrain: resuming from step-0000001; removed the newer step-0000002, step-0000003/,
  );
  assert.match(r.stderr, /resuming at step 1/);
  const metrics = (await Deno.readTextFile(path.join(run, "metrics.jsonl"))).trim().split("\n");
  assert.deepEqual(metrics.map((l) => JSON.parse(l).step), [1, 2, 3, 4]);
  // A name in the run's checkpoints folder works too.
  const byName = await runVatt([...args, "--steps", "4", "--resume", "step-0000004"]);
  assert.equal(byName.code, 0, byName.stderr);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("finetune --resume names the flag of each differing field, as pretrain does, and may run more epochs", async () => {
  const dir = await Deno.makeTempDir();
  const pretrained = path.join(dir, "pretrained");
  await writeUntrainedRun(pretrained);
  const out = path.join(dir, "probe");
  const args = [
    "finetune",
    fixture.data,
    "--from",
    pretrained,
    "--out",
    out,
    "--linear-probe",
    "--batch",
    "8",
    "--backend",
    "wasm",
  ];
  const first = await runVatt([...args, "--epochs", "1"]);
  assert.equal(first.code, 0, first.stderr);
  const other = await runVatt([...args, "--epochs", "1", "--resume", "--seed", "4"]);
  assert.equal(other.code, 1);
  assert.match(errorLines(other).at(-1)!, /finetune\.seed \(--seed: was 0, now 4\)/);
  const longer = await runVatt([...args, "--epochs", "2", "--resume"]);
  assert.equal(longer.code, 0, longer.stderr);
  const epochs = (await Deno.readTextFile(path.join(out, "metrics.jsonl"))).trim().split("\n");
  assert.deepEqual(epochs.map((l) => JSON.parse(l).epoch), [1, 2]);
  await Deno.remove(dir, { recursive: true });
});
