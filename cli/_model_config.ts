/**
 * Model config from `--preset`, `--agnostic` and `--config FILE`, shared by
 * the commands that build or describe a model.
 *
 * @module
 */
import {
  isPresetName,
  type PresetName,
  PRESETS,
  resolveVattConfig,
  type VattConfig,
  type VattConfigInput,
} from "../lib/config/vatt_config.ts";
import { CliError } from "./cli_error.ts";
import { readJsonFlag } from "./_options.ts";

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
  return resolveVattConfig({
    ...file,
    ...extra,
    preset: o.preset,
    agnostic: o.agnostic || file.agnostic,
  });
}
