/**
 * Building blocks of the commands' flag declarations: parsers that turn an
 * option string into a checked value (a usage error names the flag), and the
 * options several commands share.
 *
 * @module
 */
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { Option } from "@commander-js/extra-typings";
import { DEFAULT_EVAL_BATCH_SIZE } from "../lib/config/eval_config.ts";
import { type Bounds, checkInteger, checkNumber } from "../lib/config/validate.ts";
import { isModality, type Modality } from "../lib/config/modality.ts";
import { CliError } from "./cli_error.ts";
import { INPUT_LIMITS, readInputText } from "../lib/io/input.ts";
import { FormatError } from "../lib/util/errors.ts";

/**
 * The parsed option values of the command a declaration returns, typed from
 * the declaration itself (`OptionsOf<typeof flags>`).
 */
export type OptionsOf<Declare extends () => CommandUnknownOpts> = ReturnType<
  ReturnType<Declare>["opts"]
>;

/**
 * A parser of an integer flag: `TypeError` for text that is not an integer,
 * `RangeError` outside `bounds` (both exit 2).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { integerFlag } from "./_options.ts";
 * const clips = integerFlag("--clips", { min: 1 });
 * assert.equal(clips("12"), 12);
 * assert.throws(() => clips("ten"), /--clips must be an integer, got "ten"/);
 * assert.throws(() => clips("0"), /--clips must be at least 1, got 0/);
 * ```
 */
export function integerFlag(flag: string, bounds: Bounds = {}): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
      throw new TypeError(`${flag} must be an integer, got ${JSON.stringify(value)}`);
    }
    return checkInteger(n, flag, bounds);
  };
}

/**
 * A parser of a number flag: `TypeError` for text that is not a finite
 * number, `RangeError` outside `bounds` (both exit 2).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { numberFlag } from "./_options.ts";
 * const lr = numberFlag("--lr", { above: 0 });
 * assert.equal(lr("1e-4"), 1e-4);
 * assert.throws(() => lr("0"), /--lr must be above 0, got 0/);
 * assert.throws(() => lr(""), /--lr must be a number/);
 * ```
 */
export function numberFlag(flag: string, bounds: Bounds = {}): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n)) {
      throw new TypeError(`${flag} must be a number, got ${JSON.stringify(value)}`);
    }
    return checkNumber(n, flag, bounds);
  };
}

/**
 * A parser of a comma list of modalities (`video,audio`), each named once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { modalityListFlag } from "./_options.ts";
 * assert.deepEqual(modalityListFlag("--modality")("audio, video"), ["audio", "video"]);
 * assert.throws(() => modalityListFlag("--modality")("smell"), /unknown modality "smell"/);
 * assert.throws(() => modalityListFlag("--modality")(","), /at least one modality/);
 * ```
 */
export function modalityListFlag(flag: string): (value: string) => Modality[] {
  return (value) => {
    const parts = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
    for (const p of parts) {
      if (!isModality(p)) {
        throw new CliError(
          `${flag}: unknown modality ${
            JSON.stringify(p)
          }; expected video, audio, text or a comma list`,
          2,
        );
      }
    }
    if (parts.length === 0) throw new CliError(`${flag} must name at least one modality`, 2);
    return parts as Modality[];
  };
}

/**
 * The `--batch` option of the commands that run a trained model over a dataset.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { evalBatchOption } from "./_options.ts";
 * assert.equal(evalBatchOption().defaultValue, 16);
 * ```
 */
export function evalBatchOption() {
  return new Option("--batch <n>", "clips per forward pass")
    .argParser(integerFlag("--batch", { min: 1 }))
    .default(DEFAULT_EVAL_BATCH_SIZE);
}

/**
 * Reads a JSON file given by a flag (`--config FILE`), with a one-line error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readJsonFlag } from "./_options.ts";
 * const file = Deno.makeTempFileSync({ suffix: ".json" });
 * Deno.writeTextFileSync(file, '{"seed": 3}');
 * assert.deepEqual(await readJsonFlag("--config", file), { seed: 3 });
 * Deno.writeTextFileSync(file, "{");
 * await assert.rejects(readJsonFlag("--config", file), /not valid JSON/);
 * Deno.removeSync(file);
 * ```
 */
export async function readJsonFlag(flag: string, file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readInputText(file, { maxBytes: INPUT_LIMITS.json, label: `${flag} file` });
  } catch (e) {
    if (e instanceof FormatError) throw new CliError(`${flag} ${e.message}`, 2);
    throw new CliError(`${flag} ${file}: ${(e as Error).message}`, 2);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CliError(`${flag} ${file}: not valid JSON (${(e as Error).message})`, 2);
  }
}
