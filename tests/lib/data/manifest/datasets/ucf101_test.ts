import assert from "node:assert/strict";
import { join } from "node:path";
import {
  DEFAULT_ACTION_SPLIT,
  DEFAULT_ACTION_SUBSET,
  readUcf101,
} from "../../../../../lib/data/manifest/datasets/ucf101.ts";
import { touch, vattManifest } from "./_fixtures.ts";

// UCF101 as distributed: UCF101TrainTestSplits-RecognitionTask.zip → ucfTrainTestlist/ with
// classInd.txt ("1 ApplyEyeMakeup"), trainlist0N.txt ("<Class>/<video>.avi <index>") and
// testlist0N.txt ("<Class>/<video>.avi", no index), all with CRLF line ends; UCF101.rar →
// UCF-101/<Class>/<video>.avi. Note the real quirk kept here: the folder and classInd say
// "HandstandPushups" while the file name says "HandStandPushups".

const CRLF = (...lines: string[]) => lines.map((l) => `${l}\r\n`).join("");

async function fixture(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "vatt-ucf101-test-" });
  const lists = join(root, "ucfTrainTestlist");
  await Deno.mkdir(lists);
  await Deno.writeTextFile(
    join(lists, "classInd.txt"),
    CRLF("1 ApplyEyeMakeup", "2 ApplyLipstick", "3 HandstandPushups"),
  );
  await Deno.writeTextFile(
    join(lists, "trainlist01.txt"),
    CRLF(
      "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1", // 1 ok
      "ApplyLipstick/v_ApplyLipstick_g08_c01.avi 2", // 2 ok
      "HandstandPushups/v_HandStandPushups_g08_c01.avi 3", // 3 ok
      "ApplyLipstick/v_ApplyLipstick_g09_c01.avi 1", // 4 index 1 is ApplyEyeMakeup, not the folder
      "ApplyEyeMakeup/v_ApplyEyeMakeup_g09_c01.avi", // 5 one column in a train list
      "Archery/v_Archery_g08_c01.avi 4", // 6 class not in classInd
      "ApplyEyeMakeup/v_ApplyEyeMakeup_g10_c01.avi 1", // 7 media missing
    ),
  );
  await Deno.writeTextFile(
    join(lists, "testlist01.txt"),
    CRLF(
      "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi",
      "HandstandPushups/v_HandStandPushups_g01_c01.avi",
      "ApplyLipstick/v_ApplyLipstick_g01_c01.avi 2", // 3: test lists have no index column
    ),
  );
  await Deno.writeTextFile(
    join(lists, "trainlist02.txt"),
    CRLF("ApplyLipstick/v_ApplyLipstick_g01_c01.avi 2"),
  );
  await touch(
    join(root, "UCF-101"),
    "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi",
    "ApplyLipstick/v_ApplyLipstick_g08_c01.avi",
    "HandstandPushups/v_HandStandPushups_g08_c01.avi",
    "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi",
    "HandstandPushups/v_HandStandPushups_g01_c01.avi",
    "ApplyLipstick/v_ApplyLipstick_g01_c01.avi",
  );
  return root;
}

Deno.test("readUcf101() lists split 1's train half with classInd labels, skipping bad lines", async () => {
  const root = await fixture();
  const m = await readUcf101(root, { split: "1", subset: "train" });
  assert.deepEqual(m.rows, [
    {
      id: "v_ApplyEyeMakeup_g08_c01",
      video: join(root, "UCF-101/ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi"),
      captions: [],
      label: "ApplyEyeMakeup",
    },
    {
      id: "v_ApplyLipstick_g08_c01",
      video: join(root, "UCF-101/ApplyLipstick/v_ApplyLipstick_g08_c01.avi"),
      captions: [],
      label: "ApplyLipstick",
    },
    {
      id: "v_HandStandPushups_g08_c01",
      video: join(root, "UCF-101/HandstandPushups/v_HandStandPushups_g08_c01.avi"),
      captions: [],
      label: "HandstandPushups",
    },
  ]);
  assert.equal(m.malformed.count, 3);
  assert.deepEqual(m.malformed.rows, [4, 5, 6]);
  assert.match(m.malformed.reasons[0], /index "1" is ApplyEyeMakeup, not the folder ApplyLipstick/);
  assert.match(m.malformed.reasons[1], /1 columns, expected 2/);
  assert.match(m.malformed.reasons[2], /"Archery" is not in classInd/);
  assert.deepEqual(m.missing, {
    count: 1,
    first: [join(root, "UCF-101/ApplyEyeMakeup/v_ApplyEyeMakeup_g10_c01.avi")],
  });
  await Deno.remove(root, { recursive: true });
});

Deno.test("readUcf101() takes test labels from the folder; other splits read their own list", async () => {
  const root = await fixture();
  const test = await readUcf101(root, { split: "1", subset: "test" });
  assert.deepEqual(test.rows.map((r) => [r.id, r.label]), [
    ["v_ApplyEyeMakeup_g01_c01", "ApplyEyeMakeup"],
    ["v_HandStandPushups_g01_c01", "HandstandPushups"],
  ]);
  assert.deepEqual(test.malformed.rows, [3]);
  const train2 = await readUcf101(root, { split: "2" });
  assert.deepEqual(train2.rows.map((r) => [r.id, r.label]), [
    ["v_ApplyLipstick_g01_c01", "ApplyLipstick"],
  ]);
  const byDefault = await readUcf101(root);
  assert.equal(DEFAULT_ACTION_SPLIT, "1");
  assert.equal(DEFAULT_ACTION_SUBSET, "train");
  assert.equal(byDefault.rows.length, 3);
  await Deno.remove(root, { recursive: true });
});

Deno.test("readUcf101() strict mode fails at the first bad line; bad split or subset is a RangeError", async () => {
  const root = await fixture();
  await assert.rejects(readUcf101(root, { strict: true }), /trainlist01\.txt:4: class index/);
  await assert.rejects(readUcf101(root, { split: "4" }), RangeError);
  await assert.rejects(readUcf101(root, { subset: "val" }), RangeError);
  await assert.rejects(readUcf101(root, { split: "3" }), /trainlist03\.txt/);
  await Deno.remove(root, { recursive: true });
});

Deno.test("vatt manifest ucf101 writes the test half of a split; --strict exits 1 naming the row", async () => {
  const root = await fixture();
  const run = await vattManifest("ucf101", root, "--split", "1", "--subset", "test");
  assert.equal(run.code, 0, run.stderr.join("\n"));
  assert.deepEqual(run.rows[0], {
    id: "v_ApplyEyeMakeup_g01_c01",
    video: "UCF-101/ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi",
    captions: [],
    label: "ApplyEyeMakeup",
  });
  assert.equal(run.rows.length, 2);
  assert.match(run.stderr.join("\n"), /skipped 1 malformed annotation rows \(rows 3\)/);
  const strict = await vattManifest("ucf101", root, "--strict");
  assert.equal(strict.code, 1);
  assert.match(strict.stderr.join("\n"), /trainlist01\.txt:4:/);
  await Deno.remove(root, { recursive: true });
});
