import assert from "node:assert/strict";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { demoDataset } from "../_fixtures.ts";
import { errorLines, runVatt } from "./_run.ts";

const fixture = await demoDataset({ clips: 32 });
const BASE = ["--batch", "4", "--lr", "1e-3", "--final-lr", "1e-4", "--backend", "wasm"];

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    await Deno.copyFile(path.join(from, e.name), path.join(to, e.name));
  }
}

Deno.test("vatt pretrain trains, refuses to overwrite, and continues with --resume", async () => {
  const dir = await Deno.makeTempDir();
  const run = path.join(dir, "run");
  const first = await runVatt([
    "pretrain",
    fixture.data,
    "--out",
    run,
    "--steps",
    "6",
    "--checkpoint-every",
    "3",
    ...BASE,
  ]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /pretrained 6 steps/);
  const metrics = (await Deno.readTextFile(path.join(run, "metrics.jsonl"))).trim().split("\n").map(
    (l) => JSON.parse(l),
  );
  assert.equal(metrics.length, 6);
  for (
    const key of ["loss", "nce", "milNce", "lr", "clipsPerSec", "accVideoAudio", "accVideoText"]
  ) assert.ok(key in metrics[0], key);
  const config = JSON.parse(await Deno.readTextFile(path.join(run, "config.json")));
  assert.equal(config.model.preset, "tiny");
  const again = await runVatt(["pretrain", fixture.data, "--out", run, "--steps", "6", ...BASE]);
  assert.equal(again.code, 1);
  assert.match(errorLines(again).at(-1)!, /already holds a run; use --resume .* or --force/);
  const other = await runVatt([
    "pretrain",
    fixture.data,
    "--out",
    run,
    "--steps",
    "6",
    "--temperature",
    "0.1",
    "--resume",
    ...BASE,
  ]);
  assert.equal(other.code, 1);
  assert.match(errorLines(other).at(-1)!, /another config: train\.temperature/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("Ctrl-C writes a checkpoint at the current step and exits 130", async () => {
  const dir = await Deno.makeTempDir();
  const run = path.join(dir, "run");
  const main = fileURLToPath(new URL("../../cli/main.ts", import.meta.url));
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      main,
      "pretrain",
      fixture.data,
      "--out",
      run,
      "--steps",
      "400",
      "--checkpoint-every",
      "1000",
      ...BASE,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Wait until training is under way (metrics appear), then interrupt.
  for (let i = 0; i < 600; i++) {
    try {
      if ((await Deno.readTextFile(path.join(run, "metrics.jsonl"))).split("\n").length > 3) break;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGINT");
  const out = await child.output();
  assert.equal(out.code, 130, new TextDecoder().decode(out.stderr));
  const err = new TextDecoder().decode(out.stderr);
  const m = /interrupted at step (\d+)/.exec(err);
  assert.ok(m, err);
  const step = Number(m![1]);
  assert.ok(step > 0 && step < 400);
  await Deno.stat(
    path.join(run, "checkpoints", `step-${String(step).padStart(7, "0")}`, "state.json"),
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("vatt pretrain bad input: one line, non-zero exit, before any step", async (t) => {
  const dir = await Deno.makeTempDir();
  await t.step("not a dataset folder", async () => {
    const r = await runVatt(["pretrain", dir, "--out", path.join(dir, "r1"), ...BASE]);
    assert.equal(r.code, 1);
    assert.match(errorLines(r).at(-1)!, /not a dataset folder written by vatt tokenize/);
    await assert.rejects(Deno.stat(path.join(dir, "r1")));
  });
  await t.step("a shard whose checksum does not match", async () => {
    const bad = path.join(dir, "bad");
    await copyDir(fixture.data, bad);
    const shard = path.join(bad, "shard-00000-of-00002.safetensors");
    const bytes = await Deno.readFile(shard);
    bytes[bytes.length - 1] ^= 0xff;
    await Deno.writeFile(shard, bytes);
    const r = await runVatt(["pretrain", bad, "--out", path.join(dir, "r2"), ...BASE]);
    assert.equal(r.code, 1);
    assert.match(errorLines(r).at(-1)!, /checksum does not match/);
    await assert.rejects(Deno.stat(path.join(dir, "r2")));
  });
  await t.step("a config that does not fit the data", async () => {
    const cfg = path.join(dir, "cfg.json");
    await Deno.writeTextFile(cfg, JSON.stringify({ video: { frames: 16 } }));
    const r = await runVatt([
      "pretrain",
      fixture.data,
      "--out",
      path.join(dir, "r3"),
      "--config",
      cfg,
      ...BASE,
    ]);
    assert.equal(r.code, 1);
    assert.match(
      errorLines(r).at(-1)!,
      /does not fit the model: it has 8 frames \(model expects 16\)/,
    );
  });
  await t.step("an unwritable run folder", async () => {
    const file = path.join(dir, "a-file");
    await Deno.writeTextFile(file, "x");
    const r = await runVatt(["pretrain", fixture.data, "--out", path.join(file, "run"), ...BASE]);
    assert.notEqual(r.code, 0);
    assert.equal(errorLines(r).length, 1, r.stderr);
  });
  await t.step("the tensorflow backend when tfjs-node is not installed", async () => {
    const r = await runVatt([
      "pretrain",
      fixture.data,
      "--out",
      path.join(dir, "r5"),
      ...BASE.slice(0, -2),
      "--backend",
      "tensorflow",
    ]);
    assert.equal(r.code, 1);
    assert.match(errorLines(r).at(-1)!, /needs @tensorflow\/tfjs-node .* not installed/);
    await assert.rejects(Deno.stat(path.join(dir, "r5")));
  });
  await t.step("bad flags", async () => {
    const r = await runVatt([
      "pretrain",
      fixture.data,
      "--out",
      path.join(dir, "r6"),
      "--steps",
      "ten",
    ]);
    assert.equal(r.code, 2);
    assert.match(errorLines(r).at(-1)!, /--steps must be an integer, got "ten"/);
  });
  await Deno.remove(dir, { recursive: true });
});
