/**
 * Gradient accumulation, recomputation and off-heap moments in fine-tuning,
 * through `finetune()` on the demo dataset from an untrained tiny model.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { initBackend } from "../../../lib/backend/select.ts";
import {
  type FinetuneConfigInput,
  resolveFinetuneConfig,
} from "../../../lib/config/finetune_config.ts";
import { Dataset } from "../../../lib/data/shards/dataset.ts";
import { classificationReport } from "../../../lib/eval/classify/classify.ts";
import { readSafetensors } from "../../../lib/io/safetensors.ts";
import { prepareRunFolder } from "../../../lib/run/run_folder.ts";
import { finetune } from "../../../lib/train/finetune.ts";
import { demoDataset } from "../../_fixtures.ts";
import { writeUntrainedRun } from "../../_untrained_run.ts";

const root = await Deno.makeTempDir({ prefix: "vatt-accumulate-test-" });
const pretrained = path.join(root, "pretrained");
await writeUntrainedRun(pretrained);
await initBackend("wasm");
const { data: dataDir } = await demoDataset({ clips: 32 });
const data = await Dataset.open(dataDir);

let runs = 0;
/** The final checkpoint's weights and optimiser state of a fine-tuning run. */
async function finalState(
  input: Partial<FinetuneConfigInput>,
  memory?: { recompute: boolean; offHeapState: boolean },
): Promise<Map<string, Float32Array>> {
  const config = resolveFinetuneConfig({
    modalities: ["audio"],
    valFraction: 0.5,
    batchSize: 8,
    epochs: 1,
    ...input,
  });
  const runDir = path.join(root, `run-${runs++}`);
  await prepareRunFolder(runDir, { config, resume: false, force: false });
  const r = await finetune({
    runDir,
    from: pretrained,
    data,
    config,
    score: classificationReport,
    memory,
  });
  const out = new Map<string, Float32Array>();
  for (const file of ["model.safetensors", "optimizer.safetensors"]) {
    const { tensors } = await readSafetensors(path.join(r.checkpoint, file));
    for (const [name, t] of Object.entries(tensors)) {
      if (t.dtype === "F32") out.set(`${file}:${name}`, t.data as Float32Array);
    }
  }
  return out;
}

/** The largest absolute difference between two states with the same names. */
function maxDifference(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
  let max = 0;
  for (const [name, x] of a) {
    const y = b.get(name)!;
    for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i] - y[i]));
  }
  return max;
}

Deno.test("--accumulate 4: four micro-batches of 2 give the weights of batches of 8 (to 1e-5), end-to-end with mixup", async () => {
  const base = { frozen: false, optimizer: "sgd", mixup: 0.4 } as const;
  const whole = await finalState(base);
  const parts = await finalState({ ...base, accumulate: 4 });
  const d = maxDifference(whole, parts);
  assert.ok(d < 1e-5, `largest difference ${d}`);
  // The test can tell batches apart: steps of 2 clips (no accumulation) end elsewhere.
  const small = await finalState({ ...base, batchSize: 2, epochs: 1 });
  const stepsOf2 = maxDifference(whole, small);
  assert.ok(stepsOf2 > 1e-3, `batches of 2 differ by ${stepsOf2} only`);
});

Deno.test("--accumulate 2: a linear probe on frozen features, the same weights as one batch (to 1e-5)", async () => {
  const base: Partial<FinetuneConfigInput> = { linearProbe: true, modalities: ["audio", "video"] };
  const whole = await finalState(base);
  const parts = await finalState({ ...base, accumulate: 2 });
  const d = maxDifference(whole, parts);
  assert.ok(d < 1e-5, `largest difference ${d}`);
});

Deno.test("fine-tuning with recomputed layers and Adam's moments off the heap ends bit-identical", async () => {
  const base = { frozen: false, optimizer: "adam" } as const;
  const plain = await finalState(base, { recompute: false, offHeapState: false });
  const lean = await finalState(base, { recompute: true, offHeapState: true });
  assert.equal(maxDifference(plain, lean), 0);
});

Deno.test("resolveFinetuneConfig() refuses an accumulation that does not divide the batch", () => {
  assert.throws(
    () => resolveFinetuneConfig({ modalities: ["audio"], batchSize: 8, accumulate: 3 }),
    /accumulate 3 must divide the batch 8/,
  );
});

Deno.test({
  name: "accumulate test cleanup",
  fn: async () => {
    data.close();
    await Deno.remove(root, { recursive: true });
  },
});
