/**
 * `vatt eval classify DATA --from RUN2`: the classification metrics of a
 * fine-tuned run (any head, any modalities) on the labelled clips of a
 * dataset it did not train on (on its own training data: the part it held
 * out; `--include-train` scores the rest too and says how many), each clip's
 * logits averaged over `--windows` × `--crops` views (the paper: 4 × 3),
 * with chance levels, and the confusion matrix on request.
 *
 * @module
 */
import { escapeForTerminal } from "./_escape.ts";
import { Command } from "@commander-js/extra-typings";
import { initBackend } from "../lib/backend/select.ts";
import { Dataset } from "../lib/data/shards/dataset.ts";
import type { ClassificationReport } from "../lib/eval/classify/classify.ts";
import { dPrime } from "../lib/eval/classify/metrics.ts";
import {
  type ClassifyEvaluation,
  evaluateClassifier,
  type ViewSummary,
} from "../lib/eval/classify/evaluate.ts";
import type { EvalClips } from "../lib/eval/classify/held_out.ts";
import { readRunRecord } from "../lib/run/trained_on.ts";
import { loadClassifier } from "../lib/run/load_classifier.ts";
import type { Classifier, ClassifierSpec } from "../lib/model/classifier.ts";
import { CliError } from "./cli_error.ts";
import { backendOption } from "./_backend_option.ts";
import { evalBatchOption, integerFlag, type OptionsOf } from "./_options.ts";
import {
  CLASSIFY_CROPS,
  DEFAULT_CLASSIFY_CROPS,
  DEFAULT_CLASSIFY_WINDOWS,
  PAPER_CLASSIFY_CROPS,
  PAPER_CLASSIFY_WINDOWS,
  topKOf,
} from "../lib/config/eval_config.ts";
import { createProgress, type Progress } from "./_progress.ts";

/** `--crops`: 1 or 3. */
function cropsFlag(value: string): number {
  const n = integerFlag("--crops", { min: 1 })(value);
  if (!(CLASSIFY_CROPS as readonly number[]).includes(n)) {
    throw new RangeError(`--crops must be ${CLASSIFY_CROPS.join(" or ")}, got ${n}`);
  }
  return n;
}

/** The arguments and flags of `vatt eval classify`. */
function flags() {
  return new Command()
    .argument("<data>", "dataset folder")
    .option("--from <run>", "fine-tuned run folder or checkpoint")
    .option(
      "--windows <k>",
      "average the logits of K evenly spaced windows of each clip (its K entries " +
        `<clip>#w<k>, or K cuts of a stored span longer than the model's; paper: ${PAPER_CLASSIFY_WINDOWS})`,
      integerFlag("--windows", { min: 1 }),
      DEFAULT_CLASSIFY_WINDOWS,
    )
    .option(
      "--crops <n>",
      "average the logits of 1 (centre) or 3 (left, centre, right) crops of each window " +
        `(paper: ${PAPER_CLASSIFY_CROPS})`,
      cropsFlag,
      DEFAULT_CLASSIFY_CROPS,
    )
    .option(
      "--include-train",
      "also score the clips the classifier trained on (otherwise: only clips it never saw)",
      false,
    )
    .option("--confusion", "print the confusion matrix (single-label)", false)
    .option("--json", "print JSON", false)
    .addOption(evalBatchOption())
    .addOption(backendOption());
}

/**
 * Declares `vatt eval classify`: its arguments, flags and handler.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { command } from "./eval_classify.ts";
 * const cmd = command();
 * cmd.parseOptions(["--confusion", "--batch", "4", "--windows", "4", "--crops", "3"]);
 * assert.equal(cmd.opts().confusion, true);
 * assert.equal(cmd.opts().batch, 4);
 * assert.equal(cmd.opts().windows * cmd.opts().crops, 12);
 * assert.equal(cmd.opts().includeTrain, false);
 * ```
 */
export function command() {
  return flags().action(evalClassifyCommand);
}

function percent(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/**
 * The confusion matrix as aligned text, rows = true classes, columns = predictions.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatConfusion } from "./eval_classify.ts";
 * const text = formatConfusion([[2, 0], [1, 3]], ["cat", "dog"]);
 * assert.ok(text.split("\n")[2].startsWith("dog"));
 * assert.ok(text.includes("  3   (1)"));
 * // Names come from files: control characters are shown, not obeyed.
 * assert.ok(formatConfusion([[1]], ["x\x1b[2J"]).includes("x\\e[2J"));
 * ```
 */
export function formatConfusion(matrix: number[][], labelNames: string[]): string {
  const names = labelNames.map(escapeForTerminal);
  const width = Math.max(3, ...matrix.flat().map((v) => String(v).length));
  const corner = "true \\ predicted";
  const label = Math.max(...names.map((n) => n.length), corner.length);
  const head = `${corner.padEnd(label)} ` +
    names.map((_, j) => String(j).padStart(width)).join(" ");
  const rows = matrix.map((row, i) =>
    `${names[i].padEnd(label)} ` + row.map((v) => String(v).padStart(width)).join(" ") +
    `   (${i})`
  );
  return [head, ...rows].join("\n");
}

/**
 * A short description of a classifier.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeClassifier } from "./eval_classify.ts";
 * const spec = { head: { name: "mcb" }, modalities: ["video", "audio"], features: "backbone", labels: { names: ["a", "b"], multiLabel: false } };
 * // deno-lint-ignore no-explicit-any
 * assert.equal(describeClassifier(spec as any), "mcb head on video+audio (backbone features), 2 classes");
 * ```
 */
export function describeClassifier(spec: ClassifierSpec): string {
  return `${spec.head.name} head on ${spec.modalities.join("+")} (${spec.features} features), ` +
    `${spec.labels.names.length} classes${spec.labels.multiLabel ? ", multi-label" : ""}`;
}

/**
 * The report as text lines.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatReport } from "./eval_classify.ts";
 * const text = formatReport({ clips: 4, numClasses: 8, multiLabel: false, loss: 1, top1: 0.5, top5: 1, chance: { top1: 0.125, top5: 0.625 } });
 * assert.ok(text.includes("top-1:   50.0%  (chance 12.5%)"));
 * ```
 */
export function formatReport(report: ClassificationReport): string {
  const lines = [`clips: ${report.clips}`];
  if (report.multiLabel) {
    lines.push(`mAP:     ${percent(report.mAP!)}  (chance ${percent(report.chance.mAP)})`);
    lines.push(`ROC-AUC: ${percent(report.rocAuc!)}  (chance ${percent(report.chance.rocAuc)})`);
    lines.push(`d′:      ${dPrime(report.rocAuc!).toFixed(3)}  (chance 0.000; √2·Φ⁻¹(ROC-AUC))`);
  } else {
    const k = topKOf(report.numClasses);
    lines.push(`top-1:   ${percent(report.top1!)}  (chance ${percent(report.chance.top1)})`);
    lines.push(`top-${k}:   ${percent(report.top5!)}  (chance ${percent(report.chance.top5)})`);
  }
  lines.push(`loss:    ${report.loss.toFixed(4)}`);
  return lines.join("\n");
}

/**
 * Which clips were scored, in words.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeSelection } from "./eval_classify.ts";
 * const line = describeSelection({ indices: [0, 1, 2], source: "include-train", trainingClips: 2 }, 3);
 * assert.equal(line, "scored: 3 clips, includes 2 training clips (--include-train)");
 * ```
 */
export function describeSelection(selection: EvalClips, clips: number): string {
  const n = `${clips} clip${clips === 1 ? "" : "s"}`;
  switch (selection.source) {
    case "held-out":
      return `scored: ${n} held out of the run's training data (its validation split)`;
    case "other-data":
      return `scored: ${n} (not the data the run trained on)`;
    case "include-train":
      return `scored: ${n}, includes ${selection.trainingClips} training clips (--include-train)`;
    case "unknown":
      return `scored: ${n} (no config.json beside the checkpoint: training clips cannot be told apart)`;
  }
}

/**
 * How each clip's views were formed, in words, with a note when the windows
 * or crops asked for are all the same.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeViews } from "./eval_classify.ts";
 * const shape = { frames: 8, size: 32, audioSamples: 6400 };
 * const text = describeViews({ windows: 4, crops: 3, windowSource: "stored-span",
 *   windowsIdentical: false, cropsIdentical: true, stored: { ...shape, frames: 12 }, model: shape });
 * assert.ok(text.startsWith("views: 4 windows × 3 crops per clip, logits averaged"));
 * assert.ok(text.includes("the 3 crops are identical"));
 * ```
 */
export function describeViews(v: ViewSummary): string {
  const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
  let line = `views: ${plural(v.windows, "window")} × ${plural(v.crops, "crop")} per clip`;
  if (v.windows * v.crops > 1) line += ", logits averaged";
  if (v.windows > 1) {
    line += v.windowSource === "entries"
      ? ` (windows: the entries <clip>#w<k>)`
      : ` (windows: cuts of the stored ${v.stored.frames} frames)`;
  }
  const notes: string[] = [];
  if (v.windowsIdentical) {
    notes.push(
      `the stored clips are the model's window (${v.model.frames} frames), so the ${v.windows} windows are identical`,
    );
  }
  if (v.cropsIdentical) {
    notes.push(
      v.stored.size === v.model.size
        ? `the stored frames are the model's ${v.model.size}², so the ${v.crops} crops are identical`
        : `the classifier reads no video, so the ${v.crops} crops are identical`,
    );
  }
  return [line, ...notes.map((n) => `note: ${n}`)].join("\n");
}

/** Runs `vatt eval classify`. */
async function evalClassifyCommand(dataDir: string, o: OptionsOf<typeof flags>): Promise<void> {
  if (!o.from) throw new CliError("--from RUN2 is required (a fine-tuned run)", 2);
  const data = await Dataset.open(dataDir);
  try {
    await initBackend(o.backend);
    const { classifier, checkpoint } = await loadClassifier(o.from);
    try {
      if (o.confusion && classifier.spec.labels.multiLabel) {
        throw new CliError("--confusion is for single-label datasets", 2);
      }
      let progress: Progress | undefined;
      const result = await evaluateClassifier(classifier, data, {
        run: await readRunRecord(checkpoint),
        windows: o.windows,
        crops: o.crops,
        includeTrain: o.includeTrain,
        batchSize: o.batch,
        confusion: o.confusion,
        onProgress: (done, total) => {
          progress ??= createProgress({ label: "classify", total, unit: "clips", quiet: o.json });
          progress.update(done);
        },
      });
      progress?.stop();
      printEvaluation(result, { classifier, checkpoint, json: o.json });
    } finally {
      classifier.dispose();
    }
  } finally {
    data.close();
  }
}

/** Prints the evaluation as text or JSON. */
function printEvaluation(
  result: ClassifyEvaluation,
  options: { classifier: Classifier; checkpoint: string; json: boolean },
): void {
  const { classifier, checkpoint } = options;
  const { report, selection, views } = result;
  if (options.json) {
    console.log(JSON.stringify(
      {
        checkpoint,
        head: classifier.spec.head.name,
        modalities: classifier.spec.modalities,
        features: classifier.spec.features,
        parameters: classifier.head.parameterCount(),
        classes: classifier.spec.labels.names,
        selection: { source: selection.source, trainingClips: selection.trainingClips },
        views,
        ...report,
        ...(report.multiLabel ? { dPrime: dPrime(report.rocAuc!) } : {}),
      },
      null,
      2,
    ));
    return;
  }
  console.log(`classifier: ${describeClassifier(classifier.spec)}`);
  console.log(`checkpoint: ${checkpoint}`);
  console.log(describeSelection(selection, report.clips));
  console.log(describeViews(views));
  console.log(formatReport(report));
  if (report.confusion) {
    console.log("confusion matrix:");
    console.log(formatConfusion(report.confusion, classifier.spec.labels.names));
  }
}
