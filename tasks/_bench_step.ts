/**
 * The timed work of the benchmark, on random inputs of a case's sizes (as the
 * PyTorch peer does): one pretraining step exactly as `lib/train/pretrain.ts`
 * takes it (forward of the three modalities with DropToken, NCE + MIL-NCE,
 * gradients of every trainable weight, Adam, BatchNorm statistics), and one
 * embedding-export batch (inference forward of the three modalities, read back
 * to the host).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "../lib/backend/gradients.ts";
import { DEFAULT_TEMPERATURE } from "../lib/config/pretrain_config.ts";
import type { VattConfig } from "../lib/config/vatt_config.ts";
import { milNceLoss } from "../lib/loss/mil_nce.ts";
import { nceLoss } from "../lib/loss/nce.ts";
import type { BatchNormUpdate } from "../lib/model/heads.ts";
import { VattModel } from "../lib/model/vatt.ts";
import { Adam } from "../lib/train/optimizer.ts";
import { Rng } from "../lib/util/rng.ts";

/** A model, its optimiser and one batch of random inputs. */
export interface StepBench {
  model: VattModel;
  /**
   * One pretraining step; resolves when its results are on the host, with the
   * loss and the milliseconds spent on forward + backward and on the
   * optimiser (exact on cpu/wasm, where kernels run synchronously).
   */
  step(): Promise<{ loss: number; gradMs: number; optimizerMs: number }>;
  /** One export batch; resolves with the number of embedding values read back. */
  embed(): Promise<number>;
  dispose(): void;
}

/**
 * Builds the model and inputs of `config` for `batch` clips of `captions`
 * captions (`recompute`: transformer layers recomputed in the backward pass).
 */
export function createStepBench(
  config: VattConfig,
  options: { batch: number; captions: number; seed?: number; recompute?: boolean },
): StepBench {
  const seed = options.seed ?? 0;
  const b = options.batch;
  const p = options.captions;
  const model = VattModel.create(config);
  const weights = model.trainableWeights();
  const optimizer = new Adam(weights, { decayable: (name) => name.endsWith("/kernel") });
  const v = config.video;
  const rng = new Rng(seed);
  const ids = Int32Array.from(
    { length: b * p * config.text.maxLength },
    () => 1 + rng.nextInt(config.text.vocabSize - 1),
  );
  const inputs = tf.tidy(() => ({
    video: tf.randomUniform([b, v.frames, v.height, v.width, 3], -1, 1, "float32", seed),
    audio: tf.randomUniform([b, config.audio.samples], -1, 1, "float32", seed + 1),
    text: tf.tensor3d(ids, [b, p, config.text.maxLength], "int32"),
    audioMask: tf.ones([b]),
    textMask: tf.ones([b, p]),
  }));
  const lastWeight = Object.values(weights).at(-1)!;
  let stepCount = 0;
  return {
    model,
    async step() {
      const t0 = performance.now();
      const updates: BatchNormUpdate[] = [];
      const dropRng = Rng.forLabel(seed, `droptoken-${stepCount++}`);
      const { value, grads } = tf.variableGrads(() => {
        const out = model.apply(
          { video: inputs.video, audio: inputs.audio, text: inputs.text },
          { training: true, rng: dropRng, bnUpdates: updates, recompute: options.recompute },
        );
        const nce = nceLoss(out.video!.va, out.audio!.va, {
          temperature: DEFAULT_TEMPERATURE,
          mask: inputs.audioMask as tf.Tensor1D,
        });
        const mil = milNceLoss(out.video!.vt, out.text!.vt as tf.Tensor3D, {
          temperature: DEFAULT_TEMPERATURE,
          mask: inputs.textMask as tf.Tensor2D,
        });
        return tf.add(nce, mil) as tf.Scalar;
      }, Object.values(weights));
      const byName: Record<string, tf.Tensor> = {};
      for (const [name, w] of Object.entries(weights)) {
        if (grads[w.name]) byName[name] = grads[w.name];
      }
      const loss = (await value.data())[0];
      const t1 = performance.now();
      optimizer.step(byName, 1e-4);
      model.applyBatchNormUpdates(updates);
      tf.dispose([value, ...Object.values(grads)]);
      // The last weight updated: reading it waits for every queued kernel (webgpu).
      const probe = tf.tidy(() => tf.slice(tf.reshape(lastWeight, [-1]), 0, 1));
      await probe.data();
      probe.dispose();
      return { loss, gradMs: t1 - t0, optimizerMs: performance.now() - t1 };
    },
    async embed() {
      const out = model.apply({ video: inputs.video, audio: inputs.audio, text: inputs.text });
      const tensors = [out.video!.va, out.video!.vt, out.audio!.va, out.text!.vt];
      const values = await Promise.all(tensors.map((t) => t.data()));
      tf.dispose([
        ...tensors,
        out.video!.representation,
        out.audio!.representation,
        out.text!.representation,
      ]);
      return values.reduce((n, x) => n + x.length, 0);
    },
    dispose() {
      optimizer.dispose();
      model.dispose();
      tf.dispose(Object.values(inputs));
    },
  };
}
