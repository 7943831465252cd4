/**
 * Running one of the paper's protocols end to end on a dataset as
 * distributed: for each split or fold, the manifests from the annotation
 * files (`lib/data/manifest/datasets`), the datasets (`vatt tokenize`, at
 * the pretrained model's sampling), then a linear probe (or end-to-end
 * fine-tuning, as the protocol says) on the training half scored on the test half (`finetune` with the test set as validation:
 * top-1, or mAP and d′ for multi-label data), or zero-shot text-to-video
 * retrieval on the test half (R@1/5/10, median rank); then the mean and
 * spread over folds and a table line. Everything lands under `work`, one
 * folder per fold (`fold-1/train.jsonl`, `fold-1/train/`, `fold-1/probe/`…);
 * datasets already complete there are reused.
 *
 * @module
 */
import * as path from "node:path";
import { type FinetuneConfig, resolveFinetuneConfig } from "../config/finetune_config.ts";
import type { VattConfig } from "../config/vatt_config.ts";
import { type DatasetOptions, datasetReader } from "../data/manifest/datasets/mod.ts";
import { Dataset } from "../data/shards/dataset.ts";
import type { TextSource } from "../data/text/setup.ts";
import { settingsForModel } from "../data/tokenize/settings.ts";
import { tokenizeDataset } from "../data/tokenize/tokenize.ts";
import { classificationReport } from "../eval/classify/classify.ts";
import { dPrime } from "../eval/classify/d_prime.ts";
import { zeroShotRetrieval } from "../eval/retrieval/retrieval.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { resolveCheckpoint } from "../run/checkpoint.ts";
import { loadModel, readModelConfig } from "../run/load_model.ts";
import { prepareRunFolder } from "../run/run_folder.ts";
import { finetune } from "../train/finetune.ts";
import { MismatchError } from "../util/errors.ts";
import { meanAndSpread, type MetricSummary, tableLine } from "./aggregate.ts";
import type { ProtocolFold, ProtocolSpec, ProtocolTraining } from "./protocols.ts";

/** Options of {@linkcode runProtocol}. */
export interface ProtocolOptions {
  /** The dataset's root folder, as distributed. */
  root: string;
  /** The pretrained run folder or checkpoint. */
  from: string;
  /** Where manifests, datasets and probe runs are written. */
  work: string;
  /** 1-based folds or splits to run (default: all of the protocol's). */
  folds?: number[];
  /** How to train (default: the protocol's own, `spec.training`). */
  training?: ProtocolTraining;
  /** Fine-tuning fields over the defaults of the training mode (epochs, batch size, rate, seed…). */
  probe?: Partial<FinetuneConfig>;
  /** Retrieval: the pretraining vocabulary (default: `vocab.txt` of the run's pretraining dataset). */
  vocab?: string;
  /** Clips decoded at once while tokenizing. */
  workers?: number;
  ffmpeg?: string;
  /** One line per stage. */
  onProgress?: (line: string) => void;
}

/** The outcome of one fold. */
export interface FoldResult {
  name: string;
  /** Clips trained on (0 for zero-shot) and tested. */
  trainClips: number;
  testClips: number;
  /** `top1`, or `mAP`, `rocAuc` and `dPrime` (from the mean ROC-AUC); or `R@1`, `R@5`, `R@10`, `medianRank`. */
  metrics: Record<string, number>;
}

/** The outcome of {@linkcode runProtocol}. */
export interface ProtocolResult {
  protocol: string;
  title: string;
  folds: FoldResult[];
  /** Mean and sample standard deviation of each metric over the folds. */
  summary: Record<string, MetricSummary>;
  /** The Markdown table row of the summary. */
  line: string;
}

/** What a fold's datasets are built from. */
interface BuildContext {
  spec: ProtocolSpec;
  options: ProtocolOptions;
  model: VattConfig;
}

/** Manifest of one half of a fold from the annotations, then its dataset; returns the folder. */
async function buildHalf(
  ctx: BuildContext,
  half: { name: string; options: DatasetOptions; dir: string; text: TextSource },
): Promise<string> {
  const { spec, options } = ctx;
  const say = options.onProgress ?? (() => {});
  const read = await datasetReader(spec.dataset);
  const m = await read(options.root, half.options);
  const skipped = m.missing.count + m.malformed.count;
  say(
    `${half.name}: ${m.rows.length} clips` +
      (skipped > 0
        ? ` (skipped ${m.missing.count} with missing media${
          m.missing.count > 0 ? `, first ${m.missing.first[0]}` : ""
        }; ${m.malformed.count} malformed rows)`
        : ""),
  );
  if (m.rows.length === 0) throw new MismatchError(`${half.name}: no clip to use`);
  const manifest = `${half.dir}.jsonl`;
  await Deno.mkdir(path.dirname(manifest), { recursive: true });
  await writeFileAtomic(manifest, m.rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
  let tenth = 0; // a line per tenth of the clips decoded (of 50 or more)
  const t = await tokenizeDataset({
    manifest,
    out: half.dir,
    settings: settingsForModel(ctx.model),
    text: half.text,
    workers: options.workers,
    ffmpeg: options.ffmpeg,
    force: true,
    onProgress: (p) => {
      const now = p.total > 0 ? Math.floor((10 * p.done) / p.total) : 10;
      if (now > tenth && now < 10 && p.total >= 50) {
        say(`${half.name}: tokenized ${p.done} of ${p.total} clips`);
      }
      tenth = Math.max(tenth, now);
    },
  });
  if (t.index.skipped.length > 0) {
    say(`${half.name}: tokenize skipped ${t.index.skipped.length} clips (see ${t.indexPath})`);
  }
  return half.dir;
}

/** A linear probe (or fine-tuning) trained on the fold's training half, scored on its test half. */
async function probeFold(ctx: BuildContext, fold: ProtocolFold, dir: string): Promise<FoldResult> {
  const { spec, options, model } = ctx;
  const trainDir = await buildHalf(ctx, {
    name: `${fold.name} train`,
    options: fold.train!,
    dir: path.join(dir, "train"),
    // The class data's own words (unused by a probe on video or audio), within the model's table:
    // its size less the padding and unknown-word ids.
    text: { buildVocab: Math.max(1, model.text.vocabSize - 2) },
  });
  const testDir = await buildHalf(ctx, {
    name: `${fold.name} test`,
    options: fold.test,
    dir: path.join(dir, "test"),
    text: { vocabFile: path.join(trainDir, "vocab.txt") },
  });
  const training = options.training ?? spec.training ?? "linear-probe";
  const config = resolveFinetuneConfig({
    ...options.probe,
    modalities: spec.modalities,
    linearProbe: training === "linear-probe",
  });
  const data = await Dataset.open(trainDir);
  const val = await Dataset.open(testDir);
  try {
    const runDir = path.join(dir, "probe");
    const prepared = await prepareRunFolder(runDir, {
      config: { kind: "protocol-probe", protocol: spec.name, fold: fold.name, finetune: config },
      resume: false,
      force: true,
      lock: true,
    });
    options.onProgress?.(
      `${fold.name}: ${training === "linear-probe" ? "linear probe" : "fine-tuning"} on ${
        spec.modalities.join(", ")
      }`,
    );
    let result;
    try {
      result = await finetune({
        runDir,
        from: options.from,
        data,
        val,
        config,
        score: classificationReport,
        onEpoch: (e) =>
          options.onProgress?.(
            `${fold.name}: epoch ${e.epoch} of ${config.epochs}, training loss ${
              e.trainLoss.toFixed(4)
            }` + (e.top1 !== undefined ? `, test top-1 ${e.top1.toFixed(4)}` : "") +
              (e.mAP !== undefined ? `, test mAP ${e.mAP.toFixed(4)}` : ""),
          ),
      });
    } finally {
      prepared.lock?.release();
    }
    const last = result.metrics[result.metrics.length - 1];
    const metrics: Record<string, number> = data.index.labels.multiLabel
      ? { mAP: last?.mAP ?? NaN, rocAuc: last?.rocAuc ?? NaN, dPrime: dPrime(last?.rocAuc ?? NaN) }
      : { top1: last?.top1 ?? NaN };
    return { name: fold.name, trainClips: result.trainClips, testClips: result.valClips, metrics };
  } finally {
    data.close();
    val.close();
  }
}

/** The pretraining vocabulary: the option, else `vocab.txt` of the dataset the run pretrained on. */
async function pretrainingVocab(options: ProtocolOptions, checkpoint: string): Promise<string> {
  if (options.vocab) return options.vocab;
  for (const dir of [path.dirname(path.dirname(checkpoint)), options.from]) {
    try {
      const config = JSON.parse(await Deno.readTextFile(path.join(dir, "config.json")));
      const data = config?.data?.dir;
      if (typeof data === "string") return path.join(data, "vocab.txt");
    } catch {
      // not a run folder with a config: try the next
    }
  }
  throw new MismatchError(
    "zero-shot retrieval needs the pretraining vocabulary: give --vocab (the pretraining dataset's vocab.txt)",
  );
}

/** Zero-shot text-to-video retrieval on the fold's test half. */
async function retrievalFold(
  ctx: BuildContext,
  fold: ProtocolFold,
  dir: string,
): Promise<FoldResult> {
  const checkpoint = await resolveCheckpoint(ctx.options.from);
  const testDir = await buildHalf(ctx, {
    name: `${fold.name} test`,
    options: fold.test,
    dir: path.join(dir, "test"),
    text: { vocabFile: await pretrainingVocab(ctx.options, checkpoint) },
  });
  const data = await Dataset.open(testDir);
  const { model } = await loadModel(checkpoint);
  try {
    ctx.options.onProgress?.(`${fold.name}: zero-shot text-to-video retrieval`);
    const r = await zeroShotRetrieval(model, data, { pair: "text-video", ks: [1, 5, 10] });
    const { candidate, query } = r.missingSide;
    if (candidate + query > 0) {
      ctx.options.onProgress?.(
        `${fold.name}: skipped ${candidate} clips without video, ${query} without a caption`,
      );
    }
    return {
      name: fold.name,
      trainClips: 0,
      testClips: r.candidates,
      metrics: {
        "R@1": r.recallAtK[1],
        "R@5": r.recallAtK[5],
        "R@10": r.recallAtK[10],
        medianRank: r.medianRank,
      },
    };
  } finally {
    model.dispose();
    data.close();
  }
}

/** The folds asked for, checked against the protocol's. */
function chosenFolds(spec: ProtocolSpec, asked?: number[]): ProtocolFold[] {
  if (!asked) return spec.folds;
  return asked.map((k) => {
    if (!Number.isInteger(k) || k < 1 || k > spec.folds.length) {
      throw new RangeError(
        `${spec.title} has ${spec.folds.length} split(s)/fold(s): ${k} is not 1..${spec.folds.length}`,
      );
    }
    return spec.folds[k - 1];
  });
}

/**
 * Runs `spec` end to end (see the module documentation) and summarises it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PROTOCOLS } from "./protocols.ts";
 * import { runProtocol } from "./run_protocol.ts";
 * const work = Deno.makeTempDirSync();
 * // No pretrained run there: refused before any manifest is read.
 * await assert.rejects(
 *   runProtocol(PROTOCOLS.esc50, { root: work, from: work, work, folds: [6] }),
 *   /1\.\.5/,
 * );
 * ```
 */
export async function runProtocol(
  spec: ProtocolSpec,
  options: ProtocolOptions,
): Promise<ProtocolResult> {
  const folds = chosenFolds(spec, options.folds);
  const model = await readModelConfig(await resolveCheckpoint(options.from));
  const ctx: BuildContext = { spec, options, model };
  const results: FoldResult[] = [];
  for (const fold of folds) {
    const dir = path.join(options.work, fold.name.replace(/[^A-Za-z0-9]+/g, "-"));
    const r = spec.kind === "retrieval"
      ? await retrievalFold(ctx, fold, dir)
      : await probeFold(ctx, fold, dir);
    options.onProgress?.(
      `${fold.name}: ${
        Object.entries(r.metrics).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(", ")
      }`,
    );
    results.push(r);
  }
  const summary: Record<string, MetricSummary> = {};
  for (const metric of Object.keys(results[0].metrics)) {
    summary[metric] = meanAndSpread(results.map((r) => r.metrics[metric]));
  }
  const unit = folds[0].name.startsWith("fold") ? "folds" : "splits";
  const label = folds.length === 1 ? folds[0].name : `${folds.length} ${unit}`;
  const line = tableLine(spec.title, { folds: label, metrics: summary });
  return { protocol: spec.name, title: spec.title, folds: results, summary, line };
}
