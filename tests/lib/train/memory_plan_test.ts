import assert from "node:assert/strict";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import {
  eagerBackpropInstalled,
  installEagerBackprop,
  uninstallEagerBackprop,
} from "../../../lib/backend/backprop.ts";
import { loadBlas } from "../../../lib/backend/blas.ts";
import { initBackend } from "../../../lib/backend/select.ts";
import { resolvePretrainConfig } from "../../../lib/config/pretrain_config.ts";
import { resolveVattConfig, type VattConfig } from "../../../lib/config/vatt_config.ts";
import { Dataset } from "../../../lib/data/shards/dataset.ts";
import { prepareRunFolder } from "../../../lib/run/run_folder.ts";
import {
  estimateMemory,
  MemoryPlanError,
  PLAN_FILL,
  planMemory,
} from "../../../lib/train/memory_plan.ts";
import { pretrain } from "../../../lib/train/pretrain.ts";
import { demoDataset } from "../../_fixtures.ts";
import { errorLines, runVatt } from "../../cli/_run.ts";

const fixture = await demoDataset({ clips: 32 });

/** Live bytes the wasm backend has allocated on its heap, and their peak (malloc/free wrapped). */
const heapBytes = { live: 0, peak: 0 };
let tracking = false;

/** Wraps the wasm module's malloc and free once, to follow the bytes on the heap. */
function trackWasmHeap(): Uint8Array {
  type Module = { HEAPU8: Uint8Array; _malloc(n: number): number; _free(p: number): void };
  const wasm = (tf.backend() as unknown as { wasm: Module }).wasm;
  if (!tracking) {
    // Emscripten's exports replace themselves on their first call: call them once first.
    wasm._free(wasm._malloc(8));
    const [malloc, free] = [wasm._malloc.bind(wasm), wasm._free.bind(wasm)];
    const sizes = new Map<number, number>();
    wasm._malloc = (n: number) => {
      const p = malloc(n);
      sizes.set(p, n);
      heapBytes.live += n;
      heapBytes.peak = Math.max(heapBytes.peak, heapBytes.live);
      return p;
    };
    wasm._free = (p: number) => {
      heapBytes.live -= sizes.get(p) ?? 0;
      sizes.delete(p);
      free(p);
    };
    tracking = true;
  }
  return wasm.HEAPU8;
}

/**
 * The measured peak of two real pretraining steps (`pretrain()`, Adam, the
 * demo data at the tiny preset's inputs, 4 captions per clip) on wasm: the
 * most bytes the backend held on the wasm heap at once, and the heap's size.
 */
async function measuredPeak(
  model: VattConfig,
  batchSize: number,
  memory: { recompute: boolean; offHeapState: boolean; recomputeParts?: number },
): Promise<{ peak: number; heapSize: number }> {
  await initBackend("wasm");
  trackWasmHeap();
  const runDir = await Deno.makeTempDir({ prefix: "vatt-memory-plan-" });
  const data = await Dataset.open(fixture.data);
  const train = resolvePretrainConfig({ steps: 2, batchSize, checkpointEvery: 1000 });
  try {
    await prepareRunFolder(runDir, { config: { model, train }, resume: false, force: false });
    heapBytes.peak = heapBytes.live;
    const before = heapBytes.live;
    await pretrain({ runDir, model, train, data, memory });
    return { peak: heapBytes.peak - before, heapSize: trackWasmHeap().length };
  } finally {
    data.close();
    await Deno.remove(runDir, { recursive: true });
  }
}

const TINY = resolveVattConfig({ preset: "tiny" });
/** The small preset's backbones and heads at the demo data's (tiny preset's) inputs. */
const SMALL_AT_TINY_INPUTS = resolveVattConfig({
  preset: "small",
  video: { frames: 8, height: 32, width: 32, patch: TINY.video.patch },
  audio: { samples: TINY.audio.samples, sampleRate: TINY.audio.sampleRate },
  text: { vocabSize: TINY.text.vocabSize },
});

/** The tiny preset with patches of 1×4×4: 512 video tokens (257 kept), the scores a large share. */
const TINY_LONG = resolveVattConfig({ preset: "tiny", video: { patch: [1, 4, 4] } });

const PLAIN = { recompute: false, offHeapState: false };
const RECOMPUTE = { recompute: true, offHeapState: false };
const LEAN = { recompute: true, offHeapState: true };
const LEAN_IN_PARTS = { recompute: true, offHeapState: true, recomputeParts: 4 };

const cases: [string, VattConfig, number, typeof PLAIN & { recomputeParts?: number }][] = [
  ["tiny, batch 8", TINY, 8, PLAIN],
  ["tiny, batch 32", TINY, 32, PLAIN],
  ["small at the tiny inputs, batch 4", SMALL_AT_TINY_INPUTS, 4, PLAIN],
  ["small at the tiny inputs, batch 8", SMALL_AT_TINY_INPUTS, 8, PLAIN],
  ["tiny, batch 32, recomputed layers", TINY, 32, RECOMPUTE],
  ["small at the tiny inputs, batch 8, recomputed layers", SMALL_AT_TINY_INPUTS, 8, RECOMPUTE],
  [
    "small at the tiny inputs, batch 8, recomputed layers, moments off the heap",
    SMALL_AT_TINY_INPUTS,
    8,
    LEAN,
  ],
  ["tiny with 512 video tokens, batch 8", TINY_LONG, 8, PLAIN],
  ["tiny with 512 video tokens, batch 8, recomputed layers", TINY_LONG, 8, RECOMPUTE],
  [
    "small at the tiny inputs, batch 16, recomputed layers in 4 parts, moments off the heap",
    SMALL_AT_TINY_INPUTS,
    16,
    LEAN_IN_PARTS,
  ],
];

for (const [name, model, batchSize, memory] of cases) {
  Deno.test(`estimateMemory() is within 25% of the measured wasm peak of pretraining: ${name}`, async () => {
    const measured = await measuredPeak(model, batchSize, memory);
    const estimate = estimateMemory({ model, batchSize, captionsPerClip: 4, ...memory });
    const ratio = estimate.total / measured.peak;
    console.log(
      `${name}: estimate ${(estimate.total / 1e6).toFixed(1)} MB, measured peak ${
        (measured.peak / 1e6).toFixed(1)
      } MB (ratio ${ratio.toFixed(3)}), wasm heap ${(measured.heapSize / 1e6).toFixed(1)} MB`,
    );
    assert.ok(ratio > 0.75 && ratio < 1.25, `estimate/measured = ${ratio.toFixed(3)}`);
  });
}

Deno.test("estimateMemory() counts 4 bytes per weight and gradient, and the optimizer's slots", () => {
  // tiny: 349,824 trainable weights and 640 BatchNorm statistics (weight_specs).
  const sgd = estimateMemory({ model: TINY, batchSize: 2, optimizer: "sgd" });
  assert.equal(sgd.weights, (349824 + 640) * 4);
  assert.equal(sgd.gradients, 349824 * 4);
  assert.equal(sgd.optimizer, 0);
  assert.equal(
    estimateMemory({ model: TINY, batchSize: 2, optimizer: "momentum" }).optimizer,
    349824 * 4,
  );
  assert.equal(estimateMemory({ model: TINY, batchSize: 2 }).optimizer, 2 * 349824 * 4); // Adam
});

Deno.test("estimateMemory() with the eager backward pass: the larger of activations and gradients, plus 15 % of the gradients", async () => {
  const wasOn = eagerBackpropInstalled();
  await tf.setBackend("cpu"); // the composite attention: every count but the inputs' halves
  try {
    uninstallEagerBackprop();
    const tfjs = estimateMemory({ model: TINY, batchSize: 8 });
    assert.equal(tfjs.total, tfjs.weights + tfjs.gradients + tfjs.optimizer + tfjs.activations);
    installEagerBackprop({ force: true });
    const eager = estimateMemory({ model: TINY, batchSize: 8 });
    // half of every layer's activations; the inputs and embeddings are held alike
    const ratio = eager.activations / tfjs.activations;
    assert.ok(ratio > 0.5 && ratio < 0.6, `eager / tfjs activations ${ratio}`);
    const both = Math.max(eager.activations, eager.gradients) + 0.15 * eager.gradients;
    assert.equal(eager.total, eager.weights + eager.optimizer + both);
    // small's weights outweigh its activations at batch 1: the gradients set the peak
    const small = estimateMemory({ model: SMALL_AT_TINY_INPUTS, batchSize: 1, offHeapState: true });
    assert.ok(small.gradients > small.activations);
    assert.equal(small.total, small.weights + (small.gradients + 0.15 * small.gradients));
  } finally {
    if (wasOn) installEagerBackprop({ force: true });
    else uninstallEagerBackprop();
  }
});

Deno.test("estimateMemory(): activations grow with the batch and shrink with DropToken", () => {
  const one = estimateMemory({ model: TINY, batchSize: 1 }).activations;
  const ten = estimateMemory({ model: TINY, batchSize: 10 }).activations;
  assert.ok(Math.abs(ten / one - 10) < 1e-6);
  const noDrop = resolveVattConfig({ preset: "tiny", dropToken: 0 });
  assert.ok(
    estimateMemory({ model: noDrop, batchSize: 4 }).activations >
      estimateMemory({ model: TINY, batchSize: 4 }).activations,
  );
  assert.throws(() => estimateMemory({ model: TINY, batchSize: 0 }), /positive integer/);
});

Deno.test("planMemory() gives the largest batch whose estimate is within the limit", () => {
  const at = (b: number) => estimateMemory({ model: TINY, batchSize: b }).total;
  // Plans fill PLAN_FILL of the limit: a heap whose share lies between batch 12's and 13's.
  const bytes = Math.floor((at(12) + at(13)) / 2 / PLAN_FILL);
  const limit = { backend: "wasm", bytes, detail: "test" };
  const refused = planMemory({ model: TINY, batchSize: 20 }, limit);
  assert.equal(refused.fits, false);
  assert.equal(refused.largestBatch, 12);
  const fits = planMemory({ model: TINY, batchSize: 4 }, limit);
  assert.equal(fits.fits, true);
  assert.equal(fits.largestBatch, 12);
  const message = new MemoryPlanError(refused).message;
  assert.match(
    message,
    /^batch 20 needs about \d+\.\d\d GiB .* backend has \d+\.\d\d GiB \(plans fill \d+ % of it\); /,
  );
  assert.match(message, /the largest batch that fits is 12$/);
  assert.ok(!message.includes("\n"));
});

Deno.test("planMemory() with a buffer limit (WebGPU) refuses a batch whose largest tensor is over it", () => {
  // tiny: the raw video, 8·32·32·3 = 24,576 floats per clip, is the largest tensor (the video
  // scores [B, 4, 33, 33] are 4,356 floats per clip, the MLP inner layer [B, 33, 128] 4,224).
  assert.equal(estimateMemory({ model: TINY, batchSize: 2 }).largestTensor, 4 * 2 * 24576);
  // A buffer of 147,456 floats holds the raw video of 6 clips.
  const limit = { backend: "webgpu", bytes: 1e12, detail: "test", bufferBytes: 4 * 147456 };
  const p = planMemory({ model: TINY, batchSize: 8 }, limit);
  assert.equal(p.fits, false);
  assert.equal(p.largestBatch, 6);
  assert.match(new MemoryPlanError(p).message, /one tensor of .* exceeds its largest buffer/);
});

/**
 * The largest batch of the wide test model on the wasm heap, as the plan counts it: with OpenBLAS
 * the fused attention kernel (dropout inside) is registered and keeps its probabilities and one
 * mask per layer; the dropout kernel keeps no masks of the other dropouts; the eager backward
 * pass holds the forward pass's saved tensors without their gradients; plans fill PLAN_FILL of
 * the heap.
 */
const LARGEST_WITH_BLAS = 23;
const LARGEST_WITHOUT_BLAS = 22;
/** A batch the wide model cannot take without recomputation (the fixture has 32 clips). */
const TOO_LARGE = 32;

Deno.test("vatt pretrain refuses a batch that cannot fit before step 1, with the estimate and the largest batch", async () => {
  const dir = await Deno.makeTempDir();
  // The demo data's inputs with 1024-wide, 6-layer backbones: 3.4 GiB of weights, gradients and
  // Adam moments, and about 0.1 GiB per clip (4 captions each) with the eager backward pass.
  const wide = { layers: 6, hidden: 1024, mlp: 4096, heads: 16 };
  const cfg = path.join(dir, "wide.json");
  await Deno.writeTextFile(
    cfg,
    JSON.stringify({
      video: { backbone: wide },
      audio: { backbone: wide },
      text: { backbone: wide },
    }),
  );
  const out = path.join(dir, "run");
  const args = ["pretrain", fixture.data, "--out", out, "--config", cfg, "--backend", "wasm"];
  // Without recomputation (Adam's moments go off the heap by themselves): refused.
  const r = await runVatt([...args, "--batch", String(TOO_LARGE), "--recompute", "none"]);
  assert.equal(r.code, 2, r.stderr);
  const last = errorLines(r).at(-1)!;
  assert.match(
    last,
    new RegExp(
      `batch ${TOO_LARGE} needs about \\d+\\.\\d\\d GiB .*optimizer \\d+\\.\\d\\d GiB off the heap`,
    ),
  );
  // With OpenBLAS the attention kernel runs with dropout and keeps α and its mask instead of the
  // composite ops' eleven score tensors per layer: more clips fit.
  const largest = loadBlas() ? LARGEST_WITH_BLAS : LARGEST_WITHOUT_BLAS;
  assert.match(
    last,
    new RegExp(
      `the wasm backend has 3\\.98 GiB \\(plans fill ${
        PLAN_FILL * 100
      } % of it\\); the largest batch that fits is ${largest}; `,
    ),
  );
  let ranks = Math.ceil(TOO_LARGE / largest); // the fewest ranks of equal batches that fit
  while (TOO_LARGE % ranks !== 0) ranks++;
  assert.match(
    last,
    new RegExp(
      `or ${ranks} ranks of batch ${
        TOO_LARGE / ranks
      } each, with their own heaps \\(mpirun -np ${ranks} … --distributed\\)$`,
    ),
  );
  await assert.rejects(Deno.stat(out)); // the run folder is not touched
  const info = async (recompute: string) => {
    const flags = ["--config", cfg, "--batch", String(TOO_LARGE), "--backend", "wasm"];
    flags.push("--recompute", recompute);
    const r = await runVatt(["info", ...flags, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout).memory;
  };
  const refused = await info("none");
  assert.equal(refused.fits, false);
  assert.equal(refused.largestBatch, largest);
  // With recomputation allowed (the default, auto), the plan switches it on and the batch fits.
  const auto = await info("auto");
  assert.equal(auto.fits, true);
  assert.equal(auto.recompute, true);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("vatt pretrain refuses --accumulate with the reason: a micro-batch's negatives are not the batch's", async () => {
  const out = path.join(await Deno.makeTempDir(), "run");
  const r = await runVatt(["pretrain", fixture.data, "--out", out, "--accumulate", "2"]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(errorLines(r).at(-1)!, /a micro-batch's negatives are not the batch's/);
  await assert.rejects(Deno.stat(out));
});
