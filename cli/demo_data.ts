/**
 * `vatt demo-data OUT`: writes the generated demo dataset.
 *
 * @module
 */
import { Command } from "@commander-js/extra-typings";
import { DEFAULT_DEMO_DATA_OPTIONS, generateDemoData } from "../lib/demo/demo_data.ts";
import { checkOutputPath } from "../lib/io/guard.ts";
import { integerFlag, type OptionsOf } from "./_options.ts";
import { createProgress } from "./_progress.ts";

/** The arguments and flags of `vatt demo-data`. */
function flags() {
  return new Command()
    .argument("<out>", "output folder (must be empty or missing)")
    .option(
      "--clips <n>",
      "number of clips",
      integerFlag("--clips", { min: 1, max: 100000 }),
      DEFAULT_DEMO_DATA_OPTIONS.clips,
    )
    .option(
      "--seed <n>",
      "random seed",
      integerFlag("--seed", { min: 0 }),
      DEFAULT_DEMO_DATA_OPTIONS.seed,
    )
    .option(
      "--force",
      "write into a non-empty folder (replaces only the files demo-data wrote there)",
      false,
    )
    .option("--quiet", "no progress output", false)
    .option("--ffmpeg <path>", "ffmpeg binary (default: $VATT_FFMPEG or the bundled one)");
}

/**
 * Declares `vatt demo-data`: its arguments, flags and handler.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { command } from "./demo_data.ts";
 * const cmd = command();
 * cmd.parseOptions(["--clips", "8"]);
 * assert.equal(cmd.opts().clips, 8);
 * assert.equal(cmd.opts().seed, 0);
 * ```
 */
export function command() {
  return flags().action(demoData);
}

/** Runs `vatt demo-data`. */
async function demoData(out: string, options: OptionsOf<typeof flags>): Promise<void> {
  await checkOutputPath(out, {
    kind: "folder",
    name: "OUT",
    inputs: [{ path: options.ffmpeg, name: "--ffmpeg" }],
  });
  const progress = createProgress({
    label: "demo-data",
    total: options.clips,
    unit: "clips",
    quiet: options.quiet,
  });
  const result = await generateDemoData(out, {
    clips: options.clips,
    seed: options.seed,
    force: options.force,
    ffmpeg: options.ffmpeg,
    onProgress: (done) => progress.update(done),
  });
  progress.stop();
  console.log(
    `wrote ${result.clips} clips of ${result.classes.length} classes: ${result.manifestPath}`,
  );
}
