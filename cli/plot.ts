/**
 * `vatt plot EMBEDDINGS --out FILE.png|svg`: a 2-D map of exported
 * embeddings; `vatt plot RUN --metrics --out FILE.png|svg`: a run's training
 * curves.
 *
 * @module
 */
import * as path from "node:path";
import { Dataset } from "../lib/data/shards/dataset.ts";
import { datasetLabels, embeddingMap } from "../lib/eval/embeddings/map.ts";
import { type ExportFormat, formatFromPath } from "../lib/eval/embeddings/export.ts";
import { readEmbeddings } from "../lib/eval/embeddings/read.ts";
import { readMetricRows, trainingCurvesScene } from "../lib/plot/training_curves.ts";
import { pathExists, writeFileAtomic } from "../lib/io/atomic.ts";
import { sceneToPng } from "../lib/plot/png.ts";
import { scatterScene, type Scene } from "../lib/plot/scene.ts";
import { sceneToSvg } from "../lib/plot/svg.ts";
import { CliError } from "./cli_error.ts";
import { parseIntFlag } from "./_options.ts";

/** Options of `vatt plot` as commander gives them. */
export interface PlotCliOptions {
  out?: string;
  metrics: boolean;
  colorBy: "modality" | "label";
  method: "umap" | "tsne" | "pca";
  seed: string;
  data?: string;
  modalities?: string;
  maxPoints?: string;
  format?: ExportFormat;
  title?: string;
  force: boolean;
  quiet?: boolean;
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
export async function plotCommand(input: string, o: PlotCliOptions): Promise<void> {
  if (!o.out) throw new CliError("--out FILE.png or FILE.svg is required", 2);
  const ext = path.extname(o.out).toLowerCase();
  if (ext !== ".png" && ext !== ".svg") {
    throw new CliError(`--out must end in .png or .svg, got ${JSON.stringify(o.out)}`, 2);
  }
  if (!o.force && await pathExists(o.out)) {
    throw new CliError(`${o.out} already exists; use --force to replace it`, 1);
  }
  const seed = parseIntFlag("--seed", o.seed, { min: 0 });
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
    const maxPoints = o.maxPoints === undefined
      ? undefined
      : parseIntFlag("--max-points", o.maxPoints, { min: 1 });
    const map = embeddingMap(rows, {
      method: o.method,
      seed,
      colorBy: o.colorBy,
      labels,
      modalities,
      maxPoints,
    });
    const counts = Object.entries(map.counts).map(([m, n]) => `${n} ${m}`).join(", ");
    const title = o.title ??
      `${path.basename(input)}: ${o.method}${rows.space ? ` of the ${rows.space} space` : ""}`;
    scene = scatterScene(map.points, {
      groups: map.groups,
      labels: map.labels,
      title,
      width: 720,
      height: 560,
    });
    summary =
      `${o.method} map of ${map.drawn} of ${map.total} rows (${counts}), coloured by ${o.colorBy}`;
  }
  await writeFileAtomic(o.out, ext === ".png" ? sceneToPng(scene) : sceneToSvg(scene));
  console.log(`wrote ${summary}: ${o.out}`);
}
