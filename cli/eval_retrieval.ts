/**
 * `vatt eval retrieval DATA --from RUN`: zero-shot retrieval (R@1/5/10,
 * median rank) in the shared space, next to chance.
 *
 * @module
 */
import * as path from "node:path";
import { type BackendName, initBackend } from "../lib/backend/select.ts";
import { Dataset } from "../lib/data/shards/dataset.ts";
import { loadModel } from "../lib/eval/embeddings/embed.ts";
import {
  groupWindows,
  type RetrievalPair,
  spaceOfPair,
  zeroShotRetrieval,
} from "../lib/eval/retrieval/retrieval.ts";
import { checkModelFitsData } from "../lib/train/pretrain.ts";
import { CliError } from "./cli_error.ts";
import { parseIntFlag } from "./_options.ts";
import { createProgress } from "./_progress.ts";

/** Options of `vatt eval retrieval` as commander gives them. */
export interface RetrievalCliOptions {
  from?: string;
  pair: RetrievalPair;
  windows: string;
  batch: string;
  backend: BackendName;
  json: boolean;
  quiet?: boolean;
}

const fixed = (x: number) => x.toFixed(3);

/** Runs `vatt eval retrieval`. */
export async function evalRetrieval(dataDir: string, o: RetrievalCliOptions): Promise<void> {
  if (!o.from) throw new CliError("--from RUN is required (a run folder or a checkpoint)", 2);
  const windows = parseIntFlag("--windows", o.windows, { min: 1 });
  const batchSize = parseIntFlag("--batch", o.batch, { min: 1 });
  const data = await Dataset.open(dataDir);
  try {
    const backend = await initBackend(o.backend);
    const { model, checkpoint } = await loadModel(o.from);
    try {
      // Everything checkable is checked before the progress starts: bad input prints one line.
      spaceOfPair(o.pair, model.config);
      checkModelFitsData(model.config, data);
      groupWindows(await data.ids(), windows);
      if (!o.quiet) {
        console.error(
          `eval retrieval: ${o.pair} on ${backend}, ${data.size} entries, checkpoint ${checkpoint}`,
        );
      }
      const progress = createProgress({
        label: "embed",
        total: data.size,
        unit: "clips",
        quiet: o.quiet,
      });
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
