/**
 * Model config from `--preset`, `--agnostic` and `--config FILE`, shared by
 * the commands that build a model.
 *
 * @module
 */
import {
  isPresetName,
  PRESETS,
  resolveVattConfig,
  type VattConfig,
  type VattConfigInput,
} from "../lib/config/vatt_config.ts";
import { CliError } from "./cli_error.ts";
import { readJsonFlag } from "./_options.ts";

/** Resolves the model config of a command's flags. */
export async function modelConfigFromFlags(
  o: { preset: string; agnostic: boolean; config?: string },
  extra: Partial<VattConfigInput> = {},
): Promise<VattConfig> {
  if (!isPresetName(o.preset)) {
    throw new CliError(
      `Unknown preset ${JSON.stringify(o.preset)}: expected one of ${
        Object.keys(PRESETS).join(", ")
      }`,
      2,
    );
  }
  const file = o.config ? (await readJsonFlag("--config", o.config)) as VattConfigInput : {};
  if (file === null || typeof file !== "object" || Array.isArray(file)) {
    throw new CliError(`--config ${o.config}: not a JSON object`, 2);
  }
  return resolveVattConfig({
    ...file,
    ...extra,
    preset: o.preset,
    agnostic: o.agnostic || file.agnostic === true,
  });
}
