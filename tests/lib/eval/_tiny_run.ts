/**
 * Test fixture for the downstream tests (retrieval, export, plot): a small
 * demo dataset tokenized at the `tiny` preset and, on request, a short
 * pretraining run on it — made in process, in a temporary folder.
 *
 * @module
 */
import * as path from "node:path";
import { initBackend } from "../../../lib/backend/select.ts";
import { PRESETS, resolveVattConfig, type VattConfig } from "../../../lib/config/vatt_config.ts";
import { Dataset } from "../../../lib/data/dataset.ts";
import { generateDemoData } from "../../../lib/data/demo_data.ts";
import { tokenizeDataset } from "../../../lib/data/tokenize.ts";
import { pretrain } from "../../../lib/train/pretrain.ts";
import { resolvePretrainConfig } from "../../../lib/train/pretrain_config.ts";
import { prepareRunFolder } from "../../../lib/train/run_folder.ts";

/** The `tiny` preset's tokenization settings. */
export function tinySettings(overrides: Record<string, unknown> = {}) {
  const p = PRESETS.tiny;
  return {
    frames: p.video.frames,
    fps: p.video.fps,
    size: p.video.height,
    sampleRate: p.audio.sampleRate,
    audioSeconds: p.audio.samples / p.audio.sampleRate,
    maxLength: p.text.maxLength,
    ...overrides,
  };
}

/** Tokenizes a manifest at the tiny preset's settings. */
export async function tokenizeTiny(
  manifest: string,
  out: string,
  overrides: Record<string, unknown> = {},
): Promise<void> {
  await tokenizeDataset({
    manifest,
    out,
    settings: tinySettings(overrides),
    text: { buildVocab: PRESETS.tiny.text.vocabSize - 1 },
  });
}

/** What {@linkcode makeTinyData} made. */
export interface TinyData {
  /** The temporary folder holding everything (remove it when done). */
  root: string;
  /** The demo folder's `manifest.jsonl`. */
  manifest: string;
  /** The tokenized dataset folder. */
  data: string;
}

/** Generates `clips` demo clips of `seconds` seconds (small frames) and tokenizes them. */
export async function makeTinyData(
  options: { clips: number; seconds?: number; seed?: number },
): Promise<TinyData> {
  const root = await Deno.makeTempDir({ prefix: "vatt-eval-test-" });
  const demo = path.join(root, "demo");
  const { manifestPath } = await generateDemoData(demo, {
    clips: options.clips,
    seconds: options.seconds ?? 1,
    seed: options.seed ?? 0,
    width: 64,
    height: 48,
    fps: 10,
    sampleRate: 8000,
  });
  const data = path.join(root, "data");
  await tokenizeTiny(manifestPath, data);
  return { root, manifest: manifestPath, data };
}

/** The tiny model config the fixture trains. */
export function tinyModelConfig(agnostic = false): VattConfig {
  return resolveVattConfig({ preset: "tiny", agnostic });
}

/**
 * Pretrains the tiny model on `dataDir` for `steps` steps on wasm; returns the
 * run folder (its checkpoints: `step-0000000` is the random initialisation).
 */
export async function pretrainTiny(
  dataDir: string,
  runDir: string,
  options: { steps: number; batch: number; lr?: number },
): Promise<string> {
  await initBackend("wasm");
  const model = tinyModelConfig();
  const train = resolvePretrainConfig({
    steps: options.steps,
    batchSize: options.batch,
    baseRate: options.lr ?? 1e-3,
    warmupSteps: Math.floor(options.steps / 10),
    checkpointEvery: 1000,
    keep: 3,
  });
  await prepareRunFolder(runDir, {
    config: { kind: "pretrain", model, train },
    resume: false,
    force: false,
  });
  const data = await Dataset.open(dataDir);
  try {
    await pretrain({ runDir, model, train, data });
  } finally {
    data.close();
  }
  return runDir;
}
