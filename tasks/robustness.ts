/**
 * `deno task robustness [--full] [--seed N] [--only fuzz,torture,write,privilege,outputs,inputs] [--targets a,b]
 * [--kills N] [--markdown FILE]`: the reliability suite of `tests/robustness/`.
 *
 * 1. Fuzzing: every reader (safetensors, npy, JSON Lines, Parquet,
 *    `index.json`, dataset folders, resumed tokenize runs, manifests,
 *    `vocab.txt`, `tokenizer.json`, checkpoints, WAV, the audio decoders,
 *    video through ffmpeg) gets generated and mutated inputs; each must end
 *    in a correct result or a clean typed error, within its time limit,
 *    without allocating from an untrusted size.
 * 2. Torture: `vatt tokenize` and `vatt pretrain` killed with SIGKILL at
 *    random moments and restarted; nothing partial, nothing lost, the end
 *    identical to an uninterrupted run. Plus a kill during checkpoint pruning.
 * 3. Write failures: a full disk and lost write permission mid-run.
 * 4. Least privilege: the CLI under narrowed Deno permissions, and hostile
 *    manifest ids and paths.
 * 5. Hostile outputs: `--out` aliasing an input through symlinks, FIFOs and
 *    devices as `--out`, a live run's locked folder, `demo-data --force` over
 *    the user's files; nothing lost, nothing hung.
 *
 * Without `--full` the counts are reduced (a few minutes); `--full` runs
 * thousands of fuzz cases and at least 20 kills of each command. Prints the
 * figures and exits 1 if anything crashed, hung or was lost.
 *
 * @module
 */
import * as path from "node:path";
import { formatFuzzReport, type FuzzReport, runFuzz } from "../tests/robustness/_fuzz.ts";
import {
  formatLeastPrivilege,
  leastPrivilege,
  type LeastPrivilegeReport,
} from "../tests/robustness/_least_privilege.ts";
import { makeReferences } from "../tests/robustness/_references.ts";
import { formatOutputs, hostileOutputs, type OutputsReport } from "../tests/robustness/_outputs.ts";
import { formatInputs, hostileInputs, type InputsReport } from "../tests/robustness/_inputs.ts";
import {
  formatTortureReport,
  tortureCheckpointPrune,
  torturePretrain,
  type TortureReport,
  tortureTokenize,
} from "../tests/robustness/_torture.ts";
import {
  diskFullPretrain,
  diskFullTokenize,
  formatWriteFailures,
  permissionLostPretrain,
  permissionLostTokenize,
  type WriteFailureReport,
} from "../tests/robustness/_write_failures.ts";

function flag(name: string): string | undefined {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1] : undefined;
}

const full = Deno.args.includes("--full");
const seed = Number(flag("--seed") ?? 1);
const only = new Set((flag("--only") ?? "fuzz,torture,write,privilege,outputs,inputs").split(","));
const kills = Number(flag("--kills") ?? (full ? 20 : 3));
const steps = full ? 16 : 8;
const markdown = flag("--markdown");
if (!Number.isSafeInteger(seed) || !Number.isSafeInteger(kills) || kills < 0) {
  console.error("robustness: --seed and --kills take integers");
  Deno.exit(2);
}

const started = performance.now();
const say = (line: string) => console.log(line);
let fuzz: FuzzReport | undefined;
const tortures: TortureReport[] = [];
let pruneProblems: string[] = [];
const writes: WriteFailureReport[] = [];
let privilege: LeastPrivilegeReport | undefined;
let outputs: OutputsReport | undefined;
let inputs: InputsReport | undefined;

if (only.has("fuzz")) {
  say(`== fuzzing (${full ? "full" : "reduced"} counts, seed ${seed})`);
  fuzz = await runFuzz({
    level: full ? "full" : "reduced",
    seed,
    targets: flag("--targets")?.split(","),
    onTarget: (t) =>
      say(
        `  ${t.name}: ${t.tried} inputs, ${t.ok} correct, ${t.clean} clean errors, ` +
          `${t.crashed} crashed, ${t.hangs} hung (${(t.ms / 1000).toFixed(1)} s)`,
      ),
  });
  say(formatFuzzReport(fuzz));
}

const root = await Deno.makeTempDir({ prefix: "vatt-robustness-" });
try {
  if (only.has("torture") || only.has("write")) {
    say(`\n== reference runs (pretrain ${steps} steps, tokenize 8 clips)`);
    const refs = await makeReferences(root, steps);
    if (only.has("torture")) {
      say(`\n== torture: ${kills} SIGKILLs of each command`);
      const log = (line: string) => say(`  ${line}`);
      tortures.push(await tortureTokenize(refs, { kills, seed, log }));
      say(formatTortureReport(tortures[tortures.length - 1]));
      tortures.push(await torturePretrain(refs, { kills, seed: seed + 1, log }));
      say(formatTortureReport(tortures[tortures.length - 1]));
      pruneProblems = await tortureCheckpointPrune();
      say(
        `torture prune: a kill while an old checkpoint is deleted: ${
          pruneProblems.length === 0 ? "ok" : pruneProblems.join("; ")
        }`,
      );
    }
    if (only.has("write")) {
      say("\n== write failures");
      writes.push(await diskFullTokenize(root, refs));
      writes.push(await permissionLostTokenize(root, refs));
      writes.push(await diskFullPretrain(root, refs));
      writes.push(await permissionLostPretrain(root, refs));
      say(formatWriteFailures(writes));
    }
  }
  if (only.has("privilege")) {
    say("\n== least privilege");
    privilege = await leastPrivilege();
    say(formatLeastPrivilege(privilege));
  }
  if (only.has("outputs")) {
    say("\n== hostile outputs");
    const dir = path.join(root, "outputs");
    await Deno.mkdir(dir);
    outputs = await hostileOutputs(await Deno.realPath(dir));
    say(formatOutputs(outputs));
  }
  if (only.has("inputs")) {
    say("\n== hostile inputs (FIFOs and devices given to every reader)");
    const dir = path.join(root, "inputs");
    await Deno.mkdir(dir);
    inputs = await hostileInputs(await Deno.realPath(dir));
    say(formatInputs(inputs));
  }
} finally {
  await Deno.remove(root, { recursive: true }).catch(() => {});
}

const killsSurvived = tortures.reduce((s, t) => s + t.kills, 0);
const problems = [
  ...(fuzz && fuzz.crashed > 0 ? [`${fuzz.crashed} fuzz inputs crashed or hung`] : []),
  ...tortures.flatMap((t) => t.problems),
  ...pruneProblems,
  ...writes.flatMap((w) => w.problems),
  ...(privilege?.problems ?? []),
  ...(outputs?.problems ?? []),
  ...(inputs?.problems ?? []),
];
const minutes = ((performance.now() - started) / 60000).toFixed(1);
const summary = [
  fuzz
    ? `${fuzz.tried} inputs tried, ${fuzz.clean} clean errors, ${fuzz.ok} correct results, ${fuzz.crashed} crashes`
    : "",
  tortures.length
    ? `${killsSurvived} kills survived (${
      tortures.map((t) => `${t.command} ${t.kills}`).join(", ")
    })`
    : "",
  writes.length
    ? `${
      writes.filter((w) => w.problems.length === 0).length
    }/${writes.length} write failures handled`
    : "",
  privilege ? `least privilege ${privilege.problems.length === 0 ? "ok" : "FAILED"}` : "",
  outputs
    ? `${outputs.cases.length} hostile outputs, ${
      outputs.cases.filter((c) => c.lost.length > 0).length
    } lost data, ${outputs.cases.filter((c) => !c.bounded).length} hung`
    : "",
  inputs
    ? `${inputs.cases.length} hostile inputs, ${
      inputs.cases.filter((c) => !c.bounded).length
    } hung, ${inputs.cases.filter((c) => c.bounded && !c.clean).length} not clean`
    : "",
  `data lost: ${problems.length === 0 ? 0 : "see problems"}`,
].filter(Boolean).join("; ");
say(`\n${problems.length === 0 ? "OK" : "FAILED"}: ${summary} (${minutes} min)`);
for (const p of problems) say(`  PROBLEM ${p}`);

if (markdown) {
  const lines = [
    `Last ${full ? "full" : "reduced"} run (\`deno task robustness${
      full ? " --full" : ""
    }\`, seed ${seed}, ${minutes} min, ${new Date().toISOString().slice(0, 10)}):`,
    "",
    ...(fuzz
      ? [
        `- fuzzing: ${fuzz.tried} inputs tried, ${fuzz.clean} clean errors, ${fuzz.ok} correct results, ` +
        `${fuzz.crashed} crashes or hangs`,
        "",
        "  | reader | inputs | correct | clean errors | crashes/hangs |",
        "  | --- | --- | --- | --- | --- |",
        ...fuzz.targets.map((t) =>
          `  | ${t.name} | ${t.tried} | ${t.ok} | ${t.clean} | ${t.crashed + t.hangs} |`
        ),
        "",
      ]
      : []),
    ...tortures.map((t) =>
      `- torture, \`vatt ${t.command}\`: ${t.kills} SIGKILLs survived over ${t.rounds} complete run(s), ` +
      `${t.checks} output checks, ${t.problems.length} problems`
    ),
    ...(tortures.length
      ? [`- a kill while a checkpoint is pruned: ${pruneProblems.length === 0 ? "ok" : "FAILED"}`]
      : []),
    ...writes.map((w) =>
      `- ${w.name} (${w.method}): ${
        w.problems.length === 0 ? "ok" : "FAILED"
      }; message: \`${w.message}\``
    ),
    ...(privilege
      ? [
        `- least privilege: ${privilege.runs} runs under narrowed flags, ${privilege.hostileRows} hostile manifest rows, ${privilege.writtenOutside.length} files written outside the output folder`,
      ]
      : []),
    ...(outputs
      ? [
        `- hostile outputs: ${outputs.cases.length} cases (aliased, special and locked --out, ` +
        `demo-data --force), ${outputs.cases.filter((c) => c.lost.length > 0).length} lost data, ` +
        `${outputs.cases.filter((c) => !c.bounded).length} hung`,
      ]
      : []),
    ...(inputs
      ? [
        `- hostile inputs: ${inputs.cases.length} cases (a FIFO, /dev/zero and /dev/urandom given to ` +
        `every reader), ${inputs.cases.filter((c) => !c.bounded).length} hung, ` +
        `${inputs.cases.filter((c) => c.bounded && !c.clean).length} not clean`,
      ]
      : []),
    `- data lost: ${problems.length === 0 ? 0 : "see problems"}`,
  ];
  await Deno.writeTextFile(markdown, lines.join("\n") + "\n");
}
Deno.exit(problems.length === 0 ? 0 : 1);
