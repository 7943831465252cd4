import { generateDemoData } from "../lib/data/demo_data.ts";
import { tokenizeDataset } from "../lib/data/tokenize.ts";
import { ffmpegPath } from "../lib/data/ffmpeg_path.ts";
const dir = await Deno.makeTempDir();
const r = await generateDemoData(`${dir}/demo`, { clips: 10, seconds: 1, width: 64, height: 48, fps: 10, sampleRate: 8000 });
const d = `${dir}/demo`;
const lines = (await Deno.readTextFile(r.manifestPath)).trim().split("\n");
const rows = lines.map((l) => JSON.parse(l));
await Deno.writeFile(`${d}/corrupt.mp4`, crypto.getRandomValues(new Uint8Array(5000)));
const mp4 = await Deno.readFile(`${d}/video/clip-00000.mp4`);
await Deno.writeFile(`${d}/trunc.mp4`, mp4.subarray(0, Math.floor(mp4.length / 2)));
await Deno.writeFile(`${d}/empty.mp4`, new Uint8Array());
await Deno.mkdir(`${d}/dir.mp4`);
await Deno.writeTextFile(`${d}/notes.wav`, "hello this is text\n".repeat(50));
await Deno.writeTextFile(`${d}/notes.txt`, "hello this is text\n".repeat(50));
const o = await new Deno.Command(ffmpegPath(), { args: ["-v","error","-f","lavfi","-i","testsrc=size=64x48:rate=10:duration=0.2","-f","lavfi","-i","sine=frequency=440:sample_rate=8000:duration=0.2","-pix_fmt","yuv420p","-shortest",`${d}/short.mp4`]}).output();
console.log("short ok", o.success, new TextDecoder().decode(o.stderr));
const base = rows[1];
const bad = [
  { ...base, id: "corrupt", video: "corrupt.mp4" },
  { ...base, id: "trunc", video: "trunc.mp4" , audio: undefined},
  { ...base, id: "empty", video: "empty.mp4" },
  { ...base, id: "dirv", video: "dir.mp4" },
  { ...base, id: "txtaudio", audio: "notes.wav" },
  { ...base, id: "txtaudio2", audio: "notes.txt" },
  { ...base, id: "missing", video: "nope.mp4" },
  { ...base, id: "short", video: "short.mp4", audio: undefined },
  { ...base, id: "nowords", captions: ["zzz qqq"] },
];
const text = [...lines, ...bad.map((b) => JSON.stringify(b)), "{not json", JSON.stringify({ video: "x.mp4", captions: ["a"] })].join("\n") + "\n";
await Deno.writeTextFile(`${d}/bad.jsonl`, text);
await Deno.writeTextFile(`${d}/small_vocab.txt`, "red\nblue\ngreen\nyellow\n");
const res = await tokenizeDataset({ manifest: `${d}/bad.jsonl`, out: `${dir}/data`, settings: {frames: 8, fps: 10, size: 32, audioSeconds: 0.8, sampleRate: 8000, clipsPerShard: 4}, text: {vocabFile: `${d}/small_vocab.txt`} });
console.log(JSON.stringify(res.index.skipped, null, 1), res.index.clips, res.index.padded);
