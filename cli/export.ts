/**
 * `vatt export DATA --from RUN --out FILE`: embeddings of every clip (and
 * caption) to npy, safetensors, parquet or jsonl, streamed batch by batch.
 *
 * @module
 */
import * as path from "node:path";
import { type BackendName, initBackend } from "../lib/backend/select.ts";
import { Dataset } from "../lib/data/shards/dataset.ts";
import { type EmbeddingSpace, loadModel } from "../lib/eval/embeddings/embed.ts";
import {
  exportEmbeddings,
  type ExportFormat,
  formatFromPath,
  type Modality,
  npyRowsPath,
  planExport,
  SPACE_MODALITIES,
} from "../lib/eval/embeddings/export.ts";
import { checkModelFitsData } from "../lib/train/pretrain.ts";
import { CliError } from "./cli_error.ts";
import { parseIntFlag } from "./_options.ts";
import { createProgress } from "./_progress.ts";
import { pathExists } from "../lib/io/atomic.ts";

/** Options of `vatt export` as commander gives them. */
export interface ExportCliOptions {
  from?: string;
  out?: string;
  modalities?: string;
  space: EmbeddingSpace;
  format?: ExportFormat;
  batch: string;
  backend: BackendName;
  force: boolean;
  quiet?: boolean;
}

/** Parses `--modalities video,audio` against the space. */
function parseModalities(text: string | undefined, space: EmbeddingSpace): Modality[] {
  const holds = SPACE_MODALITIES[space];
  if (text === undefined) return [...holds];
  const list = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (list.length === 0) throw new CliError("--modalities is empty", 2);
  for (const m of list) {
    if (!["video", "audio", "text"].includes(m)) {
      throw new CliError(`--modalities: unknown modality ${JSON.stringify(m)}`, 2);
    }
    if (!holds.includes(m as Modality)) {
      throw new CliError(
        `--modalities: the ${space} space holds ${holds.join(" and ")}, not ${m} (see --space)`,
        2,
      );
    }
  }
  return list as Modality[];
}

/** Runs `vatt export`. */
export async function exportCommand(dataDir: string, o: ExportCliOptions): Promise<void> {
  if (!o.from) throw new CliError("--from RUN is required (a run folder or a checkpoint)", 2);
  if (!o.out) throw new CliError("--out FILE is required", 2);
  const modalities = parseModalities(o.modalities, o.space);
  const format = o.format ?? formatFromPath(o.out);
  if (!format) {
    throw new CliError(
      `cannot tell the format of ${o.out}: end it in .npy, .safetensors, .parquet or .jsonl, or give --format`,
      2,
    );
  }
  const batchSize = parseIntFlag("--batch", o.batch, { min: 1 });
  // Refuse an existing output before loading anything.
  const files = format === "npy" ? [o.out, npyRowsPath(o.out)] : [o.out];
  if (!o.force) {
    for (const f of files) {
      if (await pathExists(f)) {
        throw new CliError(`${f} already exists; use --force to replace it`, 1);
      }
    }
  }
  const data = await Dataset.open(dataDir);
  try {
    const backend = await initBackend(o.backend);
    const { model, checkpoint } = await loadModel(o.from);
    try {
      // Everything checkable is checked before the progress starts: bad input prints one line.
      planExport(model, { out: o.out, space: o.space, modalities, format });
      checkModelFitsData(model.config, data);
      if (!o.quiet) {
        console.error(
          `export: ${modalities.join(",")} in the ${o.space} space on ${backend}, ` +
            `${data.size} clips, checkpoint ${checkpoint}`,
        );
      }
      const progress = createProgress({
        label: "export",
        total: data.size,
        unit: "clips",
        quiet: o.quiet,
      });
      let result;
      try {
        result = await exportEmbeddings(model, data, {
          out: o.out,
          space: o.space,
          modalities,
          format,
          batchSize,
          force: o.force,
          metadata: { checkpoint: path.resolve(checkpoint), data: path.resolve(dataDir) },
          onProgress: (done) => progress.update(done),
        });
      } finally {
        progress.stop();
      }
      const total = result.modalities.reduce((s, m) => s + result.rows[m], 0);
      const parts = result.modalities.map((m) => `${m} ${result.rows[m]}×${result.dims[m]}`);
      console.log(
        `wrote ${total} rows (${
          parts.join(", ")
        }) of ${result.space} embeddings as ${result.format}: ${result.files.join(" + ")}`,
      );
    } finally {
      model.dispose();
    }
  } finally {
    data.close();
  }
}
