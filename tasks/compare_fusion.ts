/**
 * `deno task compare-fusion`: trains every fusion head (concat, tensor, mcb,
 * vatt) on the frozen features of a pretrained tiny VATT, on the demo dataset
 * (video, audio and text of each clip), and prints one table: head,
 * features, parameters, validation accuracy, training time, with chance
 * level; single-modality linear probes are listed for reference.
 *
 * Without `--from`/`--data` it makes everything in a temporary folder: the
 * demo dataset, its tokenization at the tiny preset, and a short pretraining
 * run.
 *
 * ```sh
 * deno task compare-fusion [--clips 48] [--steps 40] [--epochs 30] [--backend wasm]
 * deno task compare-fusion --data DATA --from RUN
 * ```
 *
 * @module
 */
import * as path from "node:path";
import { parseArgs } from "node:util";
import { type BackendName, initBackend } from "../lib/backend/select.ts";
import { PRESETS, resolveVattConfig } from "../lib/config/vatt_config.ts";
import { Dataset } from "../lib/data/shards/dataset.ts";
import { generateDemoData } from "../lib/demo/demo_data.ts";
import { settingsForModel } from "../lib/data/tokenize/settings.ts";
import { tokenizeDataset } from "../lib/data/tokenize/tokenize.ts";
import type { FusionHeadName } from "../lib/config/fusion_config.ts";
import { classificationReport } from "../lib/eval/classify/classify.ts";
import { finetune, type FinetuneResult } from "../lib/train/finetune.ts";
import {
  type FeatureKind,
  type FinetuneConfigInput,
  resolveFinetuneConfig,
} from "../lib/config/finetune_config.ts";
import type { Modality } from "../lib/config/modality.ts";
import { pretrain } from "../lib/train/pretrain.ts";
import { resolvePretrainConfig } from "../lib/config/pretrain_config.ts";
import { prepareRunFolder } from "../lib/run/run_folder.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    clips: { type: "string", default: "48" },
    steps: { type: "string", default: "40" },
    epochs: { type: "string", default: "30" },
    batch: { type: "string", default: "8" },
    "val-fraction": { type: "string", default: "0.25" },
    seed: { type: "string", default: "0" },
    backend: { type: "string", default: "wasm" },
    data: { type: "string" },
    from: { type: "string" },
    keep: { type: "string" },
    help: { type: "boolean", default: false },
  },
});

if (flags.help) {
  console.log(
    "deno task compare-fusion [--clips 48] [--steps 40] [--epochs 30] [--batch 8]\n" +
      "  [--val-fraction 0.25] [--seed 0] [--backend wasm] [--data DATA --from RUN] [--keep DIR]",
  );
  Deno.exit(0);
}

function int(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) {
    console.error(`compare-fusion: --${name} must be a positive integer, got ${value}`);
    Deno.exit(2);
  }
  return n;
}

const clips = int("clips", flags.clips);
const steps = int("steps", flags.steps);
const epochs = int("epochs", flags.epochs);
const batch = int("batch", flags.batch);
const seed = Number(flags.seed);
const valFraction = Number(flags["val-fraction"]);
if ((flags.data === undefined) !== (flags.from === undefined)) {
  console.error("compare-fusion: give --data and --from together (or neither)");
  Deno.exit(2);
}

const root = flags.keep ?? await Deno.makeTempDir({ prefix: "vatt-compare-fusion-" });
await Deno.mkdir(root, { recursive: true });
const log = (line: string) => console.error(`compare-fusion: ${line}`);
const backend = await initBackend(flags.backend as BackendName);

let dataDir = flags.data;
let from = flags.from;
if (!dataDir || !from) {
  const tiny = PRESETS.tiny;
  log(`making ${clips} demo clips in ${root}`);
  const { manifestPath } = await generateDemoData(path.join(root, "demo"), { clips, seed });
  dataDir = path.join(root, "data");
  await tokenizeDataset({
    manifest: manifestPath,
    out: dataDir,
    settings: settingsForModel(tiny),
    text: { buildVocab: tiny.text.vocabSize - 1 },
  });
  from = path.join(root, "pretrained");
  const model = resolveVattConfig({ preset: "tiny", seed });
  const train = resolvePretrainConfig({
    steps,
    batchSize: batch,
    baseRate: 1e-3,
    finalRate: 5e-5, // the final rate these figures were measured with
    warmupSteps: Math.floor(steps / 10),
    checkpointEvery: steps,
    seed,
  });
  await prepareRunFolder(from, { config: { model, train }, resume: false, force: true });
  log(`pretraining the tiny preset for ${steps} steps on ${backend}`);
  const pretrainData = await Dataset.open(dataDir);
  try {
    await pretrain({ runDir: from, model, train, data: pretrainData });
  } finally {
    pretrainData.close();
  }
}

interface Row {
  head: string;
  modalities: string;
  features: FeatureKind;
  result: FinetuneResult;
}

const data = await Dataset.open(dataDir);
const rows: Row[] = [];
const plans: [string, FinetuneConfigInput][] = [];
const all: Modality[] = ["video", "audio", "text"];
for (const head of ["concat", "tensor", "mcb", "vatt"] as FusionHeadName[]) {
  for (const features of ["backbone", "common"] as FeatureKind[]) {
    plans.push([head, { modalities: all, head, features }]);
  }
}
for (const m of all) {
  plans.push(["linear probe", { modalities: [m], linearProbe: true, features: "backbone" }]);
}
try {
  for (const [name, input] of plans) {
    const config = resolveFinetuneConfig({ ...input, epochs, batchSize: batch, valFraction, seed });
    const runDir = path.join(
      root,
      "runs",
      `${name.replace(" ", "-")}-${config.modalities.join("-")}-${config.features}`,
    );
    await prepareRunFolder(runDir, { config, resume: false, force: true });
    log(`${name} on ${config.modalities.join("+")} (${config.features} features)`);
    const result = await finetune({ runDir, from, data, config, score: classificationReport });
    rows.push({
      head: name,
      modalities: config.modalities.join("+"),
      features: config.features,
      result,
    });
  }
} finally {
  data.close();
}

const first = rows[0].result;
const classes = data.index.labels.names.length;
const pct = (x: number | undefined) => (x === undefined ? "-" : `${(100 * x).toFixed(1)}%`);
const table = [
  ["head", "modalities", "features", "parameters", "top-1", "top-5", "train time"],
  ...rows.map((r) => {
    const m = r.result.metrics[r.result.metrics.length - 1];
    return [
      r.head,
      r.modalities,
      r.features,
      r.result.parameters.head.toLocaleString("en-US"),
      pct(m?.top1),
      pct(m?.top5),
      `${r.result.seconds.train.toFixed(1)} s`,
    ];
  }),
];
const widths = table[0].map((_, j) => Math.max(...table.map((row) => row[j].length)));
const right = new Set([3, 4, 5, 6]);
console.log(
  `Fusion heads on frozen features of a pretrained tiny VATT (${backend}): demo dataset, ` +
    `${first.trainClips} training and ${first.valClips} validation clips, ${classes} classes, ` +
    `${epochs} epochs of batch ${batch}.`,
);
console.log(
  `Chance: top-1 ${pct(1 / classes)}, top-5 ${pct(Math.min(5, classes) / classes)}.\n`,
);
for (const row of table) {
  console.log(
    row.map((cell, j) => (right.has(j) ? cell.padStart(widths[j]) : cell.padEnd(widths[j])))
      .join("  "),
  );
}
if (!flags.keep) await Deno.remove(root, { recursive: true });
