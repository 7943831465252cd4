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
  fitBatchToClips,
  LOSS_FORMS,
  MAX_DEFAULT_WARMUP_STEPS,
  type PretrainConfig,
  resolvePretrainConfig,
} from "../lib/config/pretrain_config.ts";
import { DEFAULT_PRESET, type VattConfig } from "../lib/config/vatt_config.ts";
import { checkModelFitsData } from "../lib/data/fit.ts";
import { Dataset } from "../lib/data/shards/dataset.ts";
import { withDatasetWordVectors } from "../lib/data/text/word_vector_table.ts";
import { prepareRunFolder } from "../lib/run/run_folder.ts";
import { checkOutputPath } from "../lib/io/guard.ts";
import { pretrain, type PretrainMetrics, type PretrainResult } from "../lib/train/pretrain.ts";
import { checkMemoryPlan } from "../lib/train/memory_plan.ts";
import { explainOutOfMemory } from "../lib/train/out_of_memory.ts";
import { CliError } from "./cli_error.ts";
import { interruptedError, listenForStop } from "./_interrupt.ts";
import { modelConfigForData, PRESET_NAMES, presetFlag } from "./_model_config.ts";
import { backendOption, slowPathNote } from "./_backend_option.ts";
import { integerFlag, numberFlag, type OptionsOf } from "./_options.ts";
import { createProgress } from "./_progress.ts";
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
    .option("--steps <n>", "training steps", integerFlag("--steps", { min: 1 }), D.steps)
    .option("--batch <n>", "clips per batch", integerFlag("--batch", { min: 2 }), D.batchSize)
    .option("--lr <rate>", "base learning rate", numberFlag("--lr", { above: 0 }), D.baseRate)
    .option(
      "--final-lr <rate>",
      "final learning rate",
      numberFlag("--final-lr", { min: 0 }),
      D.finalRate,
    )
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
    .option(
      "--temperature <t>",
      "NCE temperature",
      numberFlag("--temperature", { above: 0 }),
      D.temperature,
    )
    .option(
      "--mil-weight <lambda>",
      "weight of the MIL-NCE term",
      numberFlag("--mil-weight", { min: 0 }),
      D.milWeight,
    )
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
    .option(
      "--checkpoint-every <n>",
      "steps between checkpoints",
      integerFlag("--checkpoint-every", { min: 1 }),
      D.checkpointEvery,
    )
    .option("--keep <n>", "checkpoints kept", integerFlag("--keep", { min: 1 }), D.keep)
    .option("--resume", "continue from the newest checkpoint in --out", false)
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

/** The training config of the flags. */
function trainConfigFromFlags(o: PretrainFlags): PretrainConfig {
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
  });
}

/** One line about the run that starts. */
function describeStart(
  model: VattConfig,
  run: {
    backend: string;
    clips: number;
    batchSize: number;
    steps: number;
    lr: number;
    resumeStep?: number;
  },
): string {
  const agnostic = model.agnostic ? " (agnostic)" : "";
  const length = run.resumeStep !== undefined
    ? `resuming at step ${run.resumeStep}`
    : `${run.steps} steps`;
  return `pretrain: ${model.preset}${agnostic} on ${run.backend}, ${run.clips} clips, ` +
    `batch ${run.batchSize}, learning rate ${run.lr}, ${length}`;
}

/** DATA, the model and the training config, all checked before a single step. */
async function checkedInputs(dataDir: string, o: PretrainFlags) {
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
    return { data, model, train: fitted.config };
  } catch (e) {
    data.close();
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
  checkDistributable(ranks, { batchSize: train.batchSize, backend });
  // Every rank resolved the same run (a hash compared before step 1).
  ranks.agree(JSON.stringify({ runConfig, backend, out: path.resolve(o.out), resume: o.resume }));
  // The memory plan: a batch that cannot fit is refused here, before the run folder is touched.
  const plan = await checkMemoryPlan({
    model,
    batchSize: train.batchSize / ranks.collectives.size,
    captionsPerClip: data.index.settings.captionsPerClip,
  }, backend).catch((e) => {
    data.close();
    throw e;
  });
  const slow = slowPathNote(backend);
  if (slow && !o.quiet) console.error(slow);
  // Rank 0 alone prepares (and locks) the run folder; the others resume from what it found.
  const prepared = !ranks.leader ? undefined : await prepareRunFolder(o.out, {
    config: runConfig,
    resume: o.resume,
    force: o.force,
    lock: true,
    // A resumed run may run longer; its warmup follows --steps unless given.
    mayDiffer: o.warmup === undefined ? ["train.steps", "train.warmupSteps"] : ["train.steps"],
    steps: train.steps,
  });
  const resumeFrom = ranks.fromLeader(prepared?.resumeFrom ?? null) ?? undefined;
  if (!o.quiet && prepared) {
    console.error(describeStart(model, {
      backend,
      clips: data.size,
      batchSize: train.batchSize,
      steps: train.steps,
      lr: train.baseRate,
      resumeStep: prepared.resumeFrom ? prepared.step : undefined,
    }));
  }
  // An interrupted mpirun sends its ranks SIGTERM: they stop at the step's end with a checkpoint.
  const stop = listenForStop(ranks.collectives.size > 1 ? ["SIGINT", "SIGTERM"] : ["SIGINT"]);
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
