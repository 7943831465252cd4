/**
 * One guarded way to choose where a command writes: real paths (symlinks
 * followed) so an `--out` cannot alias an input, and never a non-regular file
 * (device, FIFO, socket) replaced, `--force` or not.
 *
 * @module
 */
import { basename, dirname, join, relative, resolve, sep } from "node:path";

/** Symlinks followed at most (as Linux's `MAXSYMLINKS`). */
const MAX_LINKS = 40;

/**
 * What is at a path, in words: "a regular file", "a folder", "a FIFO", "a
 * character device", "a block device", "a socket" or "a symlink".
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeFileKind } from "./guard.ts";
 * assert.equal(describeFileKind(Deno.statSync("/dev/null")), "a character device");
 * assert.equal(describeFileKind(Deno.statSync("/")), "a folder");
 * ```
 */
export function describeFileKind(info: Deno.FileInfo): string {
  if (info.isFile) return "a regular file";
  if (info.isDirectory) return "a folder";
  if (info.isSymlink) return "a symlink";
  if (info.isFifo) return "a FIFO";
  if (info.isCharDevice) return "a character device";
  if (info.isBlockDevice) return "a block device";
  if (info.isSocket) return "a socket";
  return "not a regular file";
}

async function statOrNull(path: string, follow: boolean): Promise<Deno.FileInfo | null> {
  try {
    return follow ? await Deno.stat(path) : await Deno.lstat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

function isNotAllowed(e: unknown): boolean {
  return e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied;
}

/**
 * The real absolute path of `path`, also when it does not exist yet: the
 * nearest existing ancestor resolved by the OS (every symlink followed), the
 * rest appended; a dangling symlink is followed to where it points. A part
 * Deno may not read (narrowed `--allow-read`) is taken as written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { realPathLoose } from "./guard.ts";
 * const dir = Deno.realPathSync(Deno.makeTempDirSync());
 * Deno.symlinkSync(dir, `${dir}/alias`);
 * assert.equal(await realPathLoose(`${dir}/alias/new/file.txt`), `${dir}/new/file.txt`);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function realPathLoose(path: string): Promise<string> {
  let p = resolve(path);
  for (let hops = 0; hops <= MAX_LINKS; hops++) {
    let info: Deno.FileInfo | null;
    try {
      return await Deno.realPath(p);
    } catch (e) {
      // Not allowed to look (narrowed --allow-read): the path as written is all there is.
      if (isNotAllowed(e)) return p;
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    try {
      info = await statOrNull(p, false);
    } catch (e) {
      if (isNotAllowed(e)) return p;
      throw e;
    }
    if (info?.isSymlink) {
      p = resolve(dirname(p), await Deno.readLink(p)); // dangling: follow it by hand
      continue;
    }
    const parent = dirname(p);
    if (parent === p) return p;
    return join(await realPathLoose(parent), basename(p));
  }
  throw new RangeError(`Cannot resolve ${path}: more than ${MAX_LINKS} symlinks`);
}

/**
 * Refuses to replace `path` when it is not a regular file (or, with `kind:
 * "folder"`, not a folder): a device, FIFO or socket, or a symlink to one, is
 * never replaced. A missing path is fine. Throws a RangeError naming the
 * path and what it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { assertReplaceable } from "./guard.ts";
 * await assertReplaceable("/no/such/file.jsonl");
 * await assert.rejects(assertReplaceable("/dev/null"), /\/dev\/null is a character device/);
 * ```
 */
export async function assertReplaceable(
  path: string,
  options: { kind?: "file" | "folder"; label?: string } = {},
): Promise<void> {
  const kind = options.kind ?? "file";
  const label = options.label ? `${options.label} ` : "";
  const info = await statOrNull(path, false);
  if (info === null) return;
  // A symlink is judged by what it points to (a dangling one is fine: it is replaced).
  const target = info.isSymlink ? await statOrNull(path, true) : info;
  if (target === null) return;
  const ok = kind === "file" ? target.isFile : target.isDirectory;
  if (!ok) {
    const via = info.isSymlink ? "a symlink to " : "";
    throw new RangeError(
      `${label}${path} is ${via}${describeFileKind(target)}, not ${
        kind === "file" ? "a regular file" : "a folder"
      }; refusing to replace it`,
    );
  }
}

/** Whether real path `inner` is `outer` or inside it. */
function isWithin(inner: string, outer: string): boolean {
  if (inner === outer) return true;
  const rel = relative(outer, inner);
  return rel !== "" && !rel.startsWith(".." + sep) && rel !== ".." && !rel.startsWith(sep);
}

/** An input a command reads: its path and how the user named it (`--from`, `DATA`). */
export interface GuardedInput {
  /** The input's path as given; `undefined` inputs are skipped. */
  path: string | undefined;
  /** How the input is named in messages: a flag or an argument name. */
  name: string;
}

/** Options of {@linkcode checkOutputPath}. */
export interface CheckOutputOptions {
  /** A file or a folder is written there. */
  kind: "file" | "folder";
  /** What the command reads: `out` may not be, hold, or lie inside any of them. */
  inputs?: GuardedInput[];
  /** How the output is named in messages (default `--out`). */
  name?: string;
}

/**
 * Checks an output path before anything is written or deleted: resolved to
 * its real path (symlinks followed), it must not be, contain, or lie inside
 * any input, and what is there now must be a regular file (or a folder, for
 * `kind: "folder"`) or nothing. Returns the real path. Throws a RangeError
 * (a usage error: exit 2) naming both paths.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkOutputPath } from "./guard.ts";
 * const dir = Deno.realPathSync(Deno.makeTempDirSync());
 * Deno.mkdirSync(`${dir}/run`);
 * Deno.symlinkSync(`${dir}/run`, `${dir}/alias`);
 * const inputs = [{ path: `${dir}/run`, name: "--from" }];
 * await assert.rejects(
 *   checkOutputPath(`${dir}/alias`, { kind: "folder", inputs }),
 *   /--out .*alias is the same as --from .*run/,
 * );
 * assert.equal(await checkOutputPath(`${dir}/run2`, { kind: "folder", inputs }), `${dir}/run2`);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function checkOutputPath(out: string, options: CheckOutputOptions): Promise<string> {
  const name = options.name ?? "--out";
  const real = await realPathLoose(out);
  for (const input of options.inputs ?? []) {
    if (input.path === undefined || input.path === "") continue;
    const realIn = await realPathLoose(input.path);
    const how = real === realIn
      ? "is the same as"
      : isWithin(real, realIn)
      ? "lies inside"
      : isWithin(realIn, real)
      ? "contains"
      : undefined;
    if (how === undefined) continue;
    const both = real === realIn && resolve(out) !== resolve(input.path)
      ? ` (both are ${real})`
      : "";
    throw new RangeError(
      `${name} ${out} ${how} ${input.name} ${input.path}${both}; choose an ${name} apart from the inputs`,
    );
  }
  await assertReplaceable(out, { kind: options.kind, label: name });
  return real;
}
