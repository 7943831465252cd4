import assert from "node:assert/strict";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../../lib/backend/select.ts";
import { resolveVattConfig, type VattConfig } from "../../../lib/config/vatt_config.ts";
import { Dataset } from "../../../lib/data/shards/dataset.ts";
import { listCheckpoints, loadModelWeights } from "../../../lib/run/checkpoint.ts";
import { pretrain, type PretrainMetrics } from "../../../lib/train/pretrain.ts";
import { type PretrainConfig, resolvePretrainConfig } from "../../../lib/config/pretrain_config.ts";
import { prepareRunFolder } from "../../../lib/run/run_folder.ts";
import { VattModel } from "../../../lib/model/vatt.ts";
import { demoDataset } from "../../_fixtures.ts";

const MODEL = resolveVattConfig({ preset: "tiny" });
const PLAIN_MODEL = resolveVattConfig({ preset: "tiny", dropout: 0, attentionDropout: 0 });

async function run(
  data: Dataset,
  train: Partial<PretrainConfig>,
  options: {
    runDir?: string;
    resume?: boolean;
    stopAfter?: number;
    model?: VattConfig;
    memory?: { recompute: boolean; offHeapState: boolean };
  } = {},
): Promise<{ runDir: string; metrics: PretrainMetrics[] }> {
  const model = options.model ?? MODEL;
  const runDir = options.runDir ?? (await Deno.makeTempDir({ prefix: "vatt-pretrain-test-" }));
  const cfg = resolvePretrainConfig({
    batchSize: 4,
    baseRate: 1e-3,
    finalRate: 1e-4,
    warmupSteps: 2,
    checkpointEvery: 3,
    ...train,
  });
  const prepared = await prepareRunFolder(runDir, {
    config: { model, train: cfg },
    resume: options.resume ?? false,
    force: false,
  });
  const metrics: PretrainMetrics[] = [];
  await pretrain({
    runDir,
    model,
    train: cfg,
    data,
    resumeFrom: prepared.resumeFrom,
    onStep: (m) => metrics.push(m),
    memory: options.memory,
    shouldStop: () => options.stopAfter !== undefined && metrics.length >= options.stopAfter,
  });
  return { runDir, metrics };
}

async function newestModelBytes(runDir: string): Promise<Uint8Array> {
  const all = await listCheckpoints(path.join(runDir, "checkpoints"));
  return await Deno.readFile(path.join(all[all.length - 1].path, "model.safetensors"));
}

const fixture = await demoDataset({ clips: 32 });

for (const backend of ["wasm", "cpu"] as const) {
  Deno.test(`pretrain() on ${backend}: same seed and data give bit-identical checkpoints`, async () => {
    await initBackend(backend);
    const data = await Dataset.open(fixture.data);
    const a = await run(data, { steps: 4 });
    const b = await run(data, { steps: 4 });
    assert.deepEqual(b.metrics.map((m) => m.loss), a.metrics.map((m) => m.loss));
    assert.deepEqual(await newestModelBytes(b.runDir), await newestModelBytes(a.runDir));
    const c = await run(data, { steps: 4, seed: 1 });
    assert.notDeepEqual(c.metrics.map((m) => m.loss), a.metrics.map((m) => m.loss));
    data.close();
    for (const d of [a, b, c]) await Deno.remove(d.runDir, { recursive: true });
  });
}

Deno.test("pretrain() with recomputed layers and Adam's moments off the heap writes the same checkpoints, and resumes on the heap", async () => {
  await initBackend("wasm");
  const data = await Dataset.open(fixture.data);
  const lean = { recompute: true, offHeapState: true };
  const plain = await run(data, { steps: 5 });
  const whole = await run(data, { steps: 5 }, { memory: lean });
  const other = await run(data, { steps: 5 }, { memory: lean, stopAfter: 3 });
  await run(data, { steps: 5 }, { runDir: other.runDir, resume: true }); // on the heap again
  const bytes = async (runDir: string, file: string) => {
    const all = await listCheckpoints(path.join(runDir, "checkpoints"));
    return await Deno.readFile(path.join(all[all.length - 1].path, file));
  };
  for (const file of ["model.safetensors", "optimizer.safetensors"]) {
    assert.deepEqual(await bytes(whole.runDir, file), await bytes(plain.runDir, file), file);
    assert.deepEqual(await bytes(other.runDir, file), await bytes(plain.runDir, file), file);
  }
  data.close();
  for (const d of [plain, whole, other]) await Deno.remove(d.runDir, { recursive: true });
});

Deno.test("pretrain() stopped at step k and resumed gives exactly the uninterrupted losses and weights", async () => {
  await initBackend("wasm");
  const data = await Dataset.open(fixture.data);
  const full = await run(data, { steps: 8 });
  const part = await run(data, { steps: 8 }, { stopAfter: 5 }); // checkpoint at the stop (step 5)
  assert.equal(part.metrics.length, 5);
  const rest = await run(data, { steps: 8 }, { runDir: part.runDir, resume: true });
  assert.deepEqual(
    [...part.metrics, ...rest.metrics].map((m) => m.loss),
    full.metrics.map((m) => m.loss),
  );
  assert.deepEqual(await newestModelBytes(part.runDir), await newestModelBytes(full.runDir));
  // metrics.jsonl lists each step once.
  const lines = (await Deno.readTextFile(path.join(part.runDir, "metrics.jsonl"))).trim().split(
    "\n",
  ).map((l) => JSON.parse(l).step);
  assert.deepEqual(lines, [1, 2, 3, 4, 5, 6, 7, 8]);
  data.close();
  await Deno.remove(full.runDir, { recursive: true });
  await Deno.remove(part.runDir, { recursive: true });
});

Deno.test("pretrain() keeps the newest --keep checkpoints, each complete and loadable", async () => {
  await initBackend("wasm");
  const data = await Dataset.open(fixture.data);
  const r = await run(data, { steps: 7, checkpointEvery: 2, keep: 2 });
  const all = await listCheckpoints(path.join(r.runDir, "checkpoints"));
  assert.deepEqual(all.map((c) => c.step), [6, 7]);
  const model = VattModel.create(MODEL);
  await loadModelWeights(all[1].path, { weights: model.weights, config: model.config });
  const w = await model.weights["video/patch/kernel"].data();
  assert.ok(w.every(Number.isFinite));
  model.dispose();
  assert.ok(tf.memory().numTensors >= 0);
  data.close();
  await Deno.remove(r.runDir, { recursive: true });
});

Deno.test("without dropout and augmentation, a tiny model pretrained on the demo data for 50 steps beats chance at in-batch retrieval", async () => {
  await initBackend("wasm");
  const data = await Dataset.open(fixture.data);
  // The in-batch accuracies are read on the training pass, so dropout and augmentation (which
  // pay off over longer runs) are off here: this checks that the objective is learnt.
  const r = await run(
    data,
    { steps: 50, batchSize: 8, warmupSteps: 5, checkpointEvery: 1000, augment: "none" },
    { model: PLAIN_MODEL },
  );
  const last = r.metrics.slice(-10);
  const mean = (f: (m: PretrainMetrics) => number) =>
    last.reduce((s, m) => s + f(m), 0) / last.length;
  // Chance with 8 clips per batch is 1/8. Measured after 50 steps: video→audio ≈ 0.9, video→text ≈ 0.9.
  assert.ok(mean((m) => m.accVideoAudio) > 0.5, `video→audio ${mean((m) => m.accVideoAudio)}`);
  assert.ok(mean((m) => m.accVideoText) > 0.3, `video→text ${mean((m) => m.accVideoText)}`);
  assert.ok(r.metrics[r.metrics.length - 1].loss < r.metrics[0].loss);
  data.close();
  await Deno.remove(r.runDir, { recursive: true });
});

Deno.test("with the default dropout and augmentation, 50 steps of pretraining lower the loss", async () => {
  await initBackend("wasm");
  const data = await Dataset.open(fixture.data);
  const r = await run(data, { steps: 50, batchSize: 8, warmupSteps: 5, checkpointEvery: 1000 });
  const meanLoss = (ms: PretrainMetrics[]) => ms.reduce((s, m) => s + m.loss, 0) / ms.length;
  const first = meanLoss(r.metrics.slice(0, 10)), last = meanLoss(r.metrics.slice(-10));
  assert.ok(last < first, `loss ${first} over the first 10 steps, ${last} over the last 10`);
  data.close();
  await Deno.remove(r.runDir, { recursive: true });
});
