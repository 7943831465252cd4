/**
 * `vatt demo-data OUT`: writes the generated demo dataset.
 *
 * @module
 */
import { generateDemoData } from "../lib/demo/demo_data.ts";
import { parseIntFlag } from "./_options.ts";
import { createProgress } from "./_progress.ts";

/** Options of `vatt demo-data`. */
export interface DemoDataCliOptions {
  clips: string;
  seed: string;
  force: boolean;
  ffmpeg?: string;
  quiet?: boolean;
}

/** Runs `vatt demo-data`. */
export async function demoData(out: string, options: DemoDataCliOptions): Promise<void> {
  const clips = parseIntFlag("--clips", options.clips, { min: 1, max: 100000 });
  const seed = parseIntFlag("--seed", options.seed, { min: 0 });
  const progress = createProgress({
    label: "demo-data",
    total: clips,
    unit: "clips",
    quiet: options.quiet,
  });
  const result = await generateDemoData(out, {
    clips,
    seed,
    force: options.force,
    ffmpeg: options.ffmpeg,
    onProgress: (done) => progress.update(done),
  });
  progress.stop();
  console.log(
    `wrote ${result.clips} clips of ${result.classes.length} classes: ${result.manifestPath}`,
  );
}
