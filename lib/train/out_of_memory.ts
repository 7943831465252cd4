/**
 * The wasm engine running out of memory during training, in one line: what
 * ran out (the wasm heap), the memory plan's estimate, and the checkpoint on
 * disk that is kept.
 *
 * @module
 */
import { gib, type MemoryPlan } from "./memory_plan.ts";

/** Messages of a wasm engine that ran out of memory (or aborted, which is how it runs out). */
const WASM_ABORT =
  /Aborted\(|memory access out of bounds|WebAssembly\.Memory\.grow|Out of memory|Cannot enlarge memory/i;

/**
 * Whether `error` is the wasm engine running out of memory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isWasmOutOfMemory } from "./out_of_memory.ts";
 * assert.ok(isWasmOutOfMemory(new Error("Aborted(). Build with -sASSERTIONS for more info.")));
 * assert.ok(isWasmOutOfMemory(new WebAssembly.RuntimeError("memory access out of bounds")));
 * assert.ok(!isWasmOutOfMemory(new Error("disk full")));
 * ```
 */
export function isWasmOutOfMemory(error: unknown): boolean {
  const text = error instanceof Error ? error.message : String(error);
  return WASM_ABORT.test(text);
}

/** The wasm heap ran out during training; the last checkpoint on disk is kept. */
export class HeapExhaustedError extends Error {
  readonly lastCheckpoint: string;
  /** Steps completed before the one that ran out (−1: not known). */
  readonly step: number;
  constructor(lastCheckpoint: string, options: { step: number; cause: unknown }) {
    const kept = lastCheckpoint
      ? `the last checkpoint is kept: ${lastCheckpoint}`
      : options.step < 0
      ? "the checkpoints already written are kept"
      : "no checkpoint was written";
    const at = options.step >= 0 ? ` at step ${options.step + 1}` : "";
    super(
      `the wasm heap (4 GiB at most) ran out${at}; ${kept}; ` +
        `run \`vatt info --batch N\` for the memory plan and a batch that fits`,
      { cause: options.cause },
    );
    this.name = "HeapExhaustedError";
    this.lastCheckpoint = lastCheckpoint;
    this.step = options.step;
  }
}

/**
 * `error` in the words of the memory plan: a wasm abort or a
 * {@linkcode HeapExhaustedError} becomes one `HeapExhaustedError` line that
 * also gives the plan's estimate and limit; any other error is returned as is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { explainOutOfMemory, HeapExhaustedError } from "./out_of_memory.ts";
 * const plan = {
 *   batchSize: 4, fits: true, largestBatch: 5,
 *   estimate: {
 *     weights: 0, gradients: 0, optimizer: 0, activations: 0, total: 3 * 1024 ** 3, largestTensor: 0,
 *     offHeap: 0,
 *   },
 *   limit: { backend: "wasm", bytes: 4 * 1024 ** 3, detail: "wasm heap" },
 * };
 * const raw = new HeapExhaustedError("runs/a/checkpoints/step-0000010", { step: 11, cause: null });
 * const e = explainOutOfMemory(raw, plan) as Error;
 * assert.match(e.message, /wasm heap .* ran out at step 12.*step-0000010.*estimated 3\.00 GiB of 4\.00 GiB/);
 * const other = new Error("disk full");
 * assert.equal(explainOutOfMemory(other, plan), other);
 * ```
 */
export function explainOutOfMemory(error: unknown, plan: MemoryPlan): unknown {
  const known = error instanceof HeapExhaustedError
    ? error
    : isWasmOutOfMemory(error)
    ? new HeapExhaustedError("", { step: -1, cause: error })
    : undefined;
  if (!known) return error;
  const e = plan.estimate;
  const explained = new HeapExhaustedError(known.lastCheckpoint, {
    step: known.step,
    cause: known.cause,
  });
  explained.message = `${known.message.replace(/; run `vatt info.*$/, "")}; the memory plan ` +
    `estimated ${gib(e.total)} of ${gib(plan.limit.bytes)} for batch ${plan.batchSize} ` +
    `(largest that fits: ${plan.largestBatch})`;
  return explained;
}
