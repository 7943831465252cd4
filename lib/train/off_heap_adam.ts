/**
 * Adam(W) with its moments off the backend's memory: `m` and `v` live in
 * host `Float32Array`s (outside the 4 GiB wasm heap), and each step updates
 * them weight by weight, reading the weight and its gradient back and
 * writing the new weight, so the heap holds weights, gradients and
 * activations only. Every operation is rounded to float32 in the order of
 * {@linkcode Adam}'s (`adamUpdate` of `lib/backend/kernels/fused.ts`): the
 * weights and moments are bit-identical to {@linkcode Adam}'s, and the state
 * has the same names, so checkpoints are interchangeable.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { adamConstants, adamUpdate } from "../backend/kernels/fused.ts";
import type { NamedArray } from "../io/safetensors.ts";
import { MismatchError } from "../util/errors.ts";
import { Adam, type AdamOptions, type Optimizer } from "./optimizer.ts";

/** One weight and its moments. */
interface Slot {
  weight: tf.Variable;
  m: Float32Array;
  v: Float32Array;
}

/**
 * Adam with its moments in host memory; the same update, state names and
 * checkpoints as {@linkcode Adam}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { Adam } from "./optimizer.ts";
 * import { OffHeapAdam } from "./off_heap_adam.ts";
 * const [a, b] = [tf.variable(tf.tensor1d([1, -2])), tf.variable(tf.tensor1d([1, -2]))];
 * const onHeap = new Adam({ w: a }, { weightDecay: 0.01 });
 * const offHeap = new OffHeapAdam({ w: b }, { weightDecay: 0.01 });
 * const g = tf.tensor1d([0.5, 0.25]);
 * for (let i = 0; i < 3; i++) {
 *   onHeap.step({ w: g }, 0.1);
 *   offHeap.step({ w: g }, 0.1);
 * }
 * assert.deepEqual(await b.data(), await a.data()); // bit for bit
 * assert.deepEqual(offHeap.stateArrays()["adam/m/w"].data, (await onHeap.stateTensors()["adam/m/w"].data()));
 * ```
 */
export class OffHeapAdam implements Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  readonly #decayable: (name: string) => boolean;
  readonly #slots = new Map<string, Slot>();
  #steps = 0;

  /** The same weights and options as {@linkcode Adam} (checked the same way). */
  constructor(weights: Record<string, tf.Variable>, options: AdamOptions = {}) {
    const rules = new Adam({}, options); // validates and resolves the options; holds nothing
    [this.beta1, this.beta2, this.epsilon] = [rules.beta1, rules.beta2, rules.epsilon];
    this.weightDecay = rules.weightDecay;
    rules.dispose();
    this.#decayable = options.decayable ?? (() => true);
    for (const [name, weight] of Object.entries(weights)) {
      if (!(weight instanceof tf.Variable) || weight.dtype !== "float32") {
        throw new TypeError(`adam: weight "${name}" must be a float32 tf.Variable`);
      }
      const m = new Float32Array(weight.size);
      this.#slots.set(name, { weight, m, v: new Float32Array(weight.size) });
    }
  }

  get iterations(): number {
    return this.#steps;
  }

  step(grads: Record<string, tf.Tensor>, lr: number): void {
    if (!Number.isFinite(lr) || lr < 0) {
      throw new RangeError(`adam.step(): learning rate must be a finite number ≥ 0, got ${lr}`);
    }
    const present = Object.entries(grads).filter(([, grad]) => grad != null);
    for (const [name, grad] of present) {
      const slot = this.#slots.get(name);
      if (!slot) throw new MismatchError(`adam.step(): gradient for unknown weight "${name}"`);
      if (!tf.util.arraysEqual(grad.shape, slot.weight.shape) || grad.dtype !== "float32") {
        throw new MismatchError(
          `adam.step(): gradient of "${name}" is ${grad.dtype} [${grad.shape}], weight is [${slot.weight.shape}]`,
        );
      }
    }
    this.#steps += 1;
    for (const [name, grad] of present) {
      const { weight, m, v } = this.#slots.get(name)!;
      const decay = this.weightDecay > 0 && this.#decayable(name) ? lr * this.weightDecay : 0;
      const { beta1, beta2, epsilon } = this;
      const k = adamConstants({ beta1, beta2, epsilon, lr, steps: this.#steps, decay });
      // Copies read back from the backend; the new weight goes back as one tensor.
      const w = weight.dataSync() as Float32Array;
      const next = new Float32Array(w.length);
      adamUpdate({ w, m, v, g: grad.dataSync() as Float32Array }, { w: next, m, v }, k);
      const t = tf.tensor(next, weight.shape, "float32");
      weight.assign(t);
      t.dispose();
    }
  }

  /**
   * The state as host arrays, named as {@linkcode Adam}'s (views of the
   * moments: valid until the next step).
   */
  stateArrays(): Record<string, NamedArray> {
    const out: Record<string, NamedArray> = {
      "adam/step": { dtype: "I32", shape: [], data: Int32Array.of(this.#steps) },
    };
    // Adam's order: each weight's m, then its v.
    for (const [name, { weight, m, v }] of this.#slots) {
      out[`adam/m/${name}`] = { dtype: "F32", shape: [...weight.shape], data: m };
      out[`adam/v/${name}`] = { dtype: "F32", shape: [...weight.shape], data: v };
    }
    return out;
  }

  stateTensors(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const [key, a] of Object.entries(this.stateArrays())) {
      out[key] = a.dtype === "I32"
        ? tf.scalar(this.#steps, "int32")
        : tf.tensor(Float32Array.from(a.data as Float32Array), a.shape, "float32");
    }
    return out;
  }

  async loadState(state: Record<string, tf.Tensor>): Promise<void> {
    const expected = Object.keys(this.stateArrays());
    const missing = expected.filter((key) => !(key in state));
    const extra = Object.keys(state).filter((key) => !expected.includes(key));
    if (missing.length > 0 || extra.length > 0) {
      throw new MismatchError(
        `adam.loadState(): state does not fit these weights: missing [${missing.join(", ")}],` +
          ` unexpected [${extra.join(", ")}]`,
      );
    }
    const steps = (await state["adam/step"].data())[0];
    if (!Number.isSafeInteger(steps) || steps < 0) {
      throw new MismatchError(`adam.loadState(): "adam/step" must be an integer ≥ 0, got ${steps}`);
    }
    const read = async (key: string, size: number) => {
      const t = state[key];
      if (t.dtype !== "float32" || t.size !== size) {
        throw new MismatchError(`adam.loadState(): "${key}" must be float32 of ${size} values`);
      }
      return Float32Array.from(await t.data() as Float32Array);
    };
    const loaded = new Map<string, [Float32Array, Float32Array]>();
    for (const [name, slot] of this.#slots) {
      const size = slot.weight.size;
      loaded.set(name, [await read(`adam/m/${name}`, size), await read(`adam/v/${name}`, size)]);
    }
    // Nothing changes until every tensor was read and checked.
    for (const [name, slot] of this.#slots) [slot.m, slot.v] = loaded.get(name)!;
    this.#steps = steps;
  }

  dispose(): void {
    this.#slots.clear();
  }
}
