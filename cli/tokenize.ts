/**
 * `vatt tokenize MANIFEST --out DIR`: media files into training shards; and
 * `vatt tokenize --merge --out DIR` for datasets tokenized in slices.
 *
 * @module
 */
import { isPresetName, PRESETS } from "../lib/config/vatt_config.ts";
import type { TokenizeSettings } from "../lib/data/shards/dataset_index.ts";
import type { TextSource } from "../lib/data/text/setup.ts";
import { mergeSlices, tokenizeDataset } from "../lib/data/tokenize/tokenize.ts";
import { CliError } from "./cli_error.ts";
import { parseIntFlag, parseNumberFlag } from "./_options.ts";
import { createProgress } from "./_progress.ts";

/** Options of `vatt tokenize` as commander gives them. */
export interface TokenizeCliOptions {
  out?: string;
  preset?: string;
  frames?: string;
  fps?: string;
  size?: string;
  audioSeconds?: string;
  sampleRate?: string;
  audioDtype: "int16" | "float32";
  maxLength?: string;
  captionsPerClip?: string;
  minCoverage?: string;
  buildVocab?: string;
  vocab?: string;
  tokenizer?: string;
  clipsPerShard: string;
  workers: string;
  shardIndex?: string;
  numShards?: string;
  merge: boolean;
  onError: "skip" | "fail";
  ffmpeg?: string;
  force: boolean;
  quiet?: boolean;
}

/** Turns flags into settings: preset values first, then explicit flags. */
export function tokenizeSettingsFromFlags(o: TokenizeCliOptions): Partial<TokenizeSettings> {
  const s: Partial<TokenizeSettings> = {};
  if (o.preset !== undefined) {
    if (!isPresetName(o.preset)) {
      throw new CliError(
        `Unknown preset ${JSON.stringify(o.preset)}: expected one of ${
          Object.keys(PRESETS).join(", ")
        }`,
        2,
      );
    }
    const p = PRESETS[o.preset];
    s.frames = p.video.frames;
    s.fps = p.video.fps;
    s.size = p.video.height;
    s.sampleRate = p.audio.sampleRate;
    s.audioSeconds = p.audio.samples / p.audio.sampleRate;
    s.maxLength = p.text.maxLength;
  }
  if (o.frames !== undefined) s.frames = parseIntFlag("--frames", o.frames, { min: 1, max: 10000 });
  if (o.fps !== undefined) {
    s.fps = parseNumberFlag("--fps", o.fps, { min: 0, exclusiveMin: true, max: 1000 });
  }
  if (o.size !== undefined) s.size = parseIntFlag("--size", o.size, { min: 1, max: 8192 });
  if (o.sampleRate !== undefined) {
    s.sampleRate = parseIntFlag("--sample-rate", o.sampleRate, { min: 1, max: 768000 });
  }
  if (o.audioSeconds !== undefined) {
    s.audioSeconds = parseNumberFlag("--audio-seconds", o.audioSeconds, {
      min: 0,
      exclusiveMin: true,
      max: 3600,
    });
  } else if (o.frames !== undefined || o.fps !== undefined || s.audioSeconds === undefined) {
    // The audio window follows the video window unless given.
    s.audioSeconds = (s.frames ?? 32) / (s.fps ?? 10);
  }
  if (o.maxLength !== undefined) {
    s.maxLength = parseIntFlag("--max-length", o.maxLength, { min: 1, max: 4096 });
  }
  if (o.captionsPerClip !== undefined) {
    s.captionsPerClip = parseIntFlag("--captions-per-clip", o.captionsPerClip, {
      min: 1,
      max: 1024,
    });
  }
  if (o.minCoverage !== undefined) {
    s.minCoverage = parseNumberFlag("--min-coverage", o.minCoverage, { min: 0, max: 1 });
  }
  s.clipsPerShard = parseIntFlag("--clips-per-shard", o.clipsPerShard, { min: 1, max: 1_000_000 });
  s.audioDtype = o.audioDtype;
  return s;
}

function textSource(o: TokenizeCliOptions): TextSource {
  const given = [o.buildVocab, o.vocab, o.tokenizer].filter((x) => x !== undefined).length;
  if (given > 1) throw new CliError("give only one of --build-vocab, --vocab, --tokenizer", 2);
  if (o.vocab) return { vocabFile: o.vocab };
  if (o.tokenizer) return { tokenizerFile: o.tokenizer };
  if (o.buildVocab !== undefined) {
    return { buildVocab: parseIntFlag("--build-vocab", o.buildVocab, { min: 1, max: 10_000_000 }) };
  }
  // Default: as many words as the preset's vocabulary holds (id 0 is padding).
  const vocab = o.preset && isPresetName(o.preset) ? PRESETS[o.preset].text.vocabSize : 65536;
  return { buildVocab: vocab - 1 };
}

/** Runs `vatt tokenize`. */
export async function tokenize(
  manifest: string | undefined,
  o: TokenizeCliOptions,
  _extra: string[] = [],
): Promise<void> {
  if (!o.out) throw new CliError("--out DIR is required", 2);
  if (o.merge) {
    const index = await mergeSlices(o.out);
    console.log(
      `merged ${index.shards.length} shards, ${index.clips} clips, ${index.skipped.length} skipped: ${o.out}/index.json`,
    );
    return;
  }
  if (!manifest) throw new CliError("a manifest file is required (or --merge)", 2);
  let slice: { index: number; count: number } | undefined;
  if (o.shardIndex !== undefined || o.numShards !== undefined) {
    if (o.shardIndex === undefined || o.numShards === undefined) {
      throw new CliError("--shard-index and --num-shards go together", 2);
    }
    const count = parseIntFlag("--num-shards", o.numShards, { min: 1, max: 100000 });
    slice = {
      index: parseIntFlag("--shard-index", o.shardIndex, { min: 0, max: count - 1 }),
      count,
    };
  }
  const settings = tokenizeSettingsFromFlags(o);
  const workers = parseIntFlag("--workers", o.workers, { min: 1, max: 256 });
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
      workers,
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
    for (const s of i.skipped.slice(0, 5)) {
      console.log(`  skipped row ${s.row}${s.id ? ` (${s.id})` : ""}: ${s.reason}`);
    }
    if (i.skipped.length > 5) console.log(`  … ${i.skipped.length - 5} more in index.json`);
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
  }
}
