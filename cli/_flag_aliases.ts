/**
 * The flag names users of Hugging Face / PyTorch tooling type, accepted as
 * hidden aliases of vatt's own: each alias takes the same value (parsed and
 * checked the same way) and sets the flag it stands for.
 *
 * @module
 */
import { type CommandUnknownOpts, Option } from "@commander-js/extra-typings";
import { CliError } from "./cli_error.ts";

/** Alias → the vatt flag it stands for (README "Commands"). */
export const FLAG_ALIASES: Readonly<Record<string, string>> = {
  "--batch-size": "--batch",
  "--max-steps": "--steps",
  "--save-steps": "--checkpoint-every",
  "--save-total-limit": "--keep",
  "--max-grad-norm": "--clip-norm",
  "--pretrained": "--from",
  "--device": "--backend",
};

/**
 * Adds to `command` a hidden option for each alias whose flag it has, and
 * returns it. Giving an alias and its flag together is a usage error (exit 2).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Command } from "@commander-js/extra-typings";
 * import { withFlagAliases } from "./_flag_aliases.ts";
 * const cmd = withFlagAliases(
 *   new Command().exitOverride().option("--batch <n>", "clips", (v) => Number(v), 16)
 *     .action(() => {}),
 * );
 * cmd.parse(["--batch-size", "8"], { from: "user" });
 * assert.equal(cmd.opts().batch, 8);
 * assert.ok(!cmd.helpInformation().includes("--batch-size"));
 * ```
 */
export function withFlagAliases<C extends CommandUnknownOpts>(command: C): C {
  for (const [alias, flag] of Object.entries(FLAG_ALIASES)) {
    const target = command.options.find((o) => o.long === flag);
    if (!target || command.options.some((o) => o.long === alias)) continue;
    const option = new Option(`${alias} ${target.required ? "<value>" : "[value]"}`, `= ${flag}`)
      .hideHelp();
    if (target.argChoices) option.choices(target.argChoices);
    if (target.parseArg) option.argParser(target.parseArg as (v: string, p: unknown) => unknown);
    command.addOption(option as Option);
    const key = option.attributeName();
    command.hook("preAction", (cmd) => {
      const value = cmd.getOptionValue(key);
      if (value === undefined) return;
      if (cmd.getOptionValueSource(target.attributeName()) === "cli") {
        throw new CliError(`give ${flag} or ${alias}, not both`, 2);
      }
      cmd.setOptionValueWithSource(target.attributeName(), value, "cli");
    });
  }
  return command;
}
