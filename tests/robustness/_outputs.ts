/**
 * Hostile output paths (issue 18, data lost): every command that writes, given
 * an `--out` that aliases one of its inputs through a symlink, a FIFO or a
 * device, a run folder a live run holds (under the narrowed flags: no `/proc`
 * read), or a folder with files of its own. Each case must end in bounded
 * time, and every protected file must be byte-identical (and every special
 * file still special) afterwards.
 *
 * @module
 */
import * as path from "node:path";
import { startAtomicWriter } from "../_atomic_writer.ts";
import { startLockHolder, stopLockHolder } from "../_lock_holder.ts";
import { sliceLockName } from "../../lib/run/lock.ts";
import { runVatt } from "./_cli.ts";
import { narrowFlags } from "./_least_privilege.ts";
import { robustnessSeeds } from "./_seeds.ts";

/** One hostile output case and how it ended. */
export interface OutputCase {
  name: string;
  /** Ended by itself within the limit. */
  bounded: boolean;
  /** Non-zero exit with one `vatt:` line (or, where it is allowed, a correct run). */
  clean: boolean;
  /** Protected files changed, or a special file replaced. */
  lost: string[];
  /** The `vatt:` line, if any. */
  message: string;
}

/** What {@linkcode hostileOutputs} found. */
export interface OutputsReport {
  cases: OutputCase[];
  problems: string[];
}

const LIMIT_MS = 120_000;

/** Path → SHA-256 (or the kind of a special file) of everything under `root`. */
async function fingerprint(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (p: string) => {
    const info = await Deno.lstat(p);
    if (info.isDirectory) {
      for await (const e of Deno.readDir(p)) await walk(path.join(p, e.name));
    } else if (info.isFile) {
      const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(p));
      out.set(p, Array.from(new Uint8Array(digest), (b) => b.toString(16)).join(""));
    } else {
      out.set(p, info.isFifo ? "fifo" : info.isCharDevice ? "chr" : info.isSymlink ? "link" : "?");
    }
  };
  await walk(root);
  return out;
}

function differences(before: Map<string, string>, after: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [p, v] of before) {
    if (!after.has(p)) out.push(`${p} removed`);
    else if (after.get(p) !== v) out.push(`${p} changed`);
  }
  return out;
}

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    const a = path.join(from, e.name);
    const b = path.join(to, e.name);
    if (e.isDirectory) await copyTree(a, b);
    else await Deno.copyFile(a, b);
  }
}

async function special(p: string, kind: "fifo" | "chr"): Promise<boolean> {
  const args = kind === "fifo" ? [p] : [p, "c", "1", "3"];
  const cmd = kind === "fifo" ? "mkfifo" : "mknod";
  return await new Deno.Command(cmd, { args, stderr: "null" }).output().then(
    (r) => r.success,
    () => false,
  );
}

/** Runs one case: `args` must fail cleanly (or succeed, `mayPass`) and leave `protect` as it was. */
async function runCase(
  name: string,
  args: string[],
  protect: string[],
  options: { flags?: string[]; mayPass?: boolean } = {},
): Promise<OutputCase> {
  const before = new Map<string, string>();
  for (const p of protect) for (const [k, v] of await fingerprint(p)) before.set(k, v);
  const r = await runVatt(args, { flags: options.flags, killAfterMs: LIMIT_MS });
  const after = new Map<string, string>();
  for (const p of protect) {
    for (const [k, v] of await fingerprint(p).catch(() => new Map())) after.set(k, v);
  }
  const lines = r.stderr.split("\n").filter((l) => l.startsWith("vatt: "));
  const refused = r.code !== undefined && r.code !== 0 && lines.length === 1 &&
    !/\n\s+at /.test(r.stderr);
  return {
    name,
    bounded: !r.killed,
    clean: refused || (options.mayPass === true && r.code === 0),
    lost: differences(before, after),
    message: lines[0] ?? "",
  };
}

/**
 * Runs every hostile output case in a fresh folder under `root`.
 *
 * @example
 * ```ts
 * import { hostileOutputs } from "./_outputs.ts";
 * const dir = await Deno.makeTempDir();
 * const report = await hostileOutputs(dir);
 * console.assert(report.problems.length === 0);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function hostileOutputs(root: string): Promise<OutputsReport> {
  const seeds = await robustnessSeeds();
  const run = path.join(root, "run");
  const data = path.join(root, "data");
  const media = path.join(root, "media");
  await copyTree(seeds.run, run);
  await copyTree(seeds.data, data);
  await copyTree(seeds.media, media);
  const links = path.join(root, "links");
  await Deno.mkdir(links);
  await Deno.symlink(run, path.join(links, "run-alias"));
  await Deno.symlink(root, path.join(links, "root-alias"));
  await Deno.symlink(data, path.join(links, "data-alias"));
  const fifo = path.join(root, "n.jsonl");
  await special(fifo, "fifo");
  await Deno.symlink(fifo, path.join(links, "fifo-link.npy"));
  const dev = path.join(root, "dev.jsonl");
  const haveDev = await special(dev, "chr");
  const fifoSvg = path.join(root, "map.svg");
  await special(fifoSvg, "fifo");
  const specials = [fifo, fifoSvg, ...(haveDev ? [dev] : [])];
  const from = ["--from", run];
  const wasm = ["--backend", "wasm"];
  const cases: OutputCase[] = [];
  const add = async (c: Promise<OutputCase>) => cases.push(await c);

  for (const out of [path.join(links, "run-alias"), path.join(links, "root-alias", "run")]) {
    await add(runCase(`finetune --out ${path.basename(out)} (alias of --from) --force`, [
      "finetune",
      data,
      ...from,
      "--out",
      out,
      "--modality",
      "audio",
      "--linear-probe",
      "--force",
      ...wasm,
    ], [run, data]));
  }
  await add(runCase("finetune --out (a folder holding --from) --force", [
    "finetune",
    data,
    ...from,
    "--out",
    path.join(links, "root-alias"),
    "--force",
  ], [run, data]));
  await add(runCase("pretrain --out (alias of DATA) --force", [
    "pretrain",
    data,
    "--out",
    path.join(links, "data-alias"),
    "--force",
    ...wasm,
  ], [data]));
  for (const out of [fifo, ...(haveDev ? [dev] : []), path.join(links, "fifo-link.npy")]) {
    await add(runCase(`export --out ${path.basename(out)} (special) --force`, [
      "export",
      data,
      ...from,
      "--out",
      out,
      "--format",
      out.endsWith(".npy") ? "npy" : "jsonl",
      "--force",
      ...wasm,
    ], specials));
  }
  await add(runCase("export --out DATA/index.json --force", [
    "export",
    data,
    ...from,
    "--out",
    path.join(data, "index.json"),
    "--format",
    "jsonl",
    "--force",
  ], [data]));
  await add(runCase("plot RUN --metrics --out FIFO --force", [
    "plot",
    run,
    "--metrics",
    "--out",
    fifoSvg,
    "--force",
  ], specials));
  await add(runCase("tokenize MANIFEST --out (its folder) --force", [
    "tokenize",
    path.join(media, "manifest.jsonl"),
    "--out",
    media,
    "--force",
  ], [media]));
  await add(runCase("demo-data FIFO --force", ["demo-data", fifo, "--force"], specials));
  await lockedRunCases(root, data, add);
  await staleTempCases(root, data, run, add);
  await lockedSliceCase(root, media, add);
  await demoDataKeepsFiles(root, add);
  const problems = cases.flatMap((c) => [
    ...(c.bounded ? [] : [`${c.name}: hung (killed after ${LIMIT_MS / 1000} s)`]),
    ...(c.clean ? [] : [`${c.name}: no clean one-line refusal`]),
    ...c.lost.map((l) => `${c.name}: data lost: ${l}`),
  ]);
  return { cases, problems };
}

/** pretrain --force / --resume on a folder a live run holds, under the narrowed flags. */
async function lockedRunCases(
  root: string,
  data: string,
  add: (c: Promise<OutputCase>) => Promise<unknown>,
): Promise<void> {
  const live = path.join(root, "live-run");
  await Deno.mkdir(live);
  await Deno.writeTextFile(path.join(live, "config.json"), '{"kind":"pretrain"}\n');
  await Deno.writeTextFile(path.join(live, "metrics.jsonl"), '{"step":1}\n');
  const holder = await startLockHolder(live);
  try {
    // Its temporary checkpoint, being written: stale-temp clean-up must not take it.
    await Deno.mkdir(path.join(live, `.step-0000002.tmp-${holder.pid}-0123456789ab`));
    const flags = narrowFlags({ read: [data, live], write: [live] });
    for (const mode of ["--force", "--resume"]) {
      await add(runCase(
        `pretrain ${mode} on a live run's folder (no /proc)`,
        [
          "pretrain",
          data,
          "--out",
          live,
          mode,
          "--steps",
          "2",
          "--batch",
          "4",
          "--backend",
          "wasm",
        ],
        [live],
        { flags },
      ));
    }
  } finally {
    await stopLockHolder(holder, true);
  }
}

/**
 * `export --out e.jsonl` after a killed export left `.e.jsonl.tmp-…` (it is
 * cleaned), and while another live process writes `e.jsonl` (its temporary
 * file is kept), both under the narrowed flags (no `/proc`).
 */
async function staleTempCases(
  root: string,
  data: string,
  run: string,
  add: (c: Promise<OutputCase>) => Promise<unknown>,
): Promise<void> {
  const dir = path.join(root, "exports");
  await Deno.mkdir(dir);
  const out = path.join(dir, "e.jsonl");
  const flags = narrowFlags({ read: [data, run, dir], write: [dir] });
  const args = [
    "export",
    data,
    "--from",
    run,
    "--out",
    out,
    "--format",
    "jsonl",
    "--force",
    "--backend",
    "wasm",
  ];
  const old = new Date(Date.now() - 600_000);
  const dead = path.join(dir, ".e.jsonl.tmp-999999-0123456789ab");
  await Deno.writeTextFile(dead, "half an export");
  await Deno.utime(dead, old, old);
  const cleaned = await runCase("export after a killed export (no /proc)", args, [], {
    flags,
    mayPass: true,
  });
  const left = await Deno.lstat(dead).then(() => true, () => false);
  await add(Promise.resolve(left ? { ...cleaned, clean: false } : cleaned));
  const { child, tempPath } = await startAtomicWriter(out);
  try {
    await Deno.utime(tempPath, old, old);
    await add(runCase("export while another process writes the same file (no /proc)", args, [
      tempPath,
    ], { flags, mayPass: true }));
  } finally {
    child.kill("SIGKILL");
    await child.stdin.close().catch(() => {});
    await child.status;
  }
}

/** A second `tokenize` of a slice another live process is writing. */
async function lockedSliceCase(
  root: string,
  media: string,
  add: (c: Promise<OutputCase>) => Promise<unknown>,
): Promise<void> {
  const out = path.join(root, "sliced");
  await Deno.mkdir(out);
  await Deno.writeTextFile(path.join(out, "index.slice-00000-of-00002.json"), "{}\n");
  const holder = await startLockHolder(out, sliceLockName(0, 2));
  try {
    await add(runCase("tokenize of a slice a live run writes", [
      "tokenize",
      path.join(media, "manifest.jsonl"),
      "--out",
      out,
      "--shard-index",
      "0",
      "--num-shards",
      "2",
      "--force",
    ], [out]));
  } finally {
    await stopLockHolder(holder, true);
  }
}

/** demo-data OUT --force with a file of the user's in OUT. */
async function demoDataKeepsFiles(
  root: string,
  add: (c: Promise<OutputCase>) => Promise<unknown>,
): Promise<void> {
  const out = path.join(root, "demo");
  await Deno.mkdir(path.join(out, "video"), { recursive: true });
  await Deno.writeTextFile(path.join(out, "notes.txt"), "mine");
  await Deno.writeTextFile(path.join(out, "video", "holiday.mp4"), "mine too");
  await add(runCase(
    "demo-data OUT --force (OUT holds the user's files)",
    [
      "demo-data",
      out,
      "--clips",
      "1",
      "--force",
      "--quiet",
    ],
    [path.join(out, "notes.txt"), path.join(out, "video", "holiday.mp4")],
    { mayPass: true },
  ));
}

/** The report in a few lines. */
export function formatOutputs(report: OutputsReport): string {
  const n = report.cases.length;
  const clean = report.cases.filter((c) => c.clean && c.bounded && c.lost.length === 0).length;
  const hangs = report.cases.filter((c) => !c.bounded).length;
  const lost = report.cases.filter((c) => c.lost.length > 0).length;
  return [
    `hostile outputs: ${n} cases tried, ${clean} clean, ${hangs} hung, ${lost} lost data`,
    ...report.problems.map((p) => `  PROBLEM ${p}`),
  ].join("\n");
}
