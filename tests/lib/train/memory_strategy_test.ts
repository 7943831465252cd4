import assert from "node:assert/strict";
import { resolveVattConfig } from "../../../lib/config/vatt_config.ts";
import { estimateMemory, MemoryPlanError, PLAN_FILL } from "../../../lib/train/memory_plan.ts";
import { chooseMemoryStrategy } from "../../../lib/train/memory_strategy.ts";

const model = resolveVattConfig({ preset: "small" });
const input = { model, batchSize: 4 };
const total = (o: { recompute?: boolean; offHeapState?: boolean; recomputeParts?: number }) =>
  estimateMemory({ ...input, ...o }).total;
/** A wasm heap whose share that plans fill is `bytes`. */
const wasm = (bytes: number) => ({ backend: "wasm", bytes: bytes / PLAN_FILL, detail: "test" });

Deno.test("chooseMemoryStrategy(): nothing switched on, and no line, when the batch fits as it is", () => {
  const s = chooseMemoryStrategy(input, wasm(total({}) + 1), { recompute: "auto" });
  assert.deepEqual([s.recompute, s.offHeapState, s.note], [false, false, undefined]);
});

Deno.test("chooseMemoryStrategy(): Adam's moments leave the heap before layers are recomputed", () => {
  const offHeap = total({ offHeapState: true });
  assert.ok(offHeap < total({}));
  const s = chooseMemoryStrategy(input, wasm(offHeap), { recompute: "auto" });
  assert.deepEqual([s.recompute, s.offHeapState], [false, true]);
  assert.match(s.note!, /Adam's moments off the wasm heap \(about \d+\.\d\d GiB\)$/);
  // Below that, recomputation (with the moments back on the heap when that fits).
  const r = chooseMemoryStrategy(input, wasm(total({ recompute: true })), { recompute: "auto" });
  assert.deepEqual([r.recompute, r.offHeapState], [true, false]);
  assert.match(r.note!, /recomputing transformer layers in the backward pass/);
});

Deno.test("chooseMemoryStrategy(): below whole-batch recomputation, the fewest parts of the batch that fit", () => {
  const lean = { recompute: true, offHeapState: true };
  const two = total({ ...lean, recomputeParts: 2 });
  assert.ok(two < total(lean) && total({ ...lean, recomputeParts: 4 }) < two);
  const s = chooseMemoryStrategy(input, wasm(two), { recompute: "auto" });
  assert.deepEqual([s.recompute, s.recomputeParts, s.offHeapState], [true, 2, true]);
  assert.match(s.note!, /backward pass on 2 parts of the batch in turn \(up to 2 clips each\)/);
  // --recompute layers too: parts are the plan's choice, said in a line.
  const layers = chooseMemoryStrategy(input, wasm(two), { recompute: "layers" });
  assert.deepEqual([layers.recomputeParts, layers.note !== undefined], [2, true]);
  // Whole-batch recomputation when it fits.
  const whole = chooseMemoryStrategy(input, wasm(total(lean)), { recompute: "auto" });
  assert.equal(whole.recomputeParts, 1);
});

Deno.test("chooseMemoryStrategy(): --recompute layers always recomputes, none never; no line for the user's own choice", () => {
  const layers = chooseMemoryStrategy(input, wasm(1e12), { recompute: "layers" });
  assert.deepEqual([layers.recompute, layers.note], [true, undefined]);
  assert.throws(
    () => chooseMemoryStrategy(input, wasm(total({ recompute: true })), { recompute: "none" }),
    MemoryPlanError,
  );
});

Deno.test("chooseMemoryStrategy(): only the wasm heap sends the moments off it, and only Adam's", () => {
  const cpu = { backend: "cpu", bytes: total({ offHeapState: true }) / PLAN_FILL, detail: "test" };
  assert.equal(chooseMemoryStrategy(input, cpu, { recompute: "auto" }).offHeapState, false);
  const sgd = chooseMemoryStrategy({ ...input, optimizer: "sgd" }, wasm(1e12), {
    recompute: "auto",
  });
  assert.equal(sgd.offHeapState, false);
});

Deno.test("chooseMemoryStrategy(): a refusal suggests the ranks, or the accumulation, that would fit", () => {
  const lean = { recompute: true, offHeapState: true, recomputeParts: 4 }; // the leanest: a clip a part
  const atHalf = estimateMemory({ ...input, ...lean, batchSize: 2 }).total;
  const limit = wasm(atHalf + 1);
  assert.throws(
    () => chooseMemoryStrategy(input, limit, { recompute: "auto", suggest: "ranks" }),
    /the largest batch that fits is [23]; or 2 ranks of batch 2 each, with their own heaps \(mpirun -np 2 … --distributed\)$/,
  );
  assert.throws(
    () => chooseMemoryStrategy(input, limit, { recompute: "auto", suggest: "accumulate" }),
    /; or --accumulate 2 \(micro-batches of 2 clips, one update\)$/,
  );
  // With 2 micro-batches asked for already (the input is one of them), the hint counts them.
  assert.throws(
    () =>
      chooseMemoryStrategy(input, limit, {
        recompute: "auto",
        suggest: "accumulate",
        accumulate: 2,
      }),
    /; or --accumulate 4 \(micro-batches of 2 clips, one update\)$/,
  );
});
