/**
 * `vatt export DATA --from RUN --out FILE`: embeddings of every clip (and
 * caption) to npy, safetensors, parquet or jsonl, streamed batch by batch.
 *
 * @module
 */
import { Command, Option } from "@commander-js/extra-typings";
import * as path from "node:path";
import { DEFAULT_EXPORT_SPACE } from "../lib/config/eval_config.ts";
import { initBackend } from "../lib/backend/select.ts";
import { Dataset } from "../lib/data/shards/dataset.ts";
import type { EmbeddingSpace } from "../lib/eval/embeddings/embed.ts";
import { loadModel } from "../lib/run/load_model.ts";
import type { Modality } from "../lib/config/modality.ts";
import {
  exportEmbeddings,
  normalizesByDefault,
  planExport,
  SPACE_MODALITIES,
} from "../lib/eval/embeddings/export.ts";
import { EXPORT_FORMATS, formatFromPath, npyRowsPath } from "../lib/eval/embeddings/format.ts";
import { checkModelFitsData } from "../lib/data/fit.ts";
import { CliError } from "./cli_error.ts";
import { inferenceBatch } from "./_inference_batch.ts";
import { memoryLimit } from "../lib/train/memory_plan.ts";
import { checkPretrainedRun } from "./_pretrained_run.ts";
import { backendOption } from "./_backend_option.ts";
import { evalBatchOption, modalityListFlag, type OptionsOf } from "./_options.ts";
import { createProgress } from "./_progress.ts";
import { pathExists } from "../lib/io/atomic.ts";
import { checkOutputPath } from "../lib/io/guard.ts";

/** The arguments and flags of `vatt export`. */
function flags() {
  return new Command()
    .argument("<data>", "dataset folder")
    .option("--from <run>", "run folder or checkpoint")
    .option("--out <file>", "output file (.npy, .safetensors, .parquet, .jsonl)")
    .option(
      "--modalities <list>",
      "comma-separated (default: every modality of --space)",
      modalityListFlag("--modalities"),
    )
    .addOption(
      new Option("--space <space>", "embedding space").choices(["va", "vt", "backbone"] as const)
        .default(DEFAULT_EXPORT_SPACE),
    )
    .addOption(
      new Option("--format <format>", "file format (default: from the extension)")
        .choices(EXPORT_FORMATS),
    )
    .option(
      "--normalize",
      `L2-normalise each vector, as retrieval's cosine does (default: on for ${
        (["va", "vt", "backbone"] as const).filter(normalizesByDefault).join(" and ")
      }; the file's metadata says which)`,
    )
    .option("--no-normalize", "write the vectors as the model gives them")
    .addOption(evalBatchOption())
    .addOption(backendOption())
    .option("--force", "replace an existing output file", false);
}

/**
 * Declares `vatt export`: its arguments, flags and handler.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { command } from "./export.ts";
 * const cmd = command();
 * cmd.parseOptions(["--space", "vt", "--modalities", "text"]);
 * assert.equal(cmd.opts().space, "vt");
 * assert.deepEqual(cmd.opts().modalities, ["text"]);
 * ```
 */
export function command() {
  return flags().action(exportCommand);
}

/** The modalities to export: `--modalities`, each held by the space, or all the space holds. */
function modalitiesOfSpace(given: Modality[] | undefined, space: EmbeddingSpace): Modality[] {
  const holds = SPACE_MODALITIES[space];
  if (given === undefined) return [...holds];
  for (const m of given) {
    if (!holds.includes(m)) {
      throw new CliError(
        `--modalities: the ${space} space holds ${holds.join(" and ")}, not ${m} (see --space)`,
        2,
      );
    }
  }
  return given;
}

/** Runs `vatt export`. */
async function exportCommand(dataDir: string, o: OptionsOf<typeof flags>): Promise<void> {
  if (!o.from) throw new CliError("--from RUN is required (a run folder or a checkpoint)", 2);
  if (!o.out) throw new CliError("--out FILE is required", 2);
  const modalities = modalitiesOfSpace(o.modalities, o.space);
  const format = o.format ?? formatFromPath(o.out);
  if (!format) {
    throw new CliError(
      `cannot tell the format of ${o.out}: end it in .npy, .safetensors, .parquet or .jsonl, or give --format`,
      2,
    );
  }
  // Refuse an existing output before loading anything.
  const files = format === "npy" ? [o.out, npyRowsPath(o.out)] : [o.out];
  // Real paths, before anything is loaded: never an input, never a device or FIFO.
  for (const f of files) {
    await checkOutputPath(f, {
      kind: "file",
      inputs: [{ path: o.from, name: "--from" }, { path: dataDir, name: "DATA" }],
    });
  }
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
    await checkPretrainedRun(o.from, "export");
    const { model, checkpoint } = await loadModel(o.from);
    try {
      // Everything checkable is checked before the progress starts: bad input prints one line.
      planExport(model, { out: o.out, space: o.space, modalities, format });
      checkModelFitsData(model.config, data);
      // The weights are loaded: the clips a pass may take on what is left.
      const free = await memoryLimit(backend);
      const batchSize = inferenceBatch("export", model.config, modalities, o.batch, free);
      console.error(
        `export: ${modalities.join(",")} in the ${o.space} space on ${backend}, ` +
          `${data.size} clips, checkpoint ${checkpoint}`,
      );
      const progress = createProgress({ label: "export", total: data.size, unit: "clips" });
      let result;
      try {
        result = await exportEmbeddings(model, data, {
          out: o.out,
          space: o.space,
          modalities,
          format,
          batchSize,
          force: o.force,
          normalize: o.normalize,
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
