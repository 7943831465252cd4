import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Dataset } from "../../lib/data/shards/dataset.ts";
import { generateDemoData } from "../../lib/demo/demo_data.ts";
import { sliceLockName } from "../../lib/run/lock.ts";
import { startLockHolder, stopLockHolder } from "../_lock_holder.ts";

// ---------------------------------------------- fixtures: one small demo dataset for the file

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const ROOT = await Deno.makeTempDir({ prefix: "vatt-cli-tokenize-test-" });
globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(ROOT, { recursive: true });
  } catch {
    // already gone
  }
});
const DEMO = join(ROOT, "demo");
const { manifestPath: MANIFEST } = await generateDemoData(DEMO, {
  clips: 6,
  seed: 11,
  seconds: 1,
  width: 64,
  height: 48,
  fps: 10,
  sampleRate: 8000,
});
const ROWS = (await Deno.readTextFile(MANIFEST)).trim().split("\n");

/** The tiny preset, 2 clips per shard: 6 clips make 3 shards. */
const FLAGS = ["--preset", "tiny", "--clips-per-shard", "2", "--build-vocab", "500"];

interface Result {
  code: number;
  stdout: string[];
  stderr: string[];
}

/** Runs `vatt …` as a subprocess (not on a terminal, so progress comes as plain lines). */
async function vatt(...args: string[]): Promise<Result> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "-A", "cli/main.ts", ...args],
    cwd: REPO,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const lines = (b: Uint8Array) => new TextDecoder().decode(b).split("\n").filter((l) => l !== "");
  return { code: out.code, stdout: lines(out.stdout), stderr: lines(out.stderr) };
}

/** stderr without the plain progress lines (`tokenize: 3/6 clips (50%), …`). */
function messages(r: Result): string[] {
  return r.stderr.filter((l) => !/^tokenize: \d+\/\d+ clips/.test(l));
}

let single: Promise<Result> | undefined;
/** One plain run into ROOT/single (made once, on first use). */
function singleRun(): Promise<Result> {
  single ??= vatt("tokenize", MANIFEST, "--out", join(ROOT, "single"), ...FLAGS);
  return single;
}

Deno.test("vatt tokenize writes the dataset and prints a summary line", async () => {
  const r = await singleRun();
  assert.equal(r.code, 0, r.stderr.join("\n"));
  assert.match(r.stdout[0], /^6 clips in 3 shards, 0 skipped, 0 padded: .*index\.json$/);
  assert.deepEqual(messages(r), []);
  const data = await Dataset.open(join(ROOT, "single"));
  try {
    assert.equal(data.size, 6);
    const s = data.index.settings;
    assert.deepEqual([s.frames, s.fps, s.size, s.sampleRate, s.audioSamples], [
      8,
      10,
      32,
      8000,
      6400,
    ]);
  } finally {
    data.close();
  }
});

Deno.test("vatt tokenize --on-error fail stops at a bad row: exit 1 and one vatt: line", async () => {
  await Deno.writeFile(
    join(DEMO, "corrupt.mp4"),
    Uint8Array.from({ length: 2048 }, (_, i) => i % 7),
  );
  const bad = { ...JSON.parse(ROWS[0]), id: "bad-row", video: "corrupt.mp4" };
  const manifest = join(DEMO, "bad.jsonl");
  await Deno.writeTextFile(manifest, [ROWS[0], ROWS[1], JSON.stringify(bad)].join("\n") + "\n");
  const r = await vatt(
    "tokenize",
    manifest,
    "--out",
    join(ROOT, "fail"),
    ...FLAGS,
    "--on-error",
    "fail",
  );
  assert.equal(r.code, 1);
  assert.deepEqual(r.stdout, []);
  const lines = messages(r);
  assert.equal(lines.length, 1, r.stderr.join("\n"));
  assert.match(lines[0], /^vatt: corrupt\.mp4: row 3 \(bad-row\): cannot decode video: /);

  // The default (skip) records it and goes on.
  const skip = await vatt("tokenize", manifest, "--out", join(ROOT, "skip"), ...FLAGS);
  assert.equal(skip.code, 0, skip.stderr.join("\n"));
  assert.match(skip.stdout[0], /^2 clips in 2 shards, 1 skipped/);
  assert.match(skip.stdout[1], /^ {2}skipped row 3 \(bad-row\): cannot decode video: /);
});

Deno.test("vatt tokenize with a missing manifest exits 1 with one line", async () => {
  const r = await vatt(
    "tokenize",
    join(ROOT, "nope.jsonl"),
    "--out",
    join(ROOT, "missing"),
    ...FLAGS,
  );
  assert.equal(r.code, 1);
  assert.deepEqual(r.stdout, []);
  assert.equal(r.stderr.length, 1, r.stderr.join("\n"));
  assert.match(r.stderr[0], /^vatt: .*nope\.jsonl: cannot read the manifest/);
});

Deno.test("vatt tokenize --shard-index without --num-shards is a usage error (exit 2)", async () => {
  const r = await vatt("tokenize", MANIFEST, "--out", join(ROOT, "usage"), "--shard-index", "0");
  assert.equal(r.code, 2);
  assert.equal(r.stderr.length, 1, r.stderr.join("\n"));
  assert.match(r.stderr[0], /^vatt: --shard-index and --num-shards go together$/);
});

Deno.test("vatt tokenize --shard-index/--num-shards then --merge gives the single run's index", async () => {
  const out = join(ROOT, "sliced");
  const slice = (i: number) =>
    vatt(
      "tokenize",
      MANIFEST,
      "--out",
      out,
      ...FLAGS,
      "--shard-index",
      String(i),
      "--num-shards",
      "2",
    );
  const first = await slice(0);
  assert.equal(first.code, 0, first.stderr.join("\n"));
  assert.match(first.stdout[0], /^4 clips in 2 shards, .*index\.slice-00000-of-00002\.json$/);
  const early = await vatt("tokenize", "--merge", "--out", out);
  assert.equal(early.code, 1);
  assert.equal(early.stderr.length, 1, early.stderr.join("\n"));
  assert.match(early.stderr[0], /^vatt: slices 1 of 2 have not finished/);

  const second = await slice(1);
  assert.equal(second.code, 0, second.stderr.join("\n"));
  const merged = await vatt("tokenize", "--merge", "--out", out);
  assert.equal(merged.code, 0, merged.stderr.join("\n"));
  assert.match(merged.stdout[0], /^merged 3 shards, 6 clips, 0 skipped: .*index\.json$/);

  assert.equal((await singleRun()).code, 0);
  const read = async (dir: string) => JSON.parse(await Deno.readTextFile(join(dir, "index.json")));
  assert.deepEqual(await read(out), await read(join(ROOT, "single")));
});

Deno.test("a slice being written locks only its own part: the same slice and --merge are refused with the holder named, another slice goes on", async () => {
  const out = join(ROOT, "sliced-locked");
  await Deno.mkdir(out);
  const holder = await startLockHolder(out, sliceLockName(0, 2));
  try {
    const slice = (i: number) =>
      vatt(
        "tokenize",
        MANIFEST,
        "--out",
        out,
        ...FLAGS,
        "--shard-index",
        String(i),
        "--num-shards",
        "2",
      );
    const same = await slice(0);
    assert.equal(same.code, 1);
    assert.equal(same.stderr.length, 1, same.stderr.join("\n"));
    assert.match(
      same.stderr[0],
      /^vatt: slice 0 of 2 of dataset folder .* is in use by pid \d+ on host/,
    );
    const merge = await vatt("tokenize", "--merge", "--out", out);
    assert.equal(merge.code, 1);
    assert.match(
      merge.stderr[0],
      /^vatt: a slice \(\.lock\.slice-0-of-2\) of dataset folder .* is in use by pid/,
    );
    const other = await slice(1);
    assert.equal(other.code, 0, other.stderr.join("\n"));
    assert.ok(
      await Deno.lstat(join(out, sliceLockName(0, 2))),
      "the live slice's lock was removed",
    );
  } finally {
    await stopLockHolder(holder);
  }
  const unsliced = await startLockHolder(out);
  try {
    const slice = await vatt(
      "tokenize",
      MANIFEST,
      "--out",
      out,
      ...FLAGS,
      "--shard-index",
      "0",
      "--num-shards",
      "2",
    );
    assert.equal(slice.code, 1);
    assert.match(slice.stderr[0], /^vatt: dataset folder .* is in use by pid/);
  } finally {
    await stopLockHolder(unsliced);
  }
});
