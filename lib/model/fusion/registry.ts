/**
 * The list of fusion heads and a factory that builds one by name.
 *
 * @module
 */
import { ConcatFusionHead, type ConcatFusionInput } from "./concat_fusion.ts";
import type { FusionHead, FusionHeadName } from "./fusion_head.ts";
import { McbFusionHead, type McbFusionInput } from "./mcb_fusion.ts";
import { TensorFusionHead, type TensorFusionInput } from "./tensor_fusion.ts";
import { VattFusionHead, type VattFusionInput } from "./vatt_fusion.ts";

/**
 * Every fusion head's name: early concatenation, Tensor Fusion Network, Multimodal Compact
 * Bilinear pooling, and the linear classifier on VATT embeddings.
 *
 * @example
 * ```ts
 * import { FUSION_HEADS } from "./registry.ts";
 * console.assert(FUSION_HEADS.includes("mcb"));
 * ```
 */
export const FUSION_HEADS: readonly FusionHeadName[] = ["concat", "tensor", "mcb", "vatt"];

/** The config a caller passes for each head name. */
export interface FusionHeadInputs {
  /** See `ConcatFusionConfig`. */
  concat: ConcatFusionInput;
  /** See `TensorFusionConfig`. */
  tensor: TensorFusionInput;
  /** See `McbFusionConfig`. */
  mcb: McbFusionInput;
  /** See `VattFusionConfig`. */
  vatt: VattFusionInput;
}

/**
 * Builds the head called `name` from `config` (validated by that head's `resolve…Config`);
 * throws a RangeError for an unknown name.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createFusionHead } from "./registry.ts";
 * const head = createFusionHead("tensor", { inputDims: [4, 4, 4], numClasses: 2, seed: 3, fusionDim: 2 });
 * console.assert(head.name === "tensor");
 * head.dispose();
 * ```
 */
export function createFusionHead<N extends FusionHeadName>(
  name: N,
  config: FusionHeadInputs[N],
): FusionHead {
  switch (name as FusionHeadName) {
    case "concat":
      return new ConcatFusionHead(config as ConcatFusionInput);
    case "tensor":
      return new TensorFusionHead(config as TensorFusionInput);
    case "mcb":
      return new McbFusionHead(config as McbFusionInput);
    case "vatt":
      return new VattFusionHead(config as VattFusionInput);
    default:
      throw new RangeError(
        `Unknown fusion head ${JSON.stringify(name)}; expected one of ${FUSION_HEADS.join(", ")}`,
      );
  }
}
