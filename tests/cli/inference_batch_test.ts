import assert from "node:assert/strict";
import { resolveVattConfig } from "../../lib/config/vatt_config.ts";
import { estimateInference } from "../../lib/train/inference_plan.ts";
import { PLAN_FILL } from "../../lib/train/memory_plan.ts";
import { inferenceBatch } from "../../cli/_inference_batch.ts";

Deno.test("inferenceBatch(): fewer clips a pass when the free memory needs it, said in one line", () => {
  const large = resolveVattConfig({ preset: "large" });
  const modalities = ["video", "audio"] as const;
  const free = { backend: "wasm", bytes: estimateInference(large, 6, modalities) / PLAN_FILL };
  const lines: string[] = [];
  const error = console.error;
  console.error = (...args: unknown[]) => lines.push(args.join(" "));
  try {
    assert.equal(inferenceBatch("export", large, modalities, 16, { ...free, detail: "t" }), 6);
    assert.equal(inferenceBatch("export", large, modalities, 4, { ...free, detail: "t" }), 4);
  } finally {
    console.error = error;
  }
  assert.equal(lines.length, 1); // a line only when the batch was cut
  assert.match(
    lines[0],
    /^export: 6 clips a pass \(16 would need about \d+\.\d\d GiB of the wasm backend's \d+\.\d\d GiB left after the weights\)$/,
  );
});
