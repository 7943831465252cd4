/**
 * A worker of `pool_test.ts`: on a message `{ seed, rounds }`, runs `rounds` products through
 * the native pool (`nativeGemm`) and posts back their values' bits, hashed.
 *
 * @module
 */
import { loadBlas } from "../../../../lib/backend/blas.ts";
import { nativeGemm } from "../../../../lib/backend/native/native.ts";
import { hashProducts } from "./_products.ts";

self.onmessage = (e: MessageEvent<{ seed: number; rounds: number }>) => {
  const blas = loadBlas();
  const kernels = blas ? nativeGemm(blas.library) : null;
  self.postMessage(kernels ? hashProducts(kernels, e.data.seed, e.data.rounds) : null);
};
