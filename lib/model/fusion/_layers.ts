/**
 * Building blocks of the fusion heads (private to this folder): seeded variables, dense
 * layers, seeded dropout, input checks and the base class holding a head's variables.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { Rng } from "../../util/rng.ts";
import type {
  FusionApplyOptions,
  FusionBaseConfig,
  FusionHead,
  FusionHeadName,
} from "./fusion_head.ts";

/** How a variable's initial values are drawn. */
export type Initializer =
  /** Normal with std √(2 / fanIn): for kernels followed by a ReLU. */
  | "he"
  /** Normal with std √(2 / (fanIn + fanOut)): for linear kernels (classifiers). */
  | "glorot"
  /** All zeros: for biases. */
  | "zeros";

let variableCounter = 0;

/**
 * A float32 variable named `key` (plus a unique `#n` suffix in `tf.Variable.name`), filled from
 * `new Rng(seed).fork(key)`: its values depend on the seed and the key only, never on the
 * order in which variables are made. `shape` is `[fanIn, fanOut]` for kernels.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { makeVariable } from "./_layers.ts";
 * const v = makeVariable("fusion/x/kernel", [3, 2], { init: "he", seed: 7 });
 * assert.ok(v.shape[0] === 3 && v.name.startsWith("fusion/x/kernel#"));
 * v.dispose();
 * ```
 */
export function makeVariable(
  key: string,
  shape: number[],
  options: { init: Initializer; seed: number },
): tf.Variable {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  if (options.init !== "zeros") {
    const fanIn = shape[0];
    const fanOut = shape.length > 1 ? shape[shape.length - 1] : shape[0];
    const std = options.init === "he" ? Math.sqrt(2 / fanIn) : Math.sqrt(2 / (fanIn + fanOut));
    const rng = new Rng(options.seed).fork(key);
    for (let i = 0; i < size; i++) values[i] = rng.normal() * std;
  }
  const initial = tf.tensor(values, shape, "float32");
  variableCounter += 1;
  const variable = tf.variable(initial, true, `${key}#${variableCounter}`);
  initial.dispose();
  return variable;
}

/**
 * `x·kernel + bias`: `[B, I] × [I, O] + [O]` → `[B, O]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { dense } from "./_layers.ts";
 * const y = dense(tf.ones([2, 3]), tf.ones([3, 4]), tf.zeros([4]));
 * assert.equal(y.shape[1], 4);
 * ```
 */
export function dense(x: tf.Tensor2D, kernel: tf.Tensor, bias: tf.Tensor): tf.Tensor2D {
  return tf.add(tf.matMul(x, kernel as tf.Tensor2D), bias);
}

/**
 * Inverted dropout with a mask drawn from `rng` (so it follows the run's seed, on any
 * backend): each entry is kept with probability `1 − rate` and scaled by `1 / (1 − rate)`.
 * Returns `x` itself when `rate` is 0. With `shard`, `x` holds rows `start…` of a
 * global batch of `total` rows, and gets those rows of the global batch's mask.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { Rng } from "../../util/rng.ts";
 * import { seededDropout } from "./_layers.ts";
 * const y = seededDropout(tf.ones([2, 8]), 0.5, new Rng(1));
 * assert.ok((await y.data()).every((v) => v === 0 || v === 2));
 * ```
 */
export function seededDropout(
  x: tf.Tensor2D,
  rate: number,
  rng: Rng,
  shard?: { start: number; total: number },
): tf.Tensor2D {
  if (rate === 0) return x;
  const scale = 1 / (1 - rate);
  const mask = new Float32Array(x.size);
  // A rank's share draws the whole global batch's mask (the stream stays in step) and keeps its rows.
  const width = x.shape[1];
  const first = (shard?.start ?? 0) * width;
  const drawn = (shard?.total ?? x.shape[0]) * width;
  for (let i = 0; i < drawn; i++) {
    const v = rng.nextFloat() < rate ? 0 : scale;
    if (i >= first && i - first < mask.length) mask[i - first] = v;
  }
  return tf.mul(x, tf.tensor2d(mask, x.shape, "float32"));
}

/**
 * Checks `apply`'s inputs against the head's input widths and returns the batch size and the
 * masks as float32 `[B, 1]` columns (ones where no masks were given). Call inside `tf.tidy`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { checkFeatures } from "./_layers.ts";
 * const { batch, masks } = checkFeatures([tf.ones([2, 3])], undefined, { inputDims: [3], what: "x" });
 * assert.equal(batch, 2);
 * assert.equal(masks[0].shape[1], 1);
 * ```
 */
export function checkFeatures(
  features: tf.Tensor2D[],
  masks: tf.Tensor1D[] | undefined,
  options: { inputDims: number[]; what: string },
): { batch: number; masks: tf.Tensor2D[] } {
  const { inputDims, what } = options;
  if (!Array.isArray(features)) {
    throw new TypeError(`${what} expects an array of feature tensors, got ${String(features)}`);
  }
  if (features.length !== inputDims.length) {
    throw new RangeError(
      `${what} expects ${inputDims.length} feature tensors, got ${features.length}`,
    );
  }
  const batch = features[0]?.shape[0];
  features.forEach((x, m) => {
    if (!(x instanceof tf.Tensor) || x.rank !== 2) {
      throw new RangeError(
        `${what} features[${m}] must be a [B, ${inputDims[m]}] tensor, got shape ${
          x instanceof tf.Tensor ? `[${x.shape}]` : String(x)
        }`,
      );
    }
    if (x.shape[1] !== inputDims[m] || x.shape[0] !== batch) {
      throw new RangeError(
        `${what} features[${m}] must have shape [${batch}, ${inputDims[m]}], got [${x.shape}]`,
      );
    }
  });
  if (masks === undefined) {
    const ones = tf.ones([batch, 1]) as tf.Tensor2D;
    return { batch, masks: inputDims.map(() => ones) };
  }
  if (!Array.isArray(masks) || masks.length !== inputDims.length) {
    throw new RangeError(
      `${what} expects ${inputDims.length} masks, got ${
        Array.isArray(masks) ? masks.length : masks
      }`,
    );
  }
  const columns = masks.map((mask, m) => {
    if (!(mask instanceof tf.Tensor) || mask.rank !== 1 || mask.shape[0] !== batch) {
      throw new RangeError(
        `${what} masks[${m}] must have shape [${batch}], got ${
          mask instanceof tf.Tensor ? `[${mask.shape}]` : String(mask)
        }`,
      );
    }
    return tf.reshape(tf.cast(mask, "float32"), [batch, 1]) as tf.Tensor2D; // [B, 1]
  });
  return { batch, masks: columns };
}

/** The weights of a ReLU hidden layer followed by a linear classifier. */
export interface HiddenClassifier {
  /** `[I, H]`, He-initialised. */
  hiddenKernel: tf.Variable;
  /** `[H]`. */
  hiddenBias: tf.Variable;
  /** `[H, C]`, Glorot-initialised. */
  classifierKernel: tf.Variable;
  /** `[C]`. */
  classifierBias: tf.Variable;
}

/**
 * What every head shares: its resolved config, its variables under stable keys, a seeded
 * dropout stream, parameter counting and disposal. Subclasses implement `forward`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { BaseFusionHead } from "./_layers.ts";
 * class Sum extends BaseFusionHead<{ inputDims: number[]; numClasses: number; seed: number; dropout: number }> {
 *   protected forward(features: tf.Tensor2D[]): tf.Tensor2D {
 *     return tf.addN(features);
 *   }
 * }
 * const head = new Sum("vatt", { inputDims: [2, 2], numClasses: 2, seed: 0, dropout: 0 });
 * assert.equal(head.apply([tf.ones([1, 2]), tf.ones([1, 2])], {}).shape[1], 2);
 * ```
 */
export abstract class BaseFusionHead<C extends FusionBaseConfig> implements FusionHead {
  /** Which head this is. */
  readonly name: FusionHeadName;
  /** The resolved config (defaults filled in), as written to a run's `config.json`. */
  readonly config: Readonly<C>;
  /** Trainable weights under stable keys `fusion/<name>/...`. */
  readonly variables: Record<string, tf.Variable> = {};
  /** Draws dropout masks; seeded from `config.seed`. */
  /** The rows of the global batch the current `apply` holds (data parallelism). */
  #shard?: { start: number; total: number };
  protected readonly dropoutRng: Rng;
  #disposed = false;

  constructor(name: FusionHeadName, config: C) {
    this.name = name;
    this.config = config;
    this.dropoutRng = new Rng(config.seed).fork(`fusion/${name}/dropout`);
  }

  /** Makes and records the variable `fusion/<name>/<path>`. */
  protected addVariable(path: string, shape: number[], init: Initializer): tf.Variable {
    const key = `fusion/${this.name}/${path}`;
    const variable = makeVariable(key, shape, { init, seed: this.config.seed });
    this.variables[key] = variable;
    return variable;
  }

  /**
   * Makes a ReLU hidden layer `hidden/{kernel,bias}` (He) on `[B, inputWidth]`
   * inputs and the linear classifier `classifier/{kernel,bias}` (Glorot) after
   * it, in that order.
   */
  protected addHiddenClassifier(inputWidth: number, hiddenDim: number): HiddenClassifier {
    const { numClasses } = this.config;
    return {
      hiddenKernel: this.addVariable("hidden/kernel", [inputWidth, hiddenDim], "he"),
      hiddenBias: this.addVariable("hidden/bias", [hiddenDim], "zeros"),
      classifierKernel: this.addVariable("classifier/kernel", [hiddenDim, numClasses], "glorot"),
      classifierBias: this.addVariable("classifier/bias", [numClasses], "zeros"),
    };
  }

  /** The logits of `layers` on `x`: ReLU hidden layer, dropout when training, classifier. */
  protected classifyThroughHidden(
    x: tf.Tensor2D,
    layers: HiddenClassifier,
    options: { training: boolean },
  ): tf.Tensor2D {
    const hidden = tf.relu(dense(x, layers.hiddenKernel, layers.hiddenBias)); // [B, H]
    const dropped = this.dropout(hidden, options.training);
    return dense(dropped, layers.classifierKernel, layers.classifierBias); // [B, C]
  }

  /** The head's computation on checked inputs; `masks` are float32 `[B, 1]` columns. */
  protected abstract forward(
    features: tf.Tensor2D[],
    masks: tf.Tensor2D[],
    options: { training: boolean; masked: boolean },
  ): tf.Tensor2D;

  /** Applies dropout at the head's rate when training. */
  protected dropout(x: tf.Tensor2D, training: boolean): tf.Tensor2D {
    return training ? seededDropout(x, this.config.dropout, this.dropoutRng, this.#shard) : x;
  }

  apply(features: tf.Tensor2D[], options: FusionApplyOptions = {}): tf.Tensor2D {
    if (this.#disposed) {
      throw new Error(`Cannot apply the ${this.name} fusion head after dispose()`);
    }
    return tf.tidy(() => {
      const what = `${this.name} fusion`;
      const { masks } = checkFeatures(features, options.masks, {
        inputDims: this.config.inputDims,
        what,
      });
      this.#shard = options.shard;
      try {
        return this.forward(features, masks, {
          training: options.training ?? false,
          masked: options.masks !== undefined,
        });
      } finally {
        this.#shard = undefined;
      }
    });
  }

  parameterCount(): number {
    return Object.values(this.variables).reduce((n, v) => n + v.size, 0);
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const v of Object.values(this.variables)) v.dispose();
    this.disposeConstants();
  }

  /** Frees constant tensors a subclass holds (count-sketch matrices, DFT bases). */
  protected disposeConstants(): void {}
}
