/**
 * `vatt eval classify DATA --from RUN2`: the classification metrics of a
 * fine-tuned run (any head, any modalities) on a dataset's labelled clips,
 * with chance levels, and the confusion matrix on request.
 *
 * @module
 */
import { type BackendName, initBackend } from "../lib/backend/select.ts";
import { Dataset } from "../lib/data/shards/dataset.ts";
import {
  type ClassificationReport,
  classificationReport,
  classifyDataset,
  labelledClipsFor,
} from "../lib/eval/classify/classify.ts";
import { loadClassifier } from "../lib/model/classifier.ts";
import type { ClassifierSpec } from "../lib/model/classifier.ts";
import { CliError } from "./cli_error.ts";
import { parseIntFlag } from "./_options.ts";
import { createProgress } from "./_progress.ts";

/** Options of `vatt eval classify` as commander gives them. */
export interface EvalClassifyCliOptions {
  from?: string;
  confusion: boolean;
  json: boolean;
  batch: string;
  backend: BackendName;
  quiet?: boolean;
}

function percent(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/**
 * The confusion matrix as aligned text, rows = true classes, columns = predictions.
 *
 * @example
 * ```ts
 * import { formatConfusion } from "./eval_classify.ts";
 * const text = formatConfusion([[2, 0], [1, 3]], ["cat", "dog"]);
 * console.assert(text.split("\n")[2].startsWith("dog") && text.includes("  3   (1)"));
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
 * import { describeClassifier } from "./eval_classify.ts";
 * const spec = { head: { name: "mcb" }, modalities: ["video", "audio"], features: "backbone", labels: { names: ["a", "b"], multiLabel: false } };
 * // deno-lint-ignore no-explicit-any
 * console.assert(describeClassifier(spec as any).startsWith("mcb head on video+audio"));
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
 * import { formatReport } from "./eval_classify.ts";
 * const text = formatReport({ clips: 4, numClasses: 8, multiLabel: false, loss: 1, top1: 0.5, top5: 1, chance: { top1: 0.125, top5: 0.625 } });
 * console.assert(text.includes("top-1:   50.0%  (chance 12.5%)"));
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

/**
 * Runs `vatt eval classify`.
 *
 * @example
 * ```ts
 * import { evalClassifyCommand } from "./eval_classify.ts";
 * // await evalClassifyCommand("data", { from: "runs/ft", confusion: true, json: false, batch: "16", backend: "auto" });
 * console.assert(typeof evalClassifyCommand === "function");
 * ```
 */
export async function evalClassifyCommand(
  dataDir: string,
  o: EvalClassifyCliOptions,
): Promise<void> {
  if (!o.from) throw new CliError("--from RUN2 is required (a fine-tuned run)", 2);
  const batchSize = parseIntFlag("--batch", o.batch, { min: 1 });
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
        quiet: o.quiet || o.json,
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
