/**
 * What a new user meets in the first hour (issue 15): the slow-path note, no
 * headless WebGPU noise, the preset picked from the dataset, the batch fitted
 * to the dataset, resume naming what differs and running longer, and the
 * demo's flags checked before anything is touched.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { readEmbeddings } from "../../lib/eval/embeddings/read.ts";
import { demoDataset } from "../_fixtures.ts";
import { errorLines, runVatt } from "./_run.ts";

const fixture = await demoDataset({ clips: 32 });
const MISSING_BLAS = { VATT_BLAS_LIB: "/nonexistent/libopenblas.so.0" };
const BASE = ["--batch", "4", "--lr", "1e-3", "--final-lr", "1e-4", "--backend", "wasm"];
const MAIN = fileURLToPath(new URL("../../cli/main.ts", import.meta.url));
const DEMO = fileURLToPath(new URL("../../tasks/demo.ts", import.meta.url));

/** Runs deno with only PATH, HOME and NO_COLOR in the environment (no XDG_RUNTIME_DIR). */
async function runBare(args: string[], cwd?: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...args],
    cwd,
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "", HOME: Deno.env.get("HOME") ?? "", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("without a BLAS library pretrain says so in one line, names the package, and goes on", async () => {
  const dir = await Deno.makeTempDir();
  const r = await runVatt(
    ["pretrain", fixture.data, "--out", path.join(dir, "run"), "--steps", "1", ...BASE],
    { env: MISSING_BLAS },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /pretrained 1 steps/);
  const notes = r.stderr.split("\n").filter((l) => l.includes("no BLAS library"));
  assert.equal(notes.length, 1, r.stderr);
  if (Deno.build.os === "linux") {
    assert.match(notes[0], /apt-get install libopenblas0-pthread/);
    assert.match(notes[0], /Fedora: sudo dnf install openblas/);
  }
  const probe = await runVatt(
    [
      "finetune",
      fixture.data,
      "--from",
      path.join(dir, "run"),
      "--out",
      path.join(dir, "probe"),
      "--linear-probe",
      "--epochs",
      "1",
      "--batch",
      "4",
      "--backend",
      "wasm",
    ],
    { env: MISSING_BLAS },
  );
  assert.equal(probe.code, 0, probe.stderr);
  assert.equal(probe.stderr.split("\n").filter((l) => l.includes("no BLAS library")).length, 1);
  // The resolved learning rate is printed with the run's other settings.
  assert.match(r.stderr, /batch 4, learning rate 0\.001 \(final 0\.0001\), 1 steps/);
  const cpu = await runVatt(
    [
      "pretrain",
      fixture.data,
      "--out",
      path.join(dir, "cpu"),
      "--steps",
      "1",
      ...BASE,
      "--backend",
      "cpu",
    ],
    { env: MISSING_BLAS },
  );
  assert.equal(cpu.code, 0, cpu.stderr);
  assert.doesNotMatch(cpu.stderr, /no BLAS library/); // the cpu backend uses none
  await Deno.remove(dir, { recursive: true });
});

Deno.test("vatt info tries only this system's library names and prints no XDG_RUNTIME_DIR noise", async () => {
  const r = await runBare([MAIN, "info"]);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /XDG_RUNTIME_DIR/);
  const missing = await runVatt(["info"], { env: MISSING_BLAS });
  assert.equal(missing.code, 0, missing.stderr);
  if (Deno.build.os !== "windows") assert.doesNotMatch(missing.stdout, /\.dll/);
  assert.match(missing.stdout, /matrix products: OpenBLAS not found/);
});

Deno.test("pretrain without --preset takes the preset DATA was tokenized for, and fits --batch to DATA", async () => {
  const dir = await Deno.makeTempDir();
  const media = path.join(dir, "media");
  const data = path.join(dir, "data");
  assert.equal((await runVatt(["demo-data", media, "--clips", "2"])).code, 0);
  const tok = await runVatt(["tokenize", path.join(media, "manifest.jsonl"), "--out", data]);
  assert.equal(tok.code, 0, tok.stderr); // full size: no --preset
  const run = path.join(dir, "run");
  // --resume on an empty folder stops right after the checks, before anything is written.
  const r = await runVatt(["pretrain", data, "--out", run, "--resume", "--backend", "cpu"]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /no --preset given: DATA was tokenized at preset small's settings, so the model is small/,
  );
  assert.match(r.stderr, /--batch 16 is larger than the dataset \(2 clips\); using --batch 2/);
  assert.match(errorLines(r).at(-1)!, /nothing to resume/);
  await assert.rejects(Deno.stat(run), Deno.errors.NotFound);
  // A preset given that does not fit: refused as before, no picking.
  const tiny = await runVatt(["pretrain", data, "--out", run, "--preset", "tiny"]);
  assert.equal(tiny.code, 1);
  assert.doesNotMatch(tiny.stderr, /no --preset given/);
  assert.match(errorLines(tiny).at(-1)!, /does not fit the model/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("--resume names every differing field, and may run longer with a larger --steps", async () => {
  const dir = await Deno.makeTempDir();
  const run = path.join(dir, "run");
  const args = ["pretrain", fixture.data, "--out", run, "--checkpoint-every", "1", ...BASE];
  const first = await runVatt([...args, "--steps", "2"]);
  assert.equal(first.code, 0, first.stderr);
  const other = await runVatt([
    ...args,
    "--steps",
    "2",
    "--resume",
    "--temperature",
    "0.1",
    "--seed",
    "3",
  ]);
  assert.equal(other.code, 1);
  const line = errorLines(other).at(-1)!;
  assert.match(line, /another config: .*train\.temperature \(--temperature: was 0\.07, now 0\.1\)/);
  assert.match(line, /train\.seed \(--seed: was 0, now 3\)/);
  const longer = await runVatt([...args, "--steps", "4", "--resume"]);
  assert.equal(longer.code, 0, longer.stderr);
  assert.match(longer.stdout, /pretrained 4 steps/);
  const metrics = (await Deno.readTextFile(path.join(run, "metrics.jsonl"))).trim().split("\n");
  assert.deepEqual(metrics.map((l) => JSON.parse(l).step), [1, 2, 3, 4]);
  const config = JSON.parse(await Deno.readTextFile(path.join(run, "config.json")));
  assert.equal(config.train.steps, 4); // the next resume compares with the longer run
  const shorter = await runVatt([...args, "--steps", "3", "--resume"]);
  assert.equal(shorter.code, 1);
  assert.match(errorLines(shorter).at(-1)!, /checkpoint at step 4, past the 3 steps asked for/);
  const kept = JSON.parse(await Deno.readTextFile(path.join(run, "config.json")));
  assert.equal(kept.train.steps, 4); // refused before config.json was touched
  await Deno.remove(dir, { recursive: true });
});

Deno.test("deno task demo: --help prints the flags; a bad flag is one line and touches nothing", async () => {
  const dir = await Deno.makeTempDir();
  const help = await runBare([DEMO, "--help"], dir);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /usage: deno task demo .*--steps N/);
  const previous = path.join(dir, "demo-output");
  await Deno.mkdir(previous);
  await Deno.writeTextFile(path.join(previous, ".vatt-demo"), "made by deno task demo\n");
  await Deno.writeTextFile(path.join(previous, "result.txt"), "kept");
  for (
    const [flags, message] of [
      [["--steps", "abc"], /--steps must be an integer of at least 1, got "abc"/],
      [["--batch", "1"], /--batch must be an integer of at least 2/],
      [["--backend", "gpu"], /--backend must be one of auto, cpu/],
      [["--bogus"], /Unknown option '--bogus'/],
    ] as const
  ) {
    const r = await runBare([DEMO, ...flags], dir);
    assert.equal(r.code, 2, flags.join(" "));
    const lines = r.stderr.split("\n").filter((l) => l.trim() !== "");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], message);
    assert.equal(await Deno.readTextFile(path.join(previous, "result.txt")), "kept");
  }
  await Deno.remove(dir, { recursive: true });
});

/** The `__metadata__` of a safetensors file (8-byte little-endian header length, then JSON). */
async function safetensorsMetadata(file: string): Promise<Record<string, string>> {
  const bytes = await Deno.readFile(file);
  const length = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  return JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length))).__metadata__;
}

Deno.test("HF/PyTorch flag names work as aliases; export L2-normalises va by default and says so", async () => {
  const dir = await Deno.makeTempDir();
  const run = path.join(dir, "run");
  const r = await runVatt([
    "pretrain",
    fixture.data,
    "--out",
    run,
    "--max-steps",
    "2",
    "--batch-size",
    "4",
    "--save-steps",
    "1",
    "--save-total-limit",
    "1",
    "--max-grad-norm",
    "1",
    "--device",
    "cpu",
    "--lr",
    "1e-3",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const train = JSON.parse(await Deno.readTextFile(path.join(run, "config.json"))).train;
  assert.deepEqual(
    [train.steps, train.batchSize, train.checkpointEvery, train.keep, train.clipNorm],
    [2, 4, 1, 1, 1],
  );
  assert.deepEqual([...Deno.readDirSync(path.join(run, "checkpoints"))].map((e) => e.name), [
    "step-0000002",
  ]);
  assert.match(r.stderr, /on cpu,/);
  const both = await runVatt([
    "pretrain",
    fixture.data,
    "--out",
    run,
    "--batch",
    "4",
    "--batch-size",
    "8",
  ]);
  assert.equal(both.code, 2);
  assert.match(errorLines(both).at(-1)!, /give --batch or --batch-size, not both/);
  const help = await runVatt(["pretrain", "--help"]);
  assert.doesNotMatch(help.stdout, /--batch-size/); // hidden: the README lists them

  const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const out = path.join(dir, "e.safetensors");
  const exp = await runVatt([
    "export",
    fixture.data,
    "--pretrained",
    run,
    "--out",
    out,
    "--device",
    "cpu",
  ]);
  assert.equal(exp.code, 0, exp.stderr);
  assert.equal((await safetensorsMetadata(out)).normalized, "true");
  for (const v of (await readEmbeddings(out)).vectors) assert.ok(Math.abs(norm(v) - 1) < 1e-5);
  const raw = path.join(dir, "raw.safetensors");
  const rawRun = await runVatt([
    "export",
    fixture.data,
    "--from",
    run,
    "--out",
    raw,
    "--backend",
    "cpu",
    "--no-normalize",
  ]);
  assert.equal(rawRun.code, 0, rawRun.stderr);
  assert.equal((await safetensorsMetadata(raw)).normalized, "false");
  assert.ok((await readEmbeddings(raw)).vectors.some((v) => Math.abs(norm(v) - 1) > 1e-3));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("eval retrieval, export and zero-shot name a fine-tuned run as one and say which command takes it", async () => {
  const dir = await Deno.makeTempDir();
  const run = path.join(dir, "probe");
  await Deno.mkdir(path.join(run, "checkpoints", "step-0000006"), { recursive: true });
  await Deno.writeTextFile(path.join(run, "config.json"), JSON.stringify({ kind: "finetune" }));
  for (
    const args of [
      ["eval", "retrieval", fixture.data, "--from", run],
      ["eval", "zero-shot", fixture.data, "--from", path.join(run, "checkpoints", "step-0000006")],
      ["export", fixture.data, "--from", run, "--out", path.join(dir, "e.parquet")],
    ]
  ) {
    const r = await runVatt([...args, "--backend", "cpu"]);
    assert.equal(r.code, 2, args.join(" "));
    const lines = errorLines(r);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0],
      /is a fine-tuned classifier run \(vatt finetune\): evaluate it with vatt eval classify DATA --from/,
    );
    assert.match(
      lines[0],
      new RegExp(
        `vatt ${args[0] === "eval" ? `eval ${args[1]}` : "export"} takes a pretrained run`,
      ),
    );
  }
  await assert.rejects(Deno.stat(path.join(dir, "e.parquet")), Deno.errors.NotFound);
  await Deno.remove(dir, { recursive: true });
});
