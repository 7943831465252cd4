/**
 * The `vatt` command: lists the subcommands, and imports `cli/<command>.ts`
 * — which declares that command's arguments, flags and handler — only for
 * the subcommand that runs, so `vatt --help` starts fast.
 *
 * Usage:
 * ```sh
 * deno task vatt --help
 * deno task vatt info --preset base --json
 * ```
 *
 * @module
 */
import { Command, CommanderError, type CommandUnknownOpts } from "@commander-js/extra-typings";
import { applyBlasCoreType } from "../lib/backend/blas_core.ts";
import { describeError } from "./cli_error.ts";
import { withFlagAliases } from "./_flag_aliases.ts";

const VERSION = "0.1.0";

/** A subcommand as `vatt --help` lists it, and where its declaration lives. */
interface Subcommand {
  /** The word after `vatt`. */
  name: string;
  /** One line for the listing, and the description of its own `--help`. */
  summary: string;
  /** The module whose `command()` declares its arguments, flags and handler. */
  load?: () => Promise<{ command(): CommandUnknownOpts }>;
  /** Its own subcommands (`vatt eval retrieval`), instead of `load`. */
  subcommands?: Subcommand[];
}

/** Every subcommand of `vatt`. */
const SUBCOMMANDS: Subcommand[] = [
  {
    name: "info",
    summary: "print the resolved model config, parameter counts and available backends",
    load: () => import("./info.ts"),
  },
  {
    name: "demo-data",
    summary: "generate the demo dataset: mp4 videos, audio files, captions and labels",
    load: () => import("./demo_data.ts"),
  },
  {
    name: "manifest",
    summary: "write the manifest of a dataset from its official annotation files",
    load: () => import("./manifest.ts"),
  },
  {
    name: "tokenize",
    summary: "turn a manifest of media files into training shards",
    load: () => import("./tokenize.ts"),
  },
  {
    name: "pretrain",
    summary: "pretrain VATT with NCE (video-audio) and MIL-NCE (video-text)",
    load: () => import("./pretrain.ts"),
  },
  {
    name: "finetune",
    summary: "fine-tune a classifier (or a linear probe) on a pretrained run",
    load: () => import("./finetune.ts"),
  },
  {
    name: "protocol",
    summary: "run one of the paper's protocols end to end (ESC-50 folds, UCF101 splits, …)",
    load: () => import("./protocol.ts"),
  },
  {
    name: "eval",
    summary: "evaluate a run: zero-shot retrieval or classification",
    subcommands: [
      {
        name: "retrieval",
        summary: "zero-shot retrieval in the shared space (R@1/5/10, median rank)",
        load: () => import("./eval_retrieval.ts"),
      },
      {
        name: "classify",
        summary: "classification metrics of a fine-tuned run",
        load: () => import("./eval_classify.ts"),
      },
      {
        name: "zero-shot",
        summary: "zero-shot classification: video against class-name prompts (top-1/top-5)",
        load: () => import("./eval_zero_shot.ts"),
      },
    ],
  },
  {
    name: "export",
    summary: "export embeddings (npy, safetensors, parquet, jsonl)",
    load: () => import("./export.ts"),
  },
  {
    name: "plot",
    summary: "2-D map of exported embeddings, or training curves of a run",
    load: () => import("./plot.ts"),
  },
];

/**
 * Adds `subcommands` to `parent`: the one `args` names (`vatt NAME …` or
 * `vatt help NAME`) is loaded and declared in full; the others only by name
 * and summary, for the listing.
 */
async function addSubcommands(
  parent: CommandUnknownOpts,
  subcommands: Subcommand[],
  args: string[],
): Promise<void> {
  const named = args[0] === "help" ? args[1] : args[0];
  for (const sub of subcommands) {
    let command: CommandUnknownOpts = new Command();
    if (sub.name === named && sub.load) command = withFlagAliases((await sub.load()).command());
    command.copyInheritedSettings(parent); // exitOverride, help after an error
    if (sub.name === named && sub.subcommands) {
      await addSubcommands(command, sub.subcommands, args.slice(1));
    }
    parent.addCommand(command.name(sub.name).description(sub.summary));
  }
}

/**
 * Builds the command tree for the arguments `args` (only the subcommand they
 * name is declared in full).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildProgram } from "./main.ts";
 * const program = await buildProgram(["info", "--json"]);
 * assert.deepEqual(program.commands.map((c) => c.name()), [
 *   "info", "demo-data", "manifest", "tokenize", "pretrain", "finetune", "protocol", "eval", "export",
 *   "plot",
 * ]);
 * assert.ok(program.commands[0].options.some((o) => o.long === "--json"));
 * ```
 */
export async function buildProgram(args: string[]): Promise<Command> {
  const program = new Command()
    .name("vatt")
    .description(
      "VATT: multimodal self-supervised transformers for raw video, audio and text, on TensorFlow.js",
    )
    .version(VERSION)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  await addSubcommands(program, SUBCOMMANDS, args);
  return program;
}

/** `VATT_DEBUG` set (and readable: without --allow-env it is simply off). */
function debugEnabled(): boolean {
  try {
    return !!Deno.env.get("VATT_DEBUG");
  } catch {
    return false;
  }
}

/** Runs `vatt ...args`; a failure becomes one line on stderr and an exit code. */
async function main(args: string[]): Promise<void> {
  try {
    await (await buildProgram(args)).parseAsync(args, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      const ok = error.code === "commander.helpDisplayed" || error.code === "commander.version" ||
        error.code === "commander.help";
      Deno.exit(ok ? 0 : 2);
    }
    const { message, exitCode } = describeError(error);
    console.error(`vatt: ${message}`);
    if (debugEnabled() && error instanceof Error) console.error(error.stack);
    Deno.exit(exitCode);
  }
}

// `deno task vatt -- --help` passes the `--` on: it only separates deno's arguments from vatt's.
if (import.meta.main) {
  applyBlasCoreType(); // first: OpenBLAS reads it when it loads (lib/backend/blas_core.ts)
  await main(Deno.args[0] === "--" ? Deno.args.slice(1) : Deno.args);
}
