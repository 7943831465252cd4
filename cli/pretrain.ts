/**
 * `vatt pretrain DATA --out RUN`: multimodal contrastive pretraining.
 *
 * @module
 */
import * as path from "node:path";
import { type BackendName, initBackend } from "../lib/backend/select.ts";
import { Dataset } from "../lib/data/shards/dataset.ts";
import { NonFiniteLossError, pretrain } from "../lib/train/pretrain.ts";
import { resolvePretrainConfig } from "../lib/config/pretrain_config.ts";
import { prepareRunFolder } from "../lib/run/run_folder.ts";
import { CliError } from "./cli_error.ts";
import { modelConfigFromFlags } from "./_model_config.ts";
import { parseIntFlag, parseNumberFlag } from "./_options.ts";
import { createProgress } from "./_progress.ts";

/** Options of `vatt pretrain` as commander gives them. */
export interface PretrainCliOptions {
  out: string;
  preset: string;
  agnostic: boolean;
  config?: string;
  steps: string;
  batch: string;
  lr: string;
  finalLr: string;
  warmup?: string;
  weightDecay: string;
  clipNorm: string;
  temperature: string;
  milWeight: string;
  symmetric: boolean;
  seed: string;
  backend: BackendName;
  checkpointEvery: string;
  keep: string;
  resume: boolean;
  force: boolean;
  logEvery: string;
  quiet?: boolean;
}

/** Runs `vatt pretrain`. */
export async function pretrainCommand(dataDir: string, o: PretrainCliOptions): Promise<void> {
  if (o.resume && o.force) throw new CliError("--resume and --force exclude each other", 2);
  const steps = parseIntFlag("--steps", o.steps, { min: 1 });
  const seed = parseIntFlag("--seed", o.seed, { min: 0 });
  const train = resolvePretrainConfig({
    steps,
    batchSize: parseIntFlag("--batch", o.batch, { min: 2 }),
    baseRate: parseNumberFlag("--lr", o.lr, { min: 0, exclusiveMin: true }),
    finalRate: parseNumberFlag("--final-lr", o.finalLr, { min: 0 }),
    warmupSteps: o.warmup !== undefined
      ? parseIntFlag("--warmup", o.warmup, { min: 0 })
      : Math.min(10000, Math.floor(steps / 10)),
    weightDecay: parseNumberFlag("--weight-decay", o.weightDecay, { min: 0 }),
    clipNorm: parseNumberFlag("--clip-norm", o.clipNorm, { min: 0 }),
    temperature: parseNumberFlag("--temperature", o.temperature, { min: 0, exclusiveMin: true }),
    milWeight: parseNumberFlag("--mil-weight", o.milWeight, { min: 0 }),
    symmetric: o.symmetric,
    seed,
    checkpointEvery: parseIntFlag("--checkpoint-every", o.checkpointEvery, { min: 1 }),
    keep: parseIntFlag("--keep", o.keep, { min: 1 }),
  });
  const logEvery = parseIntFlag("--log-every", o.logEvery, { min: 1 });
  const model = await modelConfigFromFlags(o, { seed });
  // Everything checked before a single step: data, fit, folder, backend.
  const data = await Dataset.open(dataDir);
  await data.verifyAll();
  const { checkModelFitsData } = await import("../lib/train/pretrain.ts");
  checkModelFitsData(model, data);
  if (train.batchSize > data.size) {
    throw new CliError(
      `--batch ${train.batchSize} is larger than the dataset (${data.size} clips)`,
      2,
    );
  }
  const runConfig = {
    kind: "pretrain",
    model,
    train,
    data: { dir: path.resolve(dataDir), clips: data.size },
  };
  const backend = await initBackend(o.backend);
  const prepared = await prepareRunFolder(o.out, {
    config: runConfig,
    resume: o.resume,
    force: o.force,
  });
  if (!o.quiet) {
    console.error(
      `pretrain: ${model.preset}${
        model.agnostic ? " (agnostic)" : ""
      } on ${backend}, ${data.size} clips, batch ${train.batchSize}, ` +
        (prepared.resumeFrom ? `resuming at step ${prepared.step}` : `${train.steps} steps`),
    );
  }
  let stop = false;
  const onSignal = () => {
    if (stop) Deno.exit(130); // a second Ctrl-C does not wait
    stop = true;
  };
  Deno.addSignalListener("SIGINT", onSignal);
  const progress = createProgress({
    label: "pretrain",
    total: train.steps,
    unit: "steps",
    quiet: o.quiet,
  });
  try {
    const result = await pretrain({
      runDir: o.out,
      model,
      train,
      data,
      resumeFrom: prepared.resumeFrom,
      shouldStop: () => stop,
      onStep: (m) => {
        progress.update(
          m.step,
          `loss ${m.loss.toFixed(3)} (nce ${m.nce.toFixed(3)}, mil ${m.milNce.toFixed(3)}) ${
            m.clipsPerSec.toFixed(1)
          } clips/s`,
        );
        if (o.quiet || m.step % logEvery !== 0 || Deno.stderr.isTerminal()) return;
      },
    });
    progress.stop();
    if (result.stopped) {
      throw new CliError(
        `interrupted at step ${result.step}; checkpoint ${result.checkpoint}; continue with --resume`,
        130,
      );
    }
    console.log(`pretrained ${result.step} steps: ${result.checkpoint}`);
  } catch (e) {
    progress.stop();
    if (e instanceof NonFiniteLossError) throw new CliError(e.message, 1);
    throw e;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    data.close();
  }
}
