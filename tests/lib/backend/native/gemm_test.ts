import assert from "node:assert/strict";
import { nativeGemm, nativeKernels } from "../../../../lib/backend/native/native.ts";
import { Rng } from "../../../../lib/util/rng.ts";
import { builtNative } from "./_built.ts";

const kernels = await builtNative("gemm_test", { blas: true });

interface Case {
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
}

const values = (n: number, rng: Rng) => Float32Array.from({ length: n }, () => rng.normal());

/**
 * One product two ways: the pool's split (`threads` threads) and a float64 loop written here
 * from the definition.
 */
function products(c: Case, threads: number) {
  const rng = new Rng(c.m * 7 + c.n * 3 + c.k);
  const a = values(c.m * c.k, rng);
  const b = values(c.k * c.n, rng);
  const start = values(c.m * c.n, rng);
  const lda = c.transA ? c.m : c.k;
  const ldb = c.transB ? c.k : c.n;
  const split = start.slice();
  const was = kernels!.threads();
  kernels!.setThreads(threads);
  try {
    kernels!.gemm(c.transA, c.transB, c.m, c.n, c.k, 0.5, a, lda, b, ldb, 2, split, c.n);
  } finally {
    kernels!.setThreads(was);
  }
  const exact = new Float64Array(c.m * c.n);
  for (let i = 0; i < c.m; i++) {
    for (let j = 0; j < c.n; j++) {
      let sum = 0;
      for (let p = 0; p < c.k; p++) {
        const av = c.transA ? a[p * lda + i] : a[i * lda + p];
        const bv = c.transB ? b[j * ldb + p] : b[p * ldb + j];
        sum += av * bv;
      }
      exact[i * c.n + j] = 0.5 * sum + 2 * start[i * c.n + j];
    }
  }
  return { split, exact };
}

const CASES: Case[] = [
  { m: 300, n: 40, k: 65, transA: false, transB: false }, // bands of rows, the last one short
  { m: 37, n: 200, k: 50, transA: true, transB: false }, // bands of columns
  { m: 150, n: 70, k: 33, transA: false, transB: true },
  { m: 20, n: 130, k: 17, transA: true, transB: true },
];

for (const c of CASES) {
  const shape = `${c.m}×${c.n}×${c.k}${c.transA ? " Aᵀ" : ""}${c.transB ? " Bᵀ" : ""}`;
  Deno.test({
    name: `the pool's split product equals the definition on 1 and 2 threads (${shape})`,
    ignore: !kernels,
    fn() {
      for (const threads of [1, 2]) {
        const { split, exact } = products(c, threads);
        for (let i = 0; i < exact.length; i++) {
          const want = exact[i];
          assert.ok(
            Math.abs(split[i] - want) <= 1e-4 * (1 + Math.abs(want)),
            `${threads} thread(s), value ${i}: ${split[i]} against ${want}`,
          );
        }
      }
    },
  });
}

Deno.test({
  name: "binding a BLAS the process never loaded fails, and nativeGemm says null",
  ignore: !nativeKernels(),
  fn() {
    assert.equal(nativeKernels()!.bindBlas("/nonexistent/libopenblas.so.0"), false);
    assert.equal(nativeGemm("/nonexistent/libopenblas.so.0"), null);
  },
});
