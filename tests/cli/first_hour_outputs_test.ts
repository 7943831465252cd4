/**
 * What a new user reads (issue 15): the default learning rate resolved and
 * said, retrieval in both directions with the mean rank, progress lines once
 * each and without a made-up first rate.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { demoDataset } from "../_fixtures.ts";
import { errorLines, runVatt } from "./_run.ts";

const fixture = await demoDataset({ clips: 32 });

Deno.test("pretrain without --lr scales tiny's 1e-3 at batch 16 to the batch, says so and records it", async () => {
  const dir = await Deno.makeTempDir();
  const run = path.join(dir, "run");
  const r = await runVatt([
    "pretrain",
    fixture.data,
    "--out",
    run,
    "--steps",
    "2",
    "--batch",
    "4",
    "--backend",
    "wasm",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /batch 4, learning rate 0\.00025 \(default: 0\.001 × batch 4\/16, tiny's reference; final 0\.000125\)/,
  );
  const config = JSON.parse(await Deno.readTextFile(path.join(run, "config.json")));
  assert.equal(config.train.baseRate, 0.00025);
  assert.equal(config.train.finalRate, 0.000125);
  // The first progress line has no rate (no step had a duration yet); no line is printed twice.
  const progress = errorLines(r).filter((l) => l.startsWith("pretrain: "));
  assert.ok(progress.length >= 2, r.stderr);
  assert.doesNotMatch(progress[0], /steps\/s/);
  assert.equal(new Set(progress).size, progress.length, r.stderr);
  // A given --lr is said without the rule.
  const given = await runVatt([
    "pretrain",
    fixture.data,
    "--out",
    path.join(dir, "given"),
    "--steps",
    "1",
    "--batch",
    "4",
    "--lr",
    "2e-3",
    "--backend",
    "wasm",
  ]);
  assert.equal(given.code, 0, given.stderr);
  assert.match(given.stderr, /learning rate 0\.002 \(final 0\.001\)/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("eval retrieval --pair text-video,video-text: one table per direction, each with MnR; progress once", async () => {
  const dir = await Deno.makeTempDir();
  const run = path.join(dir, "run");
  const pre = await runVatt([
    "pretrain",
    fixture.data,
    "--out",
    run,
    "--steps",
    "1",
    "--batch",
    "4",
    "--backend",
    "wasm",
    "--quiet",
  ]);
  assert.equal(pre.code, 0, pre.stderr);
  const base = ["eval", "retrieval", fixture.data, "--from", run, "--backend", "wasm"];
  const r = await runVatt([...base, "--pair", "text-video,video-text", "--batch", "32"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /text-video retrieval in the vt space: \d+ queries, 32 candidates/);
  assert.match(r.stdout, /video-text retrieval in the vt space: 32 queries, \d+ candidates/);
  assert.equal(r.stdout.match(/mean rank \(MnR\)\s+\d+(\.\d)?\s+16\.5/g)?.length, 1); // text-video
  assert.equal(r.stdout.match(/mean rank \(MnR\)/g)?.length, 2);
  // One batch of 32: each pair's progress line once, not again at the end.
  const lines = errorLines(r).filter((l) => l.startsWith("embed"));
  assert.deepEqual(lines, [
    "embed text-video: 32/32 clips (100%)",
    "embed video-text: 32/32 clips (100%)",
  ]);
  const json = await runVatt([...base, "--pair", "video-audio", "--json"]);
  assert.equal(json.code, 0, json.stderr);
  const out = JSON.parse(json.stdout);
  assert.equal(out.pair, "video-audio");
  assert.ok(out.meanRank >= 1 && out.chance.meanRank > 1);
  for (
    const [pair, pattern] of [["text-vdieo", /unknown pair "text-vdieo"/], [
      "text-video,text-video",
      /names text-video twice/,
    ]] as const
  ) {
    const bad = await runVatt([...base, "--pair", pair]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.equal(errorLines(bad).length, 1, bad.stderr);
    assert.match(errorLines(bad)[0], pattern);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("tokenize: skips name the clip id, and the progress line's skip count is the summary's", async () => {
  const dir = await Deno.makeTempDir();
  const lines = (await Deno.readTextFile(path.join(fixture.media, "manifest.jsonl")))
    .trim().split("\n").slice(0, 2).map((l) => {
      const row = JSON.parse(l);
      row.video = path.join(fixture.media, row.video);
      row.audio = path.join(fixture.media, row.audio);
      return JSON.stringify(row);
    });
  lines.push(JSON.stringify({ id: "no-captions", video: "x.mp4" })); // rejected by the manifest
  lines.push(JSON.stringify({ id: "gone", video: path.join(dir, "gone.mp4"), captions: ["a"] }));
  const manifest = path.join(dir, "m.jsonl");
  await Deno.writeTextFile(manifest, lines.join("\n") + "\n");
  const r = await runVatt([
    "tokenize",
    manifest,
    "--out",
    path.join(dir, "data"),
    "--preset",
    "tiny",
    "--build-vocab",
    "100",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^2 clips in \d+ shards?, 2 skipped/);
  assert.match(r.stdout, /skipped row 3 \(no-captions\): missing captions/);
  assert.match(r.stdout, /skipped row 4 \(gone\): /);
  const progress = errorLines(r).filter((l) => l.startsWith("tokenize: "));
  assert.match(progress.at(-1)!, /, 2 skipped, /, r.stderr);
  await Deno.remove(dir, { recursive: true });
});
