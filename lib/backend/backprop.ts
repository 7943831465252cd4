/**
 * A backward pass that frees memory as it goes: the engine's `gradients`
 * (behind `tf.grads`, `tf.variableGrads`, `tf.valueAndGrads`, custom
 * gradients) replaced by one that computes the same gradients with the same
 * kernels in the same order (bit-identical), but disposes each tape node's
 * saved tensors, the gradient of its outputs and the temporaries of its
 * gradient function as soon as the node is done.
 *
 * TensorFlow.js 4.22 keeps all of them until the whole backward pass ends: at
 * its last node, every activation the forward pass saved and every
 * intermediate gradient are alive at once. On the `small` benchmark step
 * that is about 1.1 GiB above the weights and Adam's moments; freeing them
 * node by node lowers the step's peak (`tasks/_bench_worker.ts`).
 *
 * What is kept exactly as tfjs does it: which tape nodes take part (those on
 * a path from an `x` to `y`, their inputs pruned to those that depend on an
 * `x`), their order (last recorded first), the `dy` of each output (zeros for
 * an output that does not lead to `y`), the per-input gradient calls and
 * their checks, and the accumulation `add(previous, new)` when an input
 * receives several gradients. Saved tensors are disposed early only where
 * tfjs would dispose them at the end (not while a higher-order tape records);
 * a gradient is never disposed while another entry (an input's accumulated
 * gradient, an `x`'s result, the caller's `dy`) still refers to it.
 *
 * On by default (`VATT_EAGER_BACKPROP=0` keeps tfjs's own): besides the lower
 * peak (`small`: 1,852 → 1,351 MiB), it was faster on `tiny` (26 against 30 ms
 * a step, the same on `small`), having fewer live tensors to keep track of.
 * The memory plan counts the activations of the pass in use
 * (`lib/train/_activation_model.ts`).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { switchedOff, SWITCHES } from "./switches.ts";

/** One recorded operation of the engine's tape (the fields used here). */
interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
}

/** The engine's members this module uses (tfjs-core 4.22's `Engine`). */
interface EngineInternals {
  state: {
    activeTape: TapeNode[] | null;
    gradientDepth: number;
    tensorInfo: Map<object, { backend: { incRef(dataId: object): void } }>;
  };
  clone(x: tf.Tensor): tf.Tensor;
  makeTensorFromTensorInfo(info: tf.TensorInfo, backend?: unknown): tf.Tensor;
  startTape(): void;
  endTape(): void;
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  tidy<T extends tf.TensorContainer>(nameOrFn: string | (() => T), fn?: () => T): T;
  startScope(name?: string): void;
  endScope(result?: tf.TensorContainer): void;
  gradients(
    f: () => tf.Tensor,
    xs: tf.Tensor[],
    dy?: tf.Tensor,
    allowNoGradients?: boolean,
  ): { value: tf.Tensor; grads: tf.Tensor[] };
}

/**
 * The nodes of `tape` on a path from one of `xs` to `y`, in tape order, each
 * a copy whose inputs are only those that depend on an `x`.
 */
function nodesFromXToY(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set<number>(xs.map((x) => x.id));
  const nodesFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => fromX.has(t.id))) {
      nodesFromX.add(node.id);
      for (const o of node.outputs) fromX.add(o.id);
    }
  }
  const toY = new Set<number>([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (node.outputs.some((o) => toY.has(o.id))) {
      const inputs = Object.values(node.inputs);
      if (inputs.length > 0) nodesToY.add(node.id);
      for (const t of inputs) toY.add(t.id);
    }
  }
  const out: TapeNode[] = [];
  for (const node of tape) {
    if (!nodesFromX.has(node.id) || !nodesToY.has(node.id)) continue;
    const inputs: Record<string, tf.Tensor> = {};
    for (const [name, t] of Object.entries(node.inputs)) if (fromX.has(t.id)) inputs[name] = t;
    out.push({ ...node, inputs, outputs: node.outputs });
  }
  return out;
}

/** Accumulated gradients by tensor id, with how many entries refer to each gradient tensor. */
class GradientMap {
  readonly #byId = new Map<number, tf.Tensor>();
  readonly #refs = new Map<tf.Tensor, number>();

  get(id: number): tf.Tensor | undefined {
    return this.#byId.get(id);
  }

  set(id: number, g: tf.Tensor): void {
    const old = this.#byId.get(id);
    if (old) this.#refs.set(old, this.#refs.get(old)! - 1);
    this.#byId.set(id, g);
    this.#refs.set(g, (this.#refs.get(g) ?? 0) + 1);
  }

  /** Drops entry `id`; disposes its tensor when nothing else refers to it and `dispose` allows. */
  drop(id: number, dispose: (g: tf.Tensor) => boolean): void {
    const g = this.#byId.get(id);
    if (!g) return;
    this.#byId.delete(id);
    const left = this.#refs.get(g)! - 1;
    if (left > 0) this.#refs.set(g, left);
    else {
      this.#refs.delete(g);
      if (dispose(g)) g.dispose();
    }
  }

  /** Whether some entry refers to `g`. */
  holds(g: tf.Tensor): boolean {
    return (this.#refs.get(g) ?? 0) > 0;
  }
}

/** Backpropagates through one node: its inputs' gradients accumulated into `grads`. */
function backpropNode(engine: EngineInternals, node: TapeNode, grads: GradientMap): void {
  if (!node.gradient) {
    throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
  }
  const dys = node.outputs.map((o) => grads.get(o.id) ?? null);
  engine.startScope();
  const results: tf.Tensor[] = [];
  try {
    const inputGradients = node.gradient(dys);
    for (const [name, x] of Object.entries(node.inputs)) {
      if (!(name in inputGradients)) {
        throw new Error(
          `Cannot backprop through input ${name}. ` +
            `Available gradients found: ${Object.keys(inputGradients)}.`,
        );
      }
      const dx = engine.tidy(() => inputGradients[name]());
      if (dx.dtype !== "float32") {
        throw new Error(
          `Error in gradient for op ${node.kernelName}. The gradient of input ${name} ` +
            `must have 'float32' dtype, but has '${dx.dtype}'`,
        );
      }
      if (!tf.util.arraysEqual(dx.shape, x.shape)) {
        throw new Error(
          `Error in gradient for op ${node.kernelName}. The gradient of input '${name}' ` +
            `has shape '${dx.shape}', which does not match the shape of the input '${x.shape}'`,
        );
      }
      const previous = grads.get(x.id);
      if (!previous) grads.set(x.id, dx);
      else {
        const sum = tf.add(previous, dx);
        grads.set(x.id, sum);
        if (!grads.holds(previous) && !dys.includes(previous)) previous.dispose();
      }
      results.push(grads.get(x.id)!);
    }
  } finally {
    // Everything the node's gradient made is disposed but the accumulated gradients.
    engine.endScope(results.filter((g) => !g.isDisposed));
  }
}

/**
 * `engine.gradients` with the memory of each node released when it is done
 * (see the module's comment); same arguments and result.
 */
function eagerGradients(
  this: EngineInternals,
  f: () => tf.Tensor,
  xs: tf.Tensor[],
  dy?: tf.Tensor,
  allowNoGradients = false,
): { value: tf.Tensor; grads: tf.Tensor[] } {
  if (xs.length === 0) throw new Error("gradients() received an empty list of xs.");
  if (dy != null && dy.dtype !== "float32") {
    throw new Error(`dy must have 'float32' dtype, but has '${dy.dtype}'`);
  }
  const y = this.scopedRun(
    () => this.startTape(),
    () => this.endTape(),
    () => this.tidy("forward", f),
  );
  if (!(y instanceof tf.Tensor)) throw new Error("The result y returned by f() must be a tensor.");
  const tape = this.state.activeTape ?? [];
  const filtered = nodesFromXToY(tape, xs, y);
  if (!allowNoGradients && filtered.length === 0 && xs.length > 0) {
    throw new Error(
      "Cannot compute gradient of y=f(x) with respect to x. Make sure that the f you passed " +
        "encloses all operations that lead from x to y.",
    );
  }
  return this.tidy("backward", () => {
    const grads = new GradientMap();
    grads.set(y.id, dy ?? tf.ones(y.shape));
    const keep = new Set<number>(xs.map((x) => x.id));
    // Saved tensors belong to the tape; tfjs frees them after the pass unless a tape records.
    const freeSaved = this.state.gradientDepth === 0;
    for (let i = filtered.length - 1; i >= 0; i--) {
      const node = filtered[i];
      backpropNode(this, node, grads);
      for (const o of node.outputs) {
        if (!keep.has(o.id)) grads.drop(o.id, (g) => g !== dy);
      }
      if (freeSaved) { for (const t of node.saved ?? []) if (!grads.holds(t)) t.dispose(); }
    }
    const result = xs.map((x) => grads.get(x.id)) as tf.Tensor[];
    if (this.state.gradientDepth === 0) {
      for (const node of tape) for (const t of node.saved ?? []) t.dispose();
      this.state.activeTape = null;
    }
    return { value: y, grads: result };
  });
}

/**
 * The engine's `clone` as the forward pass's saves use it (`saveTensorsForBackwardMode`, the
 * `save` of `tf.customGrad`): a new tensor on the same data, like tfjs's, but without running
 * the `Identity` kernel and without recording the clone on the tape. That record lets a
 * second-order gradient flow through a saved tensor; a first-order pass never reads it (no
 * node consumes the clone), so tfjs's own clone is kept where a tape is nested. On `tiny`, 474
 * of a step's 1,585 kernel calls were these clones.
 */
function shareForSave(this: EngineInternals, x: tf.Tensor): tf.Tensor {
  const info = this.state.tensorInfo.get(x.dataId);
  if (this.state.gradientDepth > 1 || !info) return originalClone!.call(this, x);
  info.backend.incRef(x.dataId);
  return this.makeTensorFromTensorInfo(
    { dataId: x.dataId, shape: x.shape, dtype: x.dtype },
    info.backend,
  );
}

let original: EngineInternals["gradients"] | undefined;
let originalClone: EngineInternals["clone"] | undefined;

/**
 * Installs the eager backward pass on the engine (idempotent) unless
 * `VATT_EAGER_BACKPROP=0` and not `force`; returns whether it is installed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import "./gradients.ts";
 * import { installEagerBackprop, uninstallEagerBackprop } from "./backprop.ts";
 * await tf.setBackend("cpu");
 * assert.equal(installEagerBackprop({ force: true }), true);
 * const x = tf.tensor1d([1, 2, 3]);
 * const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.square(t), t)))(x); // d(x³) = 3x²
 * assert.deepEqual(Array.from(await g.data()), [3, 12, 27]);
 * uninstallEagerBackprop();
 * ```
 */
export function installEagerBackprop(options: { force?: boolean } = {}): boolean {
  if (!options.force && switchedOff(SWITCHES.eagerBackprop)) return eagerBackpropInstalled();
  const engine = tf.engine() as unknown as EngineInternals;
  if (!original) {
    original = engine.gradients;
    originalClone = engine.clone;
    engine.gradients = eagerGradients;
    engine.clone = shareForSave;
  }
  return true;
}

/**
 * Puts tfjs's own backward pass back (for comparisons and tests).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { eagerBackpropInstalled, uninstallEagerBackprop } from "./backprop.ts";
 * uninstallEagerBackprop();
 * assert.equal(eagerBackpropInstalled(), false);
 * ```
 */
export function uninstallEagerBackprop(): void {
  if (!original) return;
  const engine = tf.engine() as unknown as Partial<EngineInternals>;
  delete engine.gradients; // the prototype's methods again
  delete engine.clone;
  if (engine.gradients !== original) engine.gradients = original;
  if (engine.clone !== originalClone) engine.clone = originalClone;
  original = undefined;
  originalClone = undefined;
}

/**
 * Whether the eager backward pass is installed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { eagerBackpropInstalled, installEagerBackprop } from "./backprop.ts";
 * assert.equal(installEagerBackprop({ force: true }), true);
 * assert.equal(eagerBackpropInstalled(), true);
 * ```
 */
export function eagerBackpropInstalled(): boolean {
  return original !== undefined;
}
