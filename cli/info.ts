/**
 * `vatt info`: the resolved config, parameter counts per module, and the
 * backends available here.
 *
 * @module
 */
import { Command } from "@commander-js/extra-typings";
import { probeBackends } from "../lib/backend/select.ts";
import { DEFAULT_PRESET } from "../lib/config/vatt_config.ts";
import { countParameters } from "../lib/model/weight_specs.ts";
import { modelConfigFromFlags, PRESET_NAMES, presetFlag } from "./_model_config.ts";
import { integerFlag, type OptionsOf } from "./_options.ts";
import { initBackend } from "../lib/backend/select.ts";
import { DEFAULT_PRETRAIN_CONFIG } from "../lib/config/pretrain_config.ts";
import { DEFAULT_TOKENIZE_SETTINGS } from "../lib/data/tokenize/settings.ts";
import {
  gib,
  type MemoryLimit,
  memoryLimit,
  MemoryPlanError,
  type MemoryPlanInput,
  PLAN_FILL,
} from "../lib/train/memory_plan.ts";
import { chooseMemoryStrategy } from "../lib/train/memory_strategy.ts";
import type { RecomputeMode } from "../lib/config/memory_config.ts";
import { recomputeOption } from "./_memory_flags.ts";
import { backendOption } from "./_backend_option.ts";

/** The arguments and flags of `vatt info`. */
function flags() {
  return new Command()
    .option("--preset <name>", `model preset: ${PRESET_NAMES}`, presetFlag, DEFAULT_PRESET)
    .option("--agnostic", "one backbone shared by all modalities", false)
    .option("--config <file>", "JSON file with config fields over the preset")
    .option(
      "--batch <n>",
      "clips per batch of the memory plan",
      integerFlag("--batch", { min: 1 }),
      DEFAULT_PRETRAIN_CONFIG.batchSize,
    )
    .option(
      "--captions <n>",
      "captions per clip of the memory plan (the dataset's)",
      integerFlag("--captions", { min: 1 }),
      DEFAULT_TOKENIZE_SETTINGS.captionsPerClip,
    )
    .addOption(backendOption())
    .addOption(recomputeOption())
    .option("--json", "print JSON instead of a table", false);
}

/**
 * Declares `vatt info`: its flags and its handler.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { command } from "./info.ts";
 * const opts = command().parse(["--preset", "base"], { from: "user" }).opts();
 * assert.equal(opts.preset, "base");
 * assert.equal(opts.json, false);
 * ```
 */
export function command() {
  return flags().action(info);
}

function millions(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n);
}

/** Runs `vatt info`. */
async function info(options: OptionsOf<typeof flags>): Promise<void> {
  const config = await modelConfigFromFlags(options);
  const params = countParameters(config);
  const backends = await probeBackends();
  const memory = memoryStrategy(
    { model: config, batchSize: options.batch, captionsPerClip: options.captions },
    await memoryLimit(await initBackend(options.backend)),
    options.recompute,
  );
  if (options.json) {
    console.log(JSON.stringify({ config, params, backends, memory }, null, 2));
    return;
  }
  const v = config.video;
  const a = config.audio;
  const t = config.text;
  const bb = (b: typeof v.backbone) =>
    `${b.layers} layers, d ${b.hidden}, MLP ${b.mlp}, ${b.heads} heads`;
  const lines = [
    `preset       ${config.preset}${
      config.agnostic ? " (modality-agnostic: one shared backbone)" : ""
    }`,
    `video        ${v.frames}×${v.height}×${v.width}×3 at ${v.fps} fps, patch ${
      v.patch.join("×")
    }×3; ${bb(v.backbone)}`,
    `audio        ${a.samples} samples at ${a.sampleRate} Hz, patch ${a.patch}; ${bb(a.backbone)}`,
    `text         vocabulary ${t.vocabSize}, ${t.maxLength} tokens, relative positions ${t.relativePosition}; ${
      bb(t.backbone)
    }`,
    `heads        video-audio ${config.heads.vaDim}, video-text ${config.heads.vtDim}`,
    `DropToken    ${config.dropToken}`,
    "",
    "parameters (trainable)",
    `  video      ${millions(params.video)}`,
    `  audio      ${millions(params.audio)}`,
    `  text       ${millions(params.text)}`,
    ...(config.agnostic ? [`  shared     ${millions(params.shared)}`] : []),
    `  heads      ${millions(params.heads)}`,
    `  total      ${millions(params.total)}`,
    "",
    "backends",
    ...backends.map((b) => `  ${b.name.padEnd(11)}${b.available ? "yes" : "no "}  ${b.detail}`),
    "",
    ...memoryLines(memory),
  ];
  console.log(lines.join("\n"));
}

/** The plan of one pretraining step with what it switches on; a refusal's plan and line when nothing fits. */
function memoryStrategy(input: MemoryPlanInput, limit: MemoryLimit, recompute: RecomputeMode) {
  try {
    const s = chooseMemoryStrategy(input, limit, { recompute, suggest: "ranks" });
    return {
      ...s.plan,
      recompute: s.recompute,
      recomputeParts: s.recomputeParts,
      offHeapState: s.offHeapState,
      note: s.note,
    };
  } catch (e) {
    if (!(e instanceof MemoryPlanError)) throw e;
    const { plan } = e;
    return {
      ...plan,
      recompute: recompute !== "none",
      recomputeParts: recompute === "none" ? 1 : input.batchSize, // the leanest: a clip a part
      offHeapState: plan.estimate.offHeap > 0,
      refusal: e.message,
    };
  }
}

/** "recomputed layers" (in how many parts) or "no recomputation". */
function recomputeWords(plan: { recompute: boolean; recomputeParts: number; batchSize: number }) {
  if (!plan.recompute) return "no recomputation";
  const parts = plan.recomputeParts;
  return parts > 1
    ? `recomputed layers in ${parts} parts of the batch (up to ${
      Math.ceil(plan.batchSize / parts)
    } clips each)`
    : "recomputed layers";
}

/** The memory plan of one pretraining step (Adam), as table lines. */
function memoryLines(plan: ReturnType<typeof memoryStrategy>): string[] {
  const e = plan.estimate;
  const verdict = plan.fits
    ? `fits; the largest batch that fits is ${plan.largestBatch}`
    : plan.largestBatch > 0
    ? `does not fit; the largest batch that fits is ${plan.largestBatch}`
    : "does not fit at any batch";
  const hint = "refusal" in plan ? plan.refusal?.split("; ").slice(2).join("; ") : undefined;
  return [
    `memory plan  batch ${plan.batchSize}, one pretraining step with Adam, on ${plan.limit.backend}`,
    `  strategy     ${recomputeWords(plan)}, ` +
    `Adam's moments ${plan.offHeapState ? "off the heap" : "on the heap"}`,
    `  weights      ${gib(e.weights)}`,
    `  gradients    ${gib(e.gradients)}`,
    `  optimizer    ${gib(e.optimizer)}${e.offHeap > 0 ? " (host memory)" : ""}`,
    `  activations  ${gib(e.activations)}`,
    `  total        ${gib(e.total)} of ${gib(plan.limit.bytes)} (${plan.limit.detail}; ` +
    `plans fill ${PLAN_FILL * 100} % of it)`,
    `  ${verdict}`,
    ...(hint ? [`  ${hint}`] : []),
  ];
}
