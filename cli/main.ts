/**
 * The `vatt` command: declares every subcommand and its options, and lazily
 * imports `cli/<command>.ts` when one runs, so `vatt --help` starts fast.
 *
 * @example
 * ```sh
 * deno task vatt --help
 * deno task vatt info --preset base --json
 * ```
 *
 * @module
 */
import { Command, CommanderError, Option } from "@commander-js/extra-typings";
import { describeError } from "./cli_error.ts";

const VERSION = "0.1.0";

/** `VATT_DEBUG` set (and readable: without --allow-env it is simply off). */
function debugEnabled(): boolean {
  try {
    return !!Deno.env.get("VATT_DEBUG");
  } catch {
    return false;
  }
}

/** Runs a subcommand's action, turning failures into one line and an exit code. */
async function run(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    const { message, exitCode } = describeError(error);
    console.error(`vatt: ${message}`);
    if (debugEnabled() && error instanceof Error) console.error(error.stack);
    Deno.exit(exitCode);
  }
}

const backendOption = () =>
  new Option("--backend <name>", "TFJS backend").choices(
    ["auto", "cpu", "wasm", "webgpu", "tensorflow"] as const,
  )
    .default("auto" as const);

/** Builds the command tree (exported for tests). */
export function buildProgram(): Command {
  const program = new Command()
    .name("vatt")
    .description(
      "VATT: multimodal self-supervised transformers for raw video, audio and text, on TensorFlow.js",
    )
    .version(VERSION)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();

  program
    .command("info")
    .description("print the resolved model config, parameter counts and available backends")
    .option("--preset <name>", "model preset: tiny, small, base, medium, large", "tiny")
    .option("--agnostic", "one backbone shared by all modalities", false)
    .option("--config <file>", "JSON file with config fields over the preset")
    .option("--json", "print JSON instead of a table", false)
    .action((opts) => run(async () => (await import("./info.ts")).info(opts)));

  program
    .command("demo-data")
    .description("generate the demo dataset: mp4 videos, audio files, captions and labels")
    .argument("<out>", "output folder (must be empty or missing)")
    .option("--clips <n>", "number of clips", "96")
    .option("--seed <n>", "random seed", "0")
    .option("--force", "write into a non-empty folder", false)
    .option("--quiet", "no progress output", false)
    .option("--ffmpeg <path>", "ffmpeg binary (default: $VATT_FFMPEG or the bundled one)")
    .action((out, opts) => run(async () => (await import("./demo_data.ts")).demoData(out, opts)));

  program
    .command("tokenize")
    .description("turn a manifest of media files into training shards")
    .argument("[manifest]", "manifest file (.jsonl or .csv)")
    .option("--out <dir>", "output dataset folder")
    .option(
      "--preset <name>",
      "take frames, size, fps, sample rate and text length from a model preset",
    )
    .option("--frames <n>", "frames per clip (default 32)")
    .option("--fps <n>", "frames per second (default 10)")
    .option("--size <n>", "frame size after short-side resize and centre crop (default 224)")
    .option("--audio-seconds <s>", "audio window in seconds (default: frames/fps, e.g. 3.2)")
    .option("--sample-rate <hz>", "audio sampling rate (default 48000)")
    .addOption(
      new Option("--audio-dtype <type>", "stored audio type").choices(["int16", "float32"] as const)
        .default("int16" as const),
    )
    .option("--max-length <n>", "tokens per caption (default 16)")
    .option("--captions-per-clip <n>", "captions stored per clip (default 4)")
    .option(
      "--min-coverage <f>",
      "skip clips whose video or audio fills less of the window (default 0.5)",
    )
    .option("--build-vocab <n>", "build a vocabulary of the N most frequent caption words")
    .option("--vocab <file>", "reuse a vocab.txt")
    .option("--tokenizer <file>", "use a Hugging Face tokenizer.json")
    .option("--clips-per-shard <n>", "clips per shard", "64")
    .option("--workers <n>", "clips decoded in parallel", "2")
    .option("--shard-index <i>", "this machine's slice of the manifest (with --num-shards)")
    .option("--num-shards <n>", "number of slices the manifest is split into")
    .option(
      "--merge",
      "combine the index.json of slice folders given as arguments into --out",
      false,
    )
    .addOption(
      new Option("--on-error <mode>", "bad clips: skip them or stop").choices(
        ["skip", "fail"] as const,
      ).default("skip" as const),
    )
    .option("--ffmpeg <path>", "ffmpeg binary (default: $VATT_FFMPEG or the bundled one)")
    .option("--force", "overwrite an existing dataset folder", false)
    .option("--quiet", "no progress output", false)
    .action((manifest, opts) =>
      run(async () => (await import("./tokenize.ts")).tokenize(manifest, opts))
    );

  program
    .command("pretrain")
    .description("pretrain VATT with NCE (video-audio) and MIL-NCE (video-text)")
    .argument("<data>", "dataset folder written by vatt tokenize")
    .requiredOption("--out <run>", "run folder")
    .option("--preset <name>", "model preset", "tiny")
    .option("--agnostic", "modality-agnostic (shared) backbone", false)
    .option("--config <file>", "JSON file with config fields over the preset")
    .option("--steps <n>", "training steps", "500")
    .option("--batch <n>", "clips per batch", "16")
    .option("--lr <rate>", "base learning rate", "1e-4")
    .option("--final-lr <rate>", "final learning rate", "5e-5")
    .option("--warmup <steps>", "linear warmup steps (default: 10% of --steps, at most 10000)")
    .option("--weight-decay <w>", "decoupled weight decay", "0")
    .option("--clip-norm <n>", "clip gradients by global norm (0 = off)", "0")
    .option("--temperature <t>", "NCE temperature", "0.07")
    .option("--mil-weight <lambda>", "weight of the MIL-NCE term", "1")
    .option("--symmetric", "symmetric NCE (both directions averaged)", false)
    .option("--seed <n>", "seed of data order, DropToken and initialisation", "0")
    .addOption(backendOption())
    .option("--checkpoint-every <n>", "steps between checkpoints", "100")
    .option("--keep <n>", "checkpoints kept", "3")
    .option("--resume", "continue from the newest checkpoint in --out", false)
    .option("--force", "start over in an existing run folder", false)
    .option("--log-every <n>", "steps between metric lines", "10")
    .option("--quiet", "no progress output", false)
    .action((data, opts) =>
      run(async () => (await import("./pretrain.ts")).pretrainCommand(data, opts))
    );

  program
    .command("finetune")
    .description("fine-tune a classifier (or a linear probe) on a pretrained run")
    .argument("<data>", "dataset folder with labels")
    .option("--from <run>", "pretrained run folder or checkpoint")
    .option("--out <run>", "output run folder")
    .option("--modality <list>", "video, audio, text, or a comma list (fusion)", "video")
    .addOption(
      new Option("--fusion <head>", "classification head (default vatt: linear)").choices(
        ["concat", "tensor", "mcb", "vatt"] as const,
      ),
    )
    .addOption(
      new Option(
        "--features <kind>",
        "head input: aggregation tokens or common-space embeddings " +
          "(default: common for vatt on several modalities, else backbone)",
      ).choices(["backbone", "common"] as const),
    )
    .option("--fusion-dim <n>", "tensor fusion: projection width before the outer product (16)")
    .option("--hidden-dim <n>", "concat/tensor fusion: hidden layer width (256/128)")
    .option("--sketch-dim <n>", "mcb fusion: count-sketch width d (1024)")
    .option("--linear-probe", "frozen backbone, features extracted once, linear head", false)
    .option("--freeze", "freeze the backbone (default with several modalities)")
    .option("--no-freeze", "train the backbone too (default with one modality)")
    .addOption(
      new Option("--optimizer <name>", "sgd with momentum, or adam (default: adam when frozen)")
        .choices(["sgd", "adam"] as const),
    )
    .option("--lr <rate>", "peak learning rate (default: sgd 0.05/0.1, adam 0.001/0.01 frozen)")
    .option("--momentum <m>", "SGD momentum", "0.9")
    .option("--weight-decay <w>", "weight decay on kernels", "0")
    .option("--epochs <n>", "passes over the training split", "10")
    .option("--batch <n>", "clips per batch", "16")
    .option("--warmup <steps>", "linear warmup steps (default: 10% of the steps)")
    .option("--label-smoothing <e>", "label smoothing (single-label)", "0.1")
    .option("--mixup <alpha>", "mixup with Beta(alpha, alpha), audio only (0 = off)", "0")
    .option("--clip-norm <n>", "clip gradients by global norm (0 = off)", "0")
    .option("--val <data>", "validation dataset (instead of a split)")
    .option("--val-fraction <f>", "labelled clips held out for validation (default 0.2)")
    .option("--seed <n>", "seed of the split, data order, mixup and the head", "0")
    .option("--eval-batch <n>", "clips per forward pass for features and validation", "16")
    .option("--keep <n>", "checkpoints kept", "2")
    .addOption(backendOption())
    .option("--resume", "continue from the newest checkpoint in --out", false)
    .option("--force", "start over in an existing run folder", false)
    .action((data, opts) =>
      run(async () => (await import("./finetune.ts")).finetuneCommand(data, opts))
    );

  const evalCmd = program.command("eval").description(
    "evaluate a run: zero-shot retrieval or classification",
  );
  evalCmd
    .command("retrieval")
    .description("zero-shot retrieval in the shared space (R@1/5/10, median rank)")
    .argument("<data>", "dataset folder")
    .option("--from <run>", "pretrained run folder or checkpoint")
    .addOption(
      new Option("--pair <pair>", "query-candidate pair").choices(
        ["text-video", "audio-video", "text-audio"] as const,
      ).default("text-video" as const),
    )
    .option("--windows <k>", "average the K windows <clip>#w<k> of each clip", "1")
    .option("--batch <n>", "clips per forward pass", "16")
    .addOption(backendOption())
    .option("--json", "print one JSON object instead of a table", false)
    .action((data, opts) =>
      run(async () => (await import("./eval_retrieval.ts")).evalRetrieval(data, opts))
    );
  evalCmd
    .command("classify")
    .description("classification metrics of a fine-tuned run")
    .argument("<data>", "dataset folder")
    .option("--from <run>", "fine-tuned run folder or checkpoint")
    .option("--confusion", "print the confusion matrix (single-label)", false)
    .option("--json", "print JSON", false)
    .option("--batch <n>", "clips per forward pass", "16")
    .addOption(backendOption())
    .action((data, opts) =>
      run(async () => (await import("./eval_classify.ts")).evalClassifyCommand(data, opts))
    );

  program
    .command("export")
    .description("export embeddings (npy, safetensors, parquet, jsonl)")
    .argument("<data>", "dataset folder")
    .option("--from <run>", "run folder or checkpoint")
    .option("--out <file>", "output file (.npy, .safetensors, .parquet, .jsonl)")
    .option("--modalities <list>", "comma-separated (default: every modality of --space)")
    .addOption(
      new Option("--space <space>", "embedding space").choices(["va", "vt", "backbone"] as const)
        .default("va" as const),
    )
    .addOption(
      new Option("--format <format>", "file format (default: from the extension)").choices(
        ["npy", "safetensors", "parquet", "jsonl"] as const,
      ),
    )
    .option("--batch <n>", "clips per forward pass", "16")
    .addOption(backendOption())
    .option("--force", "replace an existing output file", false)
    .action((data, opts) =>
      run(async () => (await import("./export.ts")).exportCommand(data, opts))
    );

  program
    .command("plot")
    .description("2-D map of exported embeddings, or training curves of a run")
    .argument("<input>", "embeddings file or run folder")
    .option("--out <file>", "output .png or .svg")
    .option("--metrics", "draw the training curves of a run folder", false)
    .addOption(
      new Option("--color-by <what>", "colour points by").choices(["modality", "label"] as const)
        .default("modality" as const),
    )
    .addOption(
      new Option("--method <name>", "2-D method").choices(["umap", "tsne", "pca"] as const)
        .default("umap" as const),
    )
    .option("--seed <n>", "seed of the map and the subsample", "0")
    .option("--data <dir>", "dataset the embeddings came from (labels for --color-by label)")
    .option("--modalities <list>", "only these modalities (comma-separated)")
    .option("--max-points <n>", "draw at most N rows (default 5000, t-SNE 2000)")
    .addOption(
      new Option("--format <format>", "embeddings file format (default: from the extension)")
        .choices(["npy", "safetensors", "parquet", "jsonl"] as const),
    )
    .option("--title <text>", "title of the picture")
    .option("--force", "replace an existing output file", false)
    .action((input, opts) => run(async () => (await import("./plot.ts")).plotCommand(input, opts)));

  return program;
}

if (import.meta.main) {
  try {
    await buildProgram().parseAsync(Deno.args, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      const ok = error.code === "commander.helpDisplayed" || error.code === "commander.version" ||
        error.code === "commander.help";
      Deno.exit(ok ? 0 : 2);
    }
    const { message, exitCode } = describeError(error);
    console.error(`vatt: ${message}`);
    Deno.exit(exitCode);
  }
}
