/**
 * `vatt finetune DATA --from RUN --out RUN2`: a classifier on a pretrained
 * run — end-to-end on one modality, a linear probe, or a fusion head on
 * several modalities' frozen features.
 *
 * @module
 */
import * as path from "node:path";
import { type BackendName, initBackend } from "../lib/backend/select.ts";
import { Dataset } from "../lib/data/shards/dataset.ts";
import type { FusionHeadName } from "../lib/model/fusion/fusion_head.ts";
import { resolveCheckpoint } from "../lib/run/checkpoint.ts";
import { finetune, type FinetuneMetrics, planFinetune } from "../lib/train/finetune.ts";
import {
  type FeatureKind,
  type FinetuneConfig,
  MODALITIES,
  type Modality,
  type OptimizerName,
  resolveFinetuneConfig,
} from "../lib/config/finetune_config.ts";
import { NonFiniteLossError } from "../lib/train/pretrain.ts";
import { prepareRunFolder } from "../lib/run/run_folder.ts";
import { CliError } from "./cli_error.ts";
import { parseIntFlag, parseNumberFlag } from "./_options.ts";
import { createProgress } from "./_progress.ts";

/** Options of `vatt finetune` as commander gives them. */
export interface FinetuneCliOptions {
  from?: string;
  out?: string;
  modality: string;
  fusion?: FusionHeadName;
  features?: FeatureKind;
  fusionDim?: string;
  hiddenDim?: string;
  sketchDim?: string;
  linearProbe: boolean;
  freeze?: boolean;
  optimizer?: OptimizerName;
  lr?: string;
  momentum: string;
  weightDecay: string;
  epochs: string;
  batch: string;
  warmup?: string;
  labelSmoothing: string;
  mixup: string;
  clipNorm: string;
  val?: string;
  valFraction?: string;
  seed: string;
  evalBatch: string;
  keep: string;
  backend: BackendName;
  resume: boolean;
  force: boolean;
  quiet?: boolean;
}

function parseModalities(value: string): Modality[] {
  const parts = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
  for (const p of parts) {
    if (!MODALITIES.includes(p as Modality)) {
      throw new CliError(
        `--modality: unknown modality ${
          JSON.stringify(p)
        }; expected video, audio, text or a comma list`,
        2,
      );
    }
  }
  if (parts.length === 0) throw new CliError("--modality must name at least one modality", 2);
  return parts as Modality[];
}

/**
 * Flags → a resolved config (usage errors exit 2).
 *
 * @example
 * ```ts
 * import { finetuneConfigFromFlags } from "./finetune.ts";
 * const c = finetuneConfigFromFlags({
 *   modality: "audio,video", fusion: "tensor", fusionDim: "8", linearProbe: false, momentum: "0.9",
 *   weightDecay: "0", epochs: "3", batch: "8", labelSmoothing: "0.1", mixup: "0", clipNorm: "0",
 *   seed: "0", evalBatch: "16", keep: "2", backend: "cpu", resume: false, force: false,
 * });
 * console.assert(c.modalities.join() === "video,audio" && c.headOptions.fusionDim === 8 && c.frozen);
 * ```
 */
export function finetuneConfigFromFlags(o: FinetuneCliOptions): FinetuneConfig {
  if (o.val !== undefined && o.valFraction !== undefined) {
    throw new CliError("--val and --val-fraction exclude each other", 2);
  }
  const headOptions: Record<string, number> = {};
  const head = o.fusion ?? "vatt";
  if (o.fusionDim !== undefined) {
    if (head !== "tensor") throw new CliError("--fusion-dim is for --fusion tensor", 2);
    headOptions.fusionDim = parseIntFlag("--fusion-dim", o.fusionDim, { min: 1 });
  }
  if (o.hiddenDim !== undefined) {
    if (head !== "tensor" && head !== "concat") {
      throw new CliError("--hidden-dim is for --fusion concat or tensor", 2);
    }
    headOptions.hiddenDim = parseIntFlag("--hidden-dim", o.hiddenDim, { min: 1 });
  }
  if (o.sketchDim !== undefined) {
    if (head !== "mcb") throw new CliError("--sketch-dim is for --fusion mcb", 2);
    headOptions.outputDim = parseIntFlag("--sketch-dim", o.sketchDim, { min: 1 });
  }
  try {
    return resolveFinetuneConfig({
      modalities: parseModalities(o.modality),
      head: o.fusion,
      headOptions,
      features: o.features,
      linearProbe: o.linearProbe,
      frozen: o.freeze,
      optimizer: o.optimizer,
      baseRate: o.lr === undefined
        ? undefined
        : parseNumberFlag("--lr", o.lr, { min: 0, exclusiveMin: true }),
      momentum: parseNumberFlag("--momentum", o.momentum, { min: 0 }),
      weightDecay: parseNumberFlag("--weight-decay", o.weightDecay, { min: 0 }),
      epochs: parseIntFlag("--epochs", o.epochs, { min: 1 }),
      batchSize: parseIntFlag("--batch", o.batch, { min: 1 }),
      warmupSteps: o.warmup === undefined
        ? undefined
        : parseIntFlag("--warmup", o.warmup, { min: 0 }),
      labelSmoothing: parseNumberFlag("--label-smoothing", o.labelSmoothing, { min: 0 }),
      mixup: parseNumberFlag("--mixup", o.mixup, { min: 0 }),
      clipNorm: parseNumberFlag("--clip-norm", o.clipNorm, { min: 0 }),
      valFraction: o.val !== undefined
        ? 0
        : parseNumberFlag("--val-fraction", o.valFraction ?? "0.2", { min: 0 }),
      seed: parseIntFlag("--seed", o.seed, { min: 0 }),
      evalBatchSize: parseIntFlag("--eval-batch", o.evalBatch, { min: 1 }),
      keep: parseIntFlag("--keep", o.keep, { min: 1 }),
    });
  } catch (e) {
    if (e instanceof RangeError || e instanceof TypeError) throw new CliError(e.message, 2);
    throw e;
  }
}

function percent(x: number | undefined): string {
  return x === undefined ? "-" : `${(100 * x).toFixed(1)}%`;
}

/**
 * One line for an epoch's metrics.
 *
 * @example
 * ```ts
 * import { describeEpoch } from "./finetune.ts";
 * const line = describeEpoch({ epoch: 2, step: 6, lr: 0.1, trainLoss: 1, valClips: 0, seconds: 1 }, 5);
 * console.assert(line === "epoch 2/5: train loss 1.000, no validation");
 * ```
 */
export function describeEpoch(m: FinetuneMetrics, epochs: number): string {
  const val = m.valClips === 0
    ? "no validation"
    : m.top1 !== undefined
    ? `val top-1 ${percent(m.top1)}, top-5 ${percent(m.top5)}, loss ${m.valLoss!.toFixed(3)}`
    : `val mAP ${percent(m.mAP)}, ROC-AUC ${percent(m.rocAuc)}, loss ${m.valLoss!.toFixed(3)}`;
  return `epoch ${m.epoch}/${epochs}: train loss ${m.trainLoss.toFixed(3)}, ${val}`;
}

/** Whether `inner` is `outer` or inside it. */
function within(inner: string, outer: string): boolean {
  const rel = path.relative(path.resolve(outer), path.resolve(inner));
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/**
 * Runs `vatt finetune`.
 *
 * @example
 * ```ts
 * import { finetuneCommand } from "./finetune.ts";
 * // await finetuneCommand("data", { from: "runs/pre", out: "runs/ft", modality: "video", ... });
 * console.assert(typeof finetuneCommand === "function");
 * ```
 */
export async function finetuneCommand(dataDir: string, o: FinetuneCliOptions): Promise<void> {
  if (!o.from) throw new CliError("--from RUN is required (a pretrained run)", 2);
  if (!o.out) throw new CliError("--out RUN2 is required (the fine-tuned run folder)", 2);
  if (o.resume && o.force) throw new CliError("--resume and --force exclude each other", 2);
  const config = finetuneConfigFromFlags(o);
  const checkpoint = await resolveCheckpoint(o.from);
  if (within(checkpoint, o.out)) {
    throw new CliError("--out must not hold the pretrained checkpoint given by --from", 2);
  }
  // Everything checked before a single step: data (checksums too), labels, fit, backend, folder.
  const data = await Dataset.open(dataDir);
  let val: Dataset | undefined;
  try {
    val = o.val !== undefined ? await Dataset.open(o.val) : undefined;
    const plan = await planFinetune({ from: checkpoint, data, val, config });
    const runConfig = {
      kind: "finetune",
      from: path.resolve(checkpoint),
      data: { dir: path.resolve(dataDir), clips: data.size },
      val: val ? { dir: path.resolve(val.dir), clips: val.size } : null,
      finetune: config,
    };
    const backend = await initBackend(o.backend);
    const prepared = await prepareRunFolder(o.out, {
      config: runConfig,
      resume: o.resume,
      force: o.force,
    });
    const mode = config.linearProbe
      ? "linear probe"
      : config.frozen
      ? `${config.head} head, frozen backbone`
      : `${config.head} head, end-to-end`;
    if (!o.quiet) {
      console.error(
        `finetune: ${mode} on ${config.modalities.join("+")} (${config.features} features), ` +
          `${plan.labels.names.length} classes, ${plan.train.length} training and ${plan.val.length} ` +
          `validation clips, ${backend}, ` +
          (prepared.resumeFrom
            ? `resuming at step ${prepared.step}`
            : `${plan.totalSteps} steps (${config.epochs} epochs)`),
      );
    }
    let stop = false;
    const onSignal = () => {
      if (stop) Deno.exit(130); // a second Ctrl-C does not wait
      stop = true;
    };
    Deno.addSignalListener("SIGINT", onSignal);
    const extractBar = config.frozen
      ? createProgress({
        label: "features",
        total: plan.train.length + plan.val.length,
        unit: "clips",
        quiet: o.quiet,
      })
      : undefined;
    let extracting = extractBar !== undefined;
    const stopExtractBar = () => {
      if (extracting) extractBar?.stop();
      extracting = false;
    };
    let progress: ReturnType<typeof createProgress> | undefined;
    try {
      const result = await finetune({
        runDir: o.out,
        from: checkpoint,
        data,
        val,
        config,
        plan,
        resumeFrom: prepared.resumeFrom,
        shouldStop: () => stop,
        onExtract: (done) => extractBar?.update(done),
        onStep: (s) => {
          if (!progress) {
            stopExtractBar();
            progress = createProgress({
              label: "finetune",
              total: s.totalSteps,
              unit: "steps",
              quiet: o.quiet,
            });
          }
          progress.update(s.step, `epoch ${s.epoch}, loss ${s.loss.toFixed(3)}`);
        },
        onEpoch: (m) => {
          if (!o.quiet && !Deno.stderr.isTerminal()) {
            console.error(describeEpoch(m, config.epochs));
          }
        },
      });
      progress?.stop();
      if (result.stopped) {
        throw new CliError(
          `interrupted at step ${result.step}; checkpoint ${result.checkpoint}; continue with --resume`,
          130,
        );
      }
      const lastEpoch = result.metrics[result.metrics.length - 1];
      const summary = lastEpoch ? `; ${describeEpoch(lastEpoch, config.epochs)}` : "";
      const chance = !plan.labels.multiLabel && plan.val.length > 0
        ? ` (chance ${percent(1 / plan.labels.names.length)})`
        : "";
      console.log(`fine-tuned ${result.step} steps: ${result.checkpoint}${summary}${chance}`);
    } catch (e) {
      progress?.stop();
      if (e instanceof NonFiniteLossError) throw new CliError(e.message, 1);
      throw e;
    } finally {
      stopExtractBar();
      Deno.removeSignalListener("SIGINT", onSignal);
    }
  } finally {
    data.close();
    val?.close();
  }
}
