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
import type { DropoutSource } from "./dropout.ts";
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

/** The options with each distinct dropout generator replaced by a copy of its saved state, and the copies. */
function replaying<O extends RecomputedLayerOptions>(
  options: O,
  states: Map<Rng, ReturnType<Rng["state"]>>,
): { options: O; copies: Map<Rng, Rng> } {
  const copies = new Map<Rng, Rng>();
  const copy = (s: DropoutSource | undefined) => {
    if (!s) return s;
    if (!copies.has(s.rng)) copies.set(s.rng, Rng.fromState(states.get(s.rng)!));
    return { ...s, rng: copies.get(s.rng)! };
  };
  return {
    options: {
      ...options,
      dropout: copy(options.dropout),
      attentionDropout: copy(options.attentionDropout),
    },
    copies,
  };
}

/** Rows `[from, to)` of a pass over `rows` rows, as the draw shard of their dropout masks. */
function rowShard(
  shard: DropoutSource["shard"],
  rows: number,
  from: number,
  to: number,
): NonNullable<DropoutSource["shard"]> {
  const perClip = shard ? rows / shard.count : 1; // rows of one clip (captions), 1 for video and audio
  return {
    start: (shard ? shard.start * perClip : 0) + from,
    count: to - from,
    total: shard ? shard.total * perClip : rows,
  };
}

/**
 * The first row of each of `parts` near-equal parts of `rows` rows, and
 * `rows` last (never more parts than rows).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { partBounds } from "./recompute.ts";
 * assert.deepEqual(partBounds(10, 3), [0, 3, 6, 10]);
 * assert.deepEqual(partBounds(2, 4), [0, 1, 2]);
 * ```
 */
export function partBounds(rows: number, parts: number): number[] {
  const n = Math.max(1, Math.min(parts, rows));
  return Array.from({ length: n + 1 }, (_, k) => Math.floor((k * rows) / n));
}

/** One part of a layer's pass: its rows of `x` and of the mask, its draws of the saved generators. */
function partCall<O extends RecomputedLayerOptions>(
  options: O,
  states: Map<Rng, ReturnType<Rng["state"]>>,
  rows: { total: number; from: number; to: number },
  maskBias: tf.Tensor | undefined,
): { options: O; copies: Map<Rng, Rng> } {
  const { options: again, copies } = replaying(options, states);
  const withRows = (s: DropoutSource | undefined) =>
    s && { ...s, shard: rowShard(s.shard, rows.total, rows.from, rows.to) };
  const mask = maskBias && rowsOf(maskBias, rows.from, rows.to); // [n, 1, 1, L]
  return {
    options: {
      ...again,
      dropout: withRows(again.dropout),
      attentionDropout: withRows(again.attentionDropout),
      maskBias: mask,
    },
    copies,
  };
}

/** Rows `[from, to)` of `t` along its first axis (`t` itself for all of them). */
function rowsOf<T extends tf.Tensor>(t: T, from: number, to: number): T {
  if (from === 0 && to === t.shape[0]) return t;
  return tf.slice(t, [from, ...t.shape.slice(1).map(() => 0)], [
    to - from,
    ...t.shape.slice(1),
  ]) as T;
}

/**
 * The layer's forward pass part by part (each part's activations freed before
 * the next; one part is the whole batch), drawing each part's rows of the
 * masks the whole pass would draw from copies of the saved generators; the
 * callers' generators end where the whole pass leaves them.
 */
function forwardInParts<O extends RecomputedLayerOptions>(
  layer: Layer<O>,
  args: { x: tf.Tensor3D; weights: Weights; p: string; options: O },
  states: Map<Rng, ReturnType<Rng["state"]>>,
  bounds: number[],
): tf.Tensor3D {
  const { x, weights, p, options } = args;
  const outs: tf.Tensor[] = [];
  let last: Map<Rng, Rng> | undefined;
  for (let k = 0; k + 1 < bounds.length; k++) {
    const rows = { total: x.shape[0], from: bounds[k], to: bounds[k + 1] };
    outs.push(tf.tidy(() => {
      const part = partCall(options, states, rows, options.maskBias);
      last = part.copies;
      return layer(rowsOf(x, rows.from, rows.to), weights, p, part.options); // [n, L, d]
    }));
  }
  for (const [rng, copy] of last ?? []) rng.restore(copy.state());
  const y = tf.concat(outs, 0) as tf.Tensor3D; // [B, L, d]
  tf.dispose(outs);
  return y;
}

/**
 * The gradients of the layer part by part: each part run again and
 * differentiated alone (its activations freed before the next part); the
 * input's gradient is the parts' gradients stacked, the weights' and the
 * position bias's their sums.
 */
function backwardInParts<O extends RecomputedLayerOptions>(
  layer: Layer<O>,
  args: { weights: Weights; p: string; options: O; ws: tf.Tensor[] },
  saved: { x: tf.Tensor3D; bias?: tf.Tensor3D; mask?: tf.Tensor; dy: tf.Tensor },
  states: Map<Rng, ReturnType<Rng["state"]>>,
  bounds: number[],
): tf.Tensor[] {
  const { weights, p, options, ws } = args;
  const dxs: tf.Tensor[] = [];
  let sums: tf.Tensor[] | undefined;
  for (let k = 0; k + 1 < bounds.length; k++) {
    const rows = { total: saved.x.shape[0], from: bounds[k], to: bounds[k + 1] };
    const grads = tf.tidy(() => {
      const xk = rowsOf(saved.x, rows.from, rows.to); // [n, L, d]
      const part = partCall(options, states, rows, saved.mask).options;
      const run = () => layer(xk, weights, p, { ...part, positionBias: saved.bias });
      const wrt = saved.bias ? [xk, saved.bias, ...ws] : [xk, ...ws];
      return nestedGradients(run, wrt, rowsOf(saved.dy, rows.from, rows.to));
    });
    dxs.push(grads[0]);
    const rest = grads.slice(1);
    const next = sums ? rest.map((g, i) => tf.add(sums![i], g)) : rest;
    if (sums) tf.dispose([...sums, ...rest]);
    sums = next;
  }
  const dx = tf.concat(dxs, 0); // [B, L, d]
  tf.dispose(dxs);
  return [dx, ...sums!];
}

/**
 * `layer` with recomputation: the same function of the same arguments, whose
 * forward pass keeps only `x` (and `maskBias`, `positionBias`) for the
 * backward pass, which runs `layer` again and differentiates it with respect
 * to `x`, `positionBias` and every weight under `p/`.
 *
 * With `parts` > 1 both passes run the layer on that many near-equal parts of
 * the batch in turn, so only one part's activations exist at a time; each
 * part draws its rows of the dropout masks the whole batch draws, so the
 * values are those of the whole pass, and the weights' gradients are the
 * parts' sums (equal to the whole pass's up to the order of summation).
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
 * const x = tf.tensor3d([[[1, 2], [3, -1]], [[0, 1], [2, 2]]]);
 * const loss = (f: Layer<object>) => () => tf.sum(f(x, { "l/w": w }, "l", {})) as tf.Scalar;
 * const plain = tf.variableGrads(loss(layer), [w]);
 * const again = tf.variableGrads(loss(recomputed(layer)), [w]);
 * assert.deepEqual(await again.grads["l/w"].data(), await plain.grads["l/w"].data());
 * // In two parts of one row each: the same gradient up to rounding.
 * const parts = tf.variableGrads(loss(recomputed(layer, { parts: 2 })), [w]);
 * const gap = tf.max(tf.abs(tf.sub(parts.grads["l/w"], plain.grads["l/w"])));
 * assert.ok((await gap.data())[0] < 1e-6);
 * ```
 */
export function recomputed<O extends RecomputedLayerOptions>(
  layer: Layer<O>,
  recompute: { parts?: number } = {},
): Layer<O> {
  return (x, weights, p, options) => {
    const names = Object.keys(weights).filter((name) => name.startsWith(`${p}/`));
    const ws = names.map((name) => weights[name]);
    const states = new Map<Rng, ReturnType<Rng["state"]>>();
    for (const s of [options.dropout, options.attentionDropout]) {
      if (s && !states.has(s.rng)) states.set(s.rng, s.rng.state());
    }
    const bounds = partBounds(x.shape[0], recompute.parts ?? 1);
    const inputs: tf.Tensor[] = options.positionBias ? [x, options.positionBias] : [x];
    const constants: tf.Tensor[] = options.maskBias ? [options.maskBias] : [];
    const op = tf.customGrad(
      ((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
        (args[args.length - 1] as tf.GradSaveFunc)([...inputs, ...constants]);
        const value = forwardInParts(layer, { x, weights, p, options }, states, bounds);
        const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) =>
          tf.tidy(() => {
            const x = saved[0] as tf.Tensor3D;
            const bias = options.positionBias ? saved[1] as tf.Tensor3D : undefined;
            const mask = options.maskBias ? saved[inputs.length] : undefined;
            return backwardInParts(
              layer,
              { weights, p, options, ws },
              { x, bias, mask, dy },
              states,
              bounds,
            );
          });
        return { value, gradFunc };
      }) as unknown as Parameters<typeof tf.customGrad>[0],
    );
    return op(...inputs, ...ws) as tf.Tensor3D;
  };
}
