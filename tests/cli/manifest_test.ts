import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// Each test writes a dataset's annotation file in its published format (header rows,
// comment lines and quoting as distributed) with empty media files, runs `vatt manifest`
// as a subprocess and checks the JSONL rows against values worked out by hand.

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const ROOT = await Deno.makeTempDir({ prefix: "vatt-cli-manifest-test-" });
globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(ROOT, { recursive: true });
  } catch {
    // already gone
  }
});

interface Result {
  code: number;
  stdout: string[];
  stderr: string[];
}

/** Runs `vatt …` as a subprocess. */
async function vatt(...args: string[]): Promise<Result> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "-A", "cli/main.ts", ...args],
    cwd: REPO,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const lines = (b: Uint8Array) => new TextDecoder().decode(b).split("\n").filter((l) => l !== "");
  return { code: out.code, stdout: lines(out.stdout), stderr: lines(out.stderr) };
}

/** Writes empty files (media stand-ins) at `paths` under `root`. */
async function touch(root: string, ...paths: string[]): Promise<void> {
  for (const p of paths) {
    await Deno.mkdir(join(root, p, ".."), { recursive: true });
    await Deno.writeTextFile(join(root, p), "");
  }
}

/** Runs `vatt manifest` and returns the rows written, with the run's output. */
async function manifest(
  dataset: string,
  root: string,
  ...flags: string[]
): Promise<{ r: Result; rows: Record<string, unknown>[] }> {
  const out = join(root, `${dataset}-${flags.join("").replace(/\W/g, "")}.jsonl`);
  const r = await vatt("manifest", dataset, root, "--out", out, ...flags);
  if (r.code !== 0) return { r, rows: [] };
  const text = await Deno.readTextFile(out);
  return { r, rows: text.trim() === "" ? [] : text.trim().split("\n").map((l) => JSON.parse(l)) };
}

Deno.test("vatt manifest howto100m: a row per caption, MIL-NCE neighbours, 4 s windows", async () => {
  const root = join(ROOT, "howto100m");
  await touch(root, "videos/abcdefghijk.mp4", "videos/part/0123456789a.webm");
  // caption.json as distributed: one line, video id → {start, end, text}.
  const captions = {
    abcdefghijk: {
      start: [0.5, 10, 12, 14, 30],
      end: [2.5, 11, 13, 20, 36],
      text: ["first", "second", "third", "fourth", "fifth"],
    },
    "0123456789a": { start: [3], end: [9], text: ["only one"] },
    missingvid0: { start: [0], end: [4], text: ["no video"] },
    brokenvid00: { start: [0, 1], end: [4], text: ["a", "b"] },
  };
  await Deno.writeTextFile(join(root, "caption.json"), JSON.stringify(captions));
  const { r, rows } = await manifest("howto100m", root, "--captions-per-clip", "3");
  assert.equal(r.code, 0, r.stderr.join("\n"));
  // Neighbours by hand (grow toward the shorter span end[last] - start[first]):
  // 0: at the start → [0,1,2]; 1: left 11-0.5=10.5 < right 13-10=3? no → [1,2], then
  //    left 13-0.5=12.5 vs right 20-10=10 → [1,2,3]; 2: left 13-10=3 < right 20-12=8 → [1,2],
  //    then left 13-0.5 vs right 20-10 → [1,2,3]; 3: left 20-12=8 < right 36-14=22 → [2,3],
  //    then left 20-10=10 < right 36-12=24 → [1,2,3]; 4: at the end → [2,3,4].
  // Windows: [0.5,2.5] → widened to 4 s: [0,4]; [10,11] → [8.5,12.5]; [12,13] → [10.5,14.5];
  // [14,20] and [30,36] are long enough.
  assert.deepEqual(rows.slice(0, 5).map((x) => [x.id, x.start, x.end, x.captions]), [
    ["abcdefghijk_0", 0, 4, ["first", "second", "third"]],
    ["abcdefghijk_1", 8.5, 12.5, ["second", "third", "fourth"]],
    ["abcdefghijk_2", 10.5, 14.5, ["second", "third", "fourth"]],
    ["abcdefghijk_3", 14, 20, ["second", "third", "fourth"]],
    ["abcdefghijk_4", 30, 36, ["third", "fourth", "fifth"]],
  ]);
  assert.equal(rows[0].video, "videos/abcdefghijk.mp4");
  assert.deepEqual(rows[5], {
    id: "0123456789a_0",
    video: "videos/part/0123456789a.webm",
    captions: ["only one"],
    start: 3,
    end: 9,
  });
  assert.equal(rows.length, 6);
  assert.match(r.stderr.join("\n"), /skipped 1 rows whose media file is missing .*missingvid0/);
  assert.match(r.stderr.join("\n"), /skipped 1 malformed annotation rows \(rows 4\)/);
  const strict = await manifest("howto100m", root, "--strict");
  assert.equal(strict.r.code, 1);
  assert.equal(strict.r.stderr.length, 1);
  assert.match(strict.r.stderr[0], /^vatt: .*missingvid0/);
});

Deno.test("vatt manifest audioset: comment lines, quoted label lists, display names", async () => {
  const root = join(ROOT, "audioset");
  await Deno.mkdir(root, { recursive: true });
  await Deno.writeTextFile(
    join(root, "class_labels_indices.csv"),
    'index,mid,display_name\n0,/m/09x0r,"Speech"\n1,/m/05zppz,"Male speech, man speaking"\n' +
      '2,/m/07rwj3x,"Whack, thwack"\n',
  );
  await Deno.writeTextFile(
    join(root, "balanced_train_segments.csv"),
    [
      "# Segments csv created Sun Mar  5 10:54:31 2017",
      "# num_ytids=5, num_segs=5, num_unique_labels=3, num_positive_labels=7",
      "# YTID, start_seconds, end_seconds, positive_labels",
      '--PJHxphWEs, 30.000, 40.000, "/m/09x0r,/m/05zppz"',
      '-0RWZT-miFs, 420.000, 430.000, "/m/07rwj3x"',
      '-1LrH01Ei1w, 0.000, 10.000, "/m/09x0r"',
      '-1nilez17Dg, 30.000, 20.000, "/m/09x0r"', // bad times (line 7)
      '-1qtqk5mcDQ, 30.000, 40.000, "/m/zzzzz"', // unknown label id (line 8)
      "-2xiZDEuHd8, 30.000, 40.000", // 3 fields (line 9)
      '-3xiZDEuHd8, 30.000, 40.000, "/m/09x0r"', // no media file
      "",
    ].join("\n"),
  );
  await touch(
    root,
    "balanced_train/Y--PJHxphWEs.wav", // trimmed segment, audio only
    "balanced_train/v/-0RWZT-miFs_420.mp4", // trimmed segment, video
    "balanced_train_segments/-1LrH01Ei1w.mkv", // the whole video
  );
  const { r, rows } = await manifest("audioset", root);
  assert.equal(r.code, 0, r.stderr.join("\n"));
  assert.deepEqual(rows, [
    {
      id: "--PJHxphWEs_30",
      audio: "balanced_train/Y--PJHxphWEs.wav",
      captions: [],
      label: ["Speech", "Male speech, man speaking"],
      start: 0,
      end: 10,
    },
    {
      id: "-0RWZT-miFs_420",
      video: "balanced_train/v/-0RWZT-miFs_420.mp4",
      captions: [],
      label: ["Whack, thwack"],
      start: 0,
      end: 10,
    },
    {
      id: "-1LrH01Ei1w_0",
      video: "balanced_train_segments/-1LrH01Ei1w.mkv",
      captions: [],
      label: ["Speech"],
      start: 0,
      end: 10,
    },
  ]);
  const err = r.stderr.join("\n");
  assert.match(err, /skipped 3 malformed annotation rows \(rows 7, 8, 9\)/);
  assert.match(err, /skipped 1 rows whose media file is missing/);
  const strict = await manifest("audioset", root, "--strict");
  assert.equal(strict.r.code, 1);
  assert.deepEqual(strict.r.stderr.length, 1);
  assert.match(
    strict.r.stderr[0],
    /^vatt: .*balanced_train_segments\.csv:7: end 20 must be greater/,
  );
  const badSplit = await manifest("audioset", root, "--split", "train");
  assert.equal(badSplit.r.code, 2);
});

Deno.test("vatt manifest kinetics: label, split files, trimmed and whole videos", async () => {
  const root = join(ROOT, "kinetics");
  await Deno.mkdir(join(root, "annotations"), { recursive: true });
  await Deno.writeTextFile(
    join(root, "annotations", "train.csv"),
    [
      "label,youtube_id,time_start,time_end,split",
      "abseiling,0347ZoDXyP0,14,24,train",
      '"passing American football (in game)",--33Lscn6sk,4,14,train',
      "abseiling,--3ouPhoy2A,20,30,test", // another split's row: left out
      "abseiling,-1NVH3oC9YU,30,20,train", // bad times (line 5)
      "abseiling,-2NVH3oC9YU,0,10,dev", // unknown split (line 6)
      "abseiling,-3NVH3oC9YU,0,10", // 4 fields (line 7)
      "abseiling,-4NVH3oC9YU,0,10,train", // no media
      "",
    ].join("\n"),
  );
  await Deno.writeTextFile(
    join(root, "annotations", "validate.csv"),
    "label,youtube_id,time_start,time_end,split\nzumba,-5NVH3oC9YU,1,11,val\n",
  );
  await touch(
    root,
    "train/abseiling/0347ZoDXyP0_000014_000024.mp4",
    "train/--33Lscn6sk.mp4",
    "val/-5NVH3oC9YU_000001_000011.mp4",
  );
  const { r, rows } = await manifest("kinetics400", root);
  assert.equal(r.code, 0, r.stderr.join("\n"));
  assert.deepEqual(rows.map((x) => [x.id, x.video, x.label, x.start, x.end]), [
    [
      "0347ZoDXyP0_000014_000024",
      "train/abseiling/0347ZoDXyP0_000014_000024.mp4",
      "abseiling",
      0,
      10,
    ],
    [
      "--33Lscn6sk_000004_000014",
      "train/--33Lscn6sk.mp4",
      "passing American football (in game)",
      4,
      14,
    ],
  ]);
  const err = r.stderr.join("\n");
  assert.match(err, /skipped 3 malformed annotation rows \(rows 5, 6, 7\)/);
  assert.match(err, /skipped 1 rows whose media file is missing .*-4NVH3oC9YU_000000_000010\.mp4/);
  const val = await manifest("kinetics", root, "--split", "val");
  assert.deepEqual(val.rows.map((x) => [x.id, x.label]), [["-5NVH3oC9YU_000001_000011", "zumba"]]);
  const strict = await manifest("kinetics", root, "--strict");
  assert.equal(strict.r.code, 1);
  assert.equal(strict.r.stderr.length, 1);
  assert.match(strict.r.stderr[0], /train\.csv:5: end 20 must be greater than start 30/);
});

const ESC50_HEADER = "filename,fold,target,category,esc10,src_file,take";

Deno.test("vatt manifest esc50: the fold is the test fold, ESC-10 subset, audio-only rows", async () => {
  const root = join(ROOT, "esc50");
  await Deno.mkdir(join(root, "meta"), { recursive: true });
  const files = [
    "1-100032-A-0.wav,1,0,dog,True,100032,A",
    "1-100038-A-14.wav,1,14,chirping_birds,False,100038,A",
    "2-100648-A-43.wav,2,43,chainsaw,False,100648,A",
    "2-102414-A-17.wav,2,17,pouring_water,False,102414,A",
    "3-102583-A-1.wav,3,1,rooster,True,102583,A",
    "4-102844-A-49.wav,4,49,hand_saw,False,102844,A",
    "5-103415-A-2.wav,5,2,pigs,False,103415,A",
  ];
  const bad = ["6-1-A-0.wav,7,0,dog,True,1,A", "6-2-A-0.wav,1,0,dog,True"];
  await Deno.writeTextFile(
    join(root, "meta", "esc50.csv"),
    [ESC50_HEADER, ...files, ...bad].join("\n") + "\n",
  );
  await touch(root, ...files.slice(0, 6).map((l) => `audio/${l.split(",")[0]}`)); // 5-… is missing

  const test = await manifest("esc50", root, "--fold", "2", "--split", "test");
  assert.equal(test.r.code, 0, test.r.stderr.join("\n"));
  assert.deepEqual(test.rows, [
    { id: "2-100648-A-43", audio: "audio/2-100648-A-43.wav", captions: [], label: "chainsaw" },
    { id: "2-102414-A-17", audio: "audio/2-102414-A-17.wav", captions: [], label: "pouring_water" },
  ]);
  assert.match(test.r.stderr.join("\n"), /skipped 2 malformed annotation rows \(rows 9, 10\)/);
  const train = await manifest("esc50", root, "--fold", "2");
  assert.deepEqual(train.rows.map((x) => x.label), [
    "dog",
    "chirping_birds",
    "rooster",
    "hand_saw",
  ]);
  assert.match(train.r.stderr.join("\n"), /skipped 1 rows whose media file is missing/);
  const esc10 = await manifest("esc50", root, "--fold", "1", "--split", "train", "--esc10");
  assert.deepEqual(esc10.rows.map((x) => x.label), ["rooster"]);
  const all = await manifest("esc50", root);
  assert.equal(all.rows.length, 6);
  const strict = await manifest("esc50", root, "--fold", "1", "--strict");
  assert.equal(strict.r.code, 1);
  assert.equal(strict.r.stderr.length, 1);
  const noFold = await manifest("esc50", root, "--split", "test");
  assert.equal(noFold.r.code, 2);
  assert.match(noFold.r.stderr[0], /--split test needs --fold/);
});

Deno.test("vatt manifest kinetics on generated clips, then vatt tokenize reads the manifest", async () => {
  const { generateDemoData } = await import("../../lib/demo/demo_data.ts");
  const demo = join(ROOT, "demo");
  const { manifestPath } = await generateDemoData(demo, {
    clips: 4,
    seed: 3,
    seconds: 1,
    width: 64,
    height: 48,
    fps: 10,
    sampleRate: 8000,
  });
  const demoRows = (await Deno.readTextFile(manifestPath)).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
  const root = join(ROOT, "kinetics-e2e");
  const csv = ["label,youtube_id,time_start,time_end,split"];
  for (const [i, row] of demoRows.entries()) {
    const ytid = `demo${i}_abcde`.slice(0, 11);
    csv.push(`"${row.label}",${ytid},0,1,train`);
    const dir = join(root, "train", row.label.replaceAll(" ", "_"));
    await Deno.mkdir(dir, { recursive: true });
    await Deno.copyFile(join(demo, row.video), join(dir, `${ytid}_000000_000001.mp4`));
  }
  await Deno.writeTextFile(join(root, "train.csv"), csv.join("\n") + "\n");
  const { r, rows } = await manifest("kinetics", root);
  assert.equal(r.code, 0, r.stderr.join("\n"));
  assert.deepEqual(rows.map((x) => x.label), demoRows.map((x) => x.label));
  const out = join(ROOT, "kinetics-shards");
  const t = await vatt(
    "tokenize",
    join(root, "kinetics-.jsonl"),
    "--out",
    out,
    "--preset",
    "tiny",
    "--clips-per-shard",
    "2",
    "--build-vocab",
    "500",
  );
  assert.equal(t.code, 0, t.stderr.join("\n"));
  assert.match(t.stdout[0], /^4 clips in 2 shards, 0 skipped/);
});
