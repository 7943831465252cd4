import assert from "node:assert/strict";
import { join } from "node:path";
import {
  DEFAULT_YOUCOOK2_SPLIT,
  readYouCook2,
} from "../../../../../lib/data/manifest/datasets/youcook2.ts";
import { touch, vattManifest } from "./_fixtures.ts";

// YouCook2 as distributed (youcookii/): annotations/youcookii_annotations_trainval.json,
// {"database": {<YouTube id>: {"duration", "subset": "training"|"validation", "recipe_type",
// "annotations": [{"segment": [start, end], "id", "sentence"}], "video_url"}}}, and the videos
// the release's download script writes to raw_videos/<subset>/<recipe_type>/<id>.<mp4|mkv|webm>.

const entry = (subset: string, recipe: string, annotations: unknown[], duration = 241.62) => ({
  duration,
  subset,
  recipe_type: recipe,
  annotations,
  video_url: "https://www.youtube.com/watch?v=x",
});
const seg = (id: number, segment: unknown[], sentence?: string) => ({ segment, id, sentence });

async function fixture(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "vatt-youcook2-test-" });
  const database = {
    GLd3aX16zBg: entry("training", "113", [ // entry 1
      seg(0, [90, 102], "spread margarine on two slices of white bread"),
      seg(1, [114, 127], "place a slice of cheese on the bread"),
    ]),
    xHr8X2Wpmno: entry("validation", "113", [ // entry 2
      seg(0, [5, 12], "cut the bread"),
      seg(1, [14.5, 20], "toast the bread in a pan "),
      seg(2, [30, 28], "end before start"), // bad times
      seg(3, [40, 45]), // no sentence
    ]),
    V53XmPeyjIU: entry("validation", "204", [seg(0, [1, 2], "a"), seg(1, [3, 4], "b")]), // 3: missing
    abcdefghijk: entry("val", "204", [seg(0, [1, 2], "a")]), // 4: unknown subset
    testvideo01: entry("testing", "204", [seg(0, [1, 2], "a")]), // 5: another subset
    norecipe001: { duration: 10, subset: "validation", annotations: [] }, // 6: no recipe_type
    mkvvideo123: entry("validation", "204", [seg(7, [0, 3.5], "boil water")]), // 7
  };
  await Deno.mkdir(join(root, "annotations"));
  await Deno.writeTextFile(
    join(root, "annotations", "youcookii_annotations_trainval.json"),
    JSON.stringify({ database }),
  );
  await touch(
    root,
    "raw_videos/training/113/GLd3aX16zBg.mp4",
    "raw_videos/validation/113/xHr8X2Wpmno.webm",
    "validation/204/mkvvideo123.mkv",
  );
  return root;
}

Deno.test("readYouCook2() gives one row per validation segment with its sentence and window", async () => {
  const root = await fixture();
  assert.equal(DEFAULT_YOUCOOK2_SPLIT, "validation");
  const m = await readYouCook2(root);
  const webm = join(root, "raw_videos/validation/113/xHr8X2Wpmno.webm");
  assert.deepEqual(m.rows, [
    { id: "xHr8X2Wpmno_0", captions: ["cut the bread"], start: 5, end: 12, video: webm },
    {
      id: "xHr8X2Wpmno_1",
      captions: ["toast the bread in a pan"],
      start: 14.5,
      end: 20,
      video: webm,
    },
    {
      id: "mkvvideo123_7",
      captions: ["boil water"],
      start: 0,
      end: 3.5,
      video: join(root, "validation/204/mkvvideo123.mkv"),
    },
  ]);
  assert.deepEqual(m.malformed.rows, [2, 2, 4, 6]);
  assert.match(m.malformed.reasons[0], /annotations\[2\]: end 28 must be greater than start 30/);
  assert.match(m.malformed.reasons[1], /annotations\[3\]: needs a sentence/);
  assert.match(m.malformed.reasons[2], /unknown subset "val"/);
  assert.match(m.malformed.reasons[3], /needs subset, recipe_type/);
  assert.deepEqual(m.missing, {
    count: 1,
    first: [join(root, "raw_videos/validation/204/V53XmPeyjIU.mp4")],
  });
  await Deno.remove(root, { recursive: true });
});

Deno.test("readYouCook2() training split (or 'train'); unknown split is a RangeError", async () => {
  const root = await fixture();
  for (const split of ["training", "train"]) {
    const m = await readYouCook2(root, { split });
    assert.deepEqual(m.rows.map((r) => [r.id, r.start, r.end]), [
      ["GLd3aX16zBg_0", 90, 102],
      ["GLd3aX16zBg_1", 114, 127],
    ]);
  }
  await assert.rejects(readYouCook2(root, { split: "testing" }), RangeError);
  await Deno.remove(root, { recursive: true });
});

Deno.test("readYouCook2() strict mode fails at the first bad segment with its entry number", async () => {
  const root = await fixture();
  await assert.rejects(
    readYouCook2(root, { strict: true }),
    /youcookii_annotations_trainval\.json:2: video xHr8X2Wpmno annotations\[2\]: end 28/,
  );
  await Deno.writeTextFile(join(root, "annotations", "youcookii_annotations_trainval.json"), "[]");
  await assert.rejects(readYouCook2(root), /expected \{"database"/);
  await Deno.remove(root, { recursive: true });
});

Deno.test("vatt manifest youcook2 writes segment rows with start and end", async () => {
  const root = await fixture();
  const run = await vattManifest("youcook2", root, "--split", "validation");
  assert.equal(run.code, 0, run.stderr.join("\n"));
  assert.deepEqual(run.rows[0], {
    id: "xHr8X2Wpmno_0",
    video: "raw_videos/validation/113/xHr8X2Wpmno.webm",
    captions: ["cut the bread"],
    start: 5,
    end: 12,
  });
  assert.equal(run.rows.length, 3);
  const strict = await vattManifest("youcook2", root, "--strict");
  assert.equal(strict.code, 1);
  assert.match(strict.stderr.join("\n"), /trainval\.json:2:/);
  await Deno.remove(root, { recursive: true });
});
