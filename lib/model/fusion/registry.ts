/**
 * The list of fusion heads and a factory that builds one by name.
 *
 * @module
 */
import { FUSION_HEADS, type FusionHeadName } from "../../config/fusion_config.ts";
import { ConcatFusionHead, type ConcatFusionInput } from "./concat_fusion.ts";
import type { FusionHead } from "./fusion_head.ts";
import { McbFusionHead, type McbFusionInput } from "./mcb_fusion.ts";
import { TensorFusionHead, type TensorFusionInput } from "./tensor_fusion.ts";
import { VattFusionHead, type VattFusionInput } from "./vatt_fusion.ts";

export { FUSION_HEADS };

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
 * import assert from "node:assert/strict";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createFusionHead } from "./registry.ts";
 * const head = createFusionHead("tensor", { inputDims: [4, 4, 4], numClasses: 2, seed: 3, fusionDim: 2 });
 * assert.equal(head.name, "tensor");
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
