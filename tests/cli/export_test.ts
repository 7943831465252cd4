import assert from "node:assert/strict";
import * as path from "node:path";
import { readEmbeddings } from "../../lib/eval/embeddings/read.ts";
import { demoDataset } from "../_fixtures.ts";
import { pretrainTiny, subsetManifest, tokenizeTiny } from "../lib/eval/_tiny_run.ts";
import { type CliRun, errorLines, runVatt } from "./_run.ts";

/** Asserts a run failed with `code` and exactly one `vatt: …` line matching `pattern`. */
function assertOneLineError(run: CliRun, code: number, pattern: RegExp): void {
  const lines = errorLines(run);
  assert.equal(run.code, code, run.stderr);
  assert.equal(lines.length, 1, run.stderr);
  assert.match(lines[0], /^vatt: /);
  assert.match(lines[0], pattern);
}

async function missing(p: string): Promise<boolean> {
  try {
    await Deno.lstat(p);
    return false;
  } catch {
    return true;
  }
}

Deno.test("vatt export", async (t) => {
  const fx = await demoDataset({ clips: 32 });
  const dir = await Deno.makeTempDir({ prefix: "vatt-cli-export-" });
  try {
    const run = await pretrainTiny(fx.data, path.join(dir, "run"), { steps: 1, batch: 4 });
    const base = [fx.data, "--from", run, "--backend", "wasm"];

    await t.step("writes every clip's va embeddings to parquet", async () => {
      const out = path.join(dir, "e.parquet");
      const r = await runVatt(["export", ...base, "--out", out]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^wrote \d+ rows \(video 32×(\d+), audio \d+×\1\) of va embeddings/);
      const rows = await readEmbeddings(out);
      assert.equal(rows.modality.filter((m) => m === "video").length, 32);
      assert.equal(rows.space, "va");
    });

    await t.step("refuses an existing --out without --force, and replaces it with", async () => {
      const out = path.join(dir, "e.parquet");
      const bytes = await Deno.readFile(out);
      assertOneLineError(
        await runVatt(["export", ...base, "--out", out, "--space", "vt"]),
        1,
        /already exists; use --force/,
      );
      assert.deepEqual(await Deno.readFile(out), bytes);
      const r = await runVatt(["export", ...base, "--out", out, "--space", "vt", "--force"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal((await readEmbeddings(out)).space, "vt");
    });

    await t.step("--format overrides the extension (npy with its row list)", async () => {
      const out = path.join(dir, "matrix.bin");
      const r = await runVatt([
        "export",
        ...base,
        "--out",
        out,
        "--format",
        "npy",
        "--modalities",
        "video",
        "--batch",
        "5",
      ]);
      assert.equal(r.code, 0, r.stderr);
      const rows = await readEmbeddings(out, { format: "npy" });
      assert.equal(rows.ids.length, 32);
      assert.ok(!(await missing(`${out}.rows.jsonl`)));
    });

    await t.step("bad input: one line, a non-zero exit, no file", async () => {
      const out = path.join(dir, "bad.jsonl");
      assertOneLineError(
        await runVatt(["export", ...base, "--out", out, "--space", "va", "--modalities", "text"]),
        2,
        /va space holds video and audio, not text/,
      );
      assertOneLineError(
        await runVatt(["export", ...base, "--out", path.join(dir, "e.csv")]),
        2,
        /cannot tell the format/,
      );
      assertOneLineError(
        await runVatt(["export", fx.data, "--out", out, "--backend", "wasm"]),
        2,
        /--from RUN is required/,
      );
      // A run folder without a checkpoint.
      const empty = path.join(dir, "empty-run");
      await Deno.mkdir(empty);
      await Deno.writeTextFile(path.join(empty, "config.json"), "{}");
      assertOneLineError(
        await runVatt(["export", fx.data, "--from", empty, "--out", out, "--backend", "wasm"]),
        1,
        /no complete checkpoint/,
      );
      // A dataset tokenized with other settings than the model's.
      const other = path.join(dir, "data-4-frames");
      await tokenizeTiny(await subsetManifest(fx.media, dir, { clips: 2 }), other, { frames: 4 });
      assertOneLineError(
        await runVatt(["export", other, "--from", run, "--out", out, "--backend", "wasm"]),
        1,
        /does not fit the model.*4 frames/,
      );
      assert.ok(await missing(out));
      for await (const e of Deno.readDir(dir)) assert.ok(!e.name.startsWith("."), e.name);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
