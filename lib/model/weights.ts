/**
 * Allocating a model's weights from its specs, seeded.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { Rng } from "../util/rng.ts";
import type { WeightSpec } from "./weight_specs.ts";

/** A model's weights by stable name. */
export type Weights = Record<string, tf.Variable>;

/**
 * The initial values of one weight: a function of the seed and the weight's
 * name only, so adding a weight never changes the others.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initialValues } from "./weights.ts";
 * const a = initialValues({ name: "w", shape: [2, 3], init: { kind: "glorot" }, trainable: true }, 7);
 * const b = initialValues({ name: "w", shape: [2, 3], init: { kind: "glorot" }, trainable: true }, 7);
 * assert.deepEqual(a, b);
 * assert.notDeepEqual(a, initialValues({ name: "w", shape: [2, 3], init: { kind: "glorot" }, trainable: true }, 8));
 * ```
 */
export function initialValues(spec: WeightSpec, seed: number): Float32Array {
  const size = spec.shape.reduce((p, d) => p * d, 1);
  const out = new Float32Array(size);
  const init = spec.init;
  if (init.kind === "ones") return out.fill(1);
  if (init.kind === "zeros") return out;
  const rng = Rng.forLabel(seed, spec.name);
  if (init.kind === "normal") {
    // Truncated at two standard deviations, as in the ViT/VATT initialisers.
    for (let i = 0; i < size; i++) {
      let z = rng.normal();
      while (Math.abs(z) > 2) z = rng.normal();
      out[i] = z * init.std;
    }
    return out;
  }
  // Glorot uniform over [fan_in, fan_out].
  const fanIn = spec.shape[0];
  const fanOut = spec.shape[spec.shape.length - 1];
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  for (let i = 0; i < size; i++) out[i] = (rng.nextFloat() * 2 - 1) * limit;
  return out;
}

/**
 * Allocates every weight as a `tf.Variable` named after its spec.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createWeights } from "./weights.ts";
 * const w = createWeights([{ name: "b", shape: [2], init: { kind: "zeros" }, trainable: true }], { seed: 0 });
 * assert.equal(w["b"].shape[0], 2);
 * w["b"].dispose();
 * ```
 */
export function createWeights(specs: WeightSpec[], options: { seed: number }): Weights {
  const weights: Weights = {};
  for (const spec of specs) {
    const values = tf.tensor(initialValues(spec, options.seed), spec.shape, "float32");
    weights[spec.name] = tf.variable(values, spec.trainable, `${spec.name}#${crypto.randomUUID()}`);
    values.dispose();
  }
  return weights;
}
