import assert from "node:assert/strict";
import { groupWindows, meanOfGroups } from "../../../../lib/eval/retrieval/windows.ts";
import { MismatchError } from "../../../../lib/util/errors.ts";

Deno.test("groupWindows() groups <clip>#w<k> ids by clip in window order", () => {
  const g = groupWindows(["b#w1", "a#w0", "b#w0", "a#w1", "x#y#w0", "x#y#w1"], 2);
  assert.deepEqual(g.clipIds, ["b", "a", "x#y"]);
  assert.deepEqual(g.members, [[2, 0], [1, 3], [4, 5]]);
});

Deno.test("groupWindows() with one window keeps every entry, whatever its id", () => {
  const g = groupWindows(["a#w0", "a#w1", "b"], 1);
  assert.deepEqual(g.clipIds, ["a#w0", "a#w1", "b"]);
  assert.deepEqual(g.members, [[0], [1], [2]]);
});

Deno.test("groupWindows() rejects ids without windows, missing, extra and repeated windows", () => {
  assert.throws(() => groupWindows(["a", "b"], 2), MismatchError);
  assert.throws(() => groupWindows(["a#w0", "a#w1", "b#w0"], 2), /lacks window 1/);
  assert.throws(() => groupWindows(["a#w0", "a#w2"], 2), /window 2, beyond 0…1/);
  assert.throws(() => groupWindows(["a#w0", "a#w0"], 2), /window 0 twice/);
  assert.throws(() => groupWindows(["a#w0"], 0), RangeError);
});

Deno.test("meanOfGroups() averages the rows of each group, skipping masked ones", () => {
  const v = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]); // 4 rows of 2
  const m = meanOfGroups(v, {
    dim: 2,
    members: [[0, 1], [2, 3]],
    mask: new Uint8Array([1, 1, 0, 0]),
  });
  assert.deepEqual([...m.vectors], [2, 3, 0, 0]);
  assert.deepEqual([...m.has], [1, 0]);
  const all = meanOfGroups(v, { dim: 2, members: [[3, 1, 0]] });
  assert.deepEqual([...all.vectors], [(7 + 3 + 1) / 3, (8 + 4 + 2) / 3].map(Math.fround));
});
