import { formatFuzzReport, runFuzz } from "./_fuzz.ts";
const targets = Deno.args[0] ? Deno.args[0].split(",") : undefined;
const scale = Number(Deno.args[1] ?? "1");
const r = await runFuzz({ level: (Deno.env.get("LEVEL") ?? "ci") as "ci", targets, scale, onTarget: (t) => console.error(`${t.name}: ${t.tried} tried, ${t.crashed + t.hangs} bad, ${(t.ms/1000).toFixed(1)} s`) });
console.log(formatFuzzReport(r));
if (Deno.env.get("KINDS")) for (const t of r.targets) console.log(t.name, JSON.stringify(t.errorKinds, null, 1));
