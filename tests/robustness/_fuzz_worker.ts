/**
 * The worker that runs fuzz cases, so a case that hangs (even in a
 * synchronous loop or inside a WebAssembly decoder) can be stopped by
 * terminating the worker. It reports every case's start and end to the main
 * thread, which keeps the clock.
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

/** What the main thread sends. */
export interface WorkerRequest {
  seeds: Seeds;
  scratch: string;
  jobs: FuzzJob[];
  /** Where to start (after a worker was stopped). */
  from: { job: number; index: number };
}

/** What the worker sends back. */
export type WorkerMessage =
  | { type: "start"; job: number; index: number; input: string; timeoutMs: number; description: string }
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
  | { type: "late"; label: string }
  | { type: "end" };

const post = (m: WorkerMessage) => (self as unknown as { postMessage(m: unknown): void }).postMessage(m);

// Errors that escape every await (an abandoned promise of a library) are crashes too.
globalThis.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  post({ type: "late", label: `unhandled rejection: ${describe(e.reason)}` });
});
globalThis.addEventListener("error", (e) => {
  e.preventDefault();
  post({ type: "late", label: `uncaught error: ${describe(e.error)}` });
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
      await new Promise((r) => setTimeout(r, 0));
      if (refused && outcome !== "crash") {
        outcome = "crash";
        label = `${describe(refused)} (then: ${label ?? "no error"})`;
      }
      if (testCase.valid && outcome !== "ok") {
        outcome = "crash";
        label = `a valid input was rejected: ${label}`;
      }
      post({ type: "done", job: j, index: i, input: testCase.input, outcome, label, ms: performance.now() - t0, peak });
    }
  }
  post({ type: "end" });
}

self.onmessage = (e: MessageEvent<WorkerRequest>) => {
  runJobs(e.data).catch((err) => {
    post({ type: "late", label: `fuzz worker failed: ${describe(err)}` });
    post({ type: "end" });
  });
};
