/**
 * `vatt eval retrieval DATA --from RUN`: zero-shot retrieval (R@1/5/10,
 * median rank) in the shared space, next to chance.
 *
 * @module
 */
import { Command, Option } from "@commander-js/extra-typings";
import * as path from "node:path";
import { DEFAULT_RETRIEVAL_PAIR, DEFAULT_RETRIEVAL_WINDOWS } from "../lib/config/eval_config.ts";
import { initBackend } from "../lib/backend/select.ts";
import { Dataset } from "../lib/data/shards/dataset.ts";
import { loadModel } from "../lib/run/load_model.ts";
import {
  RETRIEVAL_PAIRS,
  spaceOfPair,
  zeroShotRetrieval,
} from "../lib/eval/retrieval/retrieval.ts";
import { groupWindows } from "../lib/eval/retrieval/windows.ts";
import { checkModelFitsData } from "../lib/data/fit.ts";
import { CliError } from "./cli_error.ts";
import { checkPretrainedRun } from "./_pretrained_run.ts";
import { backendOption } from "./_backend_option.ts";
import { evalBatchOption, integerFlag, type OptionsOf } from "./_options.ts";
import { createProgress } from "./_progress.ts";

/** The arguments and flags of `vatt eval retrieval`. */
function flags() {
  return new Command()
    .argument("<data>", "dataset folder")
    .option("--from <run>", "pretrained run folder or checkpoint")
    .addOption(
      new Option("--pair <pair>", "query-candidate pair").choices(RETRIEVAL_PAIRS)
        .default(DEFAULT_RETRIEVAL_PAIR),
    )
    .option(
      "--windows <k>",
      "average the K windows <clip>#w<k> of each clip",
      integerFlag("--windows", { min: 1 }),
      DEFAULT_RETRIEVAL_WINDOWS,
    )
    .addOption(evalBatchOption())
    .addOption(backendOption())
    .option("--json", "print one JSON object instead of a table", false);
}

/**
 * Declares `vatt eval retrieval`: its arguments, flags and handler.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { command } from "./eval_retrieval.ts";
 * const cmd = command();
 * cmd.parseOptions(["--pair", "audio-video", "--windows", "3"]);
 * assert.equal(cmd.opts().pair, "audio-video");
 * assert.equal(cmd.opts().windows, 3);
 * ```
 */
export function command() {
  return flags().action(evalRetrieval);
}

const fixed = (x: number) => x.toFixed(3);

/** Runs `vatt eval retrieval`. */
async function evalRetrieval(dataDir: string, o: OptionsOf<typeof flags>): Promise<void> {
  if (!o.from) throw new CliError("--from RUN is required (a run folder or a checkpoint)", 2);
  const { windows, batch: batchSize } = o;
  const data = await Dataset.open(dataDir);
  try {
    const backend = await initBackend(o.backend);
    await checkPretrainedRun(o.from, "eval retrieval");
    const { model, checkpoint } = await loadModel(o.from);
    try {
      // Everything checkable is checked before the progress starts: bad input prints one line.
      spaceOfPair(o.pair, model.config);
      checkModelFitsData(model.config, data);
      groupWindows(await data.ids(), windows);
      console.error(
        `eval retrieval: ${o.pair} on ${backend}, ${data.size} entries, checkpoint ${checkpoint}`,
      );
      const progress = createProgress({ label: "embed", total: data.size, unit: "clips" });
      let r;
      try {
        r = await zeroShotRetrieval(model, data, {
          pair: o.pair,
          windows,
          batchSize,
          onProgress: (done) => progress.update(done),
        });
      } finally {
        progress.stop();
      }
      if (o.json) {
        const { ranks: _ranks, ...summary } = r;
        console.log(JSON.stringify({
          ...summary,
          checkpoint: path.resolve(checkpoint),
          data: path.resolve(dataDir),
        }));
        return;
      }
      console.log(
        `${r.pair} retrieval in the ${r.space} space: ${r.queries} queries, ${r.candidates} candidates` +
          (r.windows > 1 ? ` (${r.windows} windows averaged per clip)` : ""),
      );
      const { candidate, query } = r.missingSide;
      if (candidate + query > 0) {
        console.log(
          `skipped for a missing side: ${candidate} clips without a candidate, ${query} without a query`,
        );
      }
      console.log(`checkpoint ${checkpoint}`);
      console.log(`${"metric".padEnd(12)}${"model".padStart(10)}${"chance".padStart(10)}`);
      for (const k of Object.keys(r.recallAtK).map(Number)) {
        console.log(
          `${`R@${k}`.padEnd(12)}${fixed(r.recallAtK[k]).padStart(10)}${
            fixed(r.chance.recallAtK[k]).padStart(10)
          }`,
        );
      }
      console.log(
        `${"median rank".padEnd(12)}${String(r.medianRank).padStart(10)}${
          String(r.chance.medianRank).padStart(10)
        }`,
      );
    } finally {
      model.dispose();
    }
  } finally {
    data.close();
  }
}
