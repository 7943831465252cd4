/**
 * Deterministic optimisers over named weights: {@linkcode Adam} (with decoupled weight decay,
 * i.e. AdamW) and {@linkcode SgdMomentum}. Their state is a flat record of named tensors, so a
 * checkpoint can store it next to the model weights and a later run can resume exactly.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { NamedArray } from "../io/safetensors.ts";
import { MismatchError } from "../util/errors.ts";
import { fusedAdamMaxSize } from "../backend/kernels/fused.ts";
import { adamInPlace } from "../backend/kernels/adam_in_place.ts";
import { ADAM_KERNEL } from "../backend/kernels/names.ts";

/** What the training loop needs from an optimiser. */
export interface Optimizer {
  /** Updates taken so far (the step count saved in the state). */
  readonly iterations: number;
  /**
   * Applies one update: `grads` maps weight names to gradients of the loss (a weight with no
   * entry is left untouched), `lr` is this step's learning rate. Disposes nothing it was given.
   */
  step(grads: Record<string, tf.Tensor>, lr: number): void;
  /** The state as new tensors (the caller disposes them), named `<kind>/<slot>/<weight>`. */
  stateTensors(): Record<string, tf.Tensor>;
  /**
   * The state as host arrays, for an optimiser that keeps it off the backend
   * (`off_heap_adam.ts`): checkpoints read it without a copy on the backend.
   */
  stateArrays?(): Record<string, NamedArray>;
  /** Replaces the state with a record made by {@linkcode Optimizer.stateTensors}. */
  loadState(state: Record<string, tf.Tensor>): Promise<void>;
  /** Frees the optimiser's own tensors (not the weights). */
  dispose(): void;
}

/** Options shared by both optimisers: weight decay and which weights it applies to. */
export interface WeightDecayOptions {
  /** Weight-decay coefficient λ ≥ 0. Default 0 (off). */
  weightDecay?: number;
  /**
   * Which weights are decayed, by name. Default: all of them. Typical: leave out biases and
   * normalisation scales, e.g. `(name) => !name.endsWith("/bias") && !name.includes("norm")`.
   */
  decayable?: (name: string) => boolean;
}

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

function checkRange(where: string, name: string, value: number, max = Infinity): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value >= max) {
    const range = max === Infinity ? "a finite number ≥ 0" : `in [0, ${max})`;
    throw new RangeError(`${where}: ${name} must be ${range}, got ${value}`);
  }
}

/** What one weight's update gets besides the weight. */
interface WeightStep {
  /** The weight's name. */
  name: string;
  grad: tf.Tensor;
  /** The weight's state slots, by slot name. */
  slots: Record<string, tf.Variable>;
  /** The learning rate. */
  lr: number;
  /** Steps taken, this one included. */
  steps: number;
}

/** Named weights and per-weight state slots; subclasses supply the update rule. */
abstract class NamedOptimizer implements Optimizer {
  /** Weight-decay coefficient λ (0: off). */
  readonly weightDecay: number;
  #steps = 0;
  #disposed = false;
  readonly #weights: Map<string, tf.Variable>;
  readonly #slots: Map<string, tf.Variable> = new Map();
  readonly #decayable: (name: string) => boolean;

  constructor(
    protected readonly kind: string,
    weights: Record<string, tf.Variable>,
    options: { slotNames: readonly string[]; weightDecay: number } & WeightDecayOptions,
  ) {
    checkRange(kind, "weightDecay", options.weightDecay);
    this.slotNames = options.slotNames;
    this.weightDecay = options.weightDecay;
    this.#decayable = options.decayable ?? (() => true);
    this.#weights = new Map(Object.entries(weights));
    for (const [name, weight] of this.#weights) {
      if (!(weight instanceof tf.Variable)) {
        throw new TypeError(
          `${kind}: weight "${name}" must be a tf.Variable, got ${typeof weight}`,
        );
      }
      if (weight.dtype !== "float32") {
        throw new TypeError(`${kind}: weight "${name}" must be float32, got ${weight.dtype}`);
      }
    }
    for (const [name, weight] of this.#weights) {
      for (const slot of this.slotNames) {
        const zeros = tf.zerosLike(weight);
        this.#slots.set(this.slotKey(slot, name), tf.variable(zeros, false));
        zeros.dispose();
      }
    }
  }

  /** The names of each weight's state slots. */
  protected readonly slotNames: readonly string[];

  get iterations(): number {
    return this.#steps;
  }

  /** Whether weight `name` is decayed: λ > 0 and `decayable(name)`. */
  protected decays(name: string): boolean {
    return this.weightDecay > 0 && this.#decayable(name);
  }

  /** The names of the weights this optimiser updates, in construction order. */
  get weightNames(): string[] {
    return [...this.#weights.keys()];
  }

  /** The name of one state tensor, e.g. `adam/m/encoder/w`. */
  protected slotKey(slot: string, weight: string): string {
    return `${this.kind}/${slot}/${weight}`;
  }

  /** The name of the step-count state tensor, e.g. `adam/step`. */
  protected get stepKey(): string {
    return `${this.kind}/step`;
  }

  /**
   * One weight's update, called inside `tf.tidy` with the step count already advanced: assigns
   * the weight and its slots.
   */
  protected abstract update(weight: tf.Variable, step: WeightStep): void;

  step(grads: Record<string, tf.Tensor>, lr: number): void {
    this.#checkAlive();
    checkRange(`${this.kind}.step()`, "learning rate", lr);
    const present = Object.entries(grads).filter(([, grad]) => grad != null);
    for (const [name, grad] of present) {
      const weight = this.#weights.get(name);
      if (weight === undefined) {
        throw new MismatchError(`${this.kind}.step(): gradient for unknown weight "${name}"`);
      }
      if (!tf.util.arraysEqual(grad.shape, weight.shape)) {
        throw new MismatchError(
          `${this.kind}.step(): gradient of "${name}" has shape [${grad.shape}],` +
            ` weight has [${weight.shape}]`,
        );
      }
      if (grad.dtype !== "float32") {
        throw new TypeError(`${this.kind}.step(): gradient of "${name}" is ${grad.dtype}`);
      }
    }
    this.#steps += 1;
    for (const [name, grad] of present) {
      const weight = this.#weights.get(name)!;
      const slots: Record<string, tf.Variable> = {};
      for (const slot of this.slotNames) slots[slot] = this.#slots.get(this.slotKey(slot, name))!;
      // One tidy per weight keeps the peak memory to one weight's temporaries.
      tf.tidy(() => this.update(weight, { name, grad, slots, lr, steps: this.#steps }));
    }
  }

  stateTensors(): Record<string, tf.Tensor> {
    this.#checkAlive();
    // tf.clone shares the data (no copy); later assigns give the variables new data.
    const state: Record<string, tf.Tensor> = { [this.stepKey]: tf.scalar(this.#steps, "int32") };
    for (const [key, slot] of this.#slots) state[key] = tf.clone(slot);
    return state;
  }

  async loadState(state: Record<string, tf.Tensor>): Promise<void> {
    this.#checkAlive();
    const where = `${this.kind}.loadState()`;
    const expected = [this.stepKey, ...this.#slots.keys()];
    const missing = expected.filter((key) => !(key in state));
    const extra = Object.keys(state).filter((key) => key !== this.stepKey && !this.#slots.has(key));
    if (missing.length > 0 || extra.length > 0) {
      throw new MismatchError(
        `${where}: state does not fit these weights: missing [${missing.join(", ")}],` +
          ` unexpected [${extra.join(", ")}]`,
      );
    }
    for (const [key, slot] of this.#slots) {
      const tensor = state[key];
      if (!(tensor instanceof tf.Tensor) || tensor.dtype !== "float32") {
        throw new MismatchError(`${where}: "${key}" must be a float32 tensor`);
      }
      if (!tf.util.arraysEqual(tensor.shape, slot.shape)) {
        throw new MismatchError(
          `${where}: "${key}" has shape [${tensor.shape}], expected [${slot.shape}]`,
        );
      }
    }
    const stepTensor = state[this.stepKey];
    if (!(stepTensor instanceof tf.Tensor) || stepTensor.size !== 1) {
      throw new MismatchError(`${where}: "${this.stepKey}" must be a tensor with one value`);
    }
    const steps = (await stepTensor.data())[0] as number;
    if (!Number.isSafeInteger(steps) || steps < 0) {
      throw new MismatchError(`${where}: "${this.stepKey}" must be an integer ≥ 0, got ${steps}`);
    }
    this.#checkAlive();
    // assign shares the data: the caller may dispose `state` afterwards.
    for (const [key, slot] of this.#slots) slot.assign(state[key]);
    this.#steps = steps;
  }

  dispose(): void {
    if (this.#disposed) return;
    for (const slot of this.#slots.values()) slot.dispose();
    this.#slots.clear();
    this.#disposed = true;
  }

  #checkAlive(): void {
    if (this.#disposed) throw new Error(`${this.kind}: the optimiser has been disposed`);
  }
}

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

  protected update(weight: tf.Variable, step: WeightStep): void {
    const { name, grad, slots, lr, steps } = step;
    const { beta1, beta2, epsilon } = this;
    const decay = this.decays(name) ? lr * this.weightDecay : 0;
    // One fused kernel where the backend has it (wasm: lib/backend/fused_kernels.ts), bit-identical
    // to the ops below and free of their per-op overhead and temporaries; with its JavaScript loop
    // (no SIMD) only for small weights, where it beats the vectorised ops.
    // The same arithmetic in the weight's and moments' own buffers where nothing else shares them.
    if (weight.size <= fusedAdamMaxSize()) {
      const tensors = { weight, m: slots.m, v: slots.v, grad };
      const attrs = { beta1, beta2, epsilon, lr, steps, decay };
      if (adamInPlace(tensors, attrs)) return;
      const [next, m, v] = tf.engine().runKernel(ADAM_KERNEL, tensors, attrs) as tf.Tensor[];
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
