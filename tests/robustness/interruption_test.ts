/**
 * Interruptions at a reduced count: `vatt tokenize` and `vatt pretrain`
 * killed with SIGKILL at random moments and restarted, a checkpoint being
 * pruned when the process dies, and writes failing mid-run (disk full,
 * permission lost). Nothing may be lost or left partial, and the end result
 * must equal an uninterrupted run's, byte for byte.
 *
 * @module
 */
import assert from "node:assert/strict";
import { makeReferences, type References } from "./_references.ts";
import {
  formatTortureReport,
  tortureCheckpointPrune,
  torturePretrain,
  tortureTokenize,
} from "./_torture.ts";
import {
  diskFullPretrain,
  diskFullTokenize,
  formatWriteFailures,
  permissionLostPretrain,
  permissionLostTokenize,
} from "./_write_failures.ts";

const ROOT = await Deno.makeTempDir({ prefix: "vatt-interruption-test-" });
globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(ROOT, { recursive: true });
  } catch {
    // already gone
  }
});

let refs: Promise<References> | undefined;
/** The uninterrupted runs (8 pretraining steps), made once for the whole file. */
const references = () => refs ??= makeReferences(ROOT, 8);

Deno.test("vatt tokenize killed 3 times at random moments resumes from its complete shards and ends identical", async () => {
  const r = await tortureTokenize(await references(), { kills: 3, seed: 11 });
  assert.deepEqual(r.problems, [], formatTortureReport(r));
  assert.ok(r.kills >= 3 && r.checks > r.kills);
});

Deno.test("vatt pretrain killed 3 times at random moments resumes from its newest checkpoint and ends bit-identical", async () => {
  const r = await torturePretrain(await references(), { kills: 3, seed: 12 });
  assert.deepEqual(r.problems, [], formatTortureReport(r));
  assert.ok(r.kills >= 3 && r.checks > r.kills);
});

Deno.test("a checkpoint whose pruning is killed never stays listed half deleted", async () => {
  assert.deepEqual(await tortureCheckpointPrune(), []);
});

Deno.test("a full disk stops pretrain with one clear line, keeps its checkpoints, and --resume ends identical", async () => {
  const r = await diskFullPretrain(ROOT, await references());
  assert.deepEqual(r.problems, [], formatWriteFailures([r]));
  assert.equal(r.kept, 2);
});

Deno.test("pretrain losing write permission stops with one clear line, keeps its checkpoints, and --resume ends identical", async () => {
  const r = await permissionLostPretrain(ROOT, await references());
  assert.deepEqual(r.problems, [], formatWriteFailures([r]));
  assert.ok(r.kept >= 1);
});

Deno.test("a full disk stops tokenize with one clear line, keeps its complete shards, and a re-run ends identical", async () => {
  const r = await diskFullTokenize(ROOT, await references());
  assert.deepEqual(r.problems, [], formatWriteFailures([r]));
  assert.ok(r.kept >= 1);
});

Deno.test("tokenize refused one shard's write stops with one clear line, keeps the shards before it, and a re-run ends identical", async () => {
  const r = await permissionLostTokenize(ROOT, await references());
  assert.deepEqual(r.problems, [], formatWriteFailures([r]));
});
