/**
 * `vatt finetune DATA --from RUN --out RUN2`: a classifier on a pretrained
 * run — end-to-end on one modality, a linear probe, or a fusion head on
 * several modalities' frozen features.
 *
 * @module
 */
import { Command, Option } from "@commander-js/extra-typings";
import * as path from "node:path";
import { initBackend } from "../lib/backend/select.ts";
import {
  DEFAULT_FINETUNE_CONFIG,
  DEFAULT_HEAD,
  DEFAULT_LEARNING_RATES,
  FEATURE_KINDS,
  type FinetuneConfig,
  OPTIMIZERS,
  resolveFinetuneConfig,
} from "../lib/config/finetune_config.ts";
import { FUSION_HEADS } from "../lib/config/fusion_config.ts";
import { AUGMENT_MODES } from "../lib/config/pretrain_config.ts";
import { topKOf } from "../lib/config/eval_config.ts";
import type { Modality } from "../lib/config/modality.ts";
import { Dataset } from "../lib/data/shards/dataset.ts";
import { DEFAULT_CONCAT_FUSION_CONFIG } from "../lib/model/fusion/concat_fusion.ts";
import { DEFAULT_MCB_FUSION_CONFIG } from "../lib/model/fusion/mcb_fusion.ts";
import { DEFAULT_TENSOR_FUSION_CONFIG } from "../lib/model/fusion/tensor_fusion.ts";
import { resolveCheckpoint } from "../lib/run/checkpoint.ts";
import { prepareRunFolder } from "../lib/run/run_folder.ts";
import { memoryLimit } from "../lib/train/memory_plan.ts";
import { chooseMemoryStrategy, type MemoryStrategy } from "../lib/train/memory_strategy.ts";
import { accumulateOption, recomputeOption } from "./_memory_flags.ts";
import { inferenceBatch } from "./_inference_batch.ts";
import { countParameters } from "../lib/model/weight_specs.ts";
import { explainOutOfMemory } from "../lib/train/out_of_memory.ts";
import { checkOutputPath } from "../lib/io/guard.ts";
import { TRAINED_ON_KEY, trainedOnRecord } from "../lib/run/trained_on.ts";
import { classificationReport } from "../lib/eval/classify/classify.ts";
import { finetune, type FinetuneMetrics } from "../lib/train/finetune.ts";
import { type FinetunePlan, planFinetune } from "../lib/train/finetune_plan.ts";
import { CliError } from "./cli_error.ts";
import { interruptedError, listenForRunStop } from "./_interrupt.ts";
import { backendOption, withSlowPathNote } from "./_backend_option.ts";
import { integerFlag, modalityListFlag, numberFlag, type OptionsOf } from "./_options.ts";
import { createProgress, type Progress } from "./_progress.ts";
import { describeDropped, RESUME_HELP, resumeOptions } from "./_resume.ts";
import { checkDistributable, distributedOption, type Ranks, startRanks } from "./_distributed.ts";

const D = DEFAULT_FINETUNE_CONFIG;
const LR = DEFAULT_LEARNING_RATES;

/** The head, its sizes and its training mode. */
function headFlags() {
  return new Command()
    .argument("<data>", "dataset folder with labels")
    .option("--from <run>", "pretrained run folder or checkpoint")
    .option("--out <run>", "output run folder")
    .addOption(
      new Option("--modality <list>", "video, audio, text, or a comma list (fusion)")
        .argParser(modalityListFlag("--modality"))
        .default(["video"] as Modality[], "video"),
    )
    .addOption(
      new Option("--fusion <head>", `classification head (default ${DEFAULT_HEAD}: linear)`)
        .choices(FUSION_HEADS),
    )
    .addOption(
      new Option(
        "--features <kind>",
        "head input: aggregation tokens or common-space embeddings " +
          "(default: common for vatt on several modalities, else backbone)",
      ).choices(FEATURE_KINDS),
    )
    .option(
      "--fusion-dim <n>",
      "tensor fusion: projection width before the outer product " +
        `(${DEFAULT_TENSOR_FUSION_CONFIG.fusionDim})`,
      integerFlag("--fusion-dim", { min: 1 }),
    )
    .option(
      "--hidden-dim <n>",
      "concat/tensor fusion: hidden layer width " +
        `(${DEFAULT_CONCAT_FUSION_CONFIG.hiddenDim}/${DEFAULT_TENSOR_FUSION_CONFIG.hiddenDim})`,
      integerFlag("--hidden-dim", { min: 1 }),
    )
    .option(
      "--sketch-dim <n>",
      `mcb fusion: count-sketch width d (${DEFAULT_MCB_FUSION_CONFIG.outputDim})`,
      integerFlag("--sketch-dim", { min: 1 }),
    )
    .option("--linear-probe", "frozen backbone, features extracted once, linear head", false)
    .option("--freeze", "freeze the backbone (default with several modalities)")
    .option("--no-freeze", "train the backbone too (default with one modality)");
}

/** `--label-smoothing`: ε of the smoothed single-label targets. */
function labelSmoothingOption() {
  return new Option("--label-smoothing <e>", "label smoothing (single-label)")
    .argParser(numberFlag("--label-smoothing", { min: 0 })).default(D.labelSmoothing);
}

/** The arguments and flags of `vatt finetune`; defaults from {@linkcode DEFAULT_FINETUNE_CONFIG}. */
function flags() {
  return headFlags()
    .addOption(
      new Option("--optimizer <name>", "sgd with momentum, or adam (default: adam when frozen)")
        .choices(OPTIMIZERS),
    )
    .option(
      "--lr <rate>",
      `peak learning rate (default: sgd ${LR.sgd.endToEnd}/${LR.sgd.frozen}, ` +
        `adam ${LR.adam.endToEnd}/${LR.adam.frozen} frozen)`,
      numberFlag("--lr", { above: 0 }),
    )
    .option("--momentum <m>", "SGD momentum", numberFlag("--momentum", { min: 0 }), D.momentum)
    .option(
      "--weight-decay <w>",
      "weight decay on kernels",
      numberFlag("--weight-decay", { min: 0 }),
      D.weightDecay,
    )
    .option(
      "--epochs <n>",
      "passes over the training split",
      integerFlag("--epochs", { min: 1 }),
      D.epochs,
    )
    .option("--batch <n>", "clips per batch", integerFlag("--batch", { min: 1 }), D.batchSize)
    .option(
      "--warmup <steps>",
      "linear warmup steps (default: 10% of the steps)",
      integerFlag("--warmup", { min: 0 }),
    )
    .addOption(labelSmoothingOption())
    .option(
      "--mixup <alpha>",
      "mixup with Beta(alpha, alpha), audio only (0 = off)",
      numberFlag("--mixup", { min: 0 }),
      D.mixup,
    )
    .option(
      "--clip-norm <n>",
      "clip gradients by global norm (0 = off)",
      numberFlag("--clip-norm", { min: 0 }),
      D.clipNorm,
    )
    .option("--val <data>", "validation dataset (instead of a split)")
    .option(
      "--val-fraction <f>",
      `labelled clips held out for validation (default ${D.valFraction})`,
      numberFlag("--val-fraction", { min: 0 }),
    )
    .addOption(
      new Option(
        "--augment <mode>",
        "per-visit augmentation when training end-to-end: paper (random window, crop, flip, colour, audio gain and noise) or none (centre window and crop)",
      ).choices(AUGMENT_MODES).default(D.augment),
    )
    .option(
      "--seed <n>",
      "seed of the split, data order, mixup and the head",
      integerFlag("--seed", { min: 0 }),
      D.seed,
    )
    .option(
      "--eval-batch <n>",
      "clips per forward pass for features and validation",
      integerFlag("--eval-batch", { min: 1 }),
      D.evalBatchSize,
    )
    .option("--keep <n>", "checkpoints kept", integerFlag("--keep", { min: 1 }), D.keep)
    .addOption(accumulateOption("micro-batches per batch (one update; less memory)"))
    .addOption(recomputeOption())
    .addOption(backendOption())
    .option("--resume [checkpoint]", RESUME_HELP, false)
    .option("--force", "start over in an existing run folder", false)
    .addOption(distributedOption());
}

/** The options of `vatt finetune`, typed from its declaration. */
type FinetuneFlags = OptionsOf<typeof flags>;

/**
 * Declares `vatt finetune`: its arguments, flags and handler.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { command } from "./finetune.ts";
 * const cmd = command();
 * cmd.parseOptions(["--modality", "audio,video", "--fusion", "tensor", "--fusion-dim", "8"]);
 * assert.deepEqual(cmd.opts().modality, ["audio", "video"]);
 * assert.equal(cmd.opts().fusionDim, 8);
 * assert.equal(cmd.opts().epochs, 10);
 * ```
 */
export function command() {
  return flags().action(finetuneCommand);
}

/** The head's own options (`--fusion-dim` …), each allowed only with the heads that have it. */
function headOptionsFromFlags(o: FinetuneFlags): Record<string, number> {
  const headOptions: Record<string, number> = {};
  const head = o.fusion ?? DEFAULT_HEAD;
  if (o.fusionDim !== undefined) {
    if (head !== "tensor") throw new CliError("--fusion-dim is for --fusion tensor", 2);
    headOptions.fusionDim = o.fusionDim;
  }
  if (o.hiddenDim !== undefined) {
    if (head !== "tensor" && head !== "concat") {
      throw new CliError("--hidden-dim is for --fusion concat or tensor", 2);
    }
    headOptions.hiddenDim = o.hiddenDim;
  }
  if (o.sketchDim !== undefined) {
    if (head !== "mcb") throw new CliError("--sketch-dim is for --fusion mcb", 2);
    headOptions.outputDim = o.sketchDim;
  }
  return headOptions;
}

/** Config paths of a fine-tuning run → the flag that sets each (named when a resume is refused). */
const FLAG_OF_FIELD: Readonly<Record<string, string>> = {
  "from": "--from",
  "data.dir": "DATA",
  "val.dir": "--val",
  "finetune.modalities": "--modality",
  "finetune.head": "--fusion",
  "finetune.headOptions": "--fusion-dim/--hidden-dim/--sketch-dim",
  "finetune.features": "--features",
  "finetune.linearProbe": "--linear-probe",
  "finetune.frozen": "--freeze",
  "finetune.optimizer": "--optimizer",
  "finetune.baseRate": "--lr",
  "finetune.momentum": "--momentum",
  "finetune.weightDecay": "--weight-decay",
  "finetune.epochs": "--epochs",
  "finetune.batchSize": "--batch",
  "finetune.warmupSteps": "--warmup",
  "finetune.labelSmoothing": "--label-smoothing",
  "finetune.mixup": "--mixup",
  "finetune.clipNorm": "--clip-norm",
  "finetune.valFraction": "--val-fraction",
  "finetune.augment": "--augment",
  "finetune.seed": "--seed",
  "finetune.evalBatchSize": "--eval-batch",
  "finetune.keep": "--keep",
};

/**
 * The run folder's options: a resume may run more epochs (as pretrain's may
 * run more steps) and names the flag of each other field that differs.
 */
function runFolderOptions(o: FinetuneFlags, config: unknown, plan: FinetunePlan) {
  return {
    config,
    ...resumeOptions(o.resume),
    force: o.force,
    lock: true,
    mayDiffer: ["finetune.epochs", "finetune.recompute"], // recompute: the same gradients either way
    steps: plan.totalSteps,
    flags: FLAG_OF_FIELD,
  };
}

/** Flags → a resolved config (usage errors exit 2). */
function finetuneConfigFromFlags(o: FinetuneFlags): FinetuneConfig {
  if (o.val !== undefined && o.valFraction !== undefined) {
    throw new CliError("--val and --val-fraction exclude each other", 2);
  }
  return resolveFinetuneConfig({
    modalities: o.modality,
    head: o.fusion,
    headOptions: headOptionsFromFlags(o),
    features: o.features,
    linearProbe: o.linearProbe,
    frozen: o.freeze,
    optimizer: o.optimizer,
    baseRate: o.lr,
    momentum: o.momentum,
    weightDecay: o.weightDecay,
    epochs: o.epochs,
    batchSize: o.batch,
    warmupSteps: o.warmup,
    labelSmoothing: o.labelSmoothing,
    mixup: o.mixup,
    clipNorm: o.clipNorm,
    valFraction: o.val !== undefined ? 0 : o.valFraction,
    augment: o.augment,
    seed: o.seed,
    evalBatchSize: o.evalBatch,
    keep: o.keep,
    recompute: o.recompute,
    accumulate: o.accumulate,
  });
}

function percent(x: number | undefined): string {
  return x === undefined ? "-" : `${(100 * x).toFixed(1)}%`;
}

/**
 * One line for an epoch's metrics.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeEpoch } from "./finetune.ts";
 * const line = describeEpoch({ epoch: 2, step: 6, lr: 0.1, trainLoss: 1, valClips: 0, seconds: 1 }, { epochs: 5, classes: 3 });
 * assert.equal(line, "epoch 2/5: train loss 1.000, no validation");
 * const scored = { epoch: 1, step: 3, lr: 0.1, trainLoss: 1, valClips: 4, valLoss: 1, top1: 0.5, top5: 1, seconds: 1 };
 * assert.ok(describeEpoch(scored, { epochs: 5, classes: 3 }).includes("top-3 100.0%")); // 3 classes: top-3
 * ```
 */
export function describeEpoch(
  m: FinetuneMetrics,
  run: { epochs: number; classes: number },
): string {
  const { epochs } = run;
  const k = topKOf(run.classes);
  const val = m.valClips === 0
    ? "no validation"
    : m.top1 !== undefined
    ? `val top-1 ${percent(m.top1)}, top-${k} ${percent(m.top5)}, loss ${m.valLoss!.toFixed(3)}`
    : `val mAP ${percent(m.mAP)}, ROC-AUC ${percent(m.rocAuc)}, loss ${m.valLoss!.toFixed(3)}`;
  return `epoch ${m.epoch}/${epochs}: train loss ${m.trainLoss.toFixed(3)}, ${val}`;
}

/** The epochs and classes {@linkcode describeEpoch} needs. */
function epochsOf(config: FinetuneConfig, plan: FinetunePlan) {
  return { epochs: config.epochs, classes: plan.labels.names.length };
}

/** How the classifier trains, in words. */
function describeMode(config: FinetuneConfig): string {
  if (config.linearProbe) return "linear probe";
  return config.frozen ? `${config.head} head, frozen backbone` : `${config.head} head, end-to-end`;
}

/** One line about the run that starts. */
function describeStart(
  config: FinetuneConfig,
  plan: FinetunePlan,
  run: { backend: string; resumeStep?: number },
): string {
  const length = run.resumeStep !== undefined
    ? `resuming at step ${run.resumeStep}`
    : `${plan.totalSteps} steps (${config.epochs} epochs)`;
  return `finetune: ${describeMode(config)} on ${config.modalities.join("+")} ` +
    `(${config.features} features), ${plan.labels.names.length} classes, ` +
    `${plan.train.length} training and ${plan.val.length} validation clips, ` +
    (plan.withoutModality > 0
      ? `${plan.withoutModality} left out for lacking ${config.modalities.join("+")}, `
      : "") +
    `${run.backend}, ${length}`;
}

/**
 * Progress of a run: a bar over the clips while frozen features are
 * extracted, then one over the steps.
 */
function finetuneProgress(config: FinetuneConfig, plan: FinetunePlan) {
  const extractBar = config.frozen
    ? createProgress({
      label: "features",
      total: plan.train.length + plan.val.length,
      unit: "clips",
    })
    : undefined;
  let extracting = extractBar !== undefined;
  let steps: Progress | undefined;
  const stopExtracting = () => {
    if (extracting) extractBar?.stop();
    extracting = false;
  };
  return {
    onExtract: (done: number) => extractBar?.update(done),
    onStep: (s: { step: number; totalSteps: number; epoch: number; loss: number }) => {
      if (!steps) {
        stopExtracting();
        steps = createProgress({ label: "finetune", total: s.totalSteps, unit: "steps" });
      }
      steps.update(s.step, `epoch ${s.epoch}, loss ${s.loss.toFixed(3)}`);
    },
    stop: () => {
      steps?.stop();
      stopExtracting();
    },
  };
}

/**
 * The backend, and the memory plan of an end-to-end run (a frozen backbone's
 * features are extracted once; only its head trains): a batch that does not
 * fit is refused here, before the run folder is touched.
 */
async function backendWithMemoryPlan(
  name: FinetuneFlags["backend"],
  config: FinetuneConfig,
  plan: FinetunePlan,
): Promise<{ backend: string; memory?: MemoryStrategy; featureBatch: number }> {
  const backend = withSlowPathNote(await initBackend(name));
  const limit = await memoryLimit(backend);
  // Feature passes hold the weights (and Adam's moments on the heap), then one layer at a time.
  const held = (m?: MemoryStrategy) =>
    m
      ? m.plan.estimate.weights + m.plan.estimate.optimizer - m.plan.estimate.offHeap
      : 4 * weightCount(plan.model);
  const features = (m?: MemoryStrategy) =>
    inferenceBatch("finetune: features", plan.model, config.modalities, config.evalBatchSize, {
      ...limit,
      bytes: limit.bytes - held(m),
    });
  if (config.frozen) return { backend, featureBatch: features() };
  // Micro-batches: one micro-batch's activations at a time.
  const memory = chooseMemoryStrategy(
    {
      model: plan.model,
      batchSize: config.batchSize / config.accumulate,
      modalities: config.modalities,
      optimizer: config.optimizer === "adam" ? "adam" : config.momentum > 0 ? "momentum" : "sgd",
    },
    limit,
    {
      recompute: config.recompute,
      suggest: "accumulate",
      accumulate: config.accumulate,
    },
  );
  if (memory.note) console.error(memory.note);
  return { backend, memory, featureBatch: features(memory) };
}

/** Every weight of a model (trainable and BatchNorm statistics). */
function weightCount(model: FinetunePlan["model"]): number {
  const c = countParameters(model);
  return c.total + c.nonTrainable;
}

/** Runs `vatt finetune`, on every rank when a launcher started several (`--distributed`). */
async function finetuneCommand(dataDir: string, o: FinetuneFlags): Promise<void> {
  if (!o.from) throw new CliError("--from RUN is required (a pretrained run)", 2);
  if (!o.out) throw new CliError("--out RUN2 is required (the fine-tuned run folder)", 2);
  if (o.resume && o.force) throw new CliError("--resume and --force exclude each other", 2);
  const ranks = startRanks(o.distributed);
  let done;
  try {
    done = await runFinetune(dataDir, { ...o, out: o.out, from: o.from }, ranks);
  } catch (e) {
    throw ranks.fail(e);
  }
  ranks.finish(); // waits for every rank: rank 0's last checkpoint is written
  const { result, config, plan } = done;
  const interrupted = interruptedError(result);
  if (interrupted) throw interrupted;
  if (!ranks.leader) return;
  console.log(
    `fine-tuned ${result.step} steps: ${result.checkpoint}${summary(result, config, plan)}`,
  );
}

/** The run's `config.json`. */
function finetuneRunConfig(
  r: {
    checkpoint: string;
    dataDir: string;
    data: Dataset;
    val?: Dataset;
    config: FinetuneConfig;
    plan: FinetunePlan;
  },
) {
  return {
    kind: "finetune",
    from: path.resolve(r.checkpoint),
    data: { dir: path.resolve(r.dataDir), clips: r.data.size },
    val: r.val ? { dir: path.resolve(r.val.dir), clips: r.val.size } : null,
    finetune: r.config,
    // What it trains on, and the clips of DATA it holds out, for `vatt eval classify`.
    [TRAINED_ON_KEY]: trainedOnRecord(r.data.index, {
      ids: r.plan.labels.ids,
      train: r.plan.train,
      heldOut: r.val ? [] : r.plan.val,
    }),
  };
}

/** No progress output (the ranks other than 0). */
const SILENT = { onExtract: undefined, onStep: undefined, stop: () => {} };

/** Runs `vatt finetune` on this rank (the only one without `--distributed`). */
async function runFinetune(
  dataDir: string,
  o: FinetuneFlags & { out: string; from: string },
  ranks: Ranks,
) {
  const out = o.out;
  const config = finetuneConfigFromFlags(o);
  const checkpoint = await resolveCheckpoint(o.from);
  // Real paths: a symlink alias of --from (or DATA) as --out is refused before --force deletes.
  await checkOutputPath(out, {
    kind: "folder",
    inputs: [
      { path: o.from, name: "the pretrained checkpoint --from" },
      { path: checkpoint, name: "the pretrained checkpoint of --from" },
      { path: dataDir, name: "DATA" },
      { path: o.val, name: "--val" },
    ],
  });
  // Everything checked before a single step: data (checksums too), labels, fit, backend, folder.
  const data = await Dataset.open(dataDir);
  let val: Dataset | undefined;
  try {
    val = o.val !== undefined ? await Dataset.open(o.val) : undefined;
    const plan = await planFinetune({ from: checkpoint, data, val, config });
    const runConfig = finetuneRunConfig({ checkpoint, dataDir, data, val, config, plan });
    const { backend, memory, featureBatch } = await backendWithMemoryPlan(o.backend, config, plan);
    const { batchSize, mixup, accumulate } = config;
    checkDistributable(ranks, { batchSize, backend, mixup, accumulate });
    ranks.agree(JSON.stringify({ runConfig, backend, out: path.resolve(out), resume: o.resume }));
    // Rank 0 alone prepares (and locks) the run folder; the others resume from what it found.
    const prepared = !ranks.leader
      ? undefined
      : await prepareRunFolder(out, runFolderOptions(o, runConfig, plan));
    const resumeFrom = ranks.fromLeader(prepared?.resumeFrom ?? null) ?? undefined;
    const resumeStep = prepared?.resumeFrom ? prepared.step : undefined;
    const dropped = prepared && describeDropped("finetune", prepared);
    if (dropped) console.error(dropped);
    if (prepared) console.error(describeStart(config, plan, { backend, resumeStep }));
    if (ranks.note) console.error(ranks.note);
    const stop = listenForRunStop(ranks.collectives.size);
    const progress = ranks.leader ? finetuneProgress(config, plan) : SILENT;
    let result;
    try {
      result = await finetune({
        runDir: out,
        from: checkpoint,
        data,
        val,
        config,
        plan,
        score: classificationReport,
        resumeFrom,
        shouldStop: stop.stopRequested,
        memory, // recomputation (in parts) and where Adam's moments live
        featureBatch,
        collectives: ranks.collectives,
        onExtract: progress.onExtract,
        onStep: progress.onStep,
        onEpoch: (m) => {
          if (ranks.leader && !Deno.stderr.isTerminal()) {
            console.error(describeEpoch(m, epochsOf(config, plan)));
          }
        },
      }).catch((e) => Promise.reject(memory ? explainOutOfMemory(e, memory.plan) : e));
    } finally {
      progress.stop();
      stop.dispose();
      prepared?.lock?.release();
    }
    return { result, config, plan };
  } finally {
    data.close();
    val?.close();
  }
}

/** The last epoch's metrics, and chance level, after the run's last line. */
function summary(
  result: { metrics: FinetuneMetrics[] },
  config: FinetuneConfig,
  plan: FinetunePlan,
): string {
  const lastEpoch = result.metrics[result.metrics.length - 1];
  const epochs = lastEpoch ? `; ${describeEpoch(lastEpoch, epochsOf(config, plan))}` : "";
  const chance = !plan.labels.multiLabel && plan.val.length > 0
    ? ` (chance ${percent(1 / plan.labels.names.length)})`
    : "";
  return `${epochs}${chance}`;
}
