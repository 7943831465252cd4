/**
 * `vatt protocol esc50` end to end on generated ESC-50-style data (the published
 * `meta/esc50.csv` header, short generated WAVs), two folds, the tiny untrained model:
 * manifests → tokenize (audio-only clips) → linear probe per fold → the aggregate line,
 * checked against the mean and sample s.d. worked out here from the per-fold numbers the
 * command printed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { encodeWav } from "../../lib/data/media/wav.ts";
import { writeUntrainedRun } from "../_untrained_run.ts";
import { demoDataset } from "../_fixtures.ts";
import { errorLines, runVatt } from "./_run.ts";

const ROOT = await Deno.makeTempDir({ prefix: "vatt-cli-protocol-test-" });
globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(ROOT, { recursive: true });
  } catch {
    // already gone
  }
});

const RATE = 8000;
const HEADER = "filename,fold,target,category,esc10,src_file,take";

/** ESC-50's layout: `meta/esc50.csv` and `audio/*.wav`; folds 1 and 2, two classes, 3 clips each. */
async function writeEsc50(root: string): Promise<void> {
  await Deno.mkdir(join(root, "meta"), { recursive: true });
  await Deno.mkdir(join(root, "audio"), { recursive: true });
  const lines = [HEADER];
  for (const fold of [1, 2]) {
    for (const [target, category, freq] of [[0, "dog", 300], [1, "rooster", 1800]] as const) {
      for (let take = 0; take < 3; take++) {
        const src = 1000 * fold + 10 * target + take;
        const file = `${fold}-${src}-A-${target}.wav`;
        // One rooster of fold 2 sounds half-way to a dog: the two folds score differently.
        const f = (fold === 2 && target === 1 && take === 2 ? 1000 : freq) * (1 + 0.05 * take);
        const wave = Float32Array.from(
          { length: RATE },
          (_, i) => 0.4 * Math.sin((2 * Math.PI * f * i) / RATE),
        );
        await Deno.writeFile(join(root, "audio", file), encodeWav([wave], { sampleRate: RATE }));
        lines.push(`${file},${fold},${target},${category},True,${src},A`);
      }
    }
  }
  await Deno.writeTextFile(join(root, "meta", "esc50.csv"), lines.join("\n") + "\n");
}

/** `fold 1: top1 0.5 (…)` → 0.5. */
function foldTop1(line: string): number {
  const m = /^fold \d: top1 ([0-9.e-]+) \((\d+) train, (\d+) test clips\)$/.exec(line);
  assert.ok(m, `a fold line: ${line}`);
  return Number(m[1]);
}

Deno.test("vatt protocol esc50 --folds 1,2: per-fold top-1 of a linear probe and their mean ± s.d.", async () => {
  const data = join(ROOT, "ESC-50");
  await writeEsc50(data);
  const run = join(ROOT, "run");
  await writeUntrainedRun(run);
  const work = join(ROOT, "work");
  const r = await runVatt([
    "protocol",
    "esc50",
    data,
    "--from",
    run,
    "--work",
    work,
    "--folds",
    "1,2",
    "--epochs",
    "5",
    "--batch",
    "2",
    "--backend",
    "cpu",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout.trim().split("\n");
  assert.equal(out.length, 5, r.stdout);
  // The per-fold numbers as written to result.json; the printed ones are them to 6 places.
  const saved = JSON.parse(await Deno.readTextFile(join(work, "result.json")));
  const [a, b] = saved.folds.map((f: { metrics: { top1: number } }) => f.metrics.top1);
  assert.equal(foldTop1(out[0]), Number(a.toFixed(6)));
  assert.equal(foldTop1(out[1]), Number(b.toFixed(6)));
  assert.ok(out[0].endsWith("(6 train, 6 test clips)"), out[0]); // the other fold trains
  assert.notEqual(a, b, "the folds differ, so the spread is not trivially 0");
  // Six test clips: top-1 is a multiple of 1/6.
  for (const x of [a, b]) assert.ok(Math.abs(x * 6 - Math.round(x * 6)) < 1e-9, String(x));
  const mean = (a + b) / 2;
  const sd = Math.abs(a - b) / Math.SQRT2; // sample s.d. of two values
  assert.equal(out[2], `mean: top1 ${Number(mean.toFixed(6))}`);
  assert.equal(out[3], `spread (s.d. over 2): top1 ${Number(sd.toFixed(6))}`);
  assert.equal(
    out[4],
    `| ESC-50 | 2 folds | top-1 ${(100 * mean).toFixed(1)} ± ${(100 * sd).toFixed(1)} |`,
  );
  // Progress on stderr: each fold's manifests, the probe, and its number.
  const err = errorLines(r).join("\n");
  assert.match(err, /esc50: fold 1 train: 6 clips/);
  assert.match(err, /esc50: fold 2 test: 6 clips/);
  assert.match(err, /esc50: fold 2: linear probe on audio/);
  assert.deepEqual(saved.summary.top1, { mean, spread: sd });
  // The test halves are audio-only clips: video_mask 0 in every shard.
  const index = JSON.parse(await Deno.readTextFile(join(work, "fold-1", "test", "index.json")));
  assert.equal(index.clips, 6);
  assert.equal(index.version, 3);
});

Deno.test("vatt protocol esc50 --training finetune: end-to-end fine-tuning per fold instead of the probe", async () => {
  const data = join(ROOT, "ESC-50-ft");
  await writeEsc50(data);
  const run = join(ROOT, "run-ft");
  await writeUntrainedRun(run);
  const work = join(ROOT, "work-ft");
  const r = await runVatt([
    "protocol",
    "esc50",
    data,
    "--from",
    run,
    "--work",
    work,
    "--folds",
    "2",
    "--training",
    "finetune",
    "--epochs",
    "1",
    "--batch",
    "2",
    "--backend",
    "cpu",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(errorLines(r).join("\n"), /esc50: fold 2: fine-tuning on audio/);
  const out = r.stdout.trim().split("\n");
  assert.equal(out.length, 4, r.stdout); // one fold, the mean, the spread, the table row
  const top1 = foldTop1(out[0]);
  assert.equal(out[3], `| ESC-50 | fold 2 | top-1 ${(100 * top1).toFixed(1)} ± 0.0 |`);
  const config = JSON.parse(await Deno.readTextFile(join(work, "fold-2", "probe", "config.json")));
  assert.equal(config.finetune.frozen, false);
});

/** Φ(x) by the Abramowitz–Stegun 7.1.26 erf (|error| < 1.5e-7), independent of the library. */
function phi(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const poly = t *
    (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-z * z);
  return 0.5 * (1 + (x >= 0 ? erf : -erf));
}

Deno.test("vatt protocol audioset: multi-label, fine-tuned, mAP, AUC and d′ = √2·Φ⁻¹(AUC)", async () => {
  // AudioSet as published: class_labels_indices.csv, <split>_segments.csv (three comment lines,
  // quoted label lists), segments downloaded as Y<YTID>.wav under balanced_train/ and eval/.
  const root = join(ROOT, "audioset");
  await Deno.mkdir(join(root, "balanced_train"), { recursive: true });
  await Deno.mkdir(join(root, "eval"), { recursive: true });
  await Deno.writeTextFile(
    join(root, "class_labels_indices.csv"),
    'index,mid,display_name\n0,/m/09x0r,"Speech"\n1,/m/0bt9lr,"Dog"\n',
  );
  for (const split of ["balanced_train", "eval"]) {
    const lines = [
      `# Segments csv created Sun Mar  5 10:54:31 2017`,
      `# num_ytids=4, num_segs=4, num_unique_labels=2, num_positive_labels=6`,
      `# YTID, start_seconds, end_seconds, positive_labels`,
    ];
    const labels = ["/m/09x0r", "/m/0bt9lr", "/m/09x0r,/m/0bt9lr", "/m/0bt9lr"];
    for (const [k, mids] of labels.entries()) {
      const ytid = `${split.slice(0, 2)}${k}aaaaaaaa`;
      // The eval tones in the opposite order to the training ones: AUC away from 1 (d′ finite).
      const f = 300 * (split === "eval" ? 4 - k : 1 + k);
      const wave = Float32Array.from(
        { length: RATE },
        (_, i) => 0.4 * Math.sin((2 * Math.PI * f * i) / RATE),
      );
      await Deno.writeFile(
        join(root, split, `Y${ytid}.wav`),
        encodeWav([wave], { sampleRate: RATE }),
      );
      lines.push(`${ytid}, 30.000, 40.000, "${mids}"`);
    }
    await Deno.writeTextFile(join(root, `${split}_segments.csv`), lines.join("\n") + "\n");
  }
  const run = join(ROOT, "run-audioset");
  await writeUntrainedRun(run);
  const work = join(ROOT, "work-audioset");
  const r = await runVatt([
    "protocol",
    "audioset",
    root,
    "--from",
    run,
    "--work",
    work,
    "--epochs",
    "1",
    "--batch",
    "2",
    "--backend",
    "cpu",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(errorLines(r).join("\n"), /audioset: eval: fine-tuning on audio/);
  const saved = JSON.parse(await Deno.readTextFile(join(work, "result.json")));
  const { mAP, rocAuc, dPrime } = saved.folds[0].metrics;
  assert.ok(mAP > 0 && mAP <= 1 && rocAuc > 0 && rocAuc < 1, JSON.stringify(saved.folds[0]));
  assert.ok(Math.abs(phi(dPrime / Math.SQRT2) - rocAuc) < 1e-6, `d′ ${dPrime} for AUC ${rocAuc}`);
  const out = r.stdout.trim().split("\n");
  assert.equal(
    out[3],
    `| AudioSet | eval | mAP ${(100 * mAP).toFixed(1)} ± 0.0 | AUC ${
      (100 * rocAuc).toFixed(1)
    } ± 0.0 | d′ ${dPrime.toFixed(3)} ± 0.000 |`,
  );
});

Deno.test("vatt protocol: an unknown protocol or fold is one line and a non-zero exit", async () => {
  const bad = await runVatt(["protocol", "mnist", ROOT, "--from", ROOT, "--work", ROOT]);
  assert.equal(bad.code, 2);
  assert.match(errorLines(bad).join("\n"), /Unknown protocol "mnist" \(known: ucf101/);
  assert.equal(errorLines(bad).length, 1);
  const fold = await runVatt([
    "protocol",
    "esc50",
    ROOT,
    "--from",
    ROOT,
    "--work",
    ROOT,
    "--folds",
    "7",
  ]);
  assert.notEqual(fold.code, 0);
  assert.equal(errorLines(fold).length, 1, fold.stderr);
});

Deno.test("vatt protocol msrvtt: zero-shot retrieval on the 1k-A list, R@1/5/10 and MedR, nothing trained", async () => {
  // MSR-VTT's layout: the 1k-A CSV as distributed and videos/all/<video_id>.mp4 (demo clips).
  const fx = await demoDataset({ clips: 32 });
  const root = join(ROOT, "msrvtt");
  await Deno.mkdir(join(root, "videos", "all"), { recursive: true });
  const rows = (await Deno.readTextFile(join(fx.media, "manifest.jsonl"))).trim().split("\n")
    .slice(0, 4).map((l) => JSON.parse(l));
  const lines = ["key,vid_key,video_id,sentence"];
  for (const [i, r] of rows.entries()) {
    const id = `video${7010 + i}`;
    await Deno.copyFile(join(fx.media, r.video), join(root, "videos", "all", `${id}.mp4`));
    lines.push(`ret${i},msr${7010 + i},${id},"${r.captions[0]}"`);
  }
  await Deno.writeTextFile(join(root, "MSRVTT_JSFUSION_test.csv"), lines.join("\n") + "\n");
  const run = join(ROOT, "run-msrvtt");
  await writeUntrainedRun(run);
  const work = join(ROOT, "work-msrvtt");
  const r = await runVatt([
    "protocol",
    "msrvtt",
    root,
    "--from",
    run,
    "--work",
    work,
    "--vocab",
    join(fx.data, "vocab.txt"),
    "--backend",
    "cpu",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout.trim().split("\n");
  assert.match(
    out[0],
    /^1k-A: R@1 [0-9.]+, R@5 1, R@10 1, medianRank [0-9.]+ \(0 train, 4 test clips\)$/,
  );
  const saved = JSON.parse(await Deno.readTextFile(join(work, "result.json")));
  const m = saved.folds[0].metrics;
  // Four candidates: R@1 is a multiple of 1/4, and every positive is in the top 5.
  assert.ok(Number.isInteger(m["R@1"] * 4));
  assert.equal(
    out[3],
    `| MSR-VTT (1k-A) | 1k-A | R@1 ${
      (100 * m["R@1"]).toFixed(1)
    } ± 0.0 | R@5 100.0 ± 0.0 | R@10 100.0 ± 0.0 | MedR ${m.medianRank.toFixed(1)} ± 0.0 |`,
  );
  assert.equal(Deno.statSync(join(work, "1k-A", "test", "index.json")).isFile, true);
  assert.equal(
    await Deno.readTextFile(join(work, "1k-A", "test", "vocab.txt")),
    await Deno.readTextFile(join(fx.data, "vocab.txt")),
  );
});
