/**
 * `deno task compile`: `deno compile` of the `vatt` command into `dist/vatt`, after checking
 * that a usable `denort` (the runtime `deno compile` wraps the program in) is at hand, so a
 * machine without one gets one line saying what it needs instead of a failed download.
 *
 * `denort` comes from, in this order: `DENORT_BIN` (a denort binary — not the `deno` binary,
 * which does not work as one), Deno's cache (`<DENO_DIR>/dl/release/v<version>/denort-<target>.zip`,
 * left by an earlier compile), or Deno's release host (dl.deno.land), which `deno compile`
 * downloads from.
 *
 * The binary embeds the program, its npm packages (TensorFlow.js and its `.wasm` files, the
 * ffmpeg of `@ffmpeg-installer`) and vatt's SIMD kernels (`lib/backend/simd/simd_wasm.ts`);
 * OpenBLAS is not embedded: it is loaded from the system at run time, as by `deno task vatt`.
 *
 * @module
 */
import * as path from "node:path";

/** Where `deno compile` downloads denort from. */
export const DENORT_HOST = "https://dl.deno.land";

/**
 * The file name of the denort archive for a target (default: this Deno's).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denortArchive } from "./compile.ts";
 * assert.equal(denortArchive("x86_64-unknown-linux-gnu"), "denort-x86_64-unknown-linux-gnu.zip");
 * ```
 */
export function denortArchive(target: string = Deno.build.target): string {
  return `denort-${target}.zip`;
}

/** What the probes of {@linkcode findDenort} report. */
export interface DenortProbes {
  /** The environment variable `DENORT_BIN`. */
  denortBin?: string;
  /** Whether `file` exists as a file. */
  isFile(file: string): Promise<boolean>;
  /** The first line `file --version` prints, or `undefined` when it does not run. */
  versionLine(file: string): Promise<string | undefined>;
  /** The cached denort archive's path for this Deno, when there is one. */
  cached(): Promise<string | undefined>;
  /** Whether Deno's release host answers. */
  hostReachable(): Promise<boolean>;
}

/** The outcome of {@linkcode findDenort}: how compile gets its denort, or why it cannot. */
export type DenortSource =
  | { ok: true; how: string }
  | { ok: false; problem: string };

/**
 * Where `deno compile` will get denort from, or the one line saying what is missing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findDenort } from "./compile.ts";
 * const none = {
 *   isFile: () => Promise.resolve(true),
 *   versionLine: () => Promise.resolve("deno 2.9.6 (stable, release, x86_64-unknown-linux-gnu)"),
 *   cached: () => Promise.resolve(undefined),
 *   hostReachable: () => Promise.resolve(false),
 * };
 * const deno = await findDenort({ ...none, denortBin: "/usr/bin/deno" }, "2.9.6");
 * assert.equal(deno.ok, false);
 * assert.match(!deno.ok ? deno.problem : "", /is the deno binary/);
 * const nothing = await findDenort(none, "2.9.6");
 * assert.match(!nothing.ok ? nothing.problem : "", /dl\.deno\.land is unreachable/);
 * ```
 */
export async function findDenort(probes: DenortProbes, version: string): Promise<DenortSource> {
  const url = `${DENORT_HOST}/release/v${version}/${denortArchive()}`;
  const fetchIt = `download ${url} where it is reachable, unzip it, and set DENORT_BIN to the ` +
    `denort file inside`;
  const bin = probes.denortBin;
  if (bin !== undefined && bin !== "") {
    if (!(await probes.isFile(bin))) {
      return { ok: false, problem: `DENORT_BIN=${bin} is not a file; ${fetchIt}` };
    }
    const line = await probes.versionLine(bin);
    if (line !== undefined && /^deno \d/.test(line)) {
      return {
        ok: false,
        problem: `DENORT_BIN=${bin} is the deno binary (it prints "${line}"), which cannot ` +
          `serve as the compile runtime; ${fetchIt}`,
      };
    }
    return { ok: true, how: `DENORT_BIN=${bin}` };
  }
  const cached = await probes.cached();
  if (cached) return { ok: true, how: `Deno's cache (${cached})` };
  if (await probes.hostReachable()) return { ok: true, how: `a download from ${DENORT_HOST}` };
  return {
    ok: false,
    problem: `deno compile needs the denort runtime of Deno ${version}: ${DENORT_HOST.slice(8)} ` +
      `is unreachable and none is cached; ${fetchIt}`,
  };
}

/** The probes of this machine. */
function machineProbes(): DenortProbes {
  const denoDir = async () => {
    const out = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
    return JSON.parse(new TextDecoder().decode(out.stdout)).denoDir as string;
  };
  const isFile = async (file: string) => (await Deno.stat(file).catch(() => null))?.isFile ?? false;
  return {
    denortBin: Deno.env.get("DENORT_BIN"),
    isFile,
    versionLine: async (file) => {
      try {
        const out = await new Deno.Command(file, {
          args: ["--version"],
          stdout: "piped",
          stderr: "null",
          signal: AbortSignal.timeout(10_000),
        }).output();
        return new TextDecoder().decode(out.stdout).split("\n")[0].trim();
      } catch {
        return undefined;
      }
    },
    cached: async () => {
      const dir = path.join(await denoDir(), "dl", "release", `v${Deno.version.deno}`);
      const file = path.join(dir, denortArchive());
      return (await isFile(file)) ? file : undefined;
    },
    hostReachable: async () => {
      try {
        const r = await fetch(DENORT_HOST, { method: "HEAD", signal: AbortSignal.timeout(5_000) });
        await r.body?.cancel();
        return true;
      } catch {
        return false;
      }
    },
  };
}

/** `deno compile`'s arguments: the permissions of `deno task vatt`, into `dist/vatt`. */
export const COMPILE_ARGS = [
  "compile",
  "--allow-read",
  "--allow-write",
  "--allow-run",
  "--allow-env",
  "--allow-sys",
  "--allow-ffi",
  "--output",
  "dist/vatt",
  "cli/main.ts",
];

if (import.meta.main) {
  const found = await findDenort(machineProbes(), Deno.version.deno);
  if (!found.ok) {
    console.error(`compile: ${found.problem}`);
    Deno.exit(1);
  }
  console.error(`compile: denort from ${found.how}`);
  const root = path.resolve(import.meta.dirname!, "..");
  const { code } = await new Deno.Command(Deno.execPath(), { args: COMPILE_ARGS, cwd: root })
    .spawn().status;
  Deno.exit(code);
}
