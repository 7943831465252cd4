/**
 * Dataset readers by name: each turns a dataset's annotation files, as
 * distributed, into manifest rows for `vatt tokenize` (`vatt manifest`).
 *
 * @module
 */
import type { DatasetReader } from "./_common.ts";

export type {
  DatasetManifest,
  DatasetOptions,
  DatasetReader,
  DatasetRow,
  MalformedRows,
  MissingFiles,
} from "./_common.ts";
export { LISTED_MALFORMED, LISTED_MISSING } from "./_common.ts";

/**
 * Every dataset `vatt manifest` knows, name → lazy import of its reader
 * (one file per dataset in this folder).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DATASETS } from "./mod.ts";
 * assert.ok("audioset" in DATASETS);
 * ```
 */
export const DATASETS: Record<string, () => Promise<DatasetReader>> = {
  howto100m: async () => (await import("./howto100m.ts")).readHowTo100M,
  audioset: async () => (await import("./audioset.ts")).readAudioSet,
  kinetics: async () => (await import("./kinetics.ts")).readKinetics,
  kinetics400: async () => (await import("./kinetics.ts")).readKinetics,
  kinetics600: async () => (await import("./kinetics.ts")).readKinetics,
  kinetics700: async () => (await import("./kinetics.ts")).readKinetics,
  esc50: async () => (await import("./esc50.ts")).readEsc50,
  ucf101: async () => (await import("./ucf101.ts")).readUcf101,
  hmdb51: async () => (await import("./hmdb51.ts")).readHmdb51,
  msrvtt: async () => (await import("./msrvtt.ts")).readMsrvtt,
  youcook2: async () => (await import("./youcook2.ts")).readYouCook2,
};

/**
 * The reader of dataset `name`; throws `RangeError` listing the known names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { datasetReader } from "./mod.ts";
 * assert.equal(typeof await datasetReader("esc50"), "function");
 * await assert.rejects(datasetReader("mnist"), RangeError);
 * ```
 */
export async function datasetReader(name: string): Promise<DatasetReader> {
  const load = DATASETS[name.toLowerCase()];
  if (!load) {
    throw new RangeError(
      `Cannot build a manifest: unknown dataset ${JSON.stringify(name)} (known: ${
        Object.keys(DATASETS).join(", ")
      })`,
    );
  }
  return await load();
}
