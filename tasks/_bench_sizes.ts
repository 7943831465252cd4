/**
 * The benchmark's cases: model sizes, batch, and the same sizes as flags of
 * the PyTorch peer (`../shared/peer/vatt_torch.py`).
 *
 * - `tiny`: the `tiny` preset as it is (8 frames of 32², patch 2×8×8; 0.8 s of
 *   8 kHz audio; 16-token captions, vocabulary 1,024; 2-layer 64-wide
 *   transformers).
 * - `small`: the `small` preset's transformers (6 layers, 512 wide, MLP 2,048,
 *   8 heads; heads 512/256) on REDUCED inputs, since the paper's (32 frames of
 *   224², 3.2 s at 48 kHz) take minutes per step on two cores: 8 frames of
 *   64² with the paper's 4×16×16 patch, 1 s of 16 kHz audio (patch 128), 16-token
 *   captions, vocabulary 8,192.
 *
 * Both run 4 captions per clip and DropToken 0.5, as the peer does.
 *
 * @module
 */
import type { VattConfigInput } from "../lib/config/vatt_config.ts";

/** Names of the cases. */
export type CaseName = "tiny" | "small";

/** One benchmark case. */
export interface BenchCase {
  name: CaseName;
  /** Clips per step. */
  batch: number;
  /** Captions per clip. */
  captions: number;
  /** The model (resolved over its preset). */
  model: VattConfigInput;
  /** One line on what the sizes are. */
  label: string;
  /** Warm-up and measured steps of the pretraining measurement (the peer runs the same). */
  warmup: number;
  steps: number;
  /** Warm-up and measured batches of the export measurement. */
  exportWarmup: number;
  exportBatches: number;
}

/** The cases, in run order. */
export const BENCH_CASES: Readonly<Record<CaseName, BenchCase>> = {
  tiny: {
    name: "tiny",
    batch: 8,
    captions: 4,
    model: { preset: "tiny" },
    label: "tiny preset: 8×32² video (patch 2×8×8), 6,400 audio samples, 4×16 text, d 64 ×2 layers",
    // V8 keeps optimising tfjs's JavaScript for about 100 steps: 11.3–11.5 ms a step over the
    // first 20, 9.5–10.2 over steps 21–40, 8.1–8.9 from step 100 to 300 (session 13); the peers
    // run the same counts.
    warmup: 150,
    steps: 30,
    exportWarmup: 5,
    exportBatches: 10,
  },
  small: {
    name: "small",
    batch: 8,
    captions: 4,
    model: {
      preset: "small",
      video: { frames: 8, height: 64, width: 64, patch: [4, 16, 16] },
      audio: { sampleRate: 16000, samples: 16000, patch: 128 },
      text: { vocabSize: 8192 },
    },
    label:
      "small preset, REDUCED inputs: 8×64² video (patch 4×16×16), 1 s of 16 kHz audio, 4×16 text, vocab 8,192; d 512 ×6 layers",
    warmup: 2,
    steps: 3,
    exportWarmup: 1,
    exportBatches: 3,
  },
};

/**
 * The peer's flags for the same sizes (it builds the same three transformers,
 * heads and losses; its text uses absolute positions instead of T5 buckets).
 */
export function peerFlags(c: BenchCase, model: {
  video: { frames: number; height: number; patch: [number, number, number] };
  audio: { samples: number; patch: number };
  text: { maxLength: number; vocabSize: number };
  backbone: { hidden: number; layers: number; heads: number; mlp: number };
  dropToken: number;
}): string[] {
  const f = (name: string, v: number) => [`--${name}`, String(v)];
  return [
    ...f("batch", c.batch),
    ...f("frames", model.video.frames),
    ...f("size", model.video.height),
    ...f("patch-t", model.video.patch[0]),
    ...f("patch-hw", model.video.patch[1]),
    ...f("audio-samples", model.audio.samples),
    ...f("audio-patch", model.audio.patch),
    ...f("text-len", model.text.maxLength),
    ...f("captions", c.captions),
    ...f("vocab", model.text.vocabSize),
    ...f("dim", model.backbone.hidden),
    ...f("layers", model.backbone.layers),
    ...f("heads", model.backbone.heads),
    ...f("mlp", model.backbone.mlp),
    ...f("warmup", c.warmup),
    ...f("steps", c.steps),
    "--droptoken",
    String(model.dropToken),
  ];
}
