/**
 * Registers TensorFlow.js's gradient functions. `@tensorflow/tfjs-core` alone
 * registers none, and its per-gradient ES modules cannot be imported by Deno
 * (extension-less relative imports), so they come from the `@tensorflow/tfjs`
 * bundle, which registers every gradient on the same `tfjs-core` instance the
 * backends use. Import this module for its side effect before taking
 * gradients.
 *
 * @example
 * ```ts
 * import "./gradients.ts";
 * ```
 *
 * @module
 */
import "@tensorflow/tfjs";
