import { formatFuzzReport, runFuzz } from "./_fuzz.ts";
const r = await runFuzz({ level: "full", targets: Deno.args[0].split(","), scale: Number(Deno.args[1] ?? 1), seed: Number(Deno.args[2] ?? 1) });
console.log(formatFuzzReport(r));
