/**
 * The CLI under the README's narrowed Deno permissions, and hostile manifest
 * ids and paths that must not make it write outside its output folder.
 *
 * @module
 */
import assert from "node:assert/strict";
import { formatLeastPrivilege, leastPrivilege } from "./_least_privilege.ts";

Deno.test("tokenize and pretrain run under narrowed permissions, and hostile ids or paths write nothing outside the output folder", async () => {
  const r = await leastPrivilege();
  assert.deepEqual(r.problems, [], formatLeastPrivilege(r));
  assert.ok(r.runs >= 4 && r.hostileRows >= 8);
  assert.deepEqual(r.writtenOutside, []);
  for (const flags of Object.values(r.flags)) {
    assert.ok(!flags.some((f) => f.startsWith("--allow-net") || f === "-A" || f === "--allow-all"));
    assert.ok(flags.some((f) => f.startsWith("--allow-write=")));
  }
});
