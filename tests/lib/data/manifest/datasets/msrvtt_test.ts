import assert from "node:assert/strict";
import { join } from "node:path";
import {
  DEFAULT_MSRVTT_SPLIT,
  readMsrvtt,
} from "../../../../../lib/data/manifest/datasets/msrvtt.ts";
import { touch, vattManifest } from "./_fixtures.ts";

// MSR-VTT as distributed (CLIP4Clip's msrvtt_data/): MSRVTT_data.json, one line written by
// json.dump: {"info": …, "videos": [{"category", "url", "video_id", "start time", "end time",
// "split", "id"}], "sentences": [{"caption", "video_id", "sen_id"}]}; MSRVTT_JSFUSION_test.csv
// with the header key,vid_key,video_id,sentence; the clips in videos/all/<video_id>.mp4.

const video = (id: number, split?: string) => ({
  category: 9,
  url: "https://www.youtube.com/watch?v=9lZi22qLlEo",
  video_id: `video${id}`,
  "start time": 137.72,
  "end time": 149.44,
  ...(split === undefined ? {} : { split }),
  id,
});
const sentence = (id: number, caption: string, senId: number) => ({
  caption,
  video_id: `video${id}`,
  sen_id: senId,
});

async function fixture(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "vatt-msrvtt-test-" });
  const data = {
    info: { contributor: "Microsoft MSM group", year: "2016", version: "1.0" },
    videos: [
      video(0, "train"), // videos row 1
      video(1, "train"), // 2: no captions → malformed
      video(6513, "validate"), // 3
      video(7010, "test"), // 4
      video(7011, "public_test"), // 5: unknown split
      { video_id: 5, split: "train" }, // 6: video_id not a string
      video(9, "train"), // 7: media missing
    ],
    sentences: [
      sentence(0, "a car is shown", 0),
      sentence(6513, "a woman is cooking", 1),
      sentence(0, "a red car drives down a road", 2),
      sentence(7010, "a man is talking", 3),
      { caption: 3, video_id: "video0", sen_id: 4 }, // sentences row 5: caption not a string
      sentence(9, "nothing to see", 5),
      sentence(7010, "someone talks about news", 6),
    ],
  };
  await Deno.mkdir(join(root, "msrvtt_data"));
  // json.dump's default separators: ", " and ": ", all on one line.
  await Deno.writeTextFile(
    join(root, "msrvtt_data", "MSRVTT_data.json"),
    JSON.stringify(data).replaceAll('","', '", "').replaceAll('":', '": '),
  );
  await Deno.writeTextFile(
    join(root, "msrvtt_data", "MSRVTT_JSFUSION_test.csv"),
    "key,vid_key,video_id,sentence\n" +
      "ret0,msr7579,video7579,a girl wearing red top and black trouser is putting a sweater on a dog\n" +
      'ret1,msr9770,video9770,"a person is connecting something to system, then talks"\n' +
      "ret2,msr7010,video7010\n" + // line 4: three fields
      "ret3,msr7010,video7010,a man is talking\n" +
      "ret4,msr8000,video8000,no such clip downloaded\n", // line 6: media missing
  );
  await touch(
    root,
    "videos/all/video0.mp4",
    "videos/all/video6513.mp4",
    "videos/all/video7010.mp4",
    "videos/all/video7579.mp4",
    "TestVideo/video9770.webm",
  );
  return root;
}

Deno.test("readMsrvtt() 1k-A (the default) gives one row per CSV line with its one sentence", async () => {
  const root = await fixture();
  assert.equal(DEFAULT_MSRVTT_SPLIT, "1k-A");
  const m = await readMsrvtt(root);
  assert.deepEqual(m.rows, [
    {
      id: "video7579",
      video: join(root, "videos/all/video7579.mp4"),
      captions: ["a girl wearing red top and black trouser is putting a sweater on a dog"],
    },
    {
      id: "video9770",
      video: join(root, "TestVideo/video9770.webm"),
      captions: ["a person is connecting something to system, then talks"],
    },
    {
      id: "video7010",
      video: join(root, "videos/all/video7010.mp4"),
      captions: ["a man is talking"],
    },
  ]);
  assert.deepEqual(m.malformed.rows, [4]);
  assert.match(m.malformed.reasons[0], /has 3 fields, expected 4/);
  assert.deepEqual(m.missing, { count: 1, first: [join(root, "videos/all/video8000.mp4")] });
  await Deno.remove(root, { recursive: true });
});

Deno.test("readMsrvtt() train/val/test/full take the JSON's split field and every caption", async () => {
  const root = await fixture();
  const train = await readMsrvtt(root, { split: "train" });
  assert.deepEqual(train.rows.map((r) => [r.id, r.captions]), [
    ["video0", ["a car is shown", "a red car drives down a road"]],
  ]);
  // videos rows 2 (no captions), 5 (unknown split), 6 (bad id); sentences row 5.
  assert.deepEqual([...train.malformed.rows].sort(), [2, 5, 5, 6]);
  assert.ok(
    train.malformed.reasons.some((r) => /videos\[4\]: unknown split "public_test"/.test(r)),
  );
  assert.ok(train.malformed.reasons.some((r) => /sentences\[4\]/.test(r)));
  assert.equal(train.missing.count, 1); // video9
  const val = await readMsrvtt(root, { split: "val" });
  assert.deepEqual(val.rows.map((r) => r.id), ["video6513"]);
  const test = await readMsrvtt(root, { split: "test" });
  assert.deepEqual(test.rows.map((r) => [r.id, r.captions.length]), [["video7010", 2]]);
  const full = await readMsrvtt(root, { split: "full" });
  assert.deepEqual(full.rows.map((r) => r.id), ["video0", "video6513", "video7010"]);
  await assert.rejects(readMsrvtt(root, { split: "9k" }), RangeError);
  await Deno.remove(root, { recursive: true });
});

Deno.test("readMsrvtt() without split fields splits by video number (6513 train, 497 val)", async () => {
  const root = await Deno.makeTempDir({ prefix: "vatt-msrvtt-test-" });
  const data = {
    videos: [video(6512), video(6513), video(7009), video(7010), video(9999)],
    sentences: [6512, 6513, 7009, 7010, 9999].map((n, i) => sentence(n, `clip ${n}`, i)),
  };
  await Deno.writeTextFile(join(root, "MSRVTT_data.json"), JSON.stringify(data));
  const ids = async (split: string) =>
    (await readMsrvtt(root, { split, skipMissingCheck: true })).rows.map((r) => r.id);
  assert.deepEqual(await ids("train"), ["video6512"]);
  assert.deepEqual(await ids("val"), ["video6513", "video7009"]);
  assert.deepEqual(await ids("test"), ["video7010", "video9999"]);
  await Deno.remove(root, { recursive: true });
});

Deno.test("readMsrvtt() strict mode fails at the first bad row; absent files are named", async () => {
  const root = await fixture();
  await assert.rejects(
    readMsrvtt(root, { strict: true }),
    /MSRVTT_JSFUSION_test\.csv:4: has 3 fields/,
  );
  await assert.rejects(
    readMsrvtt(root, { split: "train", strict: true }),
    /msrvtt_data\/MSRVTT_data\.json:5: videos\[4\]: unknown split/,
  );
  const empty = await Deno.makeTempDir();
  await assert.rejects(readMsrvtt(empty), /MSRVTT_JSFUSION_test\.csv/);
  await assert.rejects(readMsrvtt(empty, { split: "train" }), /MSRVTT_data\.json/);
  await Deno.remove(empty);
  await Deno.remove(root, { recursive: true });
});

Deno.test("vatt manifest msrvtt --split 1k-A writes retrieval rows with relative video paths", async () => {
  const root = await fixture();
  const run = await vattManifest("msrvtt", root, "--split", "1k-A");
  assert.equal(run.code, 0, run.stderr.join("\n"));
  assert.deepEqual(run.rows.map((r) => [r.id, r.video]), [
    ["video7579", "videos/all/video7579.mp4"],
    ["video9770", "TestVideo/video9770.webm"],
    ["video7010", "videos/all/video7010.mp4"],
  ]);
  assert.match(run.stderr.join("\n"), /skipped 1 rows whose media file is missing/);
  const strict = await vattManifest("msrvtt", root, "--strict");
  assert.equal(strict.code, 1);
  assert.match(strict.stderr.join("\n"), /MSRVTT_JSFUSION_test\.csv:4:/);
  await Deno.remove(root, { recursive: true });
});

Deno.test("readMsrvtt() train-9k takes the clips of MSRVTT_train.9k.csv, in its order, with every caption", async () => {
  const root = await fixture();
  // As distributed with CLIP4Clip: a header `video_id`, one clip per line.
  await Deno.writeTextFile(
    join(root, "msrvtt_data", "MSRVTT_train.9k.csv"),
    "video_id\nvideo7010\nvideo0\nvideo 3\nvideo6513\nvideo42\n",
  );
  const m = await readMsrvtt(root, { split: "train-9k" });
  assert.deepEqual(m.rows.map((r) => [r.id, r.captions.length]), [
    ["video7010", 2],
    ["video0", 2],
    ["video6513", 1],
  ]);
  // List line 4 (a bad id) and 6 (not in the annotations), besides the JSON's own bad rows.
  const listed = m.malformed.reasons.filter((r) => r.includes("MSRVTT_train.9k.csv"));
  assert.equal(listed.length, 2);
  assert.ok(m.malformed.rows.includes(4) && m.malformed.rows.includes(6));
  assert.ok(listed.some((r) => /video42 is not in the annotations/.test(r)));
  await Deno.remove(root, { recursive: true });
});
