/**
 * `vatt protocol NAME DATA_ROOT --from RUN --work DIR`: one of the paper's
 * evaluation protocols end to end on a dataset as distributed — manifests
 * from its annotation files, datasets, a linear probe per split or fold (or
 * zero-shot retrieval), and the mean and spread over them with a table line.
 *
 * @module
 */
import { Command, Option } from "@commander-js/extra-typings";
import * as path from "node:path";
import { initBackend } from "../lib/backend/select.ts";
import { DEFAULT_FINETUNE_CONFIG, DEFAULT_LEARNING_RATES } from "../lib/config/finetune_config.ts";
import { writeFileAtomic } from "../lib/io/atomic.ts";
import { PROTOCOL_TRAININGS, PROTOCOLS, protocolSpec } from "../lib/protocol/protocols.ts";
import { type ProtocolResult, runProtocol } from "../lib/protocol/run_protocol.ts";
import { backendOption, withSlowPathNote } from "./_backend_option.ts";
import { CliError } from "./cli_error.ts";
import { escapeForTerminal } from "./_escape.ts";
import { integerFlag, numberFlag, type OptionsOf } from "./_options.ts";

/** `--folds 1,3` → `[1, 3]`. */
function foldList(value: string): number[] {
  const parse = integerFlag("--folds", { min: 1, max: 100 });
  return value.split(",").map((v) => parse(v.trim()));
}

/** The arguments and flags of `vatt protocol`. */
function flags() {
  return new Command()
    .argument("<name>", `protocol: ${Object.keys(PROTOCOLS).join(", ")}`)
    .argument("<data-root>", "the dataset's folder as distributed (see README 'Datasets')")
    .option("--from <run>", "pretrained run folder or checkpoint")
    .option("--work <dir>", "folder for the manifests, datasets and probe runs of each fold")
    .option("--folds <list>", "comma list of 1-based splits/folds to run (default: all)", foldList)
    .addOption(
      new Option(
        "--training <mode>",
        "classification: linear probe on the frozen backbone or end-to-end fine-tuning " +
          "(default: the paper's, linear-probe for ucf101/hmdb51/esc50, finetune for kinetics/audioset)",
      ).choices(PROTOCOL_TRAININGS),
    )
    .option(
      "--epochs <n>",
      `classifier training epochs (default ${DEFAULT_FINETUNE_CONFIG.epochs})`,
      integerFlag("--epochs", { min: 1, max: 100_000 }),
    )
    .option(
      "--batch <n>",
      `classifier batch size (default ${DEFAULT_FINETUNE_CONFIG.batchSize})`,
      integerFlag("--batch", { min: 1, max: 100_000 }),
    )
    .option(
      "--lr <rate>",
      `peak learning rate (default ${DEFAULT_LEARNING_RATES.adam.frozen} with Adam for a probe, ` +
        `${DEFAULT_LEARNING_RATES.sgd.endToEnd} with SGD for fine-tuning)`,
      numberFlag("--lr", { above: 0, max: 10 }),
    )
    .option(
      "--seed <n>",
      `seed of the classifier's data order and head (default ${DEFAULT_FINETUNE_CONFIG.seed})`,
      integerFlag("--seed", { min: 0, max: 2 ** 32 - 1 }),
    )
    .option("--vocab <file>", "retrieval: the pretraining vocab.txt (default: the run's dataset's)")
    .option("--workers <n>", "clips decoded at once", integerFlag("--workers", { min: 1, max: 64 }))
    .option("--json", "print the result as one JSON object instead of lines", false)
    .addOption(backendOption());
}

/**
 * Declares `vatt protocol`: its arguments, flags and handler.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { command } from "./protocol.ts";
 * const cmd = command();
 * cmd.parseOptions(["--folds", "1,2", "--epochs", "3"]);
 * assert.deepEqual(cmd.opts().folds, [1, 2]);
 * assert.equal(cmd.opts().epochs, 3);
 * assert.equal(cmd.opts().json, false);
 * ```
 */
export function command() {
  return flags().action(protocol);
}

/** The lines printed on stdout: one per fold, then the summary and the table line. */
function resultLines(r: ProtocolResult): string[] {
  const show = (m: Record<string, number>) =>
    Object.entries(m).map(([k, v]) => `${k} ${Number(v.toFixed(6))}`).join(", ");
  return [
    ...r.folds.map((f) =>
      `${f.name}: ${show(f.metrics)} (${f.trainClips} train, ${f.testClips} test clips)`
    ),
    `mean: ${show(Object.fromEntries(Object.entries(r.summary).map(([k, s]) => [k, s.mean])))}`,
    `spread (s.d. over ${r.folds.length}): ${
      show(Object.fromEntries(Object.entries(r.summary).map(([k, s]) => [k, s.spread])))
    }`,
    r.line,
  ];
}

/** Runs `vatt protocol`. */
async function protocol(
  name: string,
  root: string,
  o: OptionsOf<typeof flags>,
): Promise<void> {
  const spec = protocolSpec(name);
  if (!o.from) throw new CliError("--from RUN is required (a pretrained run)", 2);
  if (!o.work) throw new CliError("--work DIR is required (where each fold's data goes)", 2);
  try {
    if (!(await Deno.stat(root)).isDirectory) throw new Error("not a folder");
  } catch (e) {
    throw new CliError(`DATA_ROOT ${root}: ${(e as Error).message}`, 1);
  }
  withSlowPathNote(await initBackend(o.backend));
  const probe = Object.fromEntries(
    Object.entries({ epochs: o.epochs, batchSize: o.batch, baseRate: o.lr, seed: o.seed })
      .filter(([, v]) => v !== undefined),
  );
  const result = await runProtocol(spec, {
    root,
    from: o.from,
    work: o.work,
    folds: o.folds,
    training: o.training,
    probe,
    vocab: o.vocab,
    workers: o.workers,
    onProgress: (line) => console.error(escapeForTerminal(`${spec.name}: ${line}`)),
  });
  const json = JSON.stringify(result, null, 2);
  await writeFileAtomic(path.join(o.work, "result.json"), json + "\n");
  if (o.json) console.log(JSON.stringify(result));
  else for (const line of resultLines(result)) console.log(escapeForTerminal(line));
}
