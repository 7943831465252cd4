import { npyTarget, jsonlTarget } from "./_targets_io.ts";
import { robustnessSeeds } from "./_seeds.ts";
const seeds = await robustnessSeeds();
for (const n of [5, 5, 20]) {
const t0 = performance.now();
await npyTarget.cases({ seeds, scratch: "/tmp" }, 1, n);
console.log("npy", n, performance.now() - t0);
}
const t1 = performance.now();
await jsonlTarget.cases({ seeds, scratch: "/tmp" }, 1, 5);
console.log("jsonl", performance.now() - t1);
