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
import { Dataset } from "../../../lib/data/shards/dataset.ts";
import { tokenizeDataset } from "../../../lib/data/tokenize/tokenize.ts";
import { pretrain } from "../../../lib/train/pretrain.ts";
import { type AugmentMode, resolvePretrainConfig } from "../../../lib/config/pretrain_config.ts";
import { prepareRunFolder } from "../../../lib/run/run_folder.ts";

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

/**
 * A manifest in `dir` listing the first `clips` clips of the shared demo
 * media, with absolute paths; with `windows`, each clip becomes entries
 * `<clip>#w<k>` covering [k·stride, k·stride + 0.8) seconds.
 */
export async function subsetManifest(
  media: string,
  dir: string,
  options: { clips: number; windows?: number; stride?: number },
): Promise<string> {
  const text = await Deno.readTextFile(path.join(media, "manifest.jsonl"));
  const rows = text.trim().split("\n").slice(0, options.clips).map((l) => JSON.parse(l));
  const abs = (p: string | undefined) => (p === undefined ? undefined : path.join(media, p));
  const lines: string[] = [];
  for (const r of rows) {
    const base = { ...r, video: abs(r.video), audio: abs(r.audio) };
    if (!options.windows) {
      lines.push(JSON.stringify(base));
      continue;
    }
    for (let k = 0; k < options.windows; k++) {
      const start = k * (options.stride ?? 1);
      lines.push(JSON.stringify({ ...base, id: `${r.id}#w${k}`, start, end: start + 0.8 }));
    }
  }
  const file = path.join(dir, options.windows ? "manifest-windows.jsonl" : "manifest.jsonl");
  await Deno.writeTextFile(file, lines.join("\n") + "\n");
  return file;
}

/**
 * The tiny model config the fixture trains: without dropout, which (like
 * augmentation) only pays off over longer runs than these few steps.
 */
export function tinyModelConfig(agnostic = false): VattConfig {
  return resolveVattConfig({ preset: "tiny", agnostic, dropout: 0, attentionDropout: 0 });
}

/**
 * Pretrains the tiny model on `dataDir` for `steps` steps on wasm; returns the
 * run folder (its checkpoints: `step-0000000` is the random initialisation).
 */
export async function pretrainTiny(
  dataDir: string,
  runDir: string,
  options: { steps: number; batch: number; lr?: number; augment?: AugmentMode },
): Promise<string> {
  await initBackend("wasm");
  const model = tinyModelConfig();
  const train = resolvePretrainConfig({
    // The evaluation tests' figures were measured on the clips trained on, without
    // augmentation (which slows such short runs down): "none" unless asked.
    augment: options.augment ?? "none",
    steps: options.steps,
    batchSize: options.batch,
    baseRate: options.lr ?? 1e-3,
    finalRate: 5e-5, // the final rate these figures were measured with
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
