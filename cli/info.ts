/**
 * `vatt info`: the resolved config, parameter counts per module, and the
 * backends available here.
 *
 * @module
 */
import {
  isPresetName,
  PRESETS,
  resolveVattConfig,
  type VattConfigInput,
} from "../lib/config/vatt_config.ts";
import { probeBackends } from "../lib/backend/select.ts";
import { countParameters } from "../lib/model/weight_specs.ts";
import { CliError } from "./cli_error.ts";
import { readJsonFlag } from "./_options.ts";

/** Options of `vatt info`. */
export interface InfoOptions {
  preset: string;
  agnostic: boolean;
  config?: string;
  json: boolean;
}

function millions(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n);
}

/** Runs `vatt info`. */
export async function info(options: InfoOptions): Promise<void> {
  if (!isPresetName(options.preset)) {
    throw new CliError(
      `Unknown preset ${JSON.stringify(options.preset)}: expected one of ${
        Object.keys(PRESETS).join(", ")
      }`,
      2,
    );
  }
  const extra = options.config
    ? (await readJsonFlag("--config", options.config)) as VattConfigInput
    : {};
  const config = resolveVattConfig({
    ...extra,
    preset: options.preset,
    agnostic: options.agnostic || extra.agnostic,
  });
  const params = countParameters(config);
  const backends = await probeBackends();
  if (options.json) {
    console.log(JSON.stringify({ config, params, backends }, null, 2));
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
  ];
  console.log(lines.join("\n"));
}
