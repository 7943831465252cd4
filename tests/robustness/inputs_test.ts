/**
 * Hostile special files as inputs: every reader refuses a FIFO or a device
 * before reading, in bounded time, with one line naming the path and its kind.
 *
 * @module
 */
import assert from "node:assert/strict";
import { formatInputs, hostileInputs } from "./_inputs.ts";
import { runVatt } from "./_cli.ts";
import { robustnessSeeds } from "./_seeds.ts";
import { readSafetensors, writeSafetensors } from "../../lib/io/safetensors.ts";
import { sha256File } from "../../lib/io/sha256.ts";

Deno.test("every reader refuses FIFOs, /dev/zero and /dev/urandom in bounded time with one line", async () => {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "vatt-inputs-test-" }));
  try {
    const t0 = performance.now();
    const report = await hostileInputs(root);
    assert.ok(report.cases.length >= 78, formatInputs(report));
    assert.deepEqual(report.problems, [], formatInputs(report));
    assert.ok(performance.now() - t0 < 30_000, "refusals took too long");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("vatt info --config: a FIFO, /dev/zero, 10⁶ layers and misplaced keys end in bounded time", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "vatt-config-test-" }));
  try {
    const fifo = `${dir}/fifo.json`;
    assert.ok((await new Deno.Command("mkfifo", { args: [fifo] }).output()).success);
    const huge = `${dir}/huge.json`;
    await Deno.writeTextFile(huge, JSON.stringify({ video: { backbone: { layers: 1e6 } } }));
    const misplaced = `${dir}/misplaced.json`;
    await Deno.writeTextFile(
      misplaced,
      JSON.stringify({ layers: 4, video: { fps: 10, hieght: 3 } }),
    );
    const refusals: [string, RegExp][] = [
      [fifo, /^vatt: --config .*fifo\.json: is a FIFO, not a regular file/],
      ["/dev/zero", /^vatt: --config \/dev\/zero: is a character device, not a regular file/],
      [huge, /^vatt: The model would have about 3\.3e\+10 parameters, over the limit of 4\.0e\+9/],
    ];
    for (const [file, line] of refusals) {
      const r = await runVatt(["info", "--config", file], { killAfterMs: 60_000 });
      assert.equal(r.killed, false, `${file}: hang`);
      assert.equal(r.code, 2, r.stderr);
      const lines = r.stderr.split("\n").filter((l) => l.startsWith("vatt: "));
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], line);
    }
    const r = await runVatt(["info", "--config", misplaced], { killAfterMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /vatt: warning: --config .*misplaced\.json: ignoring unknown keys layers, video\.hieght/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A copy of the seed dataset whose first shard holds token id `id`, checksums fixed up. */
async function datasetWithTokenId(dataDir: string, out: string, id: number): Promise<void> {
  await Deno.mkdir(out, { recursive: true });
  for await (const e of Deno.readDir(dataDir)) {
    if (e.isFile) await Deno.copyFile(`${dataDir}/${e.name}`, `${out}/${e.name}`);
  }
  const index = JSON.parse(await Deno.readTextFile(`${out}/index.json`));
  const entry = index.shards[0];
  const file = `${out}/${entry.file}`;
  const { tensors, metadata } = await readSafetensors(file);
  (tensors.text.data as Int32Array)[1] = id;
  await Deno.remove(file);
  await writeSafetensors(file, tensors, { metadata });
  entry.sha256 = await sha256File(file);
  entry.bytes = (await Deno.stat(file)).size;
  await Deno.writeTextFile(`${out}/index.json`, JSON.stringify(index));
}

Deno.test("pretrain and eval retrieval refuse a shard whose token ids lie outside the vocabulary", async () => {
  const seeds = await robustnessSeeds();
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "vatt-token-ids-test-" }));
  try {
    for (const id of [-7, 5000]) {
      const data = `${dir}/data${id}`;
      await datasetWithTokenId(seeds.data, data, id);
      const runs = [
        [
          "pretrain",
          data,
          "--out",
          `${dir}/run${id}`,
          "--steps",
          "1",
          "--batch",
          "2",
          "--backend",
          "cpu",
        ],
        ["eval", "retrieval", data, "--from", seeds.run, "--backend", "cpu"],
      ];
      for (const args of runs) {
        const r = await runVatt(args, { killAfterMs: 120_000 });
        assert.equal(r.killed, false, `${args[0]}: hang`);
        assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
        const lines = r.stderr.split("\n").filter((l) => l.startsWith("vatt: "));
        assert.equal(lines.length, 1, r.stderr);
        assert.match(
          lines[0],
          new RegExp(
            `shard-00000-of-\\d+\\.safetensors: clip ".+": token id ${id} is outside the vocabulary`,
          ),
        );
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyTree(`${from}/${e.name}`, `${to}/${e.name}`);
    else if (e.isFile) await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
  }
}

Deno.test("export from a NaN checkpoint ends with one line naming the tensor and writes nothing", async () => {
  const seeds = await robustnessSeeds();
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "vatt-nan-test-" }));
  try {
    const run = `${dir}/run`;
    await copyTree(seeds.run, run);
    const rel = seeds.checkpoint.slice(seeds.run.length);
    const file = `${run}${rel}/model.safetensors`;
    const { tensors, metadata } = await readSafetensors(file);
    const name = Object.keys(tensors).sort()[0];
    (tensors[name].data as Float32Array)[0] = NaN;
    await Deno.remove(file);
    await writeSafetensors(file, tensors, { metadata });
    const out = `${dir}/out`;
    await Deno.mkdir(out);
    for (const format of ["npy", "jsonl"]) {
      const r = await runVatt(
        ["export", seeds.data, "--from", run, "--out", `${out}/e.${format}`, "--backend", "cpu"],
        { killAfterMs: 120_000 },
      );
      assert.equal(r.code, 1, r.stderr);
      const lines = r.stderr.split("\n").filter((l) => l.startsWith("vatt: "));
      assert.equal(lines.length, 1, r.stderr);
      assert.ok(lines[0].includes(`tensor "${name}" holds NaN at element 0`), lines[0]);
    }
    assert.deepEqual(await Array.fromAsync(Deno.readDir(out)), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
