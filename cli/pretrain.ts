/**
 * `vatt pretrain DATA --out RUN`: multimodal contrastive pretraining.
 *
 * @module
 */
import { Command, Option } from "@commander-js/extra-typings";
import * as path from "node:path";
import { initBackend } from "../lib/backend/select.ts";
import {
  AUGMENT_MODES,
  DEFAULT_PRETRAIN_CONFIG,
  defaultLearningRate,
  FINAL_RATE_FRACTION,
  fitBatchToClips,
  LOSS_FORMS,
  MAX_DEFAULT_WARMUP_STEPS,
  MIN_DEFAULT_RATE,
  type PretrainConfig,
  REFERENCE_RATES,
  resolvePretrainConfig,
} from "../lib/config/pretrain_config.ts";
import { DEFAULT_PRESET, type VattConfig } from "../lib/config/vatt_config.ts";
import { checkModelFitsData } from "../lib/data/fit.ts";
import { Dataset } from "../lib/data/shards/dataset.ts";
import { withDatasetWordVectors } from "../lib/data/text/word_vector_table.ts";
import { prepareRunFolder } from "../lib/run/run_folder.ts";
import { checkOutputPath } from "../lib/io/guard.ts";
import { pretrain, type PretrainMetrics, type PretrainResult } from "../lib/train/pretrain.ts";
import { memoryLimit } from "../lib/train/memory_plan.ts";
import { chooseMemoryStrategy, type MemoryStrategy } from "../lib/train/memory_strategy.ts";
import { accumulateOption, recomputeOption } from "./_memory_flags.ts";
import { refuseContrastiveAccumulation } from "../lib/train/accumulate.ts";
import { explainOutOfMemory } from "../lib/train/out_of_memory.ts";
import { CliError } from "./cli_error.ts";
import { interruptedError, listenForRunStop } from "./_interrupt.ts";
import { modelConfigForData, PRESET_NAMES, presetFlag } from "./_model_config.ts";
import { backendOption, slowPathNote } from "./_backend_option.ts";
import { integerFlag, numberFlag, type OptionsOf } from "./_options.ts";
import { createProgress } from "./_progress.ts";
import { describeDropped, RESUME_HELP, resumeOptions } from "./_resume.ts";
import { checkDistributable, distributedOption, type Ranks, startRanks } from "./_distributed.ts";

const D = DEFAULT_PRETRAIN_CONFIG;

/** `--loss-form`: the choices and default from `lib/config/pretrain_config.ts`. */
function lossFormOption() {
  return new Option(
    "--loss-form <form>",
    "NCE/MIL-NCE form: official (VATT's AsymmetricNCE, both directions in one denominator), " +
      "one-way (video→audio/text only) or symmetric (VATT's SymmetricNCE, the directions summed)",
  ).choices(LOSS_FORMS).default(D.lossForm);
}

/** `--lr`: no default value, the library's rule (`defaultLearningRate`) in words. */
function lrOption() {
  return new Option(
    "--lr <rate>",
    `base learning rate (default: the preset's reference rate scaled linearly with --batch, ` +
      `at least ${MIN_DEFAULT_RATE}; tiny: ${REFERENCE_RATES.tiny.rate} at batch ${REFERENCE_RATES.tiny.batch})`,
  ).argParser(numberFlag("--lr", { above: 0 }));
}

/** `--temperature`: the NCE and MIL-NCE temperature. */
function temperatureOption() {
  return new Option("--temperature <t>", "NCE temperature")
    .argParser(numberFlag("--temperature", { above: 0 })).default(D.temperature);
}

/** `--mil-weight`: λ of `NCE + λ·MIL-NCE`. */
function milWeightOption() {
  return new Option("--mil-weight <lambda>", "weight of the MIL-NCE term")
    .argParser(numberFlag("--mil-weight", { min: 0 })).default(D.milWeight);
}

/** `--final-lr`: no default value, a fraction of the base rate by the library. */
function finalLrOption() {
  return new Option(
    "--final-lr <rate>",
    `final learning rate (default: ${FINAL_RATE_FRACTION} × the base rate)`,
  ).argParser(numberFlag("--final-lr", { min: 0 }));
}

/** The arguments and flags of `vatt pretrain`; defaults from {@linkcode DEFAULT_PRETRAIN_CONFIG}. */
function flags() {
  return new Command()
    .argument("<data>", "dataset folder written by vatt tokenize")
    .requiredOption("--out <run>", "run folder")
    .option(
      "--preset <name>",
      `model preset: ${PRESET_NAMES} (default: the first that fits DATA's settings, else ${DEFAULT_PRESET})`,
      presetFlag,
    )
    .option("--agnostic", "modality-agnostic (shared) backbone", false)
    .option("--config <file>", "JSON file with config fields over the preset")
    .option(
      "--steps <n>",
      `training steps (default: ${D.steps})`,
      integerFlag("--steps", { min: 1 }),
    )
    .option(
      "--epochs <n>",
      "passes over DATA instead of --steps: steps = ceil(N × clips / batch)",
      numberFlag("--epochs", { above: 0 }),
    )
    .option("--batch <n>", "clips per batch", integerFlag("--batch", { min: 2 }), D.batchSize)
    .addOption(lrOption())
    .addOption(finalLrOption())
    .option(
      "--warmup <steps>",
      `linear warmup steps (default: 10% of --steps, at most ${MAX_DEFAULT_WARMUP_STEPS})`,
      integerFlag("--warmup", { min: 0 }),
    )
    .option(
      "--weight-decay <w>",
      "decoupled weight decay",
      numberFlag("--weight-decay", { min: 0 }),
      D.weightDecay,
    )
    .option(
      "--clip-norm <n>",
      "clip gradients by global norm (0 = off)",
      numberFlag("--clip-norm", { min: 0 }),
      D.clipNorm,
    )
    .addOption(temperatureOption())
    .addOption(milWeightOption())
    .addOption(lossFormOption())
    .option("--symmetric", "with --loss-form one-way: NCE of both directions averaged", D.symmetric)
    .addOption(
      new Option(
        "--augment <mode>",
        "per-visit augmentation: paper (random window, crop, flip, colour, audio gain and noise) or none (centre window and crop)",
      ).choices(AUGMENT_MODES).default(D.augment),
    )
    .option(
      "--seed <n>",
      "seed of data order, DropToken and initialisation",
      integerFlag("--seed", { min: 0 }),
      D.seed,
    )
    .addOption(backendOption())
    .addOption(recomputeOption())
    .addOption(accumulateOption("refused: NCE contrasts a clip with its whole batch"))
    .option(
      "--checkpoint-every <n>",
      "steps between checkpoints",
      integerFlag("--checkpoint-every", { min: 1 }),
      D.checkpointEvery,
    )
    .option("--keep <n>", "checkpoints kept", integerFlag("--keep", { min: 1 }), D.keep)
    .option("--resume [checkpoint]", RESUME_HELP, false)
    .option("--force", "start over in an existing run folder", false)
    .addOption(distributedOption())
    .option("--quiet", "no progress output", false);
}

/** The options of `vatt pretrain`, typed from its declaration. */
type PretrainFlags = OptionsOf<typeof flags>;

/**
 * Declares `vatt pretrain`: its arguments, flags and handler.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { command } from "./pretrain.ts";
 * const cmd = command();
 * cmd.parseOptions(["--out", "runs/a", "--steps", "40"]);
 * assert.equal(cmd.opts().steps, 40);
 * assert.equal(cmd.opts().temperature, 0.07);
 * assert.equal(cmd.opts().lossForm, "official"); // DEFAULT_LOSS_FORM
 * assert.equal(cmd.opts().warmup, undefined); // 10% of the steps, by the library
 * ```
 */
export function command() {
  return flags().action(pretrainCommand);
}

/** Config paths of a pretraining run → the flag that sets each (named when a resume is refused). */
const FLAG_OF_FIELD: Readonly<Record<string, string>> = {
  "data.dir": "DATA",
  "model.preset": "--preset",
  "model.agnostic": "--agnostic",
  "train.steps": "--steps",
  "train.batchSize": "--batch",
  "train.baseRate": "--lr",
  "train.finalRate": "--final-lr",
  "train.warmupSteps": "--warmup",
  "train.weightDecay": "--weight-decay",
  "train.clipNorm": "--clip-norm",
  "train.temperature": "--temperature",
  "train.milWeight": "--mil-weight",
  "train.lossForm": "--loss-form",
  "train.symmetric": "--symmetric",
  "train.augment": "--augment",
  "train.seed": "--seed",
  "train.checkpointEvery": "--checkpoint-every",
  "train.keep": "--keep",
};

/**
 * The steps of `--epochs N`: ceil(N × clips / batch), with the line that says
 * so; `--steps` as given (or its default) otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stepsOfEpochs } from "./pretrain.ts";
 * assert.deepEqual(stepsOfEpochs({ epochs: 3 }, { clips: 100, batch: 16 }), {
 *   steps: 19,
 *   note: "pretrain: --epochs 3 over 100 clips at batch 16 = 19 steps (ceil(3 × 100 / 16))",
 * });
 * assert.equal(stepsOfEpochs({ steps: 40 }, { clips: 100, batch: 16 }).steps, 40);
 * assert.throws(() => stepsOfEpochs({ steps: 40, epochs: 2 }, { clips: 100, batch: 16 }), /--epochs and --steps exclude each other/);
 * ```
 */
export function stepsOfEpochs(
  o: { steps?: number; epochs?: number },
  data: { clips: number; batch: number },
): { steps?: number; note?: string } {
  if (o.epochs === undefined) return { steps: o.steps };
  if (o.steps !== undefined) {
    throw new CliError(
      "--epochs and --steps exclude each other: give the length of the run one way",
      2,
    );
  }
  const steps = Math.max(1, Math.ceil((o.epochs * data.clips) / data.batch));
  return {
    steps,
    note: `pretrain: --epochs ${o.epochs} over ${data.clips} clips at batch ${data.batch} = ` +
      `${steps} steps (ceil(${o.epochs} × ${data.clips} / ${data.batch}))`,
  };
}

/** The training config of the flags, for `preset` (the default learning rate follows it). */
function trainConfigFromFlags(o: PretrainFlags, preset?: string): PretrainConfig {
  return resolvePretrainConfig({
    steps: o.steps,
    batchSize: o.batch,
    baseRate: o.lr,
    finalRate: o.finalLr,
    warmupSteps: o.warmup,
    weightDecay: o.weightDecay,
    clipNorm: o.clipNorm,
    temperature: o.temperature,
    milWeight: o.milWeight,
    lossForm: o.lossForm,
    symmetric: o.symmetric,
    augment: o.augment,
    seed: o.seed,
    checkpointEvery: o.checkpointEvery,
    keep: o.keep,
    recompute: o.recompute,
  }, { preset });
}

/** The learning rates in words: the values, and the rule when the default applied. */
function describeRates(o: PretrainFlags, preset: string, train: PretrainConfig): string {
  const rule = o.lr === undefined ? `${defaultLearningRate(preset, train.batchSize).rule}; ` : "";
  return `learning rate ${train.baseRate} (${rule}final ${train.finalRate})`;
}

/** One line about the run that starts. */
function describeStart(
  model: VattConfig,
  run: {
    backend: string;
    clips: number;
    batchSize: number;
    steps: number;
    rates: string;
    resumeStep?: number;
  },
): string {
  const agnostic = model.agnostic ? " (agnostic)" : "";
  const length = run.resumeStep !== undefined
    ? `resuming at step ${run.resumeStep}`
    : `${run.steps} steps`;
  return `pretrain: ${model.preset}${agnostic} on ${run.backend}, ${run.clips} clips, ` +
    `batch ${run.batchSize}, ${run.rates}, ${length}`;
}

/** DATA, the model and the training config, all checked before a single step. */
async function checkedInputs(dataDir: string, o: PretrainFlags) {
  // --epochs excludes --steps: refused before DATA is opened.
  stepsOfEpochs(o, { clips: 1, batch: 1 });
  const given = trainConfigFromFlags(o);
  const data = await Dataset.open(dataDir);
  try {
    // Real paths: a symlink alias of DATA as --out is refused before --force deletes anything.
    await checkOutputPath(o.out, { kind: "folder", inputs: [{ path: dataDir, name: "DATA" }] });
    // A dataset tokenized with --word-vectors sets the vocabulary size and vector dimension.
    const picked = await modelConfigForData(o, data, { seed: given.seed });
    if (picked.note && !o.quiet) console.error(picked.note);
    const model = withDatasetWordVectors(picked.config, data.index.text);
    await data.verifyAll();
    checkModelFitsData(model, data);
    const fitted = fitBatchToClips(given, data.size);
    if (fitted.lowered) {
      console.error(
        `pretrain: --batch ${given.batchSize} is larger than the dataset (${data.size} clips); ` +
          `using --batch ${data.size}`,
      );
    }
    // The default learning rate follows the preset and the batch actually used, --epochs the clips.
    const batch = fitted.config.batchSize;
    const length = stepsOfEpochs(o, { clips: data.size, batch });
    if (length.note && !o.quiet) console.error(length.note);
    const train = trainConfigFromFlags({ ...o, batch, steps: length.steps }, model.preset);
    return { data, model, train };
  } catch (e) {
    data.close();
    throw e;
  }
}

/**
 * The memory plan and what it switches on (said in one line): a batch that
 * cannot fit is refused here, before the run folder is touched.
 */
async function memoryStrategy(
  run: { model: VattConfig; train: PretrainConfig; data: Dataset; backend: string; ranks: number },
  o: PretrainFlags,
): Promise<MemoryStrategy> {
  try {
    const input = {
      model: run.model,
      batchSize: run.train.batchSize / run.ranks, // each rank's share of the global batch
      captionsPerClip: run.data.index.settings.captionsPerClip,
    };
    const strategy = chooseMemoryStrategy(input, await memoryLimit(run.backend), {
      recompute: run.train.recompute,
      suggest: "ranks",
    });
    if (strategy.note && !o.quiet) console.error(strategy.note);
    return strategy;
  } catch (e) {
    run.data.close();
    throw e;
  }
}

/** The progress text of a step. */
function stepLine(m: PretrainMetrics): string {
  return `loss ${m.loss.toFixed(3)} (nce ${m.nce.toFixed(3)}, mil ${m.milNce.toFixed(3)}) ` +
    `${m.clipsPerSec.toFixed(1)} clips/s`;
}

/** Runs `vatt pretrain`, on every rank when a launcher started several (`--distributed`). */
async function pretrainCommand(dataDir: string, o: PretrainFlags): Promise<void> {
  if (o.resume && o.force) throw new CliError("--resume and --force exclude each other", 2);
  refuseContrastiveAccumulation(o.accumulate);
  const ranks = startRanks(o.distributed);
  let result;
  try {
    // Only rank 0 prints progress; every rank prints its own failure.
    result = await runPretrain(dataDir, { ...o, quiet: o.quiet || !ranks.leader }, ranks);
  } catch (e) {
    throw ranks.fail(e);
  }
  ranks.finish(); // waits for every rank: rank 0's last checkpoint is written
  const interrupted = interruptedError(result);
  if (interrupted) throw interrupted;
  if (ranks.leader) console.log(`pretrained ${result.step} steps: ${result.checkpoint}`);
}

/** The ranks can run this together, and every rank resolved the same run (a hash compared before step 1). */
function agreeOnRun(
  ranks: Ranks,
  run: { runConfig: { train: PretrainConfig }; backend: string; o: PretrainFlags },
): void {
  const { runConfig, backend, o } = run;
  checkDistributable(ranks, { batchSize: runConfig.train.batchSize, backend });
  ranks.agree(JSON.stringify({ runConfig, backend, out: path.resolve(o.out), resume: o.resume }));
}

/** Runs `vatt pretrain` on this rank (the only one without `--distributed`). */
async function runPretrain(
  dataDir: string,
  o: PretrainFlags,
  ranks: Ranks,
): Promise<PretrainResult> {
  // Everything checked before a single step: data, fit, folder, backend.
  const { data, model, train } = await checkedInputs(dataDir, o);
  const runConfig = {
    kind: "pretrain",
    model,
    train,
    data: { dir: path.resolve(dataDir), clips: data.size },
  };
  const backend = await initBackend(o.backend);
  agreeOnRun(ranks, { runConfig, backend, o });
  const size = ranks.collectives.size;
  const strategy = await memoryStrategy({ model, train, data, backend, ranks: size }, o);
  const plan = strategy.plan;
  const slow = slowPathNote(backend);
  for (const note of [slow, ranks.note]) if (note && !o.quiet) console.error(note);
  // Rank 0 alone prepares (and locks) the run folder; the others resume from what it found.
  const prepared = !ranks.leader ? undefined : await prepareRunFolder(o.out, {
    config: runConfig,
    ...resumeOptions(o.resume),
    flags: FLAG_OF_FIELD,
    force: o.force,
    lock: true,
    // A resumed run may run longer; its warmup follows --steps unless given.
    mayDiffer: [
      "train.steps",
      "train.recompute",
      ...(o.warmup === undefined ? ["train.warmupSteps"] : []),
    ],
    steps: train.steps,
  });
  const dropped = prepared && describeDropped("pretrain", prepared);
  if (dropped && !o.quiet) console.error(dropped);
  const resumeFrom = ranks.fromLeader(prepared?.resumeFrom ?? null) ?? undefined;
  if (!o.quiet && prepared) {
    console.error(describeStart(model, {
      backend,
      clips: data.size,
      batchSize: train.batchSize,
      steps: train.steps,
      rates: describeRates(o, model.preset, train),
      resumeStep: prepared.resumeFrom ? prepared.step : undefined,
    }));
  }
  // An interrupted mpirun sends its ranks SIGTERM: they stop at the step's end with a checkpoint.
  const stop = listenForRunStop(ranks.collectives.size);
  const progress = createProgress({
    label: "pretrain",
    total: train.steps,
    unit: "steps",
    quiet: o.quiet,
  });
  let result;
  try {
    result = await pretrain({
      runDir: o.out,
      model,
      train,
      data,
      resumeFrom,
      shouldStop: stop.stopRequested,
      memory: strategy, // recomputation (in parts) and where Adam's moments live
      collectives: ranks.collectives,
      onStep: (m) => progress.update(m.step, stepLine(m)),
    });
  } catch (e) {
    throw explainOutOfMemory(e, plan);
  } finally {
    progress.stop();
    stop.dispose();
    data.close();
    prepared?.lock?.release();
  }
  return result;
}
