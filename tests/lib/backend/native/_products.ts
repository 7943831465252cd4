/**
 * Products for `pool_test.ts` and its worker: seeded matrices multiplied through the native
 * pool, the bits of every result folded into one number.
 *
 * @module
 */
import type { NativeKernels } from "../../../../lib/backend/native/native.ts";
import { Rng } from "../../../../lib/util/rng.ts";

/** `rounds` products of seeded sizes (large enough to split) through `kernels.gemm`, hashed. */
export function hashProducts(kernels: NativeKernels, seed: number, rounds: number): number {
  const rng = new Rng(seed);
  let hash = 0;
  for (let r = 0; r < rounds; r++) {
    const m = 64 + rng.nextInt(200), n = 64 + rng.nextInt(200), k = 16 + rng.nextInt(100);
    const a = Float32Array.from({ length: m * k }, () => rng.normal());
    const b = Float32Array.from({ length: k * n }, () => rng.normal());
    const c = new Float32Array(m * n);
    kernels.gemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n);
    for (const bits of new Uint32Array(c.buffer)) hash = (Math.imul(hash, 31) + bits) >>> 0;
  }
  return hash;
}
