/**
 * Least privilege: `vatt tokenize` and `vatt pretrain` run under the narrowed
 * Deno permissions the README gives (reads scoped to the source tree, the
 * data and the run folder; writes to the output folder only; `--allow-run`
 * only for ffmpeg; a few named environment variables; no network, no FFI
 * unless the optional native BLAS library is wanted), and hostile manifest
 * ids and paths cannot make the tool write outside its output folder.
 *
 * @module
 */
import * as path from "node:path";
import { ffmpegPath } from "../../lib/data/media/ffmpeg_path.ts";
import { lastLine, runVatt } from "./_cli.ts";
import { REPO, robustnessSeeds } from "./_seeds.ts";

/** Environment variables vatt reads (all optional). */
export const VATT_ENV = ["VATT_FFMPEG", "VATT_DEBUG", "VATT_BLAS", "VATT_BLAS_LIB", "VATT_FUSED"];

/** Where the optional native BLAS library is, if this machine has it. */
export const OPENBLAS = "/lib/x86_64-linux-gnu/libopenblas.so.0";

/** The narrowed permission flags for a command reading `read` and writing `write`. */
export function narrowFlags(
  options: { read: string[]; write: string[]; run?: string[]; ffi?: string },
): string[] {
  return [
    "--no-prompt",
    `--allow-read=${[REPO, ...options.read].join(",")}`,
    `--allow-write=${options.write.join(",")}`,
    ...(options.run?.length ? [`--allow-run=${options.run.join(",")}`] : []),
    `--allow-env=${VATT_ENV.join(",")}`,
    ...(options.ffi ? [`--allow-ffi=${options.ffi}`] : []),
  ];
}

/** What the least-privilege runs gave. */
export interface LeastPrivilegeReport {
  /** The exact flags that worked, by command. */
  flags: Record<string, string[]>;
  /** Runs made under narrowed flags (all must have succeeded). */
  runs: number;
  /** Hostile manifest rows given to tokenize. */
  hostileRows: number;
  /** Files outside the output folder that changed (must be none). */
  writtenOutside: string[];
  problems: string[];
}

type Snapshot = Map<string, string>;

async function snapshot(root: string, skip: string[]): Promise<Snapshot> {
  const out: Snapshot = new Map();
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const p = path.join(dir, e.name);
      if (skip.some((s) => p === s || p.startsWith(s + path.sep))) continue;
      const info = await Deno.lstat(p);
      // A folder counts by its entries (its own mtime changes when the output folder appears in it).
      out.set(p, info.isDirectory ? "dir" : `${info.size}:${info.mtime?.getTime()}`);
      if (info.isDirectory) await walk(p);
    }
  };
  await walk(root);
  return out;
}

function changes(before: Snapshot, after: Snapshot): string[] {
  const out: string[] = [];
  for (const [p, v] of after) if (before.get(p) !== v) out.push(p);
  for (const p of before.keys()) if (!after.has(p)) out.push(`${p} (removed)`);
  return out;
}

/** Ids and paths meant to escape the output folder. */
function hostileRows(
  manifestDir: string,
  media: string,
  base: { video: string; captions: string[] }[],
) {
  const video = (k: number) => path.join(media, base[k % base.length].video);
  const ids = [
    "../../x",
    "/tmp/vatt-evil-id",
    "..",
    ".",
    "a/b/c",
    "CON",
    "x\\..\\..\\y",
    " ../ ",
    "%2e%2e%2fx",
  ];
  return ids.map((id, k) => ({
    id,
    // Alternately absolute, and relative with `..` components climbing out of the manifest's folder.
    video: k % 2 === 0 ? video(k) : path.relative(manifestDir, video(k)),
    captions: base[k % base.length].captions,
    label: id,
  }));
}

/**
 * Runs tokenize and pretrain under the narrowed flags, a control run that
 * must be refused, and a hostile manifest with and without the sandbox.
 *
 * @example
 * ```ts
 * import { leastPrivilege } from "./_least_privilege.ts";
 * const report = await leastPrivilege();
 * console.assert(report.problems.length === 0);
 * ```
 */
export async function leastPrivilege(): Promise<LeastPrivilegeReport> {
  const seeds = await robustnessSeeds();
  const root = await Deno.makeTempDir({ prefix: "vatt-least-privilege-" });
  const report: LeastPrivilegeReport = {
    flags: {},
    runs: 0,
    hostileRows: 0,
    writtenOutside: [],
    problems: [],
  };
  const ffmpeg = ffmpegPath();
  try {
    // 1. tokenize, then pretrain, with exactly the flags the README gives.
    const data = path.join(root, "data");
    const tokenizeFlags = narrowFlags({ read: [seeds.media, data], write: [data], run: [ffmpeg] });
    report.flags.tokenize = tokenizeFlags;
    const t = await runVatt(
      ["tokenize", seeds.manifests[0], "--out", data, "--preset", "tiny", "--clips-per-shard", "4"],
      { flags: tokenizeFlags },
    );
    report.runs++;
    if (t.code !== 0) {
      report.problems.push(`tokenize under narrowed flags failed: ${lastLine(t.stderr)}`);
    }
    const run = path.join(root, "run");
    const pretrainFlags = narrowFlags({ read: [data, run], write: [run] });
    report.flags.pretrain = pretrainFlags;
    const args = [
      "pretrain",
      data,
      "--out",
      run,
      "--steps",
      "2",
      "--batch",
      "2",
      "--backend",
      "wasm",
    ];
    const p = await runVatt(args, { flags: pretrainFlags });
    report.runs++;
    if (p.code !== 0) {
      report.problems.push(`pretrain under narrowed flags failed: ${lastLine(p.stderr)}`);
    }
    // With the optional native BLAS: FFI for that one library only.
    try {
      await Deno.stat(OPENBLAS);
      const blasFlags = narrowFlags({
        read: [data, `${run}-blas`],
        write: [`${run}-blas`],
        ffi: OPENBLAS,
      });
      report.flags["pretrain (with OpenBLAS: VATT_BLAS_LIB set to the library)"] = blasFlags;
      const b = await runVatt([
        "pretrain",
        data,
        "--out",
        `${run}-blas`,
        "--steps",
        "2",
        "--batch",
        "2",
        "--backend",
        "wasm",
      ], {
        flags: blasFlags,
        env: { VATT_BLAS_LIB: OPENBLAS },
      });
      report.runs++;
      if (b.code !== 0) {
        report.problems.push(`pretrain with --allow-ffi=${OPENBLAS} failed: ${lastLine(b.stderr)}`);
      }
    } catch {
      // no OpenBLAS here: nothing to check
    }
    // 2. The control: the same flags must refuse a write elsewhere.
    const elsewhere = path.join(root, "elsewhere");
    const c = await runVatt([
      "pretrain",
      data,
      "--out",
      elsewhere,
      "--steps",
      "2",
      "--batch",
      "2",
      "--backend",
      "wasm",
    ], {
      flags: pretrainFlags,
    });
    if (c.code === 0 || !/Requires (read|write) access/.test(c.stderr)) {
      report.problems.push(
        `a run writing outside --allow-write was not refused: ${lastLine(c.stderr)}`,
      );
    }
    // 3. Hostile ids and paths: nothing may appear outside the output folder, sandboxed or not.
    const hostile = path.join(root, "hostile");
    await Deno.mkdir(path.join(root, "x"), { recursive: true });
    await Deno.mkdir(hostile);
    const base = (await Deno.readTextFile(seeds.manifests[0])).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    const rows = hostileRows(hostile, seeds.media, base);
    report.hostileRows = rows.length;
    await Deno.writeTextFile(
      path.join(hostile, "manifest.jsonl"),
      rows.map((r) => JSON.stringify(r)).join("\n") + "\n",
    );
    const sandboxed = narrowFlags({
      read: [seeds.media, hostile],
      write: [path.join(hostile, "out0")],
      run: [ffmpeg],
    });
    for (const [k, flags] of [sandboxed, ["-A"]].entries()) {
      const out = path.join(hostile, `out${k}`);
      const skip = [out, run, `${run}-blas`];
      // Where the ids would land if they were used as paths (relative to the output and manifest folders).
      const traps = [
        ...rows.map((r) => path.resolve(out, r.id)),
        ...rows.map((r) => path.resolve(hostile, r.id)),
        ...rows.map((r) => path.resolve(out, "..", r.id)),
      ].filter((p) => !skip.some((s) => p === s || p.startsWith(s + path.sep)));
      const state = async () => [
        ...(await snapshot(root, skip)),
        ...await Promise.all(traps.map(async (p) =>
          [
            p,
            await Deno.lstat(p).then(
              (i) => i.isDirectory ? "dir" : `${i.size}:${i.mtime?.getTime()}`,
              () => "absent",
            ),
          ] as [string, string]
        )),
      ];
      const before = new Map(await state());
      const h = await runVatt(
        [
          "tokenize",
          path.join(hostile, "manifest.jsonl"),
          "--out",
          out,
          "--preset",
          "tiny",
          "--clips-per-shard",
          "4",
        ],
        { flags },
      );
      report.runs++;
      if (h.code !== 0) {
        report.problems.push(`tokenize of the hostile manifest failed: ${lastLine(h.stderr)}`);
      }
      report.writtenOutside.push(...changes(before, new Map(await state())));
      if (h.code === 0) {
        const index = JSON.parse(await Deno.readTextFile(path.join(out, "index.json")));
        if (index.clips !== rows.length) {
          report.problems.push(`${index.clips} of ${rows.length} hostile rows stored`);
        }
      }
    }
    if (report.writtenOutside.length > 0) {
      report.problems.push(
        `written outside the output folder: ${report.writtenOutside.slice(0, 5).join(", ")}`,
      );
    }
  } finally {
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
  return report;
}

/** The report in a few lines. */
export function formatLeastPrivilege(r: LeastPrivilegeReport): string {
  return [
    `least privilege: ${r.runs} runs under narrowed flags, ${r.hostileRows} hostile manifest rows, ` +
    `${r.writtenOutside.length} files written outside the output folder, ${r.problems.length} problems`,
    ...Object.entries(r.flags).map(([cmd, flags]) => `  ${cmd}: ${flags.join(" ")}`),
    ...r.problems.map((p) => `  PROBLEM ${p}`),
  ].join("\n");
}
