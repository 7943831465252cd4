import { loadBlas } from "../lib/backend/blas.ts";
const blas = loadBlas()!;
const cases: [number, number, number, boolean, boolean][] = [[544,64,64,false,false],[64,64,544,true,false],[136,64,64,false,false],[17,17,16,false,true],[544,512,512,false,false],[512,512,544,true,false]];
const mem = new Float32Array(4_000_000).map(() => Math.random());
for (const [m, n, k, ta, tb] of cases) {
  const a = mem.subarray(0, m * k), b = mem.subarray(1_000_000, 1_000_000 + k * n), c = new Float32Array(m * n);
  const out = [];
  for (const th of [1, 2]) {
    blas.setThreads(th);
    for (let i = 0; i < 20; i++) blas.gemm({ m, n, k, transA: ta, transB: tb, a, b, c });
    const reps = Math.max(20, Math.floor(2e8 / (m * n * k)));
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) blas.gemm({ m, n, k, transA: ta, transB: tb, a, b, c });
    const us = (performance.now() - t0) / reps * 1000;
    out.push(`t${th} ${us.toFixed(1)}us ${(2 * m * n * k / us / 1e3).toFixed(1)}GF/s`);
  }
  console.log(m, n, k, ta, tb, out.join(" | "));
}
