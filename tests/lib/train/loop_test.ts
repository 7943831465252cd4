import assert from "node:assert/strict";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../../lib/backend/select.ts";
import { readSafetensors } from "../../../lib/io/safetensors.ts";
import { listCheckpoints, readTrainState } from "../../../lib/run/checkpoint.ts";
import {
  CheckpointWriteError,
  NonFiniteLossError,
  type StepDone,
  trainLoop,
  type TrainTask,
} from "../../../lib/train/loop.ts";
import { Adam } from "../../../lib/train/optimizer.ts";
import { MismatchError } from "../../../lib/util/errors.ts";

await initBackend("cpu");

/** A toy task: fit `w` to `target` by minimising (w − target)², one row per example. */
function toyTask(options: {
  steps: number;
  target?: number;
  kind?: string;
  done?: StepDone[];
  rows?: number[][];
}) {
  const w = tf.variable(tf.scalar(0));
  const optimizer = new Adam({ w });
  const task: TrainTask = {
    kind: options.kind ?? "toy",
    trainable: { w },
    optimizer,
    data: { size: 6, seed: 3, batchSize: 2 },
    schedule: { baseRate: 0.1, finalRate: 0.01, warmupSteps: 1, totalSteps: options.steps },
    clipNorm: 1,
    keep: 10,
    checkpointDue: (step) => step % 2 === 0,
    checkpoint: () => ({ weights: { w }, config: { toy: true } }),
    restore: async (checkpoint) => {
      const decoded = await readSafetensors(path.join(checkpoint, "model.safetensors"));
      w.assign(tf.scalar((decoded.tensors.w.data as Float32Array)[0]));
    },
    prepare: (rows) => {
      options.rows?.push(rows);
      return Promise.resolve({
        loss: () => tf.square(tf.sub(w, options.target ?? 3)) as tf.Scalar,
        dispose: () => {},
        completed: (d) => {
          options.done?.push(d);
          return Promise.resolve();
        },
      });
    },
  };
  return { task, w, dispose: () => (optimizer.dispose(), w.dispose()) };
}

Deno.test("trainLoop() checkpoints at step 0, when due, at the end; a resume continues exactly", async () => {
  const runDir = await Deno.makeTempDir();
  const whole = toyTask({ steps: 5, rows: [] });
  const r = await trainLoop(whole.task, { runDir: path.join(runDir, "a") });
  assert.deepEqual(r, {
    step: 5,
    stopped: false,
    checkpoint: path.join(runDir, "a", "checkpoints", "step-0000005"),
  });
  const steps = (await listCheckpoints(path.join(runDir, "a", "checkpoints"))).map((c) => c.step);
  assert.deepEqual(steps, [0, 2, 4, 5]);
  const end = (await whole.w.data())[0];

  let calls = 0;
  const part = toyTask({ steps: 5 });
  const stopped = await trainLoop(part.task, {
    runDir: path.join(runDir, "b"),
    shouldStop: () => ++calls === 3,
  });
  assert.equal(stopped.stopped, true);
  assert.equal(stopped.step, 3);
  const state = await readTrainState(stopped.checkpoint);
  assert.equal(state.step, 3);
  assert.equal(state.data.epoch * 6 + state.data.offset, 3 * 2, "three batches of 2 read");
  const rest = toyTask({ steps: 5 });
  await trainLoop(rest.task, { runDir: path.join(runDir, "b"), resumeFrom: stopped.checkpoint });
  assert.equal((await rest.w.data())[0], end);
  for (const t of [whole, part, rest]) t.dispose();
  await Deno.remove(runDir, { recursive: true });
});

Deno.test("trainLoop() refuses a checkpoint of another kind", async () => {
  const runDir = await Deno.makeTempDir();
  const a = toyTask({ steps: 2 });
  const r = await trainLoop(a.task, { runDir });
  const b = toyTask({ steps: 3, kind: "other" });
  await assert.rejects(trainLoop(b.task, { runDir, resumeFrom: r.checkpoint }), MismatchError);
  a.dispose();
  b.dispose();
  await Deno.remove(runDir, { recursive: true });
});

Deno.test("trainLoop() stops on a non-finite loss, the last checkpoint kept", async () => {
  const runDir = await Deno.makeTempDir();
  const t = toyTask({ steps: 3, target: NaN });
  const before = tf.memory().numTensors;
  await assert.rejects(
    trainLoop(t.task, { runDir }),
    (e) => e instanceof NonFiniteLossError && e.step === 1,
  );
  assert.equal(tf.memory().numTensors, before, "the failed step's tensors are freed");
  assert.deepEqual((await listCheckpoints(path.join(runDir, "checkpoints"))).map((c) => c.step), [
    0,
  ]);
  t.dispose();
  await Deno.remove(runDir, { recursive: true });
});

Deno.test("trainLoop() wraps a failed checkpoint write in a CheckpointWriteError", async () => {
  const runDir = await Deno.makeTempDir();
  // A file where the checkpoints folder should be: the first write fails.
  await Deno.writeTextFile(path.join(runDir, "checkpoints"), "");
  const t = toyTask({ steps: 2 });
  await assert.rejects(
    trainLoop(t.task, { runDir }),
    (e) =>
      e instanceof CheckpointWriteError && e.step === 0 &&
      /no checkpoint was written yet/.test(e.message),
  );
  t.dispose();
  await Deno.remove(runDir, { recursive: true });
});

Deno.test("trainLoop() reports each step with its learning rate from the schedule", async () => {
  const runDir = await Deno.makeTempDir();
  const done: StepDone[] = [];
  const t = toyTask({ steps: 3, done });
  await trainLoop(t.task, { runDir });
  assert.deepEqual(done.map((d) => d.step), [1, 2, 3]);
  assert.equal(done[0].lr, 0); // warmup starts at 0
  assert.equal(done[1].lr, 0.1); // the peak after one warmup step
  assert.ok(done.every((d) => Number.isFinite(d.loss) && d.gradNorm > 0));
  t.dispose();
  await Deno.remove(runDir, { recursive: true });
});
