/**
 * `vatt eval zero-shot DATA --from RUN --prompt "a video of {label}"`:
 * zero-shot classification of a dataset's labelled clips by a pretrained run
 * — each class name put into the prompts, embedded by the text tower, and
 * each clip's video assigned the most similar class in the video–text space
 * — next to chance, with the class words the dataset's vocabulary lacks.
 *
 * @module
 */
import { escapeForTerminal } from "./_escape.ts";
import { Command, Option } from "@commander-js/extra-typings";
import * as path from "node:path";
import { DEFAULT_ZERO_SHOT_PROMPT, topKOf } from "../lib/config/eval_config.ts";
import { initBackend } from "../lib/backend/select.ts";
import { Dataset } from "../lib/data/shards/dataset.ts";
import { checkModelFitsData } from "../lib/data/fit.ts";
import { loadModel } from "../lib/run/load_model.ts";
import { checkPrompts } from "../lib/eval/classify/prompts.ts";
import {
  zeroShotClassify,
  zeroShotClips,
  type ZeroShotReport,
} from "../lib/eval/classify/zero_shot.ts";
import { MismatchError } from "../lib/util/errors.ts";
import { CliError } from "./cli_error.ts";
import { checkPretrainedRun } from "./_pretrained_run.ts";
import { backendOption } from "./_backend_option.ts";
import { evalBatchOption, type OptionsOf } from "./_options.ts";
import { createProgress } from "./_progress.ts";

/** The prompts when no `--prompt` is given (one array, so the first `--prompt` replaces it). */
const DEFAULT_PROMPTS: string[] = [DEFAULT_ZERO_SHOT_PROMPT];

/** Collects repeated `--prompt`s; the first one given replaces the default. */
function collectPrompt(value: string, previous: string[]): string[] {
  return previous === DEFAULT_PROMPTS ? [value] : [...previous, value];
}

/** The arguments and flags of `vatt eval zero-shot`. */
function flags() {
  return new Command()
    .argument("<data>", "dataset folder (labelled clips)")
    .option("--from <run>", "pretrained run folder or checkpoint")
    .addOption(
      new Option(
        "--prompt <text>",
        "prompt holding {label}, the class name; repeat to average several (CLIP's ensembling)",
      ).argParser(collectPrompt).default(DEFAULT_PROMPTS),
    )
    .addOption(evalBatchOption())
    .addOption(backendOption())
    .option("--json", "print one JSON object instead of a table", false);
}

/**
 * Declares `vatt eval zero-shot`: its arguments, flags and handler.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { command } from "./eval_zero_shot.ts";
 * assert.deepEqual(command().opts().prompt, ["a video of {label}"]);
 * const cmd = command();
 * cmd.parseOptions(["--prompt", "{label}", "--prompt", "a clip of {label}"]);
 * assert.deepEqual(cmd.opts().prompt, ["{label}", "a clip of {label}"]);
 * ```
 */
export function command() {
  return flags().action(evalZeroShot);
}

function percent(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/**
 * The report as text lines: the metrics next to chance, then the words out
 * of vocabulary.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatZeroShot } from "./eval_zero_shot.ts";
 * const vocabulary = { classWords: 4, unknownClassWords: ["cyan"], unknownClassWordCount: 1,
 *   classesWithoutKnownWords: ["cyan"], unknownPromptWords: [] };
 * const text = formatZeroShot({ space: "vt", prompts: ["{label}"], classes: ["red ball", "blue ball", "cyan"],
 *   multiLabel: false, clips: 6, top1: 0.5, top5: 1, chance: { top1: 1 / 3, top5: 1 }, vocabulary });
 * assert.ok(text.includes("top-1:   50.0%  (chance 33.3%)"));
 * assert.ok(text.includes("top-3:   100.0%"));
 * assert.ok(text.includes("class words out of vocabulary: 1 of 4 (cyan)"));
 * ```
 */
export function formatZeroShot(r: ZeroShotReport): string {
  const lines = [
    `zero-shot classification in the ${r.space} space: ${r.clips} labelled clips, ` +
    `${r.classes.length} classes, ${r.prompts.length} prompt${r.prompts.length > 1 ? "s" : ""}` +
    (r.prompts.length > 1 ? " (normalised text embeddings averaged per class)" : ""),
  ];
  if (r.multiLabel) {
    lines.push(`mAP:     ${percent(r.mAP!)}  (chance ${percent(r.chance.mAP)})`);
    lines.push(`ROC-AUC: ${percent(r.rocAuc!)}  (chance ${percent(r.chance.rocAuc)})`);
  } else {
    const k = topKOf(r.classes.length);
    lines.push(`top-1:   ${percent(r.top1!)}  (chance ${percent(r.chance.top1)})`);
    lines.push(`top-${k}:   ${percent(r.top5!)}  (chance ${percent(r.chance.top5)})`);
  }
  const v = r.vocabulary;
  const shown = (words: string[]) => words.map(escapeForTerminal).join(", ");
  const list = (words: string[]) => (words.length > 0 ? ` (${shown(words)})` : "");
  lines.push(
    `class words out of vocabulary: ${v.unknownClassWordCount} of ${v.classWords}` +
      list(v.unknownClassWords),
  );
  if (v.classesWithoutKnownWords.length > 0) {
    lines.push(
      `classes with no known word (nothing but the prompt tells them apart): ${
        shown(v.classesWithoutKnownWords)
      }`,
    );
  }
  if (v.unknownPromptWords.length > 0) {
    lines.push(`prompt words out of vocabulary: ${shown(v.unknownPromptWords)}`);
  }
  return lines.join("\n");
}

/** The labelled clips of `data`; a dataset without labels is a usage error (exit 2). */
async function labelledClips(data: Dataset): Promise<number> {
  try {
    return (await zeroShotClips(data)).indices.length;
  } catch (e) {
    if (e instanceof MismatchError) throw new CliError(e.message, 2);
    throw e;
  }
}

/** Runs `vatt eval zero-shot`. */
async function evalZeroShot(dataDir: string, o: OptionsOf<typeof flags>): Promise<void> {
  if (!o.from) throw new CliError("--from RUN is required (a pretrained run or checkpoint)", 2);
  const prompts = checkPrompts(o.prompt); // RangeError: exit 2
  const data = await Dataset.open(dataDir);
  try {
    const clips = await labelledClips(data);
    const backend = await initBackend(o.backend);
    await checkPretrainedRun(o.from, "eval zero-shot");
    const { model, checkpoint } = await loadModel(o.from);
    try {
      checkModelFitsData(model.config, data);
      if (!o.json) {
        console.error(`eval zero-shot on ${backend}, ${clips} clips, checkpoint ${checkpoint}`);
      }
      const progress = createProgress({
        label: "embed",
        total: clips,
        unit: "clips",
        quiet: o.json,
      });
      let result;
      try {
        result = await zeroShotClassify(model, data, {
          prompts,
          batchSize: o.batch,
          onProgress: (done) => progress.update(done),
        });
      } finally {
        progress.stop();
      }
      if (o.json) {
        console.log(JSON.stringify({
          ...result.report,
          checkpoint: path.resolve(checkpoint),
          data: path.resolve(dataDir),
        }));
        return;
      }
      console.log(`checkpoint ${checkpoint}`);
      console.log(formatZeroShot(result.report));
    } finally {
      model.dispose();
    }
  } finally {
    data.close();
  }
}
