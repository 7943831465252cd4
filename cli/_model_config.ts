/**
 * Model config from `--preset`, `--agnostic` and `--config FILE`, shared by
 * the commands that build or describe a model.
 *
 * @module
 */
import { checkModelFitsData, type FitSubject } from "../lib/data/fit.ts";
import { withDatasetWordVectors } from "../lib/data/text/word_vector_table.ts";
import {
  DEFAULT_PRESET,
  isPresetName,
  type PresetName,
  PRESETS,
  resolveVattConfig,
  type VattConfig,
  type VattConfigInput,
} from "../lib/config/vatt_config.ts";
import { CliError } from "./cli_error.ts";
import { readJsonFlag } from "./_options.ts";
import { checkModelSize, unknownConfigKeys } from "../lib/config/config_bounds.ts";
import { escapeForTerminal } from "./_escape.ts";

/** `--config` files already warned about (the config is resolved once per preset tried). */
const warned = new Set<string>();

/** The preset names, for help texts. */
export const PRESET_NAMES = Object.keys(PRESETS).join(", ");

/**
 * Parses `--preset NAME` (exit 2 for an unknown one).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { presetFlag } from "./_model_config.ts";
 * assert.equal(presetFlag("base"), "base");
 * assert.throws(() => presetFlag("huge"), /Unknown preset "huge": expected one of tiny, small/);
 * ```
 */
export function presetFlag(value: string): PresetName {
  if (!isPresetName(value)) {
    throw new CliError(
      `Unknown preset ${JSON.stringify(value)}: expected one of ${PRESET_NAMES}`,
      2,
    );
  }
  return value;
}

/**
 * Resolves the model config of a command's flags: the `--config` file's
 * fields over the preset, then `extra`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { modelConfigFromFlags } from "./_model_config.ts";
 * const c = await modelConfigFromFlags({ preset: "tiny", agnostic: true }, { seed: 4 });
 * assert.equal(c.agnostic, true);
 * assert.equal(c.seed, 4);
 * ```
 */
export async function modelConfigFromFlags(
  o: { preset: PresetName; agnostic: boolean; config?: string },
  extra: Partial<VattConfigInput> = {},
): Promise<VattConfig> {
  const file = o.config ? (await readJsonFlag("--config", o.config)) as VattConfigInput : {};
  if (file === null || typeof file !== "object" || Array.isArray(file)) {
    throw new CliError(`--config ${o.config}: not a JSON object`, 2);
  }
  const unknown = o.config ? unknownConfigKeys(file) : [];
  if (unknown.length > 0 && !warned.has(o.config!)) {
    warned.add(o.config!);
    console.error(
      escapeForTerminal(
        `vatt: warning: --config ${o.config}: ignoring unknown key${
          unknown.length > 1 ? "s" : ""
        } ${unknown.slice(0, 10).join(", ")}${unknown.length > 10 ? ", …" : ""}`,
      ),
    );
  }
  const config = resolveVattConfig({
    ...file,
    ...extra,
    preset: o.preset,
    agnostic: o.agnostic || file.agnostic,
  });
  checkModelSize(config);
  return config;
}

/**
 * The model config for DATA when `--preset` is not given: the first (smallest)
 * preset, with `--config` and `--agnostic` over it, whose inputs fit the
 * dataset's settings, and a one-line note saying so; the default preset (and
 * no note) when none fits, so the fit check then names the differences.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PRESETS } from "../lib/config/vatt_config.ts";
 * import type { FitSubject } from "../lib/data/fit.ts";
 * import { modelConfigForData } from "./_model_config.ts";
 * const p = PRESETS.small;
 * const settings = {
 *   frames: p.video.frames, size: p.video.height, audioSamples: p.audio.samples,
 *   sampleRate: p.audio.sampleRate, maxLength: p.text.maxLength,
 * };
 * const data = { index: { settings, text: { vocabSize: 100 } } } as unknown as FitSubject;
 * const picked = await modelConfigForData({ agnostic: false }, data);
 * assert.equal(picked.config.preset, "small");
 * assert.match(picked.note!, /no --preset given: DATA was tokenized at preset small's settings/);
 * const given = await modelConfigForData({ preset: "tiny", agnostic: false }, data);
 * assert.equal(given.config.preset, "tiny");
 * assert.equal(given.note, undefined);
 * ```
 */
export async function modelConfigForData(
  o: { preset?: PresetName; agnostic: boolean; config?: string },
  data: FitSubject,
  extra: Partial<VattConfigInput> = {},
): Promise<{ config: VattConfig; note?: string }> {
  if (o.preset !== undefined) {
    return { config: await modelConfigFromFlags({ ...o, preset: o.preset }, extra) };
  }
  for (const preset of Object.keys(PRESETS) as PresetName[]) {
    const config = await modelConfigFromFlags({ ...o, preset }, extra);
    try {
      checkModelFitsData(withDatasetWordVectors(config, data.index.text), data);
    } catch {
      continue;
    }
    const note = preset === DEFAULT_PRESET ? undefined : `pretrain: no --preset given: DATA ` +
      `was tokenized at preset ${preset}'s settings, so the model is ${preset} ` +
      `(give --preset to choose)`;
    return { config, note };
  }
  return { config: await modelConfigFromFlags({ ...o, preset: DEFAULT_PRESET }, extra) };
}
