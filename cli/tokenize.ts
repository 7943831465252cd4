/**
 * `vatt tokenize MANIFEST --out DIR`: media files into training shards; and
 * `vatt tokenize --merge --out DIR` for datasets tokenized in slices.
 *
 * @module
 */
import { Command, Option } from "@commander-js/extra-typings";
import { PRESETS } from "../lib/config/vatt_config.ts";
import type { TokenizeSettings } from "../lib/data/shards/dataset_index.ts";
import type { TextSource } from "../lib/data/text/setup.ts";
import {
  DEFAULT_STORE_SIZE_FACTOR,
  DEFAULT_TOKENIZE_SETTINGS,
  DEFAULT_TOKENIZE_WORKERS,
  DEFAULT_WINDOW_FACTOR,
  settingsForModel,
} from "../lib/data/tokenize/settings.ts";
import { tokenizeDataset } from "../lib/data/tokenize/tokenize.ts";
import { mergeSlices } from "../lib/data/tokenize/merge.ts";
import { DEFAULT_WORD_VECTOR_VOCAB_SIZE } from "../lib/data/text/word_vector_table.ts";
import { WORD_VECTOR_FORMATS } from "../lib/data/text/word_vectors.ts";
import { CliError } from "./cli_error.ts";
import { checkOutputPath } from "../lib/io/guard.ts";
import { pathExists } from "../lib/io/atomic.ts";
import { acquireRunLock, checkRunLock, type RunLock, sliceLockName } from "../lib/run/lock.ts";
import { presetFlag } from "./_model_config.ts";
import { integerFlag, numberFlag, type OptionsOf } from "./_options.ts";
import { createProgress } from "./_progress.ts";
import { escapeForTerminal } from "./_escape.ts";

const D = DEFAULT_TOKENIZE_SETTINGS;

/** How each clip is sampled: frames, size, audio, text. */
function samplingFlags() {
  return new Command()
    .argument("[manifest]", "manifest file (.jsonl or .csv)")
    .option("--out <dir>", "output dataset folder")
    .option(
      "--preset <name>",
      "take frames, size, fps, sample rate and text length from a model preset",
      presetFlag,
    )
    .option(
      "--frames <n>",
      `frames per clip (default ${D.frames})`,
      integerFlag("--frames", { min: 1, max: 10000 }),
    )
    .option(
      "--fps <n>",
      `frames per second (default ${D.fps})`,
      numberFlag("--fps", { above: 0, max: 1000 }),
    )
    .option(
      "--size <n>",
      `frame size after short-side resize and centre crop (default ${D.size})`,
      integerFlag("--size", { min: 1, max: 8192 }),
    )
    .option(
      "--audio-seconds <s>",
      `audio window in seconds (default: frames/fps, e.g. ${D.audioSeconds})`,
      numberFlag("--audio-seconds", { above: 0, max: 3600 }),
    )
    .option(
      "--sample-rate <hz>",
      `audio sampling rate (default ${D.sampleRate})`,
      integerFlag("--sample-rate", { min: 1, max: 768000 }),
    )
    .addOption(
      new Option("--audio-dtype <type>", "stored audio type").choices(["int16", "float32"] as const)
        .default(D.audioDtype),
    )
    .option(
      "--max-length <n>",
      `tokens per caption (default ${D.maxLength})`,
      integerFlag("--max-length", { min: 1, max: 4096 }),
    )
    .option(
      "--captions-per-clip <n>",
      `captions stored per clip (default ${D.captionsPerClip})`,
      integerFlag("--captions-per-clip", { min: 1, max: 1024 }),
    )
    .option(
      "--window-seconds <s>",
      `span stored per clip, from which training takes a random window (default: ${DEFAULT_WINDOW_FACTOR}× the model's window frames/fps, e.g. ${D.windowSeconds})`,
      numberFlag("--window-seconds", { above: 0, max: 3600 }),
    )
    .option(
      "--store-size <n>",
      `frame size stored, from which training takes a random crop (default: round(${DEFAULT_STORE_SIZE_FACTOR} × size), e.g. ${D.storedSize})`,
      integerFlag("--store-size", { min: 1, max: 8192 }),
    )
    .option(
      "--min-coverage <f>",
      `skip clips whose video or audio fills less of the window (default ${D.minCoverage})`,
      numberFlag("--min-coverage", { min: 0, max: 1 }),
    );
}

/** The arguments and flags of `vatt tokenize`; defaults from {@linkcode DEFAULT_TOKENIZE_SETTINGS}. */
function flags() {
  return samplingFlags()
    .option(
      "--build-vocab <n>",
      "build a vocabulary of the N most frequent caption words",
      integerFlag("--build-vocab", { min: 1, max: 10_000_000 }),
    )
    .option("--vocab <file>", "reuse a vocab.txt")
    .option("--tokenizer <file>", "use a Hugging Face tokenizer.json")
    .option(
      "--word-vectors <file>",
      "take the vocabulary (file order) and a frozen table from word vectors (word2vec or GloVe)",
    )
    .addOption(
      new Option("--word-vectors-format <format>", "format of --word-vectors")
        .choices(["auto", ...WORD_VECTOR_FORMATS] as const).default("auto" as const),
    )
    .option(
      "--vocab-size <n>",
      `ids of the --word-vectors vocabulary, padding and OOV included (default: the preset's, else ${DEFAULT_WORD_VECTOR_VOCAB_SIZE})`,
      integerFlag("--vocab-size", { min: 3, max: 10_000_000 }),
    )
    .option(
      "--clips-per-shard <n>",
      "clips per shard",
      integerFlag("--clips-per-shard", { min: 1, max: 1_000_000 }),
      D.clipsPerShard,
    )
    .option(
      "--workers <n>",
      `clips decoded in parallel (default ${DEFAULT_TOKENIZE_WORKERS})`,
      integerFlag("--workers", { min: 1, max: 256 }),
    )
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
    .option("--quiet", "no progress output", false);
}

/** The options of `vatt tokenize`, typed from its declaration. */
type TokenizeFlags = OptionsOf<typeof flags>;

/**
 * Declares `vatt tokenize`: its arguments, flags and handler.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { command } from "./tokenize.ts";
 * const cmd = command();
 * cmd.parseOptions(["--preset", "tiny", "--frames", "4"]);
 * assert.equal(cmd.opts().frames, 4);
 * assert.equal(cmd.opts().clipsPerShard, 64);
 * ```
 */
export function command() {
  return flags().action(tokenize);
}

/**
 * Turns flags into settings: preset values first, then explicit flags. The
 * library's resolver makes the audio window follow the video window when
 * `--audio-seconds` is not given; a preset's audio window is kept unless
 * `--frames` or `--fps` changes the video window.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveTokenizeSettings } from "../lib/data/tokenize/settings.ts";
 * import { tokenizeSettingsFromFlags } from "./tokenize.ts";
 * const flags = { audioDtype: "int16", clipsPerShard: 64 } as const;
 * const s = resolveTokenizeSettings(tokenizeSettingsFromFlags({ ...flags, frames: 8, fps: 10 }));
 * assert.equal(s.audioSeconds, 0.8);
 * const tiny = tokenizeSettingsFromFlags({ ...flags, preset: "tiny", frames: 4 });
 * assert.equal(resolveTokenizeSettings(tiny).audioSeconds, 0.4); // 4 frames at the preset's 10 fps
 * assert.equal(tokenizeSettingsFromFlags({ ...flags, preset: "tiny" }).size, 32);
 * const longer = tokenizeSettingsFromFlags({ ...flags, preset: "tiny", windowSeconds: 0.8, storeSize: 40 });
 * assert.equal(resolveTokenizeSettings(longer).storedFrames, 8); // 0.8 s at 10 fps
 * assert.equal(resolveTokenizeSettings(longer).storedSize, 40);
 * ```
 */
export function tokenizeSettingsFromFlags(
  o: Pick<
    TokenizeFlags,
    | "preset"
    | "frames"
    | "fps"
    | "size"
    | "audioSeconds"
    | "sampleRate"
    | "audioDtype"
    | "maxLength"
    | "captionsPerClip"
    | "minCoverage"
    | "clipsPerShard"
    | "windowSeconds"
    | "storeSize"
  >,
): Partial<TokenizeSettings> {
  const s: Partial<TokenizeSettings> = o.preset !== undefined
    ? settingsForModel(PRESETS[o.preset])
    : {};
  const given = {
    frames: o.frames,
    fps: o.fps,
    size: o.size,
    sampleRate: o.sampleRate,
    audioSeconds: o.audioSeconds,
    maxLength: o.maxLength,
    captionsPerClip: o.captionsPerClip,
    minCoverage: o.minCoverage,
    windowSeconds: o.windowSeconds,
    storedSize: o.storeSize,
  };
  for (const [key, value] of Object.entries(given)) {
    if (value !== undefined) s[key as keyof typeof given] = value;
  }
  // A new video window drops the preset's audio window: the resolver derives it.
  if (o.audioSeconds === undefined && (o.frames !== undefined || o.fps !== undefined)) {
    delete s.audioSeconds;
  }
  s.clipsPerShard = o.clipsPerShard;
  s.audioDtype = o.audioDtype;
  return s;
}

/** Where caption words come from; `undefined`: the library's default vocabulary. */
function textSource(o: TokenizeFlags): TextSource | undefined {
  const given = [o.buildVocab, o.vocab, o.tokenizer, o.wordVectors].filter((x) => x !== undefined)
    .length;
  if (given > 1) {
    throw new CliError("give only one of --build-vocab, --vocab, --tokenizer, --word-vectors", 2);
  }
  if (o.wordVectors) {
    const format = o.wordVectorsFormat === "auto" ? undefined : o.wordVectorsFormat;
    const vocabSize = o.vocabSize ?? (o.preset ? PRESETS[o.preset].text.vocabSize : undefined);
    return { wordVectors: { file: o.wordVectors, format, vocabSize } };
  }
  if (o.vocabSize !== undefined) throw new CliError("--vocab-size goes with --word-vectors", 2);
  if (o.vocab) return { vocabFile: o.vocab };
  if (o.tokenizer) return { tokenizerFile: o.tokenizer };
  if (o.buildVocab !== undefined) return { buildVocab: o.buildVocab };
  // As many words as the preset's vocabulary holds (id 0 is padding).
  if (o.preset !== undefined) return { buildVocab: PRESETS[o.preset].text.vocabSize - 1 };
  return undefined;
}

/** This run's slice of the manifest (`--shard-index I --num-shards N`), if any. */
function sliceFromFlags(o: TokenizeFlags): { index: number; count: number } | undefined {
  if (o.shardIndex === undefined && o.numShards === undefined) return undefined;
  if (o.shardIndex === undefined || o.numShards === undefined) {
    throw new CliError("--shard-index and --num-shards go together", 2);
  }
  const count = integerFlag("--num-shards", { min: 1, max: 100000 })(o.numShards);
  return { index: integerFlag("--shard-index", { min: 0, max: count - 1 })(o.shardIndex), count };
}

/**
 * Checks `--out` before anything is written: never an input nor holding one,
 * whatever the symlinks (`--force` deletes its own files there), never a
 * FIFO or device; then takes the folder's lock, or for a slice the lock of
 * its own part (slices of one dataset share their folder by design).
 */
async function guardOut(
  out: string,
  manifest: string,
  o: TokenizeFlags,
  slice: { index: number; count: number } | undefined,
): Promise<{ release(): void }> {
  await checkOutputPath(out, {
    kind: "folder",
    inputs: [
      { path: manifest, name: "MANIFEST" },
      { path: o.vocab, name: "--vocab" },
      { path: o.tokenizer, name: "--tokenizer" },
      { path: o.wordVectors, name: "--word-vectors" },
    ],
  });
  const created = !(await pathExists(out));
  await Deno.mkdir(out, { recursive: true });
  if (slice && slice.count > 1) return lockSlice(out, slice);
  const lock = lockWholeFolder(out);
  return {
    release: () => {
      lock.release();
      // A folder made here for a run that wrote nothing goes again (only if empty).
      try {
        if (created) Deno.removeSync(out);
      } catch {
        // it holds files: kept
      }
    },
  };
}

const SLICE_LOCK = /^\.lock\.slice-\d+-of-\d+$/;

/**
 * Takes the folder's own lock (an unsliced run or `--merge`), then checks
 * that no slice of it is being written.
 */
function lockWholeFolder(out: string): RunLock {
  const lock = acquireRunLock(out, { label: "dataset folder" });
  try {
    for (const entry of Deno.readDirSync(out)) {
      if (SLICE_LOCK.test(entry.name)) {
        checkRunLock(out, { name: entry.name, label: `a slice (${entry.name}) of dataset folder` });
      }
    }
  } catch (e) {
    lock.release();
    throw e;
  }
  return lock;
}

/**
 * A slice locks only its own part of a shared folder (other slices may be
 * written at the same time), after checking that no unsliced run or merge
 * holds the folder.
 */
function lockSlice(out: string, slice: { index: number; count: number }): RunLock {
  checkRunLock(out, { label: "dataset folder" });
  return acquireRunLock(out, {
    name: sliceLockName(slice.index, slice.count),
    label: `slice ${slice.index} of ${slice.count} of dataset folder`,
  });
}

/** Runs `vatt tokenize`. */
async function tokenize(manifest: string | undefined, o: TokenizeFlags): Promise<void> {
  if (!o.out) throw new CliError("--out DIR is required", 2);
  if (o.merge) {
    const lock = lockWholeFolder(o.out);
    const index = await mergeSlices(o.out).finally(() => lock.release());
    console.log(
      `merged ${index.shards.length} shards, ${index.clips} clips, ${index.skipped.length} skipped: ${o.out}/index.json`,
    );
    return;
  }
  if (!manifest) throw new CliError("a manifest file is required (or --merge)", 2);
  const slice = sliceFromFlags(o);
  const settings = tokenizeSettingsFromFlags(o);
  const lock = await guardOut(o.out, manifest, o, slice);
  let progress: ReturnType<typeof createProgress> | null = null;
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  try {
    const result = await tokenizeDataset({
      manifest,
      out: o.out,
      settings,
      text: textSource(o),
      workers: o.workers,
      slice,
      onError: o.onError,
      ffmpeg: o.ffmpeg,
      force: o.force,
      signal: controller.signal,
      onProgress: (p) => {
        progress ??= createProgress({
          label: "tokenize",
          total: p.total,
          unit: "clips",
          quiet: o.quiet,
        });
        progress.update(p.done, `${p.skipped} skipped, ${p.shards} shards`);
      },
    });
    (progress as ReturnType<typeof createProgress> | null)?.stop();
    const i = result.index;
    console.log(
      `${i.clips} clips in ${i.shards.length} shards, ${i.skipped.length} skipped, ${i.padded.length} padded` +
        (result.resumedShards ? `, ${result.resumedShards} shards kept from an earlier run` : "") +
        `: ${result.indexPath}`,
    );
    const wv = i.text.kind === "vocab" ? i.text.wordVectors : undefined;
    if (wv) {
      const words = i.text.vocabSize - 2;
      console.log(
        `vocabulary: ${words} words of ${wv.source.file} (${wv.source.format}, ${wv.dim}-d), padding and OOV ids`,
      );
    }
    for (const s of i.skipped.slice(0, 5)) {
      const id = s.id ? ` (${escapeForTerminal(s.id)})` : "";
      console.log(`  skipped row ${s.row}${id}: ${escapeForTerminal(s.reason)}`);
    }
    if (i.skipped.length > 5) console.log(`  … ${i.skipped.length - 5} more in index.json`);
    const st = i.settings;
    console.log(
      `  stored per clip: ${st.storedFrames} frames (${st.windowSeconds} s) of ${st.storedSize}², ` +
        `${st.storedAudioSamples} samples; training takes random windows of ${st.frames} frames ` +
        `of ${st.size}² from them, evaluation the centre one`,
    );
  } catch (e) {
    (progress as ReturnType<typeof createProgress> | null)?.stop();
    if (controller.signal.aborted) {
      throw new CliError(
        "interrupted; complete shards are kept, re-run the same command to resume",
        130,
      );
    }
    throw e;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    lock.release();
  }
}
