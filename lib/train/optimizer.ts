/**
 * Deterministic optimisers over named weights: {@linkcode Adam} (with decoupled weight decay,
 * i.e. AdamW) and {@linkcode SgdMomentum}. Their state is a flat record of named tensors, so a
 * checkpoint can store it next to the model weights and a later run can resume exactly.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  checkRange,
  NamedOptimizer,
  type WeightDecayOptions,
  type WeightStep,
  type WeightUpdate,
} from "./_named_optimizer.ts";
import { type AdamAttrs, fusedAdamMaxSize } from "../backend/kernels/fused.ts";
import { adamInPlace, adamInPlaceMany } from "../backend/kernels/adam_in_place.ts";
import { ADAM_KERNEL } from "../backend/kernels/names.ts";

export type { Optimizer, WeightDecayOptions } from "./_named_optimizer.ts";

/** Options of {@linkcode Adam}. */
export interface AdamOptions extends WeightDecayOptions {
  /** Decay of the first-moment average, in [0, 1). Default 0.9 (Kingma & Ba; VATT). */
  beta1?: number;
  /** Decay of the second-moment average, in [0, 1). Default 0.999 (Kingma & Ba; VATT). */
  beta2?: number;
  /** Added to `√v̂` in the denominator, > 0. Default 1e-8 (Kingma & Ba). */
  epsilon?: number;
}

/** Options of {@linkcode SgdMomentum}. */
export interface SgdMomentumOptions extends WeightDecayOptions {
  /** Momentum μ in [0, 1). Default 0.9. */
  momentum?: number;
  /** Use Nesterov momentum. Default false. */
  nesterov?: boolean;
}

/** Defaults of {@linkcode AdamOptions}. */
export const DEFAULT_ADAM_OPTIONS = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 };

/** Defaults of {@linkcode SgdMomentumOptions}. */
export const DEFAULT_SGD_MOMENTUM_OPTIONS = { momentum: 0.9, nesterov: false, weightDecay: 0 };

/**
 * Adam (Kingma & Ba 2015) with optional decoupled weight decay (AdamW, Loshchilov & Hutter
 * 2019). For weight `θ` with gradient `g` at step `t` (1-based), learning rate `η`:
 *
 * ```
 * m ← β1·m + (1−β1)·g        m̂ = m / (1 − β1^t)
 * v ← β2·v + (1−β2)·g²       v̂ = v / (1 − β2^t)
 * θ ← θ − η·m̂ / (√v̂ + ε) − η·λ·θ        (the λ term only for decayable weights)
 * ```
 *
 * Choices: ε is added to `√v̂` (the paper's and PyTorch's form, not TF/Keras's "ε-hat" on the
 * uncorrected `√v`); the bias corrections are computed in float64 from the step count and
 * folded into products (`η·m̂ = m·(η/(1 − β1^t))`, `v̂ = v·(1/(1 − β2^t))`: one division and one
 * root per value in float32, as the fused kernel computes it); weight
 * decay is decoupled from the gradient and scaled by the learning rate (PyTorch `AdamW`, optax
 * `adamw`), so it follows the schedule. State: `adam/m/<weight>`, `adam/v/<weight>` (float32,
 * the weight's shape) and `adam/step` (int32 scalar).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { Adam } from "./optimizer.ts";
 * const w = tf.variable(tf.scalar(1));
 * const adam = new Adam({ w }, { weightDecay: 0.01, decayable: (name) => name !== "bias" });
 * const g = tf.scalar(0.5);
 * adam.step({ w: g }, 0.1); // first step moves by η·(1 + λ·θ) ≈ 0.1·1.01
 * assert.ok(Math.abs((await w.data())[0] - (1 - 0.1 - 0.1 * 0.01)) < 1e-6);
 * tf.dispose([w, g]);
 * adam.dispose();
 * ```
 */
export class Adam extends NamedOptimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;

  /**
   * @param weights the weights to update, by name (the names used in `step` and the state).
   * @throws {RangeError} when a β is outside [0, 1), or ε or λ is negative or not finite.
   */
  constructor(weights: Record<string, tf.Variable>, options: AdamOptions = {}) {
    const resolved = { ...DEFAULT_ADAM_OPTIONS, ...options };
    checkRange("adam", "beta1", resolved.beta1, 1);
    checkRange("adam", "beta2", resolved.beta2, 1);
    checkRange("adam", "epsilon", resolved.epsilon);
    super("adam", weights, { ...resolved, slotNames: ["m", "v"] });
    this.beta1 = resolved.beta1;
    this.beta2 = resolved.beta2;
    this.epsilon = resolved.epsilon;
  }

  /** The fused kernel's attributes for one weight's step. */
  #attrs(step: WeightStep): AdamAttrs {
    const { beta1, beta2, epsilon } = this;
    const decay = this.decays(step.name) ? step.lr * this.weightDecay : 0;
    return { beta1, beta2, epsilon, lr: step.lr, steps: step.steps, decay };
  }

  /** Every weight the fused kernel takes, in place in one native call where it can. */
  protected override updateMany(updates: WeightUpdate[]): Set<string> {
    const max = fusedAdamMaxSize();
    const fused = updates.filter(({ weight }) => weight.size <= max);
    const done = adamInPlaceMany(
      fused.map(({ weight, step }) => ({
        weight,
        m: step.slots.m,
        v: step.slots.v,
        grad: step.grad,
      })),
      fused.map(({ step }) => this.#attrs(step)),
    );
    return new Set(fused.filter((_, i) => done[i]).map(({ step }) => step.name));
  }

  protected update(weight: tf.Variable, step: WeightStep): void {
    const { name, grad, slots, lr, steps } = step;
    const { beta1, beta2, epsilon } = this;
    // One fused kernel where the backend has it (wasm: lib/backend/fused_kernels.ts), bit-identical
    // to the ops below and free of their per-op overhead and temporaries; with its JavaScript loop
    // (no SIMD) only for small weights, where it beats the vectorised ops.
    // The same arithmetic in the weight's and moments' own buffers where nothing else shares them.
    if (weight.size <= fusedAdamMaxSize()) {
      const tensors = { weight, m: slots.m, v: slots.v, grad };
      const attrs = this.#attrs(step);
      if (adamInPlace(tensors, attrs)) return;
      const [next, m, v] = tf.engine().runKernel(
        ADAM_KERNEL,
        tensors,
        attrs as unknown as tf.NamedAttrMap,
      ) as tf.Tensor[];
      slots.m.assign(m);
      slots.v.assign(v);
      weight.assign(next);
      return;
    }
    const m = tf.add(tf.mul(slots.m, beta1), tf.mul(grad, 1 - beta1));
    const v = tf.add(tf.mul(slots.v, beta2), tf.mul(tf.square(grad), 1 - beta2));
    // The bias corrections folded into products: lr·m̂ = m·(lr/(1 − β1^t)), v̂ = v·(1/(1 − β2^t)).
    const lrMHat = tf.mul(m, lr / (1 - beta1 ** steps));
    const vHat = tf.mul(v, 1 / (1 - beta2 ** steps));
    let next = tf.sub(weight, tf.div(lrMHat, tf.add(tf.sqrt(vHat), epsilon)));
    if (this.decays(name)) {
      next = tf.sub(next, tf.mul(weight, lr * this.weightDecay));
    }
    slots.m.assign(m);
    slots.v.assign(v);
    weight.assign(next);
  }
}

/**
 * Stochastic gradient descent with (optionally Nesterov) momentum and L2 weight decay, in
 * PyTorch's `SGD` form (no dampening). For weight `θ` with gradient `g`, learning rate `η`:
 *
 * ```
 * g ← g + λ·θ                         (decayable weights only)
 * b ← μ·b + g
 * θ ← θ − η·b                         (plain)
 * θ ← θ − η·(g + μ·b)                 (Nesterov)
 * ```
 *
 * State: `sgd/momentum/<weight>` (float32) and `sgd/step` (int32 scalar).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { SgdMomentum } from "./optimizer.ts";
 * const w = tf.variable(tf.scalar(1));
 * const sgd = new SgdMomentum({ w }, { momentum: 0.9 });
 * const g = tf.scalar(1);
 * sgd.step({ w: g }, 0.1); // b = 1, θ = 0.9
 * sgd.step({ w: g }, 0.1); // b = 1.9, θ = 0.71
 * assert.ok(Math.abs((await w.data())[0] - 0.71) < 1e-6);
 * tf.dispose([w, g]);
 * sgd.dispose();
 * ```
 */
export class SgdMomentum extends NamedOptimizer {
  readonly momentum: number;
  readonly nesterov: boolean;

  /**
   * @param weights the weights to update, by name (the names used in `step` and the state).
   * @throws {RangeError} when μ is outside [0, 1) or λ is negative or not finite.
   */
  constructor(weights: Record<string, tf.Variable>, options: SgdMomentumOptions = {}) {
    const resolved = { ...DEFAULT_SGD_MOMENTUM_OPTIONS, ...options };
    checkRange("sgd", "momentum", resolved.momentum, 1);
    super("sgd", weights, { ...resolved, slotNames: ["momentum"] });
    this.momentum = resolved.momentum;
    this.nesterov = resolved.nesterov;
  }

  protected update(weight: tf.Variable, step: WeightStep): void {
    const { name, grad, slots, lr } = step;
    const g = this.decays(name) ? tf.add(grad, tf.mul(weight, this.weightDecay)) : grad;
    const buffer = tf.add(tf.mul(slots.momentum, this.momentum), g);
    const direction = this.nesterov ? tf.add(g, tf.mul(buffer, this.momentum)) : buffer;
    const next = tf.sub(weight, tf.mul(direction, lr));
    slots.momentum.assign(buffer);
    weight.assign(next);
  }
}
