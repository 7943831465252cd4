/**
 * What every optimiser of `optimizer.ts` shares: the {@linkcode Optimizer} interface the
 * training loop uses, and `NamedOptimizer`, the named weights with their state slots, the step
 * count, the checks of each step's gradients, and the state's save and load.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { NamedArray } from "../io/safetensors.ts";
import { MismatchError } from "../util/errors.ts";

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

export function checkRange(where: string, name: string, value: number, max = Infinity): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value >= max) {
    const range = max === Infinity ? "a finite number ≥ 0" : `in [0, ${max})`;
    throw new RangeError(`${where}: ${name} must be ${range}, got ${value}`);
  }
}

/** What one weight's update gets besides the weight. */
export interface WeightStep {
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

/** One weight and its step, as `updateMany` receives them. */
export interface WeightUpdate {
  weight: tf.Variable;
  step: WeightStep;
}

/** Named weights and per-weight state slots; subclasses supply the update rule. */
export abstract class NamedOptimizer implements Optimizer {
  /** Weight-decay coefficient λ (0: off). */
  readonly weightDecay: number;
  #steps = 0;
  #disposed = false;
  readonly #weights: Map<string, tf.Variable>;
  readonly #slots: Map<string, tf.Variable> = new Map();
  /** Each weight's slots by slot name (the same variables as `#slots`), built once. */
  readonly #slotsOf: Map<string, Record<string, tf.Variable>> = new Map();
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
        const variable = tf.variable(zeros, false);
        this.#slots.set(this.slotKey(slot, name), variable);
        this.#slotsOf.set(name, { ...this.#slotsOf.get(name), [slot]: variable });
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
    const updates = present.map(([name, grad]) => {
      const slots = this.#slotsOf.get(name)!;
      const step: WeightStep = { name, grad, slots, lr, steps: this.#steps };
      return { weight: this.#weights.get(name)!, step };
    });
    const done = this.updateMany(updates);
    for (const { weight, step } of updates) {
      // One tidy per weight keeps the peak memory to one weight's temporaries.
      if (!done.has(step.name)) tf.tidy(() => this.update(weight, step));
    }
  }

  /**
   * Updates what it can of `updates` at once (nothing by default) and returns
   * those weights' names; `update` then runs for each of the others.
   */
  protected updateMany(_updates: WeightUpdate[]): Set<string> {
    return new Set();
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
    this.#slotsOf.clear();
    this.#disposed = true;
  }

  #checkAlive(): void {
    if (this.#disposed) throw new Error(`${this.kind}: the optimiser has been disposed`);
  }
}
