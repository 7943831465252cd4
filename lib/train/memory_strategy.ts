/**
 * What a training run switches on to fit its batch, chosen from the memory
 * plan before step 1: Adam's moments off the wasm heap (host arrays,
 * `off_heap_adam.ts`), then recomputation of the transformer layers
 * (`--recompute auto`), cheapest first. A batch that fits no way is refused
 * with the estimate, the largest batch that fits, and what else would: R
 * ranks of B/R clips each (`mpirun -np R`, each rank has its own heap) or,
 * for fine-tuning, `--accumulate K`.
 *
 * @module
 */
import type { RecomputeMode } from "../config/memory_config.ts";
import {
  gib,
  type MemoryLimit,
  type MemoryPlan,
  MemoryPlanError,
  type MemoryPlanInput,
  planMemory,
} from "./memory_plan.ts";

/** The strategies a run trains with, and the plan they make. */
export interface MemoryStrategy {
  /** The plan with the strategies below. */
  plan: MemoryPlan;
  /** Recompute transformer layers in the backward pass. */
  recompute: boolean;
  /** Recomputed layers run on this many parts of the batch in turn (1: the whole batch). */
  recomputeParts: number;
  /** Keep Adam's moments in host arrays, off the wasm heap. */
  offHeapState: boolean;
  /** One line saying what the plan switched on by itself, when it did. */
  note?: string;
}

/** Options of {@linkcode chooseMemoryStrategy}. */
export interface StrategyOptions {
  /** `none`, `layers` (always) or `auto` (when the batch would not fit without). */
  recompute: RecomputeMode;
  /** What the refusal suggests besides a smaller batch: ranks (pretraining) or accumulation (fine-tuning). */
  suggest?: "ranks" | "accumulate";
  /** Micro-batches already asked for (`--accumulate`; `input.batchSize` is one micro-batch). */
  accumulate?: number;
}

/** One candidate: recomputation (in how many parts) and where Adam's moments live. */
type Candidate = Pick<MemoryStrategy, "recompute" | "recomputeParts" | "offHeapState">;

/**
 * The candidate strategies, cheapest first: no recomputation, then layers
 * recomputed on the whole batch, then on 2, 3, … parts of it (down to one
 * clip a part), each with Adam's moments on the heap, then off it.
 */
function candidates(
  input: MemoryPlanInput,
  limit: MemoryLimit,
  recompute: RecomputeMode,
): Candidate[] {
  const rc: [boolean, number][] = recompute === "layers" ? [] : [[false, 1]];
  if (recompute !== "none") { for (let p = 1; p <= input.batchSize; p++) rc.push([true, p]); }
  // Only Adam's moments move, and only the wasm heap is worth leaving.
  const oh = limit.backend === "wasm" && (input.optimizer ?? "adam") === "adam"
    ? [false, true]
    : [false];
  return rc.flatMap(([r, p]) =>
    oh.map((o) => ({ recompute: r, recomputeParts: p, offHeapState: o }))
  );
}

/** The smallest number of parts (2…batch) whose share of the batch fits, or 0. */
function partsThatFit(input: MemoryPlanInput, limit: MemoryLimit): number {
  for (let n = 2; n <= input.batchSize; n++) {
    if (input.batchSize % n !== 0) continue;
    if (planMemory({ ...input, batchSize: input.batchSize / n }, limit).fits) return n;
  }
  return 0;
}

/** What a refusal suggests besides the largest batch. */
function hint(
  input: MemoryPlanInput,
  limit: MemoryLimit,
  options: StrategyOptions,
): string | undefined {
  const { suggest, accumulate = 1 } = options;
  if (!suggest) return undefined;
  const n = partsThatFit(input, limit);
  if (n === 0) return undefined;
  const share = input.batchSize / n;
  return suggest === "ranks"
    ? `or ${n} ranks of batch ${share} each, with their own heaps (mpirun -np ${n} … --distributed)`
    : `or --accumulate ${n * accumulate} (micro-batches of ${share} clips, one update)`;
}

/** The one line about what the plan switched on by itself. */
function describe(first: MemoryPlan, chosen: MemoryStrategy): string {
  const parts = chosen.recomputeParts;
  const inParts = parts > 1
    ? ` on ${parts} parts of the batch in turn (up to ${
      Math.ceil(first.batchSize / parts)
    } clips each)`
    : "";
  const on = [
    chosen.offHeapState ? "Adam's moments off the wasm heap" : "",
    chosen.recompute ? `recomputing transformer layers in the backward pass${inParts}` : "",
  ].filter(Boolean).join(" and ");
  return `memory: batch ${first.batchSize} needs about ${gib(first.estimate.total)}, more than ` +
    `the ${first.limit.backend} backend's ${gib(first.limit.bytes)}; ${on} (about ${
      gib(chosen.plan.estimate.total)
    })`;
}

/**
 * The cheapest strategies under which `input` fits `limit`, and a line when
 * the plan switched any on by itself; a {@linkcode MemoryPlanError} when none
 * does (with every strategy allowed on, and a hint of ranks or accumulation).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveVattConfig } from "../config/vatt_config.ts";
 * import { chooseMemoryStrategy } from "./memory_strategy.ts";
 * import { estimateMemory } from "./memory_plan.ts";
 * const model = resolveVattConfig({ preset: "small" });
 * const input = { model, batchSize: 2 };
 * const plain = estimateMemory(input).total;
 * const lean = estimateMemory({ ...input, recompute: true, offHeapState: true }).total;
 * // A heap between the two: auto switches the savings on, and says so in one line.
 * const limit = { backend: "wasm", bytes: (plain + lean) / 2, detail: "test" };
 * const s = chooseMemoryStrategy(input, limit, { recompute: "auto" });
 * assert.ok(s.plan.fits && (s.recompute || s.offHeapState));
 * assert.match(s.note!, /^memory: batch 2 needs about .*; /);
 * // Without recomputation, a heap of the lean size holds not even one clip's activations.
 * assert.throws(
 *   () => chooseMemoryStrategy(input, { ...limit, bytes: lean }, { recompute: "none" }),
 *   /^MemoryPlanError: batch 2 needs about .*; no batch fits/,
 * );
 * ```
 */
export function chooseMemoryStrategy(
  input: MemoryPlanInput,
  limit: MemoryLimit,
  options: StrategyOptions,
): MemoryStrategy {
  const tries = candidates(input, limit, options.recompute);
  let first: MemoryPlan | undefined;
  for (const t of tries) {
    const plan = planMemory({ ...input, ...t }, limit);
    first ??= plan;
    if (!plan.fits) continue;
    const chosen: MemoryStrategy = { plan, ...t };
    // A line only for what the plan chose: `--recompute layers` (whole batch) is the user's own.
    const automatic = t.offHeapState || t.recomputeParts > 1 ||
      (t.recompute && options.recompute === "auto");
    return automatic ? { ...chosen, note: describe(first, chosen) } : chosen;
  }
  const leanest = { ...input, ...tries[tries.length - 1] };
  throw new MemoryPlanError(planMemory(leanest, limit), {
    hint: hint(leanest, limit, options),
  });
}
