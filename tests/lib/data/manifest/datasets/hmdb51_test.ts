import assert from "node:assert/strict";
import { join } from "node:path";
import { readHmdb51 } from "../../../../../lib/data/manifest/datasets/hmdb51.ts";
import { touch, vattManifest } from "./_fixtures.ts";

// HMDB51 as distributed: test_train_splits.rar → testTrainMulti_7030_splits/ with one file per
// class and split, `<class>_test_split<N>.txt`, each line "<video>.avi <id> " (a trailing space;
// 1 = train, 2 = test, 0 = unused); hmdb51_org.rar → one .rar per class → <class>/<video>.avi.
// Class names hold underscores (climb_stairs), so the class is all before `_test_split`.

async function fixture(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "vatt-hmdb51-test-" });
  const splits = join(root, "testTrainMulti_7030_splits");
  await Deno.mkdir(splits);
  await Deno.writeTextFile(
    join(splits, "brush_hair_test_split1.txt"),
    "April_09_brush_hair_u_nm_np1_ba_goo_0.avi 1 \n" + // 1 train
      "April_09_brush_hair_u_nm_np1_ba_goo_1.avi 2 \n" + // 2 test
      "April_09_brush_hair_u_nm_np1_ba_goo_2.avi 0 \n" + // 3 unused
      "Blonde_being_brushed_brush_hair_f_nm_np2_ri_med_0.avi 1 \n" + // 4 train, media missing
      "bad_line_brush_hair.avi 3 \n", // 5 split id 3
  );
  await Deno.writeTextFile(
    join(splits, "climb_stairs_test_split1.txt"),
    "BRUSHING_TEETH_climb_stairs_f_cm_np1_ba_med_0.avi 2 \n" + // 1 test
      "Climbing_stairs_climb_stairs_f_cm_np1_fr_med_1.avi 1 extra \n" + // 2 three columns
      "Climbing_stairs_climb_stairs_f_cm_np1_fr_med_2.avi 1 \n", // 3 train
  );
  // Split 2 puts the clips in the other halves.
  await Deno.writeTextFile(
    join(splits, "brush_hair_test_split2.txt"),
    "April_09_brush_hair_u_nm_np1_ba_goo_0.avi 2 \nApril_09_brush_hair_u_nm_np1_ba_goo_1.avi 1 \n",
  );
  await touch(
    root,
    "brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_0.avi",
    "brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_1.avi",
    "brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_2.avi",
    "climb_stairs/BRUSHING_TEETH_climb_stairs_f_cm_np1_ba_med_0.avi",
    "climb_stairs/Climbing_stairs_climb_stairs_f_cm_np1_fr_med_1.avi",
    "climb_stairs/Climbing_stairs_climb_stairs_f_cm_np1_fr_med_2.avi",
  );
  return root;
}

Deno.test("readHmdb51() keeps id 1 for train, labels from the split file's class name", async () => {
  const root = await fixture();
  const m = await readHmdb51(root, { split: "1", subset: "train" });
  assert.deepEqual(m.rows, [
    {
      id: "April_09_brush_hair_u_nm_np1_ba_goo_0",
      video: join(root, "brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_0.avi"),
      captions: [],
      label: "brush_hair",
    },
    {
      id: "Climbing_stairs_climb_stairs_f_cm_np1_fr_med_2",
      video: join(root, "climb_stairs/Climbing_stairs_climb_stairs_f_cm_np1_fr_med_2.avi"),
      captions: [],
      label: "climb_stairs",
    },
  ]);
  // Rows: line 5 of brush_hair's file, line 2 of climb_stairs's.
  assert.deepEqual(m.malformed.rows, [5, 2]);
  assert.match(m.malformed.reasons[0], /^brush_hair_test_split1\.txt: split id "3"/);
  assert.match(m.malformed.reasons[1], /^climb_stairs_test_split1\.txt: has 3 columns/);
  assert.equal(m.missing.count, 1);
  assert.match(m.missing.first[0], /Blonde_being_brushed/);
  await Deno.remove(root, { recursive: true });
});

Deno.test("readHmdb51() keeps id 2 for test; 0 is in neither half; split 2 reads its own files", async () => {
  const root = await fixture();
  const test = await readHmdb51(root, { subset: "test" });
  assert.deepEqual(test.rows.map((r) => [r.id, r.label]), [
    ["April_09_brush_hair_u_nm_np1_ba_goo_1", "brush_hair"],
    ["BRUSHING_TEETH_climb_stairs_f_cm_np1_ba_med_0", "climb_stairs"],
  ]);
  const all = [
    ...(await readHmdb51(root)).rows,
    ...test.rows,
  ].map((r) => r.id);
  assert.ok(!all.includes("April_09_brush_hair_u_nm_np1_ba_goo_2"));
  const test2 = await readHmdb51(root, { split: "2", subset: "test" });
  assert.deepEqual(test2.rows.map((r) => r.id), ["April_09_brush_hair_u_nm_np1_ba_goo_0"]);
  await assert.rejects(readHmdb51(root, { split: "3" }), /_test_split3\.txt files/);
  await assert.rejects(readHmdb51(root, { split: "0" }), RangeError);
  await Deno.remove(root, { recursive: true });
});

Deno.test("readHmdb51() strict mode fails at the first bad line with its file and row", async () => {
  const root = await fixture();
  await assert.rejects(
    readHmdb51(root, { strict: true, skipMissingCheck: true }),
    /:5: brush_hair_test_split1\.txt: split id "3"/,
  );
  await assert.rejects(readHmdb51(root, { strict: true }), /media file not found: .*Blonde_being/);
  await Deno.remove(root, { recursive: true });
});

Deno.test("vatt manifest hmdb51 --split 1 --subset test writes labelled rows", async () => {
  const root = await fixture();
  const run = await vattManifest("hmdb51", root, "--split", "1", "--subset", "test");
  assert.equal(run.code, 0, run.stderr.join("\n"));
  assert.deepEqual(run.rows[1], {
    id: "BRUSHING_TEETH_climb_stairs_f_cm_np1_ba_med_0",
    video: "climb_stairs/BRUSHING_TEETH_climb_stairs_f_cm_np1_ba_med_0.avi",
    captions: [],
    label: "climb_stairs",
  });
  const strict = await vattManifest("hmdb51", root, "--strict");
  assert.equal(strict.code, 1);
  await Deno.remove(root, { recursive: true });
});
