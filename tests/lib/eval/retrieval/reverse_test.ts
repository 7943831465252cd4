import assert from "node:assert/strict";
import { rankReversed } from "../../../../lib/eval/retrieval/reverse.ts";

Deno.test("video→text ranks each clip's captions, the best one counting, ties against the clip", () => {
  // Four captions (forward queries) of three clips; clip 2 owns none and asks nothing.
  // caption: 0 → clip 0, 1 → clip 0, 2 → clip 1, 3 → clip 1.
  const captions = new Float32Array([
    1,
    0, // c0
    0,
    1, // c1
    1,
    1, // c2
    -1,
    0, // c3
  ]);
  const clips = new Float32Array([
    0,
    1, // clip 0: cos c0 0, c1 1, c2 .71, c3 0 → best positive c1 first: rank 1
    1,
    0, // clip 1: cos c0 1, c1 0, c2 .71, c3 -1 → c0 (clip 0's) above c2: rank 2
    0,
    -1, // clip 2: no caption
  ]);
  const r = rankReversed(captions, clips, { dim: 2, owner: [0, 0, 1, 1], ks: [1, 2] });
  assert.equal(r.queries, 2);
  assert.equal(r.candidates, 4);
  assert.deepEqual([...r.ranks], [1, 2]);
  assert.deepEqual(r.recallAtK, { 1: 0.5, 2: 1 });
  assert.equal(r.medianRank, 1.5);
  assert.equal(r.meanRank, 1.5);
  // Chance with 2 positives of 4 for both clips: R@1 = 2/4; R@2 = 1 − (2/4)(1/3) = 5/6;
  // expected best rank (4 + 1)/(2 + 1) = 5/3.
  assert.equal(r.chance.recallAtK[1], 0.5);
  assert.ok(Math.abs(r.chance.recallAtK[2] - 5 / 6) < 1e-12);
  assert.ok(Math.abs(r.chance.meanRank - 5 / 3) < 1e-12);
});

Deno.test("a clip whose own caption ties a wrong one gets the pessimistic rank", () => {
  const captions = new Float32Array([1, 0, 1, 0]); // c0 → clip 0, c1 → clip 1, identical
  const clips = new Float32Array([1, 0, 1, 0]);
  const r = rankReversed(captions, clips, { dim: 2, owner: [0, 1], ks: [1] });
  assert.deepEqual([...r.ranks], [2, 2]);
});
