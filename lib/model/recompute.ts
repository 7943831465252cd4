/**
 * Recomputation (gradient checkpointing) of one transformer layer: the
 * forward pass keeps only the layer's input (and the constants it reads,
 * such as the padding mask), and the backward pass runs the layer again
 * under its own gradient tape, one layer at a time, so a training step holds
 * one layer's activations instead of every layer's.
 *
 * The recomputed pass draws exactly the masks the first pass drew: the
 * state of each dropout generator is taken before the layer runs and the
 * replay starts from a copy of it, so the gradients equal those of the
 * plain layer bit for bit (on deterministic backends), and the run's own
 * generators advance exactly as without recomputation.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { Rng } from "../util/rng.ts";
import type { DropoutSource } from "./_ops.ts";
import type { Weights } from "./weights.ts";

/** What a layer reads besides its input and weights (the fields recomputation handles). */
export interface RecomputedLayerOptions {
  /** Dropout of the residual branches (training). */
  dropout?: DropoutSource;
  /** Dropout of the attention probabilities (training). */
  attentionDropout?: DropoutSource;
  /** A constant added to the logits (padding): saved, no gradient. */
  maskBias?: tf.Tensor;
  /** A logit bias computed from a shared weight: saved, and its gradient returned. */
  positionBias?: tf.Tensor3D;
}

/** A layer `x → y` with the weights under prefix `p`. */
export type Layer<O extends RecomputedLayerOptions> = (
  x: tf.Tensor3D,
  weights: Weights,
  p: string,
  options: O,
) => tf.Tensor3D;

/** The engine's tape slot, which a nested gradient computation replaces and clears. */
interface EngineTape {
  state: { activeTape: unknown };
}

/**
 * Gradients of `f()` with respect to `xs`, with `dy` the gradient of its
 * output, computed while an outer backward pass is running: tfjs starts a new
 * tape for it and clears the engine's tape slot at its end, so the outer
 * pass's tape is put back after. A gradient `f` does not depend on is zeros.
 */
function nestedGradients(f: () => tf.Tensor, xs: tf.Tensor[], dy: tf.Tensor): tf.Tensor[] {
  const engine = tf.engine() as unknown as EngineTape & {
    gradients(f: () => tf.Tensor, xs: tf.Tensor[], dy: tf.Tensor, allow: boolean): {
      grads: (tf.Tensor | undefined)[];
    };
  };
  const outer = engine.state.activeTape;
  try {
    const { grads } = engine.gradients(f, xs, dy, true);
    return grads.map((g, i) => g ?? tf.zerosLike(xs[i]));
  } finally {
    engine.state.activeTape = outer;
  }
}

/** The options with each distinct dropout generator replaced by a copy of its saved state. */
function replaying<O extends RecomputedLayerOptions>(
  options: O,
  states: Map<Rng, ReturnType<Rng["state"]>>,
): O {
  const copies = new Map<Rng, Rng>();
  const copy = (s: DropoutSource | undefined) => {
    if (!s) return s;
    if (!copies.has(s.rng)) copies.set(s.rng, Rng.fromState(states.get(s.rng)!));
    return { rate: s.rate, rng: copies.get(s.rng)! };
  };
  return {
    ...options,
    dropout: copy(options.dropout),
    attentionDropout: copy(options.attentionDropout),
  };
}

/**
 * `layer` with recomputation: the same function of the same arguments, whose
 * forward pass keeps only `x` (and `maskBias`, `positionBias`) for the
 * backward pass, which runs `layer` again and differentiates it with respect
 * to `x`, `positionBias` and every weight under `p/`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import "../backend/gradients.ts";
 * import { type Layer, recomputed } from "./recompute.ts";
 * // y = tanh(x ⊙ w): the same gradient with and without recomputation.
 * const w = tf.variable(tf.tensor1d([0.5, -1]), true, "l/w");
 * const layer: Layer<object> = (x, ws, p) => tf.tanh(tf.mul(x, ws[`${p}/w`])) as tf.Tensor3D;
 * const x = tf.tensor3d([[[1, 2], [3, -1]]]);
 * const loss = (f: Layer<object>) => () => tf.sum(f(x, { "l/w": w }, "l", {})) as tf.Scalar;
 * const plain = tf.variableGrads(loss(layer), [w]);
 * const again = tf.variableGrads(loss(recomputed(layer)), [w]);
 * assert.deepEqual(await again.grads["l/w"].data(), await plain.grads["l/w"].data());
 * ```
 */
export function recomputed<O extends RecomputedLayerOptions>(layer: Layer<O>): Layer<O> {
  return (x, weights, p, options) => {
    const names = Object.keys(weights).filter((name) => name.startsWith(`${p}/`));
    const ws = names.map((name) => weights[name]);
    const states = new Map<Rng, ReturnType<Rng["state"]>>();
    for (const s of [options.dropout, options.attentionDropout]) {
      if (s && !states.has(s.rng)) states.set(s.rng, s.rng.state());
    }
    const bias = options.positionBias;
    const inputs: tf.Tensor[] = bias ? [x, bias] : [x];
    const constants: tf.Tensor[] = options.maskBias ? [options.maskBias] : [];
    const op = tf.customGrad(
      ((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
        (args[args.length - 1] as tf.GradSaveFunc)([...inputs, ...constants]);
        const value = layer(x, weights, p, options);
        const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) =>
          tf.tidy(() => {
            const [xs, pb] = [saved[0] as tf.Tensor3D, bias ? saved[1] as tf.Tensor3D : undefined];
            const again = replaying(options, states);
            const run = () =>
              layer(xs, weights, p, {
                ...again,
                positionBias: pb,
                maskBias: options.maskBias ? saved[inputs.length] : undefined,
              });
            return nestedGradients(run, [...saved.slice(0, inputs.length), ...ws], dy);
          });
        return { value, gradFunc };
      }) as unknown as Parameters<typeof tf.customGrad>[0],
    );
    return op(...inputs, ...ws) as tf.Tensor3D;
  };
}
