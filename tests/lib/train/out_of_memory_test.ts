import assert from "node:assert/strict";
import { resolveVattConfig } from "../../../lib/config/vatt_config.ts";
import { planMemory, WASM_HEAP_MAX } from "../../../lib/train/memory_plan.ts";
import {
  explainOutOfMemory,
  HeapExhaustedError,
  isWasmOutOfMemory,
} from "../../../lib/train/out_of_memory.ts";

const TINY = resolveVattConfig({ preset: "tiny" });

Deno.test("isWasmOutOfMemory() knows the engine's aborts from the issue, and no other error", () => {
  for (
    const text of [
      "Aborted(). Build with -sASSERTIONS for more info.",
      "memory access out of bounds",
      "WebAssembly.Memory.grow(): Maximum memory size exceeded",
      "Out of memory",
    ]
  ) assert.ok(isWasmOutOfMemory(new Error(text)), text);
  assert.ok(isWasmOutOfMemory(new RangeError("WebAssembly.Memory.grow(): failed")));
  assert.ok(!isWasmOutOfMemory(new Error("disk full")));
});

Deno.test("explainOutOfMemory() names the wasm heap, the plan's estimate and the kept checkpoint", () => {
  const plan = planMemory({ model: TINY, batchSize: 8 }, {
    backend: "wasm",
    bytes: WASM_HEAP_MAX,
    detail: "test",
  });
  const raw = new HeapExhaustedError("run/checkpoints/step-0000004", { step: 4, cause: null });
  const line = (explainOutOfMemory(raw, plan) as Error).message;
  assert.match(line, /^the wasm heap \(4 GiB at most\) ran out at step 5; /);
  assert.match(line, /the last checkpoint is kept: run\/checkpoints\/step-0000004/);
  assert.match(line, /the memory plan estimated \d+\.\d\d GiB of 4\.00 GiB for batch 8/);
  const abort = explainOutOfMemory(new Error("Aborted()"), plan) as Error;
  assert.ok(abort instanceof HeapExhaustedError);
});
