import { robustnessSeeds } from "./_seeds.ts";
const t = performance.now();
const s = await robustnessSeeds();
console.log(JSON.stringify(s, null, 1), performance.now() - t);
