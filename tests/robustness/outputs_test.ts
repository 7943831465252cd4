/**
 * Hostile output paths: aliases of inputs, FIFOs and devices, a live run's
 * folder, a folder with the user's files — nothing may be lost, nothing may
 * hang, every refusal is one clean line.
 *
 * @module
 */
import assert from "node:assert/strict";
import { formatOutputs, hostileOutputs } from "./_outputs.ts";

Deno.test("every command refuses hostile output paths cleanly and loses nothing", async () => {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "vatt-outputs-test-" }));
  try {
    const report = await hostileOutputs(root);
    assert.ok(report.cases.length >= 17, formatOutputs(report));
    assert.deepEqual(report.problems, [], formatOutputs(report));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
