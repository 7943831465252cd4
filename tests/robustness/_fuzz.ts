/**
 * Runs the fuzz targets in a worker process with a watchdog: a case that
 * runs past its target's time limit is a hang, the process is killed and a
 * fresh one continues with the next case. Tallies every case (correct result, clean
 * error, crash, hang) per target.
 *
 * @module
 */
import {
  type FuzzJob,
  MESSAGE_MARK,
  type WorkerMessage,
  type WorkerRequest,
} from "./_fuzz_worker.ts";
import { robustnessSeeds, type Seeds } from "./_seeds.ts";
import { targetEntry, TARGETS } from "./_targets.ts";

/** How many cases: the CI share, the default task run, or the full run. */
export type FuzzLevel = "ci" | "reduced" | "full";

/** Options of {@linkcode runFuzz}. */
export interface FuzzOptions {
  /** Case counts per target. */
  level: FuzzLevel;
  /** Only these targets (default all). */
  targets?: string[];
  /** Seed of every generated input (default 1). */
  seed?: number;
  /** Multiplies every count (default 1; not the self-test's). */
  scale?: number;
  /** Called with one line per finished target. */
  onTarget?: (report: TargetReport) => void;
}

/** A case that did not end cleanly. */
export interface Failure {
  index: number;
  input: string;
  outcome: "crash" | "hang";
  label: string;
}

/** What one target's cases gave. */
export interface TargetReport {
  name: string;
  description: string;
  tried: number;
  ok: number;
  clean: number;
  crashed: number;
  hangs: number;
  failures: Failure[];
  /** Clean errors by kind (name and message start). */
  errorKinds: Record<string, number>;
  slowestMs: number;
  /** Largest single allocation requested by a case, bytes. */
  peakBytes: number;
  ms: number;
}

/** The whole run. */
export interface FuzzReport {
  seed: number;
  level: FuzzLevel;
  targets: TargetReport[];
  tried: number;
  ok: number;
  clean: number;
  /** Crashes and hangs together. */
  crashed: number;
  ms: number;
}

function kindOf(label: string): string {
  const short = label.replace(/\/[^\s:"]+/g, "<path>").replace(/\d+/g, "N");
  return short.length > 90 ? `${short.slice(0, 90)}…` : short;
}

/**
 * Runs the fuzz targets and returns the tallies.
 *
 * @example
 * ```ts
 * import { runFuzz } from "./_fuzz.ts";
 * const report = await runFuzz({ level: "ci", targets: ["npy"], scale: 0.25 });
 * console.assert(report.crashed === 0);
 * ```
 */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const seed = options.seed ?? 1;
  const scale = options.scale ?? 1;
  const names = options.targets ?? TARGETS.filter((t) => !t.hidden).map((t) => t.name);
  const jobs: FuzzJob[] = names.map((name) => {
    const entry = targetEntry(name);
    // A target's inputs depend on the seed and its name only, not on which others run.
    const k = TARGETS.indexOf(entry);
    return {
      name,
      seed: seed * 1000 + k,
      count: entry.hidden
        ? entry[options.level]
        : Math.max(1, Math.round(entry[options.level] * scale)),
    };
  });
  const seeds = await robustnessSeeds();
  const scratch = await Deno.makeTempDir({ prefix: "vatt-fuzz-" });
  const started = performance.now();
  const reports: TargetReport[] = jobs.map((j) => ({
    name: j.name,
    description: "",
    tried: 0,
    ok: 0,
    clean: 0,
    crashed: 0,
    hangs: 0,
    failures: [],
    errorKinds: {},
    slowestMs: 0,
    peakBytes: 0,
    ms: 0,
  }));
  const targetStart = new Map<number, number>();
  const finished = new Set<number>();
  const finishTarget = (j: number) => {
    if (finished.has(j)) return;
    finished.add(j);
    reports[j].ms = performance.now() - (targetStart.get(j) ?? performance.now());
    options.onTarget?.(reports[j]);
  };
  try {
    let from = { job: 0, index: 0 };
    let workerNo = 0;
    while (from.job < jobs.length) {
      from = await runWorker({ seeds, scratch: `${scratch}/w${workerNo++}`, jobs, from }, reports, {
        targetStart,
        finishTarget,
      });
    }
  } finally {
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
  const sum = (f: (r: TargetReport) => number) => reports.reduce((s, r) => s + f(r), 0);
  return {
    seed,
    level: options.level,
    targets: reports,
    tried: sum((r) => r.tried),
    ok: sum((r) => r.ok),
    clean: sum((r) => r.clean),
    crashed: sum((r) => r.crashed + r.hangs),
    ms: performance.now() - started,
  };
}

/**
 * Runs one worker process until it ends or is stopped; returns where the
 * next worker starts (`job === jobs.length` when all is done).
 */
function runWorker(
  request: WorkerRequest,
  reports: TargetReport[],
  hooks: { targetStart: Map<number, number>; finishTarget: (job: number) => void },
): Promise<{ job: number; index: number }> {
  return new Promise((resolve) => {
    Deno.mkdirSync(request.scratch, { recursive: true });
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("./_fuzz_worker.ts", import.meta.url).pathname],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let current: { job: number; index: number; input: string } | undefined;
    let last = { job: request.from.job, index: request.from.index - 1 };
    let timer: ReturnType<typeof setTimeout> | undefined;
    let finished = false;
    let stderrTail = "";
    const arm = (ms: number, onFire: () => void) => {
      clearTimeout(timer);
      timer = setTimeout(onFire, ms);
    };
    const stop = (next: { job: number; index: number }) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      try {
        child.kill("SIGKILL");
      } catch {
        // already ended
      }
      child.status.then(() => resolve(next));
    };
    const next = (at: { job: number; index: number }) => {
      const job = request.jobs[at.job];
      if (at.index + 1 < job.count) return { job: at.job, index: at.index + 1 };
      hooks.finishTarget(at.job);
      return { job: at.job + 1, index: 0 };
    };
    const fail = (outcome: "crash" | "hang", label: string) => {
      if (finished) return;
      if (current) {
        const r = reports[current.job];
        r.tried++;
        if (outcome === "hang") r.hangs++;
        else r.crashed++;
        r.failures.push({ index: current.index, input: current.input, outcome, label });
        stop(next(current));
      } else {
        // Failed outside a case (loading a target): count it against the next case, and skip that one.
        const at = next(last);
        const job = Math.min(at.job, reports.length - 1);
        reports[job].crashed++;
        reports[job].failures.push({ index: at.index, input: "(worker)", outcome, label });
        stop(at.job < request.jobs.length ? next(at) : at);
      }
    };
    const onMessage = (m: WorkerMessage) => {
      if (m.type === "start") {
        if (!hooks.targetStart.has(m.job)) hooks.targetStart.set(m.job, performance.now());
        reports[m.job].description = m.description;
        current = { job: m.job, index: m.index, input: m.input };
        arm(m.timeoutMs, () => fail("hang", `no result within ${m.timeoutMs} ms`));
      } else if (m.type === "done") {
        const r = reports[m.job];
        r.tried++;
        if (m.outcome === "ok") r.ok++;
        else if (m.outcome === "clean") {
          r.clean++;
          const kind = kindOf(m.label ?? "");
          r.errorKinds[kind] = (r.errorKinds[kind] ?? 0) + 1;
        } else {
          r.crashed++;
          r.failures.push({
            index: m.index,
            input: m.input,
            outcome: "crash",
            label: m.label ?? "",
          });
        }
        r.slowestMs = Math.max(r.slowestMs, m.ms);
        r.peakBytes = Math.max(r.peakBytes, m.peak);
        last = { job: m.job, index: m.index };
        current = undefined;
        if (m.index + 1 === request.jobs[m.job].count) hooks.finishTarget(m.job);
        arm(
          180_000,
          () => fail("hang", "the fuzz worker did not start the next case within 180 s"),
        );
      } else if (m.type === "late") {
        // Blamed on the case the worker names (the one that ran last), else on the current one.
        const job = m.job ?? current?.job ?? Math.max(0, Math.min(last.job, reports.length - 1));
        reports[job].crashed++;
        reports[job].failures.push({
          index: m.index ?? current?.index ?? last.index,
          input: m.input ?? current?.input ?? "(after a case)",
          outcome: "crash",
          label: m.label,
        });
      } else if (m.type === "end") {
        stop({ job: request.jobs.length, index: 0 });
      }
    };
    // Loading the target modules (tfjs, decoders) may take a while on a busy machine.
    arm(180_000, () => fail("hang", "the fuzz worker did not start a case within 180 s"));
    (async () => {
      let buffer = "";
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          const at = line.indexOf(MESSAGE_MARK);
          if (at >= 0 && !finished) onMessage(JSON.parse(line.slice(at + MESSAGE_MARK.length)));
        }
      }
    })().catch(() => {});
    (async () => {
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
        stderrTail = (stderrTail + chunk).slice(-2000);
      }
    })().catch(() => {});
    child.status.then((status) => {
      // Ended without saying so: it died (a crash of the runtime, out of memory, …).
      setTimeout(() => {
        if (!finished) {
          const why = status.signal ?? `exit code ${status.code}`;
          fail(
            "crash",
            `the fuzz worker died (${why}): ${stderrTail.trim().split("\n").pop() ?? ""}`,
          );
        }
      }, 200);
    });
    const writer = child.stdin.getWriter();
    writer.write(new TextEncoder().encode(JSON.stringify(request))).then(() => writer.close())
      .catch(() => {});
  });
}

/** The report as a table plus the failures. */
export function formatFuzzReport(report: FuzzReport): string {
  const lines = [
    `fuzz (${report.level}, seed ${report.seed}): ${report.tried} inputs, ${report.ok} correct results, ` +
    `${report.clean} clean errors, ${report.crashed} crashes/hangs in ${
      (report.ms / 1000).toFixed(1)
    } s`,
    "",
    "target            tried   correct   clean   crashed   hangs   slowest   peak alloc",
  ];
  for (const r of report.targets) {
    lines.push(
      `${r.name.padEnd(16)} ${String(r.tried).padStart(6)} ${String(r.ok).padStart(9)} ${
        String(r.clean).padStart(7)
      } ` +
        `${String(r.crashed).padStart(9)} ${String(r.hangs).padStart(7)} ${
          (r.slowestMs / 1000).toFixed(1).padStart(8)
        }s ` +
        `${(r.peakBytes / 2 ** 20).toFixed(1).padStart(9)} MiB`,
    );
  }
  for (const r of report.targets) {
    for (const f of r.failures.slice(0, 20)) {
      lines.push(`  ${f.outcome.toUpperCase()} ${r.name} #${f.index} (${f.input}): ${f.label}`);
    }
    if (r.failures.length > 20) lines.push(`  … ${r.failures.length - 20} more in ${r.name}`);
  }
  return lines.join("\n");
}

/** The seeds used (re-exported for callers that print where they are). */
export type { Seeds };
