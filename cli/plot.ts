/**
 * `vatt plot EMBEDDINGS --out FILE.png|svg`: a 2-D map of exported
 * embeddings; `vatt plot RUN --metrics --out FILE.png|svg`: a run's training
 * curves.
 *
 * @module
 */
import { Command, Option } from "@commander-js/extra-typings";
import * as path from "node:path";
import {
  DEFAULT_MAP_COLOR_BY,
  DEFAULT_MAP_MAX_POINTS,
  DEFAULT_MAP_METHOD,
  DEFAULT_MAP_SEED,
  DEFAULT_TSNE_MAX_POINTS,
} from "../lib/config/eval_config.ts";
import { Dataset } from "../lib/data/shards/dataset.ts";
import { datasetLabels, embeddingMap } from "../lib/eval/embeddings/map.ts";
import { EXPORT_FORMATS, formatFromPath } from "../lib/eval/embeddings/format.ts";
import { readEmbeddings } from "../lib/eval/embeddings/read.ts";
import { readMetricRows, trainingCurvesScene } from "../lib/plot/training_curves.ts";
import { pathExists, writeFileAtomic } from "../lib/io/atomic.ts";
import { checkOutputPath } from "../lib/io/guard.ts";
import { sceneToPng } from "../lib/plot/png.ts";
import { scatterScene } from "../lib/plot/scene.ts";
import type { Scene } from "../lib/plot/shapes.ts";
import { sceneToSvg } from "../lib/plot/svg.ts";
import { CliError } from "./cli_error.ts";
import { integerFlag, type OptionsOf } from "./_options.ts";

/** The scatter plot of an embedding map, and the line that says what it shows. */
function mapScene(
  map: ReturnType<typeof embeddingMap>,
  o: { title: string; method: string; colorBy: string },
): { scene: Scene; summary: string } {
  const { groups, markers, labels } = map;
  const scene = scatterScene(map.points, {
    groups,
    markers,
    labels,
    title: o.title,
    width: 720,
    height: 560,
  });
  const counts = Object.entries(map.counts).map(([m, n]) => `${n} ${m}`).join(", ");
  const shaped = markers ? ", shaped by modality" : "";
  const summary = `${o.method} map of ${map.drawn} of ${map.total} rows (${counts}), ` +
    `coloured by ${o.colorBy}${shaped}`;
  return { scene, summary };
}

/** The arguments and flags of `vatt plot`. */
function flags() {
  return new Command()
    .argument("<input>", "embeddings file or run folder")
    .option("--out <file>", "output .png or .svg")
    .option("--metrics", "draw the training curves of a run folder", false)
    .addOption(
      new Option("--color-by <what>", "colour points by").choices(["modality", "label"] as const)
        .default(DEFAULT_MAP_COLOR_BY),
    )
    .addOption(
      new Option("--method <name>", "2-D method").choices(["umap", "tsne", "pca"] as const)
        .default(DEFAULT_MAP_METHOD),
    )
    .option(
      "--seed <n>",
      "seed of the map and the subsample",
      integerFlag("--seed", { min: 0 }),
      DEFAULT_MAP_SEED,
    )
    .option("--data <dir>", "dataset the embeddings came from (labels for --color-by label)")
    .option("--modalities <list>", "only these modalities (comma-separated)")
    .option(
      "--max-points <n>",
      `draw at most N rows (default ${DEFAULT_MAP_MAX_POINTS}, t-SNE ${DEFAULT_TSNE_MAX_POINTS})`,
      integerFlag("--max-points", { min: 1 }),
    )
    .addOption(
      new Option("--format <format>", "embeddings file format (default: from the extension)")
        .choices(EXPORT_FORMATS),
    )
    .option("--title <text>", "title of the picture")
    .option("--force", "replace an existing output file", false);
}

/**
 * Declares `vatt plot`: its arguments, flags and handler.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { command } from "./plot.ts";
 * const cmd = command();
 * cmd.parseOptions(["--method", "pca", "--max-points", "100"]);
 * assert.equal(cmd.opts().method, "pca");
 * assert.equal(cmd.opts().maxPoints, 100);
 * ```
 */
export function command() {
  return flags().action(plotCommand);
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await Deno.stat(p)).isDirectory;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new CliError(`${p} does not exist`, 1);
    throw e;
  }
}

/** Runs `vatt plot`. */
async function plotCommand(input: string, o: OptionsOf<typeof flags>): Promise<void> {
  if (!o.out) throw new CliError("--out FILE.png or FILE.svg is required", 2);
  const ext = path.extname(o.out).toLowerCase();
  if (ext !== ".png" && ext !== ".svg") {
    throw new CliError(`--out must end in .png or .svg, got ${JSON.stringify(o.out)}`, 2);
  }
  await checkOutputPath(o.out, {
    kind: "file",
    inputs: [{ path: input, name: "INPUT" }, { path: o.data, name: "--data" }],
  });
  if (!o.force && await pathExists(o.out)) {
    throw new CliError(`${o.out} already exists; use --force to replace it`, 1);
  }
  const seed = o.seed;
  const folder = await isDirectory(input);
  let scene: Scene;
  let summary: string;
  if (o.metrics || folder) {
    if (!folder) throw new CliError(`--metrics needs a run folder, got the file ${input}`, 2);
    const file = path.join(input, "metrics.jsonl");
    if (!(await pathExists(file))) {
      throw new CliError(`${input} has no metrics.jsonl (is it a run folder?)`, 1);
    }
    const rows = await readMetricRows(file);
    if (rows.length === 0) throw new CliError(`${file} has no rows yet`, 1);
    scene = trainingCurvesScene(rows, { title: o.title ?? path.basename(path.resolve(input)) });
    summary = `training curves of ${rows.length} rows`;
  } else {
    if (o.colorBy === "label" && !o.data) {
      throw new CliError(
        "--color-by label needs --data DATA (labels are looked up in the dataset by clip id)",
        2,
      );
    }
    const format = o.format ?? formatFromPath(input);
    if (!format) {
      throw new CliError(
        `cannot tell the format of ${input}: expected .npy, .safetensors, .parquet or .jsonl (or --format)`,
        2,
      );
    }
    const rows = await readEmbeddings(input, { format });
    let labels: Map<string, string> | undefined;
    if (o.colorBy === "label" && o.data) {
      const data = await Dataset.open(o.data);
      try {
        labels = await datasetLabels(data);
      } finally {
        data.close();
      }
      if (!rows.ids.some((id) => labels!.has(id))) {
        throw new CliError(`no clip of ${input} has a label in ${o.data}`, 1);
      }
    }
    const modalities = o.modalities?.split(",").map((s) => s.trim()).filter((s) => s);
    const maxPoints = o.maxPoints;
    const map = embeddingMap(rows, {
      method: o.method,
      seed,
      colorBy: o.colorBy,
      labels,
      modalities,
      maxPoints,
    });
    const title = o.title ??
      `${path.basename(input)}: ${o.method}${rows.space ? ` of the ${rows.space} space` : ""}`;
    ({ scene, summary } = mapScene(map, { title, method: o.method, colorBy: o.colorBy }));
  }
  await writeFileAtomic(o.out, ext === ".png" ? sceneToPng(scene) : sceneToSvg(scene));
  console.log(`wrote ${summary}: ${o.out}`);
}
