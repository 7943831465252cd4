import { robustnessSeeds } from "./_seeds.ts";
import { targetEntry } from "./_targets.ts";
const seeds = await robustnessSeeds();
console.log("seeds");
const t = await targetEntry(Deno.args[0]).load();
console.log("loaded");
const t0 = performance.now();
const make = await t.cases({ seeds, scratch: await Deno.makeTempDir() }, 1, Number(Deno.args[1] ?? 5));
console.log("cases", performance.now() - t0);
for (let i = 0; i < Number(Deno.args[1] ?? 5); i++) {
  const { testCase } = await make(i);
  try { await testCase.run(); console.log(i, testCase.input, "ok"); } catch (e) { console.log(i, testCase.input, String(e).slice(0, 150)); }
}
