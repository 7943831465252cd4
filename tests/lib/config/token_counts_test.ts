import assert from "node:assert/strict";
import {
  audioTokenCount,
  keptTokenCount,
  videoTokenGrid,
} from "../../../lib/config/token_counts.ts";

Deno.test("token counts use ceil for sizes that are not multiples of the patch", () => {
  assert.deepEqual(videoTokenGrid({ frames: 7, height: 30, width: 17, patch: [2, 8, 8] }), {
    nt: 4,
    nh: 4,
    nw: 3,
    count: 48,
  });
  assert.equal(audioTokenCount({ samples: 6401, patch: 128 }), 51);
  assert.equal(keptTokenCount(64, 0.5), 32);
  assert.equal(keptTokenCount(51, 0.5), 25);
  assert.equal(keptTokenCount(1, 0.9), 1);
});
