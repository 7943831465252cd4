/**
 * `vatt eval classify` as a user runs it after `vatt finetune`: by default it
 * scores only the clips the classifier did not train on (the run's
 * validation split of its own data), `--include-train` scores all and says
 * how many it trained on, a run validated on `--val` data refuses its
 * training data, `--windows`/`--crops` average views (and say when they are
 * identical), and bad flags are one line with exit 2.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { tokenizeDataset } from "../../lib/data/tokenize/tokenize.ts";
import { writeUntrainedRun } from "../_untrained_run.ts";
import { demoDataset, TINY_SETTINGS } from "../_fixtures.ts";
import { errorLines, runVatt } from "./_run.ts";

const root = await Deno.makeTempDir({ prefix: "vatt-cli-eval-classify-" });
const { media, data } = await demoDataset({ clips: 32 });

// A "pretrained" run: the tiny model at its initialisation.
const pretrained = path.join(root, "pretrained");
await writeUntrainedRun(pretrained);

/** A linear probe on video, fine-tuned for one epoch on `data` (extra flags: `more`). */
async function probe(out: string, ...more: string[]) {
  const r = await runVatt([
    "finetune",
    data,
    "--from",
    pretrained,
    "--out",
    out,
    "--linear-probe",
    "--epochs",
    "1",
    "--batch",
    "8",
    "--backend",
    "wasm",
    ...more,
  ]);
  assert.equal(r.code, 0, r.stderr);
}

/** `vatt eval classify ARGS --backend wasm`. */
function classify(...args: string[]) {
  return runVatt(["eval", "classify", ...args, "--backend", "wasm"]);
}

/** The one error line of a run. */
function oneLine(stderr: string): string {
  const lines = stderr.trim().split("\n").filter((l) => l.startsWith("vatt:"));
  assert.equal(lines.length, 1, stderr);
  return lines[0];
}

const split = path.join(root, "split");
await probe(split);

// The same clips stored at the model's window and size, in shards of 8: another dataset (other
// shards), the same classes.
const other = path.join(root, "other");
await tokenizeDataset({
  manifest: path.join(media, "manifest.jsonl"),
  out: other,
  settings: { ...TINY_SETTINGS, clipsPerShard: 8, windowSeconds: 0.8, storedSize: 32 },
  text: { vocabFile: path.join(data, "vocab.txt") },
});

Deno.test("vatt finetune records the held-out clips; eval classify on the same data scores only them", async () => {
  const config = JSON.parse(await Deno.readTextFile(path.join(split, "config.json")));
  const heldOut: string[] = config.trainedOn.heldOut;
  // 32 clips of 8 classes, 20% held out per class: round(0.2·4) = 1 clip of each class.
  assert.equal(heldOut.length, 8);
  assert.equal(config.trainedOn.trainClips, 24);
  const r = await classify(data, "--from", split, "--json");
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.clips, 8);
  assert.deepEqual(report.selection, { source: "held-out", trainingClips: 0 });
  // The same clips as the run's validation: the same loss and top-1 as its last epoch.
  const lines = (await Deno.readTextFile(path.join(split, "metrics.jsonl"))).trim().split("\n");
  const last = JSON.parse(lines[lines.length - 1]);
  assert.equal(last.valClips, 8);
  assert.equal(report.top1, last.top1);
  assert.ok(Math.abs(report.loss - last.valLoss) < 1e-5, `${report.loss} vs ${last.valLoss}`);
  const text = await classify(data, "--from", split);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /scored: 8 clips held out of the run's training data/);
});

Deno.test("vatt eval classify --include-train scores every clip and says how many were trained on", async () => {
  const r = await classify(data, "--from", split, "--include-train");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /scored: 32 clips, includes 24 training clips \(--include-train\)/);
  assert.match(r.stdout, /^clips: 32$/m);
  const j = await classify(data, "--from", split, "--include-train", "--json");
  assert.deepEqual(JSON.parse(j.stdout).selection, { source: "include-train", trainingClips: 24 });
});

Deno.test("vatt eval classify --windows 4 --crops 3 averages the views of a longer, larger stored clip", async () => {
  const stored = JSON.parse(await Deno.readTextFile(path.join(data, "index.json"))).settings;
  assert.ok(
    stored.storedFrames > stored.frames && stored.storedSize > stored.size,
    "a longer span",
  );
  const base = JSON.parse((await classify(data, "--from", split, "--json")).stdout);
  const r = await classify(data, "--from", split, "--windows", "4", "--crops", "3");
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    new RegExp(
      `views: 4 windows × 3 crops per clip, logits averaged \\(windows: cuts of the stored ${stored.storedFrames} frames\\)`,
    ),
  );
  assert.doesNotMatch(r.stdout, /note:/);
  const j = JSON.parse(
    (await classify(data, "--from", split, "--windows", "4", "--crops", "3", "--json")).stdout,
  );
  assert.equal(j.clips, base.clips);
  assert.equal(j.views.cropsIdentical, false);
  assert.notEqual(j.loss, base.loss); // other views than the centre one: other logits
});

Deno.test("vatt eval classify --windows 2 --crops 3 on clips stored at the model's size says the views are identical", async () => {
  const base = JSON.parse((await classify(other, "--from", split, "--json")).stdout);
  const r = await classify(other, "--from", split, "--windows", "2", "--crops", "3");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /scored: 32 clips \(not the data the run trained on\)/);
  assert.match(r.stdout, /views: 2 windows × 3 crops per clip, logits averaged/);
  assert.match(
    r.stdout,
    /note: the stored frames are the model's 32², so the 3 crops are identical/,
  );
  assert.match(
    r.stdout,
    /note: the stored clips are the model's window \(8 frames\), so the 2 windows are identical/,
  );
  const j = JSON.parse(
    (await classify(other, "--from", split, "--windows", "2", "--crops", "3", "--json")).stdout,
  );
  assert.equal(j.views.cropsIdentical, true);
  assert.equal(j.views.windowsIdentical, true);
  assert.equal(j.loss, base.loss); // identical views: the same logits
});

Deno.test("vatt eval classify refuses the training data of a run validated on --val data", async () => {
  const withVal = path.join(root, "with-val");
  await probe(withVal, "--val", other);
  const r = await classify(data, "--from", withVal);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    oneLine(r.stderr),
    /is the data .*with-val was trained on and no held-out part of it is recorded \(it validated on .*other; evaluate on that, or pass --include-train/,
  );
  const v = await classify(other, "--from", withVal, "--json");
  assert.equal(v.code, 0, v.stderr);
  assert.equal(JSON.parse(v.stdout).clips, 32);
  assert.equal(JSON.parse(v.stdout).selection.source, "other-data");
  const all = await classify(data, "--from", withVal, "--include-train");
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, /includes 32 training clips/);
});

Deno.test("vatt eval classify refuses bad --windows and --crops with one line and exit 2", async (t) => {
  const cases: [string[], RegExp][] = [
    [["--windows", "0"], /--windows must be at least 1, got 0/],
    [["--windows", "two"], /--windows must be an integer, got "two"/],
    [["--crops", "2"], /--crops must be 1 or 3, got 2/],
    [["--crops", "0"], /--crops must be at least 1, got 0/],
  ];
  for (const [flags, pattern] of cases) {
    await t.step(flags.join(" "), async () => {
      const r = await classify(data, "--from", split, ...flags);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(errorLines(r).length, 1, r.stderr);
      assert.match(errorLines(r)[0], pattern);
      assert.equal(r.stdout, "");
    });
  }
});

Deno.test({
  name: "(cleanup)",
  fn: async () => {
    await Deno.remove(root, { recursive: true });
  },
});
