import { generateDemoData } from "./lib/data/demo_data.ts";
const t = performance.now();
const r = await generateDemoData("/tmp/dd/demo96", { clips: Number(Deno.args[0] ?? 96), force: true });
console.log(r, (performance.now() - t) / 1000);
