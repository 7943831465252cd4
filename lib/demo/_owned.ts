/**
 * What `generateDemoData` owns in its folder: the files it wrote, listed in
 * `demo-data.json`, so `force` replaces those and nothing else. Private to
 * `lib/demo/`.
 *
 * @module
 */
import { join } from "node:path";
import { assertReplaceable, describeFileKind } from "../io/guard.ts";

/** The marker listing the files demo-data wrote (paths relative to the folder). */
export const OWNED_FILE = "demo-data.json";

/** The names demo-data writes: a listed name outside these is ignored, never deleted. */
const OWNED_NAME = /^(?:manifest\.jsonl|classes\.txt|(?:video|audio)\/clip-\d+\.[a-z0-9]+)$/;

/** The marker never holds more than this (a million clips' names). */
const MAX_MARKER_BYTES = 64 << 20;

/** The text of `demo-data.json` for `files`. */
export function ownedRecord(files: string[]): string {
  return JSON.stringify({ format: "vatt-demo-data", files }, null, 1) + "\n";
}

/** The files an earlier run listed in `dir`'s marker (none when there is no valid marker). */
async function readOwned(dir: string): Promise<string[]> {
  const marker = join(dir, OWNED_FILE);
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(marker);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  if (!info.isFile || info.size > MAX_MARKER_BYTES) return []; // not ours: owns nothing
  try {
    const v = JSON.parse(await Deno.readTextFile(marker));
    if (v?.format !== "vatt-demo-data" || !Array.isArray(v.files)) return [];
    return v.files.filter((f: unknown) => typeof f === "string" && OWNED_NAME.test(f));
  } catch {
    return [];
  }
}

async function lstatOrNull(p: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.lstat(p);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/**
 * Moves the finished files of `tmp` (`files`, relative paths, and the
 * marker) into the existing folder `target`: files an earlier run listed in
 * its marker and this run does not write are removed, files at the names
 * written are replaced, everything else in `target` is kept. Nothing that
 * is not a regular file is replaced; `manifest.jsonl` moves in last.
 */
export async function moveInto(tmp: string, target: string, files: string[]): Promise<void> {
  for (const sub of ["video", "audio"]) {
    const info = await lstatOrNull(join(target, sub));
    if (info && !info.isDirectory) {
      throw new RangeError(
        `Cannot generate demo data into ${target}: ${sub} is ${
          describeFileKind(info)
        }, not a folder`,
      );
    }
  }
  const order = [
    ...files.filter((f) => f !== "manifest.jsonl"),
    OWNED_FILE,
    ...files.filter((f) => f === "manifest.jsonl"),
  ];
  for (const f of order) await assertReplaceable(join(target, f), { label: "Cannot write" });
  const old = await readOwned(target);
  const writing = new Set(order);
  // The old manifest goes first: a folder caught half-way has no manifest.
  for (const f of ["manifest.jsonl", ...old.filter((f) => !writing.has(f))]) {
    if ((await lstatOrNull(join(target, f)))?.isFile) await Deno.remove(join(target, f));
  }
  for (const sub of ["video", "audio"]) await Deno.mkdir(join(target, sub), { recursive: true });
  for (const f of order) await Deno.rename(join(tmp, f), join(target, f));
}
