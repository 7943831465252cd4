import assert from "node:assert/strict";
import { erf } from "../../../../lib/backend/kernels/approx.ts";
import { setSimdEnabled, simdKernels } from "../../../../lib/backend/simd/simd.ts";

Deno.test("the SIMD kernels work on a memory of their own: sumRows and gelu", () => {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const before = setSimdEnabled(true); // whatever VATT_SIMD says: this tests the module
  const k = simdKernels(memory);
  setSimdEnabled(before);
  assert.ok(k, "WebAssembly SIMD is not available");
  const f32 = new Float32Array(memory.buffer);
  // 3 rows of 7: the column sums, a 4-lane part and a tail of 3
  const x = Array.from({ length: 21 }, (_, i) => (i % 5) - 1.5 + i / 10);
  f32.set(x, 0);
  k.sumRows(0, 4 * 32, 3, 7);
  for (let j = 0; j < 7; j++) {
    assert.ok(Math.abs(f32[32 + j] - (x[j] + x[7 + j] + x[14 + j])) < 1e-5, `column ${j}`);
  }
  // gelu of 11 values (a tail of 3) against x·Φ(x) in float64
  const g = [-6, -3, -1.5, -0.5, -1e-3, 0, 1e-3, 0.7, 1.5, 3, 6];
  f32.set(g, 64);
  k.gelu(4 * 64, 4 * 96, 4 * 128, g.length);
  for (let i = 0; i < g.length; i++) {
    const cdf = 0.5 + 0.5 * erf(g[i] / Math.SQRT2);
    assert.ok(Math.abs(f32[128 + i] - cdf) < 1e-6, `Φ(${g[i]}) = ${f32[128 + i]}, want ${cdf}`);
    assert.ok(Math.abs(f32[96 + i] - g[i] * cdf) < 2e-6, `gelu(${g[i]})`);
  }
  assert.equal(f32[96 + g.length], 0, "wrote past the end");
});

Deno.test("setSimdEnabled(false) and VATT_SIMD=0 turn the SIMD kernels off", async () => {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const before = setSimdEnabled(false);
  try {
    assert.equal(simdKernels(memory), null);
    setSimdEnabled(true);
    assert.notEqual(simdKernels(memory), null);
  } finally {
    setSimdEnabled(before);
  }
  const script = `import { simdKernels } from ${
    JSON.stringify(import.meta.resolve("../../../../lib/backend/simd/simd.ts"))
  };
console.log(simdKernels(new WebAssembly.Memory({ initial: 1 })) === null ? "off" : "on");`;
  const run = async (value: string) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", script],
      env: { VATT_SIMD: value },
    }).output();
    return new TextDecoder().decode(out.stdout).trim();
  };
  assert.equal(await run("0"), "off");
  assert.equal(await run("1"), "on");
});
