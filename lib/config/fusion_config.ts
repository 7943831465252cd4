/**
 * The names of the classification (fusion) heads, for the configs that pick
 * one; the heads themselves live in `lib/model/fusion/`.
 *
 * @module
 */

/** The names of the fusion heads, in the order they are listed by `FUSION_HEADS`. */
export type FusionHeadName = "concat" | "tensor" | "mcb" | "vatt";

/**
 * Every fusion head's name: early concatenation, Tensor Fusion Network, Multimodal Compact
 * Bilinear pooling, and the linear classifier on VATT embeddings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FUSION_HEADS } from "./fusion_config.ts";
 * assert.deepEqual([...FUSION_HEADS], ["concat", "tensor", "mcb", "vatt"]);
 * ```
 */
export const FUSION_HEADS: readonly FusionHeadName[] = ["concat", "tensor", "mcb", "vatt"];
