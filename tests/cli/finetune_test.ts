/**
 * `vatt finetune` and `vatt eval classify` as a user runs them: a working
 * run, and bad input (one line, non-zero exit, nothing overwritten).
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { tokenizeDataset } from "../../lib/data/tokenize/tokenize.ts";
import { writeUntrainedRun } from "../_untrained_run.ts";
import { demoDataset, TINY_SETTINGS } from "../_fixtures.ts";

const REPO = path.resolve(import.meta.dirname!, "../..");
const root = await Deno.makeTempDir({ prefix: "vatt-cli-finetune-" });
const { media, data } = await demoDataset({ clips: 32 });

// A "pretrained" run: the tiny model at its initialisation.
const pretrained = path.join(root, "pretrained");
await writeUntrainedRun(pretrained);

/** Tokenizes 8 demo clips after `edit` changed their manifest rows. */
async function variant(name: string, edit: (row: Record<string, unknown>) => void) {
  const lines = (await Deno.readTextFile(path.join(media, "manifest.jsonl"))).trim().split("\n");
  const rows = lines.slice(0, 8).map((l) => {
    const row = JSON.parse(l);
    row.video = path.join(media, row.video);
    if (row.audio) row.audio = path.join(media, row.audio);
    edit(row);
    return JSON.stringify(row);
  });
  const manifest = path.join(root, `${name}.jsonl`);
  await Deno.writeTextFile(manifest, rows.join("\n") + "\n");
  const out = path.join(root, name);
  await tokenizeDataset({
    manifest,
    out,
    settings: TINY_SETTINGS,
    text: { vocabFile: path.join(data, "vocab.txt") },
  });
  return out;
}
const unlabelled = await variant("unlabelled", (row) => delete row.label);
const captionless = await variant("captionless", (row) => (row.captions = []));

async function vatt(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", path.join(REPO, "cli/main.ts"), ...args],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

async function exists(p: string) {
  return await Deno.lstat(p).then(() => true, () => false);
}

/** One line on stderr, starting with "vatt:". */
function oneLine(stderr: string, pattern: RegExp) {
  const lines = stderr.trim().split("\n").filter((l) => l.startsWith("vatt:"));
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0], pattern);
}

const fused = path.join(root, "fused");
const FUSION = [
  "finetune",
  data,
  "--from",
  pretrained,
  "--out",
  fused,
  "--modality",
  "video,audio,text",
  "--fusion",
  "mcb",
  "--sketch-dim",
  "64",
  "--epochs",
  "2",
  "--batch",
  "8",
  "--backend",
  "wasm",
];

Deno.test("vatt finetune trains a fusion head and vatt eval classify reports it", async () => {
  const r = await vatt(...FUSION);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /fine-tuned 6 steps: .*step-0000006.*val top-1 .*chance 12\.5%/);
  const lines = (await Deno.readTextFile(path.join(fused, "metrics.jsonl"))).trim().split("\n");
  assert.equal(lines.length, 2);
  assert.equal(JSON.parse(lines[1]).epoch, 2);
  const config = JSON.parse(await Deno.readTextFile(path.join(fused, "config.json")));
  assert.equal(config.finetune.head, "mcb");
  assert.equal(config.finetune.headOptions.outputDim, 64);

  const j = await vatt("eval", "classify", data, "--from", fused, "--json", "--backend", "wasm");
  assert.equal(j.code, 0, j.stderr);
  const report = JSON.parse(j.stdout);
  assert.equal(report.head, "mcb");
  assert.deepEqual(report.modalities, ["video", "audio", "text"]);
  assert.equal(report.clips, 8); // the 20% it held out: eval classify scores only unseen clips
  assert.equal(report.chance.top1, 0.125);
  assert.ok(report.top1 >= 0 && report.top1 <= 1 && report.top5 >= report.top1);
  assert.equal(report.parameters, 64 * 8 + 8);

  const c = await vatt(
    "eval",
    "classify",
    data,
    "--from",
    fused,
    "--confusion",
    "--backend",
    "wasm",
  );
  assert.equal(c.code, 0, c.stderr);
  assert.match(c.stdout, /top-1: +\d+\.\d% {2}\(chance 12\.5%\)/);
  assert.match(c.stdout, /confusion matrix:\n.*\n(.*\(\d\)\n){7}.*\(7\)/);
});

Deno.test("vatt finetune --resume of a finished run adds nothing", async () => {
  const before = await Deno.readTextFile(path.join(fused, "metrics.jsonl"));
  const r = await vatt(...FUSION, "--resume");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await Deno.readTextFile(path.join(fused, "metrics.jsonl")), before);
});

Deno.test("vatt finetune refuses bad input with one line and overwrites nothing", async (t) => {
  await t.step("an existing --out without --force", async () => {
    const metrics = await Deno.readTextFile(path.join(fused, "metrics.jsonl"));
    const ckpts = [...Deno.readDirSync(path.join(fused, "checkpoints"))].map((e) => e.name).sort();
    const r = await vatt(...FUSION.slice(0, -2), "--epochs", "1"); // other flags too
    assert.equal(r.code, 1);
    oneLine(r.stderr, /already holds a run; use --resume .* or --force/);
    assert.equal(await Deno.readTextFile(path.join(fused, "metrics.jsonl")), metrics);
    assert.deepEqual(
      [...Deno.readDirSync(path.join(fused, "checkpoints"))].map((e) => e.name).sort(),
      ckpts,
    );
  });
  const out = path.join(root, "never");
  const cases: [string, string[], number, RegExp][] = [
    ["a run folder without a checkpoint", [data, "--from", root], 1, /no complete checkpoint/],
    ["a dataset without labels", [unlabelled, "--from", pretrained], 1, /no labels to fine-tune/],
    [
      "a modality the dataset lacks",
      [captionless, "--from", pretrained, "--modality", "video,text"],
      1,
      /has no text/,
    ],
    [
      "a head that needs two modalities",
      [data, "--from", pretrained, "--fusion", "tensor"],
      2,
      /tensor head fuses two modalities/,
    ],
    ["mixup on video", [data, "--from", pretrained, "--mixup", "0.2"], 2, /mixup is for audio/],
    ["an unknown modality", [data, "--from", pretrained, "--modality", "smell"], 2, /smell/],
    [
      "a batch larger than the split",
      [data, "--from", pretrained, "--batch", "64"],
      2,
      /batch size 64/,
    ],
    [
      "--out holding --from",
      [data, "--from", pretrained, "--out", root],
      2,
      /pretrained checkpoint/,
    ],
  ];
  for (const [name, args, code, pattern] of cases) {
    await t.step(name, async () => {
      const r = await vatt(
        "finetune",
        ...(args.includes("--out") ? args : [...args, "--out", out]),
      );
      assert.equal(r.code, code, r.stderr);
      oneLine(r.stderr, pattern);
      assert.equal(await exists(out), false);
    });
  }
});

Deno.test("vatt eval classify refuses a pretrained run and a dataset of other classes", async () => {
  const a = await vatt("eval", "classify", data, "--from", pretrained);
  assert.equal(a.code, 1);
  oneLine(a.stderr, /pretrained model, not a classifier/);
  const b = await vatt("eval", "classify", unlabelled, "--from", fused);
  assert.equal(b.code, 1);
  oneLine(b.stderr, /no labels/);
});

Deno.test("Ctrl-C stops vatt finetune with a checkpoint and exit 130; --resume finishes", async () => {
  const out = path.join(root, "interrupted");
  const args = [
    "finetune",
    data,
    "--from",
    pretrained,
    "--out",
    out,
    "--modality",
    "audio",
    "--epochs",
    "12",
    "--batch",
    "8",
    "--backend",
    "wasm",
  ];
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", path.join(REPO, "cli/main.ts"), ...args],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const metrics = path.join(out, "metrics.jsonl");
  const deadline = Date.now() + 60_000;
  while (!(await exists(metrics)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGINT");
  const result = await child.output();
  const stderr = new TextDecoder().decode(result.stderr);
  assert.equal(result.code, 130, stderr);
  oneLine(stderr, /interrupted at step \d+; checkpoint .*step-\d+; continue with --resume/);
  const done = (await Deno.readTextFile(metrics)).trim().split("\n").length;
  assert.ok(done >= 1 && done < 12, `${done} epochs before the stop`);
  const r = await vatt(...args, "--resume");
  assert.equal(r.code, 0, r.stderr);
  const epochs = (await Deno.readTextFile(metrics)).trim().split("\n").map((l) =>
    JSON.parse(l).epoch
  );
  assert.deepEqual(epochs, Array.from({ length: 12 }, (_, i) => i + 1));
});

Deno.test({
  name: "(cleanup)",
  fn: async () => {
    await Deno.remove(root, { recursive: true });
  },
});
