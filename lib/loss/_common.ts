/**
 * Helpers shared by the contrastive losses in this folder (private to `lib/loss/`).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { LOSS_FORMS, type LossForm } from "../config/pretrain_config.ts";

/**
 * Added to a logit to take it out of a log-sum-exp: `exp(-1e9 - max)` is exactly 0 in
 * float32, while the sum stays finite, so masked entries give neither NaN nor gradient.
 */
export const MASKED_LOGIT = -1e9;

/**
 * Checks that a temperature is a finite number above 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkTemperature } from "./_common.ts";
 * checkTemperature(0.07, "nceLoss()");
 * assert.throws(() => checkTemperature(0, "nceLoss()"), RangeError);
 * ```
 */
export function checkTemperature(temperature: number, where: string): void {
  if (typeof temperature !== "number" || !Number.isFinite(temperature) || temperature <= 0) {
    throw new RangeError(
      `${where}: temperature must be a finite number above 0, got ${temperature}`,
    );
  }
}

/**
 * Checks that a loss form is one of {@linkcode LOSS_FORMS}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkLossForm } from "./_common.ts";
 * checkLossForm("official", "nceLoss()");
 * assert.throws(() => checkLossForm("two-way", "nceLoss()"), /form must be one of/);
 * ```
 */
export function checkLossForm(form: unknown, where: string): asserts form is LossForm {
  if (!LOSS_FORMS.includes(form as LossForm)) {
    throw new RangeError(
      `${where}: form must be one of ${LOSS_FORMS.map((f) => `"${f}"`).join(", ")}, got ${
        JSON.stringify(form)
      }`,
    );
  }
}

/**
 * Checks that a tensor has the expected rank, naming it in the error.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import assert from "node:assert/strict";
 * import { checkRank } from "./_common.ts";
 * checkRank(tf.zeros([2, 3]), 2, "zV", "nceLoss()");
 * assert.throws(() => checkRank(tf.zeros([2]), 2, "zV", "nceLoss()"), /zV must have rank 2/);
 * ```
 */
export function checkRank(x: tf.Tensor, rank: number, name: string, where: string): void {
  if (!(x instanceof tf.Tensor)) {
    throw new TypeError(`${where}: ${name} must be a tf.Tensor, got ${typeof x}`);
  }
  if (x.rank !== rank) {
    throw new TypeError(
      `${where}: ${name} must have rank ${rank}, got shape [${x.shape.join(", ")}]`,
    );
  }
}

/**
 * Turns a mask of any dtype into float32 0/1 values (`1` where the mask is above 0).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { binaryMask } from "./_common.ts";
 * const m = binaryMask(tf.tensor1d([0, 2, 1], "int32"));
 * assert.deepEqual(Array.from(await m.data()), [0, 1, 1]);
 * ```
 */
export function binaryMask(mask: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.cast(tf.greater(mask, 0), "float32"));
}
