/**
 * `deno task demo`: the main job, end to end through the `vatt` CLI.
 *
 * 1. `vatt demo-data` makes a training set (seed 0) and a held-out test set
 *    (seed 1) of generated clips;
 * 2. `vatt tokenize` both at the tiny preset's settings (the test set reuses
 *    the training vocabulary);
 * 3. `vatt pretrain` the tiny preset on the training set;
 * 4. `vatt eval retrieval` zero-shot on the test set: text→video and
 *    audio→video;
 * 5. `vatt finetune --linear-probe` on the training set's frozen features
 *    (video and audio), `vatt eval classify` on the test set;
 * 6. `vatt export` the test set's video and audio embeddings (parquet) and
 *    `vatt plot` them, and the training curves;
 * and prints a table of the results next to chance level.
 *
 * Flags: `--out DIR` (default `demo-output`; reused when it holds a previous
 * demo, which is then replaced), `--clips N` (96), `--test-clips N` (48),
 * `--steps N` (300), `--batch N` (16), `--backend NAME` (auto), `--json FILE`,
 * `--help`. The flags are checked before the output folder is touched.
 *
 * @module
 */
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { blasAdvice, blasStatus } from "../lib/backend/blas.ts";

const MAIN = fileURLToPath(new URL("../cli/main.ts", import.meta.url));

const USAGE = "usage: deno task demo [--out DIR] [--clips N] [--test-clips N] [--steps N] " +
  "[--batch N] [--probe-epochs N] [--backend auto|cpu|wasm|webgpu|tensorflow] [--json FILE]";
const INTEGER_FLAGS = ["clips", "test-clips", "steps", "batch", "probe-epochs"] as const;
const BACKENDS = ["auto", "cpu", "wasm", "webgpu", "tensorflow"];

/** The flags, checked before anything is touched: a mistake is one line and exit 2. */
function parseFlags() {
  let parsed;
  try {
    parsed = parseArgs({
      args: Deno.args,
      options: {
        help: { type: "boolean", short: "h" },
        out: { type: "string", default: "demo-output" },
        clips: { type: "string", default: "96" },
        "test-clips": { type: "string", default: "48" },
        steps: { type: "string", default: "300" },
        batch: { type: "string", default: "16" },
        "probe-epochs": { type: "string", default: "40" },
        backend: { type: "string", default: "auto" },
        json: { type: "string" },
      },
    });
  } catch (e) {
    fail(`${(e as Error).message.split("\n")[0]} (deno task demo --help lists the flags)`);
  }
  const { values } = parsed;
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  for (const name of INTEGER_FLAGS) {
    const text = values[name]!;
    const min = name === "batch" ? 2 : 1;
    if (!/^\d+$/.test(text) || Number(text) < min) {
      fail(`--${name} must be an integer of at least ${min}, got ${JSON.stringify(text)}`);
    }
  }
  if (!BACKENDS.includes(values.backend!)) {
    fail(`--backend must be one of ${BACKENDS.join(", ")}, got ${JSON.stringify(values.backend)}`);
  }
  return values;
}

function fail(message: string): never {
  console.error(`demo: ${message}`);
  Deno.exit(2);
}

const flags = parseFlags();
const slow = ["auto", "wasm"].includes(flags.backend!)
  ? blasAdvice(blasStatus(), Deno.build.os)
  : null;
if (slow) console.error(slow);
const out = path.resolve(flags.out!);
const started = performance.now();

async function vatt(args: string[], options: { capture?: boolean } = {}): Promise<string> {
  const t0 = performance.now();
  console.error(`\n$ vatt ${args.join(" ")}`);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdout: "piped",
    stderr: options.capture ? "piped" : "inherit",
  }).spawn();
  const result = await child.output();
  const stdout = new TextDecoder().decode(result.stdout);
  if (!result.success) {
    const err = options.capture ? new TextDecoder().decode(result.stderr) : "";
    throw new Error(
      `vatt ${args[0]} failed (exit ${result.code}) ${err.trim().split("\n").pop() ?? ""}`,
    );
  }
  if (!options.capture || !args.includes("--json")) {
    Deno.stderr.writeSync(new TextEncoder().encode(stdout));
  }
  console.error(`  (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  return stdout;
}

function lastJson(text: string): Record<string, unknown> {
  const start = text.indexOf("{");
  if (start < 0) throw new Error(`no JSON in output: ${text.slice(0, 200)}`);
  return JSON.parse(text.slice(start));
}

// A previous demo's folder is replaced; anything else is refused.
try {
  const entries = [...Deno.readDirSync(out)].map((e) => e.name);
  if (entries.length > 0 && !entries.includes(".vatt-demo")) {
    console.error(`demo: ${out} exists and is not a demo folder; choose another --out`);
    Deno.exit(2);
  }
  Deno.removeSync(out, { recursive: true });
} catch (e) {
  if (!(e instanceof Deno.errors.NotFound)) throw e;
}
Deno.mkdirSync(out, { recursive: true });
Deno.writeTextFileSync(path.join(out, ".vatt-demo"), "made by deno task demo\n");

const p = (name: string) => path.join(out, name);
const backend = ["--backend", flags.backend!];
await vatt(["demo-data", p("media-train"), "--clips", flags.clips!, "--seed", "0"]);
await vatt(["demo-data", p("media-test"), "--clips", flags["test-clips"]!, "--seed", "1"]);
await vatt([
  "tokenize",
  p("media-train/manifest.jsonl"),
  "--out",
  p("data-train"),
  "--preset",
  "tiny",
]);
await vatt([
  "tokenize",
  p("media-test/manifest.jsonl"),
  "--out",
  p("data-test"),
  "--preset",
  "tiny",
  "--vocab",
  p("data-train/vocab.txt"),
]);
await vatt([
  "pretrain",
  p("data-train"),
  "--out",
  p("run"),
  "--preset",
  "tiny",
  "--steps",
  flags.steps!,
  "--batch",
  flags.batch!,
  "--lr",
  "1e-3",
  "--final-lr",
  "1e-4",
  "--checkpoint-every",
  "100",
  ...backend,
]);
const retrieval: Record<string, Record<string, unknown>> = {};
for (const pair of ["text-video", "audio-video"]) {
  retrieval[pair] = lastJson(
    await vatt([
      "eval",
      "retrieval",
      p("data-test"),
      "--from",
      p("run"),
      "--pair",
      pair,
      "--json",
      ...backend,
    ], { capture: true }),
  );
}
const probes: Record<string, Record<string, unknown>> = {};
for (const modality of ["video", "audio"]) {
  await vatt([
    "finetune",
    p("data-train"),
    "--from",
    p("run"),
    "--out",
    p(`probe-${modality}`),
    "--modality",
    modality,
    "--linear-probe",
    "--epochs",
    flags["probe-epochs"]!,
    "--val",
    p("data-test"),
    ...backend,
  ]);
  probes[modality] = lastJson(
    await vatt([
      "eval",
      "classify",
      p("data-test"),
      "--from",
      p(`probe-${modality}`),
      "--json",
      ...backend,
    ], { capture: true }),
  );
}
await vatt([
  "export",
  p("data-test"),
  "--from",
  p("run"),
  "--out",
  p("embeddings.parquet"),
  "--space",
  "va",
  "--modalities",
  "video,audio",
  ...backend,
]);
await vatt([
  "plot",
  p("embeddings.parquet"),
  "--out",
  p("embeddings.png"),
  "--color-by",
  "modality",
]);
await vatt([
  "plot",
  p("embeddings.parquet"),
  "--out",
  p("embeddings-by-label.png"),
  "--color-by",
  "label",
  "--data",
  p("data-test"),
]);
await vatt(["plot", p("run"), "--metrics", "--out", p("training.png")]);

const pct = (x: unknown) => `${(100 * Number(x)).toFixed(1)}%`;
const rows: string[][] = [["result (held-out test set)", "value", "chance"]];
for (const [pair, r] of Object.entries(retrieval)) {
  const recall = r.recallAtK as Record<string, number>;
  const chance = r.chance as { recallAtK: Record<string, number>; medianRank: number };
  for (const k of ["1", "5", "10"]) {
    rows.push([`${pair} R@${k}`, pct(recall[k]), pct(chance.recallAtK[k])]);
  }
  rows.push([
    `${pair} median rank (of ${r.candidates})`,
    String(r.medianRank),
    String(chance.medianRank),
  ]);
}
for (const [modality, r] of Object.entries(probes)) {
  const top1 = (r.top1 ?? (r.metrics as Record<string, unknown> | undefined)?.top1) as number;
  const chance = (r.chance as Record<string, number> | undefined)?.top1 ?? 1 / 8;
  rows.push([`linear probe top-1 (${modality})`, pct(top1), pct(chance)]);
}
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
const table = rows.map((r, i) => {
  const line = r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
    .join("   ");
  return i === 0 ? `${line}\n${widths.map((w) => "-".repeat(w)).join("   ")}` : line;
}).join("\n");
const seconds = (performance.now() - started) / 1000;
console.log(
  `\n${table}\n\nfiles in ${out}: embeddings.parquet, embeddings.png, embeddings-by-label.png, training.png`,
);
console.log(`demo finished in ${seconds.toFixed(0)} s`);
if (flags.json) {
  await Deno.writeTextFile(
    flags.json,
    JSON.stringify({ retrieval, probes, seconds }, null, 2) + "\n",
  );
}
