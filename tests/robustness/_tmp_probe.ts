import { tokenizeDataset } from "../../lib/data/tokenize.ts";
import { decodeSafetensors, encodeSafetensors } from "../../lib/io/safetensors.ts";
import { SEED_SETTINGS } from "./_seeds.ts";
const src = "/tmp/vatt-robustness-seeds/v1/data";
const dir = await Deno.makeTempDir();
for await (const e of Deno.readDir(src)) if (e.name !== "index.json") await Deno.copyFile(`${src}/${e.name}`, `${dir}/${e.name}`);
const f = `${dir}/shard-00001-of-00003.safetensors`;
const d = decodeSafetensors(await Deno.readFile(f));
await Deno.writeFile(f, encodeSafetensors(d.tensors, { metadata: { ...d.metadata, skipped: JSON.stringify([null, { row: 1, reason: "x" }]) } }));
try {
  await tokenizeDataset({ manifest: "/tmp/vatt-robustness-seeds/v1/media/manifest.jsonl", out: dir, settings: SEED_SETTINGS, text: { buildVocab: 255 } });
  console.log("ok", JSON.parse(await Deno.readTextFile(`${dir}/index.json`)).skipped);
} catch (e) { console.log(String(e)); }
