/**
 * Every fuzz target, by name, with its case counts: `ci` for the test run
 * (`deno task test`), `full` for `deno task robustness --full`. Targets are
 * loaded lazily, so a worker that fuzzes only manifests never loads tfjs.
 *
 * @module
 */
import type { Target } from "./_target.ts";

/** A target's name, loader and case counts. */
export interface TargetEntry {
  name: string;
  load: () => Promise<Target>;
  /** Cases in CI (reduced). */
  ci: number;
  /** Cases in the default `deno task robustness` run. */
  reduced: number;
  /** Cases with `--full`. */
  full: number;
  /** Not run unless asked for by name (the harness's self-test). */
  hidden?: boolean;
}

/** The targets, in the order they run. */
export const TARGETS: TargetEntry[] = [
  {
    name: "safetensors",
    load: async () => (await import("./_targets_io.ts")).safetensorsTarget,
    ci: 120,
    reduced: 400,
    full: 2500,
  },
  {
    name: "npy",
    load: async () => (await import("./_targets_io.ts")).npyTarget,
    ci: 40,
    reduced: 150,
    full: 800,
  },
  {
    name: "jsonl",
    load: async () => (await import("./_targets_io.ts")).jsonlTarget,
    ci: 30,
    reduced: 100,
    full: 600,
  },
  {
    name: "parquet",
    load: async () => (await import("./_targets_io.ts")).parquetTarget,
    ci: 40,
    reduced: 150,
    full: 800,
  },
  {
    name: "index-json",
    load: async () => (await import("./_targets_data.ts")).indexTarget,
    ci: 60,
    reduced: 200,
    full: 1200,
  },
  {
    name: "dataset",
    load: async () => (await import("./_targets_data.ts")).datasetTarget,
    ci: 40,
    reduced: 150,
    full: 1000,
  },
  {
    name: "tokenize-resume",
    load: async () => (await import("./_targets_data.ts")).tokenizeResumeTarget,
    ci: 15,
    reduced: 60,
    full: 300,
  },
  {
    name: "manifest",
    load: async () => (await import("./_targets_data.ts")).manifestTarget,
    ci: 60,
    reduced: 250,
    full: 1500,
  },
  {
    name: "vocab",
    load: async () => (await import("./_targets_data.ts")).vocabTarget,
    ci: 30,
    reduced: 100,
    full: 600,
  },
  {
    name: "tokenizer-json",
    load: async () => (await import("./_targets_data.ts")).tokenizerTarget,
    ci: 40,
    reduced: 150,
    full: 1000,
  },
  {
    name: "checkpoint",
    load: async () => (await import("./_targets_train.ts")).checkpointTarget,
    ci: 25,
    reduced: 100,
    full: 600,
  },
  {
    name: "wav",
    load: async () => (await import("./_targets_media.ts")).wavTarget,
    ci: 60,
    reduced: 250,
    full: 1500,
  },
  {
    name: "audio",
    load: async () => (await import("./_targets_media.ts")).audioTarget,
    ci: 40,
    reduced: 150,
    full: 1000,
  },
  {
    name: "video",
    load: async () => (await import("./_targets_media.ts")).videoTarget,
    ci: 15,
    reduced: 50,
    full: 300,
  },
  {
    name: "selftest",
    load: async () => (await import("./_targets_selftest.ts")).selftestTarget,
    ci: 12,
    reduced: 12,
    full: 12,
    hidden: true,
  },
];

/** Looks a target up by name. */
export function targetEntry(name: string): TargetEntry {
  const entry = TARGETS.find((t) => t.name === name);
  if (!entry) {
    throw new RangeError(
      `Unknown fuzz target ${JSON.stringify(name)}: ${TARGETS.map((t) => t.name).join(", ")}`,
    );
  }
  return entry;
}
