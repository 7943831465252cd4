/**
 * The two-way contrastive losses as one kernel each way (`VattContrastive`,
 * `lib/backend/kernels/contrastive.ts`), where the active backend has it
 * (wasm, unless `VATT_FUSED=0`) and the score product is small: NCE and
 * MIL-NCE then cost two engine calls instead of about 340 (normalisation,
 * product, masks, log-sum-exps and their gradients) — on the `tiny`
 * benchmark step, a third of all calls. Private to `lib/loss/`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { CONTRASTIVE_GRAD_KERNEL, CONTRASTIVE_KERNEL } from "../backend/kernels/names.ts";
import type { TwoWayForm } from "./_two_way.ts";

/**
 * The kernel's loops (float64, one thread) multiply `B × B·P × D` three times;
 * above this many multiply-adds the chain of ops, whose products run on the
 * BLAS, is the faster one. `small`'s MIL-NCE is 8 × 32 × 256 = 65,536.
 */
export const FUSED_TWO_WAY_MAX_MACS = 2 ** 20;

/**
 * Whether {@linkcode fusedTwoWayLoss} runs for `b` videos against `q` rows of
 * width `d` on the active backend.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { fusedTwoWayApplies } from "./_fused_two_way.ts";
 * await tf.setBackend("cpu");
 * assert.equal(fusedTwoWayApplies(8, 32, 256), false); // the cpu backend has no VattContrastive
 * ```
 */
export function fusedTwoWayApplies(b: number, q: number, d: number): boolean {
  return tf.getKernel(CONTRASTIVE_KERNEL, tf.getBackend()) !== undefined &&
    b * q * d <= FUSED_TWO_WAY_MAX_MACS;
}

/**
 * `twoWayLoss` of the scores `v̂ᵢ·x̂_c / τ` (`v` `[B, D]` against `x` `[B·P, D]`,
 * caption `p` of clip `j` in row `j·P + p`), rows L2-normalised first when
 * `normalize`; `mask` `[B, P]` and `videoMask` `[B]` are float32 0/1 and get
 * no gradient. Call only where {@linkcode fusedTwoWayApplies}.
 */
export function fusedTwoWayLoss(
  v: tf.Tensor2D,
  x: tf.Tensor2D,
  mask: tf.Tensor2D,
  videoMask: tf.Tensor1D,
  attrs: { form: TwoWayForm; temperature: number; normalize: boolean },
): tf.Scalar {
  const kernelAttrs = { ...attrs } as unknown as tf.NamedAttrMap;
  const op = tf.customGrad(
    ((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [vi, xi] = args as tf.Tensor[];
      (args[2] as tf.GradSaveFunc)([vi, xi, mask, videoMask]);
      const inputs = { v: vi, x: xi, mask, videoMask };
      const value = tf.engine().runKernel(CONTRASTIVE_KERNEL, inputs, kernelAttrs) as tf.Tensor;
      const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sv, sx, sm, svm] = saved;
        const grads = { v: sv, x: sx, mask: sm, videoMask: svm, dy };
        return tf.engine().runKernel(CONTRASTIVE_GRAD_KERNEL, grads, kernelAttrs) as tf.Tensor[];
      };
      return { value, gradFunc };
    }) as unknown as Parameters<typeof tf.customGrad>[0],
  );
  return op(v, x) as tf.Scalar;
}
