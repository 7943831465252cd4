/**
 * The process that runs fuzz cases: `deno run -A _fuzz_worker.ts`, given its
 * request as JSON on stdin. It reports every case's start and end as marked
 * JSON lines on stdout to the driver, which keeps the clock and kills the
 * process (SIGKILL) when a case hangs — even in a synchronous loop or inside
 * a WebAssembly decoder, which a Web Worker's `terminate()` does not stop.
 *
 * @module
 */
import {
  allocationPeak,
  allocationRefused,
  installAllocationGuard,
  setAllocationLimit,
  UntrustedAllocationError,
} from "./_alloc_guard.ts";
import { classifyError, describe, type Outcome } from "./_classify.ts";
import type { Seeds } from "./_seeds.ts";
import { WrongResultError } from "./_target.ts";
import { targetEntry } from "./_targets.ts";

/** One target's share of a run. */
export interface FuzzJob {
  name: string;
  seed: number;
  count: number;
}

/** What the driver sends. */
export interface WorkerRequest {
  seeds: Seeds;
  scratch: string;
  jobs: FuzzJob[];
  /** Where to start (after a worker was stopped). */
  from: { job: number; index: number };
}

/** What the worker sends back, one per line after {@linkcode MESSAGE_MARK}. */
export type WorkerMessage =
  | {
    type: "start";
    job: number;
    index: number;
    input: string;
    timeoutMs: number;
    description: string;
  }
  | {
    type: "done";
    job: number;
    index: number;
    input: string;
    outcome: Outcome;
    label?: string;
    ms: number;
    peak: number;
  }
  | { type: "late"; label: string; job?: number; index?: number; input?: string }
  | { type: "end" };

/** Starts every message line (other output of the libraries is ignored). */
export const MESSAGE_MARK = "\u0001fuzz ";

const encoder = new TextEncoder();
function post(m: WorkerMessage): void {
  const bytes = encoder.encode(`${MESSAGE_MARK}${JSON.stringify(m)}\n`);
  let done = 0;
  while (done < bytes.length) done += Deno.stdout.writeSync(bytes.subarray(done));
}

/** The case that ran last: an error surfacing later is blamed on it. */
let culprit: { job: number; index: number; input: string } | undefined;

// Errors that escape every await (an abandoned promise of a library) are crashes too.
globalThis.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  post({ type: "late", label: `unhandled rejection: ${describe(e.reason)}`, ...culprit });
});
globalThis.addEventListener("error", (e) => {
  e.preventDefault();
  post({ type: "late", label: `uncaught error: ${describe(e.error)}`, ...culprit });
});

async function runJobs(request: WorkerRequest): Promise<void> {
  installAllocationGuard();
  const ctx = { seeds: request.seeds, scratch: request.scratch };
  for (let j = request.from.job; j < request.jobs.length; j++) {
    const job = request.jobs[j];
    const target = await targetEntry(job.name).load();
    const make = await target.cases(ctx, job.seed, job.count);
    for (let i = j === request.from.job ? request.from.index : 0; i < job.count; i++) {
      const { testCase, bytes } = await make(i);
      culprit = { job: j, index: i, input: testCase.input };
      post({
        type: "start",
        job: j,
        index: i,
        input: testCase.input,
        timeoutMs: target.timeoutMs,
        description: target.description,
      });
      const t0 = performance.now();
      let outcome: Outcome = "ok";
      let label: string | undefined;
      setAllocationLimit(target.allocLimit(bytes));
      try {
        await testCase.run();
      } catch (e) {
        if (e instanceof UntrustedAllocationError || e instanceof WrongResultError) {
          outcome = "crash";
          label = describe(e);
        } else {
          const verdict = classifyError(e);
          outcome = verdict.clean ? "clean" : "crash";
          label = verdict.label;
        }
      }
      const refused = allocationRefused();
      const peak = allocationPeak();
      setAllocationLimit(Infinity);
      // Let the event loop turn, so a rejection the case abandoned is reported now, against it.
      for (let turn = 0; turn < 3; turn++) await new Promise((r) => setTimeout(r, 0));
      if (refused && outcome !== "crash") {
        outcome = "crash";
        label = `${describe(refused)} (then: ${label ?? "no error"})`;
      }
      if (testCase.valid && outcome !== "ok") {
        outcome = "crash";
        label = `a valid input was rejected: ${label}`;
      }
      post({
        type: "done",
        job: j,
        index: i,
        input: testCase.input,
        outcome,
        label,
        ms: performance.now() - t0,
        peak,
      });
    }
  }
  post({ type: "end" });
}

if (import.meta.main) {
  const request: WorkerRequest = JSON.parse(await new Response(Deno.stdin.readable).text());
  try {
    await runJobs(request);
  } catch (err) {
    post({ type: "late", label: `fuzz worker failed: ${describe(err)}` });
    post({ type: "end" });
  }
  // Libraries may leave timers or handles behind: the work is done.
  Deno.exit(0);
}
