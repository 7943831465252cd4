import assert from "node:assert/strict";
import {
  DEFAULT_CAPTIONS_PER_CLIP,
  neighbourCaptions,
  readHowTo100M,
} from "../../../../../lib/data/manifest/datasets/howto100m.ts";
import { jsonEntries } from "../../../../../lib/data/manifest/datasets/_json_entries.ts";

// MIL-NCE's `_find_nearest_candidates` (MIL-NCE_HowTo100M/video_loader.py), worked by hand:
// the run of captions grows one at a time toward the side whose addition keeps
// end[last] - start[first] smaller; ties go to the later caption; at either end it grows inward.

Deno.test("neighbourCaptions() follows MIL-NCE's nearest-candidates rule", async (t) => {
  const starts = [0, 4, 5, 6, 20, 21];
  const ends = [3, 5, 6, 9, 21, 30];
  await t.step("k = 1 is the caption alone", () => {
    for (let i = 0; i < 6; i++) assert.deepEqual(neighbourCaptions(starts, ends, i, 1), [i, i]);
  });
  await t.step("the shorter span wins", () => {
    // anchor 2: left 6-4=2, right 9-5=4 → 1; then left 6-0=6, right 9-4=5 → 3; → [1, 3]
    assert.deepEqual(neighbourCaptions(starts, ends, 2, 3), [1, 3]);
    // anchor 4: left 21-6=15, right 30-20=10 → 5 (the last); then only left → [3, 5]
    assert.deepEqual(neighbourCaptions(starts, ends, 4, 3), [3, 5]);
  });
  await t.step("a tie goes to the later caption", () => {
    // anchor 1 of [0,2],[3,4],[5,7]: left 4-0=4, right 7-3=4 → the later one
    assert.deepEqual(neighbourCaptions([0, 3, 5], [2, 4, 7], 1, 2), [1, 2]);
  });
  await t.step("at the first or last caption it grows inward; k above n takes all", () => {
    assert.deepEqual(neighbourCaptions(starts, ends, 0, 4), [0, 3]);
    assert.deepEqual(neighbourCaptions(starts, ends, 5, 4), [2, 5]);
    assert.deepEqual(neighbourCaptions(starts, ends, 3, 10), [0, 5]);
  });
});

Deno.test("the default captions per clip is VATT's max_context_sentences (4)", () => {
  assert.equal(DEFAULT_CAPTIONS_PER_CLIP, 4);
});

Deno.test("jsonEntries() finds entries across chunk boundaries, braces inside strings", async () => {
  const dir = await Deno.makeTempDir();
  const value = {
    "a{b": { start: [1], end: [2], text: ['say "}" then ]'] },
    "c\\d": { start: [0, 1.5], end: [1, 3e0], text: ["x", "ü,ß"] },
  };
  await Deno.writeTextFile(`${dir}/c.json`, `\n ${JSON.stringify(value, null, 1)}\n`);
  for (const chunk of [1, 2, 3, 7, 4096]) {
    const entries = await Array.fromAsync(jsonEntries(`${dir}/c.json`, chunk));
    assert.deepEqual(
      Object.fromEntries(entries.map((e) => [e.key, e.value])),
      value,
      `chunk ${chunk}`,
    );
  }
  await Deno.writeTextFile(`${dir}/bad.json`, '["not", "an object"]');
  await assert.rejects(Array.fromAsync(jsonEntries(`${dir}/bad.json`)), /not a JSON object/);
  await Deno.writeTextFile(`${dir}/cut.json`, '{"a": {"start": [1]');
  await assert.rejects(Array.fromAsync(jsonEntries(`${dir}/cut.json`)), /cut short/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("readHowTo100M() marks bad entries by their 1-based position and keeps the rest", async () => {
  const root = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${root}/raw_caption.json`,
    JSON.stringify({
      good: { start: [3, 0], end: [9, 1], text: ["later", "earlier"] }, // sorted by start
      lens: { start: [0], end: [1, 2], text: ["x"] },
      times: { start: [5], end: [4], text: ["x"] },
      notobj: [1, 2],
    }),
  );
  const m = await readHowTo100M(root, { captionsPerClip: 1, skipMissingCheck: true });
  assert.deepEqual(m.rows.map((r) => [r.id, r.captions, r.start, r.end]), [
    ["good_0", ["earlier"], 0, 4], // [0, 1] widened to 4 s, clamped at 0
    ["good_1", ["later"], 3, 9],
  ]);
  assert.deepEqual(m.malformed.rows, [2, 3, 4]);
  await assert.rejects(
    readHowTo100M(root, { strict: true, skipMissingCheck: true }),
    /raw_caption\.json:2: video "lens"/,
  );
  await Deno.remove(root, { recursive: true });
});
