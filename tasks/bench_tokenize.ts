/**
 * `deno task bench:tokenize`: how fast `vatt tokenize` turns the demo dataset
 * into shards, in clips per second, at the default settings (32 frames at
 * 10 fps, 224², 3.2 s at 48 kHz) and at the tiny preset's (8 frames at 10 fps,
 * 32², 0.8 s at 8 kHz).
 *
 * The demo dataset is generated once into a temporary folder; each setting is
 * then tokenized `--runs` times into a fresh folder (removed after each run).
 * Prints a table of clips/s (median, min, max) and writes the numbers as JSON
 * with `--json PATH`.
 *
 * Usage:
 * ```sh
 * deno task bench:tokenize --clips 96 --runs 3 --json bench-tokenize.json
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { PRESETS } from "../lib/config/vatt_config.ts";
import type { TokenizeSettings } from "../lib/data/shards/dataset_index.ts";
import { generateDemoData } from "../lib/demo/demo_data.ts";
import { tokenizeDataset } from "../lib/data/tokenize/tokenize.ts";
import {
  DEFAULT_TOKENIZE_WORKERS,
  resolveTokenizeSettings,
  settingsForModel,
} from "../lib/data/tokenize/settings.ts";

/** One measured setting. */
export interface BenchSettingResult {
  name: string;
  settings: TokenizeSettings;
  /** Wall-clock seconds of each run. */
  seconds: number[];
  /** Clips per second: manifest rows handled / run seconds. */
  clipsPerSecond: { median: number; min: number; max: number; runs: number[] };
  /** Clips stored and skipped in the last run. */
  stored: number;
  skipped: number;
}

const USAGE = "usage: deno task bench:tokenize [--clips 96] [--runs 3] [--workers 2] [--json PATH]";

function positiveInt(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    console.error(
      `bench:tokenize: ${flag} must be a positive integer, got ${JSON.stringify(value)}`,
    );
    console.error(USAGE);
    Deno.exit(2);
  }
  return n;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: Deno.args,
      options: {
        clips: { type: "string" },
        runs: { type: "string" },
        workers: { type: "string" },
        json: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (e) {
    console.error(`bench:tokenize: ${(e as Error).message}`);
    console.error(USAGE);
    Deno.exit(2);
  }
  if (parsed.values.help) {
    console.log(USAGE);
    return;
  }
  const clips = positiveInt("--clips", parsed.values.clips, 96);
  const runs = positiveInt("--runs", parsed.values.runs, 3);
  const workers = positiveInt("--workers", parsed.values.workers, DEFAULT_TOKENIZE_WORKERS);
  const jsonPath = parsed.values.json;

  const root = await Deno.makeTempDir({ prefix: "vatt-bench-tokenize-" });
  try {
    const t0 = performance.now();
    const demo = await generateDemoData(join(root, "demo"), { clips, seed: 0 });
    const generateSeconds = (performance.now() - t0) / 1000;
    console.error(`demo dataset: ${clips} clips generated in ${generateSeconds.toFixed(1)} s`);

    const settings: [string, Partial<TokenizeSettings>][] = [
      ["default", {}],
      ["tiny", settingsForModel(PRESETS.tiny)],
    ];
    const results: BenchSettingResult[] = [];
    for (const [name, partial] of settings) {
      const resolved = resolveTokenizeSettings(partial);
      const seconds: number[] = [];
      let stored = 0;
      let skipped = 0;
      for (let r = 0; r < runs; r++) {
        const out = join(root, `${name}-${r}`);
        const start = performance.now();
        const { index } = await tokenizeDataset({
          manifest: demo.manifestPath,
          out,
          settings: resolved,
          workers,
        });
        seconds.push((performance.now() - start) / 1000);
        stored = index.clips;
        skipped = index.skipped.length;
        await Deno.remove(out, { recursive: true });
        console.error(
          `${name} run ${r + 1}/${runs}: ${(clips / seconds[r]).toFixed(1)} clips/s ` +
            `(${seconds[r].toFixed(2)} s)`,
        );
      }
      const rates = seconds.map((s) => clips / s);
      results.push({
        name,
        settings: resolved,
        seconds,
        clipsPerSecond: {
          median: median(rates),
          min: Math.min(...rates),
          max: Math.max(...rates),
          runs: rates,
        },
        stored,
        skipped,
      });
    }

    const rows = results.map((r) => {
      const s = r.settings;
      return [
        r.name,
        `${s.frames}@${s.fps}`,
        `${s.size}²`,
        `${s.audioSeconds} s@${s.sampleRate}`,
        r.clipsPerSecond.median.toFixed(1),
        r.clipsPerSecond.min.toFixed(1),
        r.clipsPerSecond.max.toFixed(1),
      ];
    });
    const header = ["setting", "frames", "size", "audio", "clips/s med", "min", "max"];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    const line = (cells: string[]) =>
      cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
    console.log(`tokenize: ${clips} demo clips, ${runs} runs per setting, ${workers} workers`);
    console.log(line(header));
    for (const row of rows) console.log(line(row));

    if (jsonPath) {
      const report = {
        benchmark: "tokenize",
        date: new Date().toISOString(),
        clips,
        runs,
        workers,
        generateSeconds,
        machine: {
          os: Deno.build.os,
          arch: Deno.build.arch,
          cpus: navigator.hardwareConcurrency,
          deno: Deno.version.deno,
        },
        results,
      };
      await Deno.writeTextFile(jsonPath, JSON.stringify(report, null, 2) + "\n");
      console.error(`wrote ${jsonPath}`);
    }
  } finally {
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await main();
