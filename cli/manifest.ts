/**
 * `vatt manifest DATASET ROOT --out MANIFEST`: reads a dataset's annotation
 * files as distributed (HowTo100M, AudioSet, Kinetics, ESC-50, …) and writes
 * the JSONL manifest `vatt tokenize` reads.
 *
 * @module
 */
import { Command } from "@commander-js/extra-typings";
import { dirname, relative, resolve } from "node:path";
import { checkOutputPath } from "../lib/io/guard.ts";
import { writeFileAtomic } from "../lib/io/atomic.ts";
import {
  type DatasetManifest,
  datasetReader,
  type DatasetRow,
  DATASETS,
} from "../lib/data/manifest/datasets/mod.ts";
import { DEFAULT_CAPTIONS_PER_CLIP } from "../lib/data/manifest/datasets/howto100m.ts";
import { ESC50_FOLDS } from "../lib/data/manifest/datasets/esc50.ts";
import {
  ACTION_SPLITS,
  DEFAULT_ACTION_SPLIT,
  DEFAULT_ACTION_SUBSET,
} from "../lib/data/manifest/datasets/ucf101.ts";
import { DEFAULT_MSRVTT_SPLIT, MSRVTT_SPLITS } from "../lib/data/manifest/datasets/msrvtt.ts";
import { DEFAULT_YOUCOOK2_SPLIT, YOUCOOK2_SPLITS } from "../lib/data/manifest/datasets/youcook2.ts";
import { CliError } from "./cli_error.ts";
import { integerFlag, type OptionsOf } from "./_options.ts";
import { escapeForTerminal } from "./_escape.ts";

/** The arguments and flags of `vatt manifest`. */
function flags() {
  return new Command()
    .argument("<dataset>", `dataset name: ${Object.keys(DATASETS).join(", ")}`)
    .argument("<root>", "the dataset's folder (annotation files and media; see README 'Datasets')")
    .requiredOption("--out <manifest>", "JSONL manifest to write")
    .option(
      "--split <name>",
      "split to list (kinetics: train|val|test, default train; audioset: " +
        "balanced_train|unbalanced_train|eval, default balanced_train; esc50 with --fold: " +
        "train = the other folds (default), test = the fold; ucf101/hmdb51: " +
        `${ACTION_SPLITS.join("|")}, default ${DEFAULT_ACTION_SPLIT}; msrvtt: ` +
        `${MSRVTT_SPLITS.join("|")}, default ${DEFAULT_MSRVTT_SPLIT}; youcook2: ` +
        `${YOUCOOK2_SPLITS.join("|")}, default ${DEFAULT_YOUCOOK2_SPLIT})`,
    )
    .option(
      "--subset <half>",
      `ucf101/hmdb51: train or test half of the --split (default ${DEFAULT_ACTION_SUBSET})`,
    )
    .option(
      "--fold <n>",
      "esc50: the test fold (1..5); without it every clip is listed",
      integerFlag("--fold", { min: 1, max: ESC50_FOLDS }),
    )
    .option("--esc10", "esc50: only the ESC-10 subset", false)
    .option(
      "--captions-per-clip <n>",
      "howto100m: the caption and its nearest neighbours in time, this many per clip",
      integerFlag("--captions-per-clip", { min: 1, max: 1000 }),
      DEFAULT_CAPTIONS_PER_CLIP,
    )
    .option("--strict", "fail (exit 1) on the first malformed row or missing media file", false);
}

/**
 * Declares `vatt manifest`: its arguments, flags and handler.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { command } from "./manifest.ts";
 * const cmd = command();
 * cmd.parseOptions(["--out", "m.jsonl", "--fold", "2"]);
 * assert.equal(cmd.opts().fold, 2);
 * assert.equal(cmd.opts().captionsPerClip, 4);
 * assert.equal(cmd.opts().strict, false);
 * ```
 */
export function command() {
  return flags().action(manifest);
}

/** Runs `vatt manifest`. */
async function manifest(
  dataset: string,
  root: string,
  options: OptionsOf<typeof flags>,
): Promise<void> {
  const read = await datasetReader(dataset);
  try {
    if (!(await Deno.stat(root)).isDirectory) throw new Error("not a folder");
  } catch (e) {
    throw new CliError(`ROOT ${root}: ${(e as Error).message}`, 1);
  }
  await checkOutputPath(options.out, { kind: "file" });
  const result = await read(root, {
    split: options.split,
    subset: options.subset,
    fold: options.fold,
    esc10: options.esc10,
    captionsPerClip: options.captionsPerClip,
    strict: options.strict,
  });
  const base = dirname(resolve(options.out));
  const lines = result.rows.map((row) => JSON.stringify(jsonRow(row, base)));
  await writeFileAtomic(options.out, lines.length > 0 ? `${lines.join("\n")}\n` : "");
  for (const line of summary(result)) console.error(escapeForTerminal(line));
  console.log(`wrote ${result.rows.length} rows to ${options.out}`);
}

/** A row as written: media paths relative to the manifest's folder, fields in a fixed order. */
function jsonRow(row: DatasetRow, base: string): Record<string, unknown> {
  const out: Record<string, unknown> = { id: row.id };
  if (row.video !== undefined) out.video = relative(base, row.video);
  if (row.audio !== undefined) out.audio = relative(base, row.audio);
  out.captions = row.captions;
  if (row.label !== undefined) out.label = row.label;
  if (row.start !== undefined) out.start = row.start;
  if (row.end !== undefined) out.end = row.end;
  return out;
}

/** The skipped rows, in a line or two each. */
function summary(result: DatasetManifest): string[] {
  const lines: string[] = [];
  const { missing, malformed } = result;
  if (missing.count > 0) {
    lines.push(
      `skipped ${missing.count} rows whose media file is missing (first: ${
        missing.first.join(", ")
      })`,
    );
  }
  if (malformed.count > 0) {
    const more = malformed.count > malformed.rows.length ? ", …" : "";
    lines.push(
      `skipped ${malformed.count} malformed annotation rows (rows ${
        malformed.rows.join(", ")
      }${more}); first: row ${malformed.rows[0]}: ${malformed.reasons[0]}`,
    );
  }
  return lines;
}
