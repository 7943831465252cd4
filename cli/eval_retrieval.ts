/**
 * `vatt eval retrieval DATA --from RUN`: zero-shot retrieval (R@1/5/10,
 * median rank) in the shared space, next to chance.
 *
 * @module
 */
import { Command } from "@commander-js/extra-typings";
import * as path from "node:path";
import { DEFAULT_RETRIEVAL_PAIR, DEFAULT_RETRIEVAL_WINDOWS } from "../lib/config/eval_config.ts";
import { initBackend } from "../lib/backend/select.ts";
import { Dataset } from "../lib/data/shards/dataset.ts";
import { loadModel } from "../lib/run/load_model.ts";
import {
  RETRIEVAL_PAIRS,
  type RetrievalPair,
  spaceOfPair,
  type ZeroShotResult,
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
    .option(
      "--pair <pairs>",
      `query-candidate pair, or several separated by commas (text-video,video-text): ${
        RETRIEVAL_PAIRS.join(", ")
      }`,
      pairsFlag,
      DEFAULT_RETRIEVAL_PAIR as string,
    )
    .option(
      "--windows <k>",
      "average the K windows <clip>#w<k> of each clip",
      integerFlag("--windows", { min: 1 }),
      DEFAULT_RETRIEVAL_WINDOWS,
    )
    .addOption(evalBatchOption())
    .addOption(backendOption())
    .option("--json", "print one JSON object (a line) per pair instead of a table", false);
}

/**
 * `--pair`: one pair or several separated by commas, each one of
 * {@linkcode RETRIEVAL_PAIRS}, each once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pairsFlag } from "./eval_retrieval.ts";
 * assert.equal(pairsFlag("text-video, video-text"), "text-video,video-text");
 * assert.throws(() => pairsFlag("text-vdieo"), /--pair: unknown pair "text-vdieo"/);
 * assert.throws(() => pairsFlag("text-video,text-video"), /text-video twice/);
 * ```
 */
export function pairsFlag(value: string): string {
  const pairs = value.split(",").map((p) => p.trim());
  for (const [i, p] of pairs.entries()) {
    if (!(RETRIEVAL_PAIRS as readonly string[]).includes(p)) {
      throw new TypeError(
        `--pair: unknown pair ${JSON.stringify(p)}; expected ${RETRIEVAL_PAIRS.join(", ")}`,
      );
    }
    if (pairs.indexOf(p) !== i) throw new TypeError(`--pair names ${p} twice`);
  }
  return pairs.join(",");
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

/** One table of a pair's retrieval: R@K, median and mean rank, next to chance. */
function printTable(r: ZeroShotResult, checkpoint: string): void {
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
  const row = (name: string, model: string, chance: string) =>
    console.log(`${name.padEnd(16)}${model.padStart(10)}${chance.padStart(10)}`);
  row("metric", "model", "chance");
  for (const k of Object.keys(r.recallAtK).map(Number)) {
    row(`R@${k}`, fixed(r.recallAtK[k]), fixed(r.chance.recallAtK[k]));
  }
  const rank = (x: number) => String(Number(x.toFixed(1)));
  row("median rank", rank(r.medianRank), rank(r.chance.medianRank));
  row("mean rank (MnR)", rank(r.meanRank), rank(r.chance.meanRank));
}

/** Runs `vatt eval retrieval`: one table (or JSON line) per pair of `--pair`. */
async function evalRetrieval(dataDir: string, o: OptionsOf<typeof flags>): Promise<void> {
  if (!o.from) throw new CliError("--from RUN is required (a run folder or a checkpoint)", 2);
  const { windows, batch: batchSize } = o;
  const pairs = o.pair.split(",") as RetrievalPair[];
  const data = await Dataset.open(dataDir);
  try {
    const backend = await initBackend(o.backend);
    await checkPretrainedRun(o.from, "eval retrieval");
    const { model, checkpoint } = await loadModel(o.from);
    try {
      // Everything checkable is checked before the progress starts: bad input prints one line.
      for (const pair of pairs) spaceOfPair(pair, model.config);
      checkModelFitsData(model.config, data);
      groupWindows(await data.ids(), windows);
      console.error(
        `eval retrieval: ${
          pairs.join(", ")
        } on ${backend}, ${data.size} entries, checkpoint ${checkpoint}`,
      );
      for (const [i, pair] of pairs.entries()) {
        const label = pairs.length > 1 ? `embed ${pair}` : "embed";
        const progress = createProgress({ label, total: data.size, unit: "clips" });
        let r;
        try {
          r = await zeroShotRetrieval(model, data, {
            pair,
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
        } else {
          if (i > 0) console.log("");
          printTable(r, checkpoint);
        }
      }
    } finally {
      model.dispose();
    }
  } finally {
    data.close();
  }
}
