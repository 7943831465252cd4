/**
 * No command loses data through its output path: a symlink alias of an input
 * as `--out`, a FIFO or device as `--out`, a run folder a live run holds, and
 * `demo-data --force` over a folder with other files (issue 18).
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { writeUntrainedRun } from "../_untrained_run.ts";
import { demoDataset } from "../_fixtures.ts";
import { startLockHolder, stopLockHolder } from "../_lock_holder.ts";
import { type CliRun, errorLines, runVatt } from "./_run.ts";

const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "vatt-cli-data-loss-" }));
const { media, data } = await demoDataset({ clips: 32 });

// A "pretrained" run: the tiny model at its initialisation.
const pretrained = path.join(root, "pretrained");
await writeUntrainedRun(pretrained);

/** Every file under `dir` with its bytes' length and first bytes, for before/after checks. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = path.join(d, e.name);
      if (e.isDirectory) await walk(p);
      else {
        const bytes = await Deno.readFile(p);
        const digest = await crypto.subtle.digest("SHA-256", bytes);
        out[path.relative(dir, p)] = Array.from(new Uint8Array(digest), (b) => b.toString(16))
          .join("");
      }
    }
  };
  await walk(dir);
  return out;
}

function assertOneLineError(run: CliRun, code: number, pattern: RegExp): void {
  const lines = errorLines(run);
  assert.equal(run.code, code, run.stderr);
  assert.equal(lines.length, 1, run.stderr);
  assert.match(lines[0], /^vatt: /);
  assert.match(lines[0], pattern);
}

async function mkfifo(p: string): Promise<void> {
  assert.ok((await new Deno.Command("mkfifo", { args: [p] }).output()).success);
}

Deno.test("finetune --out ALIAS --force, ALIAS a symlink to the --from run, exits 2 and keeps its checkpoints", async () => {
  const before = await snapshot(pretrained);
  const alias = path.join(root, "alias");
  await Deno.symlink(pretrained, alias);
  const parentAlias = path.join(root, "parent-alias");
  await Deno.symlink(root, parentAlias);
  for (const out of [alias, path.join(parentAlias, "pretrained"), parentAlias]) {
    for (const extra of [["--force"], ["--resume"], []]) {
      assertOneLineError(
        await runVatt([
          "finetune",
          data,
          "--from",
          pretrained,
          "--out",
          out,
          "--modality",
          "audio",
          "--linear-probe",
          ...extra,
        ]),
        2,
        /--out .* (is the same as|contains) the pretrained checkpoint (of )?--from /,
      );
    }
  }
  // The dataset behind a symlink is an input too.
  const dataAlias = path.join(root, "data-alias");
  await Deno.symlink(data, dataAlias);
  assertOneLineError(
    await runVatt(["finetune", data, "--from", pretrained, "--out", dataAlias, "--force"]),
    2,
    /is the same as DATA/,
  );
  assert.deepEqual(await snapshot(pretrained), before);
});

Deno.test("export --out a FIFO or a device, --force or not, exits 2 and leaves it as it was", async () => {
  const dir = path.join(root, "export");
  await Deno.mkdir(dir);
  const fifo = path.join(dir, "n.jsonl");
  await mkfifo(fifo);
  const targets = [fifo];
  const dev = path.join(dir, "dev.jsonl");
  const made = await new Deno.Command("mknod", { args: [dev, "c", "1", "3"], stderr: "null" })
    .output().then((r) => r.success, () => false);
  if (made) targets.push(dev);
  for (const out of targets) {
    for (const extra of [["--force"], []]) {
      assertOneLineError(
        await runVatt(["export", data, "--from", pretrained, "--out", out, ...extra]),
        2,
        /is a (FIFO|character device), not a regular file; refusing to replace it/,
      );
    }
  }
  assert.ok((await Deno.lstat(fifo)).isFifo);
  if (made) assert.ok((await Deno.lstat(dev)).isCharDevice);
  assert.deepEqual([...Deno.readDirSync(dir)].filter((e) => e.name.includes(".tmp-")), []);
  // An output inside the dataset would replace its files.
  const index = await Deno.readFile(path.join(data, "index.json"));
  assertOneLineError(
    await runVatt([
      "export",
      data,
      "--from",
      pretrained,
      "--out",
      path.join(data, "index.json"),
      "--format",
      "jsonl",
      "--force",
    ]),
    2,
    /lies inside DATA/,
  );
  assert.deepEqual(await Deno.readFile(path.join(data, "index.json")), index);
});

Deno.test("pretrain on a run folder a live run holds is refused naming it; once it is killed, the stale lock is taken over", async () => {
  const run = path.join(root, "locked-run");
  await Deno.mkdir(run);
  await Deno.writeTextFile(path.join(run, "config.json"), '{"kind":"pretrain"}\n');
  await Deno.writeTextFile(path.join(run, "metrics.jsonl"), '{"step":1}\n{"step":2}\n');
  const holder = await startLockHolder(run);
  let killed = false;
  try {
    const temp = path.join(run, `.metrics.jsonl.tmp-${holder.pid}-0123456789ab`);
    await Deno.writeTextFile(temp, "live");
    const before = await snapshot(run);
    const args = ["pretrain", data, "--out", run, "--steps", "1", "--batch", "4"];
    for (const extra of [["--force"], ["--resume"]]) {
      assertOneLineError(
        await runVatt([...args, "--backend", "wasm", ...extra]),
        1,
        new RegExp(`run folder .*locked-run is in use by pid ${holder.pid} on host .* since `),
      );
    }
    // Nothing cleaned, replaced or appended: the live run's lines are its own.
    assert.deepEqual(await snapshot(run), before);
    await stopLockHolder(holder, true);
    killed = true;
    const r = await runVatt([...args, "--backend", "wasm", "--force", "--quiet"]);
    assert.equal(r.code, 0, r.stderr);
    const steps = (await Deno.readTextFile(path.join(run, "metrics.jsonl"))).trim().split("\n")
      .map((l) => JSON.parse(l).step);
    assert.deepEqual(steps, [1]);
    await assert.rejects(Deno.lstat(path.join(run, ".lock")), Deno.errors.NotFound);
  } finally {
    if (!killed) await stopLockHolder(holder, true);
  }
});

Deno.test("demo-data OUT --force keeps unrelated files; a FIFO as OUT is refused", async () => {
  const out = path.join(root, "media");
  await Deno.mkdir(out);
  await Deno.writeTextFile(path.join(out, "notes.txt"), "mine");
  const r = await runVatt(["demo-data", out, "--clips", "1", "--force", "--quiet"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await Deno.readTextFile(path.join(out, "notes.txt")), "mine");
  assert.ok((await Deno.stat(path.join(out, "manifest.jsonl"))).isFile);
  const fifo = path.join(root, "media-fifo");
  await mkfifo(fifo);
  assertOneLineError(
    await runVatt(["demo-data", fifo, "--clips", "1", "--force"]),
    2,
    /OUT .*media-fifo is a FIFO, not a folder/,
  );
  assert.ok((await Deno.lstat(fifo)).isFifo);
});

Deno.test("plot and tokenize refuse an output that is a FIFO or holds their input", async () => {
  const fifo = path.join(root, "map.svg");
  await mkfifo(fifo);
  assertOneLineError(
    await runVatt(["plot", pretrained, "--metrics", "--out", fifo, "--force"]),
    2,
    /map\.svg is a FIFO/,
  );
  assertOneLineError(
    await runVatt(["plot", pretrained, "--metrics", "--out", path.join(pretrained, "c.svg")]),
    2,
    /lies inside INPUT/,
  );
  const manifest = path.join(media, "manifest.jsonl");
  const before = await Deno.readFile(manifest);
  assertOneLineError(
    await runVatt(["tokenize", manifest, "--out", media, "--force"]),
    2,
    /--out .* contains MANIFEST /,
  );
  assert.deepEqual(await Deno.readFile(manifest), before);
});

Deno.test("tokenize into a dataset folder a live tokenize holds is refused naming it", async () => {
  const out = path.join(root, "data-locked");
  await Deno.mkdir(out);
  const holder = await startLockHolder(out);
  try {
    assertOneLineError(
      await runVatt(["tokenize", path.join(media, "manifest.jsonl"), "--out", out, "--force"]),
      1,
      new RegExp(`dataset folder .*data-locked is in use by pid ${holder.pid} on host `),
    );
    assert.deepEqual([...Deno.readDirSync(out)].map((e) => e.name), [".lock"]);
  } finally {
    await stopLockHolder(holder);
  }
});

Deno.test({
  name: "(clean-up of the data-loss tests' folder)",
  fn: async () => await Deno.remove(root, { recursive: true }),
});
