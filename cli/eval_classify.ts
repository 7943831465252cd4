/**
 * `vatt eval classify DATA --from RUN2`: the classification metrics of a
 * fine-tuned run (any head, any modalities) on a dataset's labelled clips,
 * with chance levels, and the confusion matrix on request.
 *
 * @module
 */
import { Command } from "@commander-js/extra-typings";
import { initBackend } from "../lib/backend/select.ts";
import { Dataset } from "../lib/data/shards/dataset.ts";
import {
  type ClassificationReport,
  classificationReport,
  classifyDataset,
  labelledClipsFor,
} from "../lib/eval/classify/classify.ts";
import { loadClassifier } from "../lib/run/load_classifier.ts";
import type { ClassifierSpec } from "../lib/model/classifier.ts";
import { CliError } from "./cli_error.ts";
import { backendOption } from "./_backend_option.ts";
import { evalBatchOption, type OptionsOf } from "./_options.ts";
import { createProgress } from "./_progress.ts";

/** The arguments and flags of `vatt eval classify`. */
function flags() {
  return new Command()
    .argument("<data>", "dataset folder")
    .option("--from <run>", "fine-tuned run folder or checkpoint")
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
 * cmd.parseOptions(["--confusion", "--batch", "4"]);
 * assert.equal(cmd.opts().confusion, true);
 * assert.equal(cmd.opts().batch, 4);
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
 * ```
 */
export function formatConfusion(matrix: number[][], names: string[]): string {
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
  } else {
    const k = Math.min(5, report.numClasses);
    lines.push(`top-1:   ${percent(report.top1!)}  (chance ${percent(report.chance.top1)})`);
    lines.push(`top-${k}:   ${percent(report.top5!)}  (chance ${percent(report.chance.top5)})`);
  }
  lines.push(`loss:    ${report.loss.toFixed(4)}`);
  return lines.join("\n");
}

/** Runs `vatt eval classify`. */
async function evalClassifyCommand(dataDir: string, o: OptionsOf<typeof flags>): Promise<void> {
  if (!o.from) throw new CliError("--from RUN2 is required (a fine-tuned run)", 2);
  const batchSize = o.batch;
  const data = await Dataset.open(dataDir);
  try {
    await initBackend(o.backend);
    const { classifier, checkpoint } = await loadClassifier(o.from);
    try {
      const indices = await labelledClipsFor(classifier, data);
      const multi = classifier.spec.labels.multiLabel;
      if (o.confusion && multi) {
        throw new CliError("--confusion is for single-label datasets", 2);
      }
      const progress = createProgress({
        label: "classify",
        total: indices.length,
        unit: "clips",
        quiet: o.json,
      });
      const out = await classifyDataset(classifier, data, {
        indices,
        batchSize,
        onProgress: (done) => progress.update(done),
      });
      progress.stop();
      const report = classificationReport(out.logits, out.labels, {
        numClasses: classifier.spec.labels.names.length,
        multiLabel: multi,
        confusion: o.confusion,
      });
      if (o.json) {
        console.log(JSON.stringify(
          {
            checkpoint,
            head: classifier.spec.head.name,
            modalities: classifier.spec.modalities,
            features: classifier.spec.features,
            parameters: classifier.head.parameterCount(),
            classes: classifier.spec.labels.names,
            ...report,
          },
          null,
          2,
        ));
        return;
      }
      console.log(`classifier: ${describeClassifier(classifier.spec)}`);
      console.log(`checkpoint: ${checkpoint}`);
      console.log(formatReport(report));
      if (report.confusion) {
        console.log("confusion matrix:");
        console.log(formatConfusion(report.confusion, classifier.spec.labels.names));
      }
    } finally {
      classifier.dispose();
    }
  } finally {
    data.close();
  }
}
