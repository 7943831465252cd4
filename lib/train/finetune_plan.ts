/**
 * Everything a fine-tuning run checks and decides before it trains: the
 * pretrained checkpoint and its model config, the datasets' fit to the
 * model, the labels, the train/validation split and the step counts.
 *
 * @module
 */
import type { FinetuneConfig } from "../config/finetune_config.ts";
import { planSteps } from "../config/finetune_config.ts";
import type { VattConfig } from "../config/vatt_config.ts";
import { checkModelFitsData } from "../data/fit.ts";
import type { Dataset } from "../data/shards/dataset.ts";
import {
  type DatasetLabels,
  hasAnyModality,
  labelledIndices,
  readDatasetLabels,
  requireLabels,
  requireModalities,
  splitByClip,
} from "../data/shards/split.ts";
import { resolveCheckpoint } from "../run/checkpoint.ts";
import { readModelConfig } from "../run/load_model.ts";
import { MismatchError } from "../util/errors.ts";

/** Everything checked and decided before training: see {@linkcode planFinetune}. */
export interface FinetunePlan {
  /** The pretrained checkpoint folder. */
  checkpoint: string;
  /** Its model config. */
  model: VattConfig;
  /** Labels of the training dataset. */
  labels: DatasetLabels;
  /** Labels of the validation dataset (the training one when splitting). */
  valLabels: DatasetLabels;
  /** Clip positions used for training, in dataset order. */
  train: number[];
  /** Clip positions used for validation (in `val` when given, else in `data`). */
  val: number[];
  /** Labelled clips left out for having none of the classifier's modalities (an audio-only clip of a video classifier). */
  withoutModality: number;
  stepsPerEpoch: number;
  totalSteps: number;
  warmupSteps: number;
}

/** Options of {@linkcode planFinetune}. */
export interface PlanOptions {
  /** The pretrained run folder or checkpoint (`--from`). */
  from: string;
  data: Dataset;
  /** A validation dataset; default: a split of `data` by `config.valFraction`. */
  val?: Dataset;
  config: FinetuneConfig;
}

/** Checks a validation dataset against the training one; returns its labels. */
async function checkValidationData(
  model: VattConfig,
  options: PlanOptions & { val: Dataset; labels: DatasetLabels },
): Promise<DatasetLabels> {
  const { val, labels } = options;
  checkModelFitsData(model, val);
  const valLabels = await readDatasetLabels(val);
  requireLabels(valLabels, `validation dataset ${val.dir}`);
  requireModalities(valLabels, {
    modalities: options.config.modalities,
    where: `validation dataset ${val.dir}`,
  });
  if (
    JSON.stringify(valLabels.names) !== JSON.stringify(labels.names) ||
    valLabels.multiLabel !== labels.multiLabel
  ) {
    throw new MismatchError(
      `validation dataset ${val.dir} has other classes than ${options.data.dir} (${valLabels.names.length} vs ${labels.names.length})`,
    );
  }
  return valLabels;
}

/**
 * Checks everything a run needs before it starts (no side effects): the
 * pretrained checkpoint and its config, the datasets' fit to the model,
 * labels (present, the same classes in the validation dataset), the
 * modalities asked for being in the data, the split and the step counts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveFinetuneConfig } from "../config/finetune_config.ts";
 * import type { Dataset } from "../data/shards/dataset.ts";
 * import { planFinetune } from "./finetune_plan.ts";
 * const config = resolveFinetuneConfig({ modalities: ["audio"] });
 * const data = {} as Dataset; // not read: the run folder has no checkpoint
 * await assert.rejects(
 *   planFinetune({ from: Deno.makeTempDirSync(), data, config }),
 *   /no complete checkpoint/,
 * );
 * ```
 */
export async function planFinetune(options: PlanOptions): Promise<FinetunePlan> {
  const { data, val, config } = options;
  const checkpoint = await resolveCheckpoint(options.from);
  const model = await readModelConfig(checkpoint);
  checkModelFitsData(model, data);
  const labels = await readDatasetLabels(data);
  requireLabels(labels, `dataset ${data.dir}`);
  requireModalities(labels, { modalities: config.modalities, where: `dataset ${data.dir}` });
  let valLabels = labels;
  let train: number[];
  let valIdx: number[];
  if (val) {
    valLabels = await checkValidationData(model, { ...options, val, labels });
    train = labelledIndices(labels);
    valIdx = labelledIndices(valLabels);
  } else {
    const split = splitByClip(labels, { valFraction: config.valFraction, seed: config.seed });
    train = split.train;
    valIdx = split.val;
  }
  if (labels.names.length < 2 && !labels.multiLabel) {
    throw new MismatchError(`dataset ${data.dir} has a single class; a classifier needs two`);
  }
  const before = train.length + valIdx.length;
  train = train.filter((i) => hasAnyModality(labels, config.modalities, i));
  valIdx = valIdx.filter((i) => hasAnyModality(valLabels, config.modalities, i));
  const withoutModality = before - train.length - valIdx.length;
  const steps = planSteps(config, { trainClips: train.length });
  return { checkpoint, model, labels, valLabels, train, val: valIdx, withoutModality, ...steps };
}
