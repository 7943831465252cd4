import { formatFuzzReport, runFuzz } from "./_fuzz.ts";
const r = await runFuzz({ level: "full", seed: Number(Deno.args[0] ?? 1), onTarget: (t) => console.error(`${t.name}: ${t.tried} tried, ${t.crashed + t.hangs} bad, ${(t.ms/1000).toFixed(1)} s`) });
console.log(formatFuzzReport(r));
