/**
 * Registers TensorFlow.js's gradient functions. `@tensorflow/tfjs-core` alone
 * registers none, and its per-gradient ES modules cannot be imported by Deno
 * (extension-less relative imports), so they come from the `@tensorflow/tfjs`
 * bundle, which registers every gradient on the same `tfjs-core` instance the
 * backends use. It also installs the backward pass that frees each tape
 * node's memory when the node is done (`backprop.ts`; `VATT_EAGER_BACKPROP=0`
 * keeps tfjs's own). Import this module for its side effect before taking
 * gradients.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import "./gradients.ts";
 * await tf.setBackend("cpu");
 * const slope = tf.grad((x: tf.Tensor) => tf.square(x))(tf.scalar(3));
 * assert.equal((await slope.data())[0], 6);
 * ```
 *
 * @module
 */
import "@tensorflow/tfjs";
import { installEagerBackprop } from "./backprop.ts";

installEagerBackprop();
