/**
 * The output folder of a tokenize run: its run record (`tokenize.json`), the
 * files a run owns, and the temporaries a killed run left behind.
 *
 * @module
 */
import * as path from "node:path";
import { MismatchError } from "../../util/errors.ts";
import { pathExists, removeStaleTemps, writeFileAtomic } from "../../io/atomic.ts";
import { INPUT_LIMITS, readInputText } from "../../io/input.ts";
import {
  shardFileName,
  sliceIndexFileName,
  type TokenizeSettings,
} from "../shards/dataset_index.ts";
import type { TextSource } from "../text/setup.ts";

/** What `tokenize.json` records: a re-run with the same record resumes. */
export interface RunRecord {
  format: "vatt-tokenize-run";
  settings: TokenizeSettings;
  manifestSha256: string;
  text: TextSource;
  /** SHA-256 of a given vocabulary or tokenizer file: a changed file is not a resume. */
  textSha256?: string;
}

/** Names of the files a tokenize run writes into its folder. */
function isDatasetFile(name: string): boolean {
  return name === "tokenize.json" || name === "index.json" || name === "vocab.txt" ||
    name === "tokenizer.json" || /^shard-\d+-of-\d+\.safetensors$/.test(name) ||
    /^index\.slice-\d+-of-\d+\.json$/.test(name);
}

/** The temporary names `writeFileAtomic` uses: `.<name>.tmp-<pid>-<hex>`. */
const TEMP_NAME = /^\.(.+)\.(?:tmp|old)-(\d+)-[0-9a-f]{8,}$/;

/**
 * Removes the temporary files that killed writers of `targets` left in `dir`.
 * A slice run cleans only its own files: on a folder shared by many machines,
 * another slice's writer may be alive elsewhere, where its process id means
 * nothing here.
 */
async function removeOwnStaleTemps(dir: string, targets: Set<string>): Promise<void> {
  for await (const e of Deno.readDir(dir)) {
    const m = TEMP_NAME.exec(e.name);
    if (!m || !targets.has(m[1])) continue;
    const pid = Number(m[2]);
    // These are this slice's own files: a writer we cannot see (Deno wants
    // --allow-all to read /proc) is a killed earlier run of this slice.
    const alive = Deno.build.os === "linux" && await pathExists(`/proc/${pid}`).catch(() => false);
    if (pid === Deno.pid || alive) continue;
    await Deno.remove(path.join(dir, e.name), { recursive: true }).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
  }
}

/**
 * Removes what killed writers left in `out`: an unsliced run owns its folder;
 * a slice run cleans only the temporaries of its own shards (`mine`) and index.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { removeRunTemps } from "./_out_folder.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/.index.json.tmp-999999999-0123abcd`, "");
 * await removeRunTemps(dir, { mine: [], numShards: 1 });
 * assert.deepEqual([...Deno.readDirSync(dir)], []);
 * Deno.removeSync(dir);
 * ```
 */
export async function removeRunTemps(
  out: string,
  options: { mine: number[]; numShards: number; slice?: { index: number; count: number } },
): Promise<void> {
  const { mine, numShards, slice } = options;
  if (slice && slice.count > 1) {
    await removeOwnStaleTemps(
      out,
      new Set([
        ...mine.map((g) => shardFileName(g, numShards)),
        sliceIndexFileName(slice.index, slice.count),
      ]),
    );
  } else {
    // An unsliced run owns its folder.
    await removeStaleTemps(out, { exclusive: true });
  }
}

/** Whether `tokenize.json` in `out` holds exactly `record`. */
async function sameRecord(recordPath: string, record: RunRecord): Promise<boolean> {
  try {
    return JSON.stringify(
      JSON.parse(await readInputText(recordPath, { maxBytes: INPUT_LIMITS.json })),
    ) ===
      JSON.stringify(record);
  } catch {
    return false;
  }
}

/**
 * Prepares the output folder: refuses foreign content, resumes a matching run,
 * and writes the run record.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { prepareOut } from "./_out_folder.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/notes.txt`, "mine");
 * const record = { format: "vatt-tokenize-run" as const, settings: {} as never, manifestSha256: "0", text: {} };
 * await assert.rejects(prepareOut(dir, record, { force: false }), /is not empty/);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function prepareOut(
  out: string,
  record: RunRecord,
  options: { force: boolean },
): Promise<void> {
  await Deno.mkdir(out, { recursive: true });
  const recordPath = path.join(out, "tokenize.json");
  const entries: string[] = [];
  for await (const e of Deno.readDir(out)) entries.push(e.name);
  const ours = (name: string) => {
    const temp = TEMP_NAME.exec(name);
    return isDatasetFile(temp ? temp[1] : name);
  };
  // Temporaries a killed run left behind do not make the folder someone else's,
  // nor does the folder's lock (`.lock`, taken by the CLI; never deleted here).
  // Slices lock their own part of a shared folder (`.lock.slice-I-of-N`).
  const isLockName = (name: string) => name === ".lock" || /^\.lock\.slice-\d+-of-\d+$/.test(name);
  const isLock = (name: string) => isLockName(name) || isLockName(TEMP_NAME.exec(name)?.[1] ?? "");
  const present = entries.filter((name) => !isLock(name) && !(TEMP_NAME.test(name) && ours(name)));
  if (present.length > 0) {
    const same = entries.includes("tokenize.json") && await sameRecord(recordPath, record);
    if (!same && !options.force) {
      throw new MismatchError(
        entries.includes("tokenize.json")
          ? `${out} holds a dataset made with other settings or another manifest; use --force to start over`
          : `${out} is not empty and is not a vatt dataset; choose an empty folder or use --force`,
      );
    }
    if (!same) {
      for (const name of entries) {
        if (ours(name)) await Deno.remove(path.join(out, name), { recursive: true });
      }
    }
  }
  await writeFileAtomic(recordPath, JSON.stringify(record) + "\n");
}
