import assert from "node:assert/strict";
import * as path from "node:path";
import { demoDataset } from "../_fixtures.ts";
import { pretrainTiny } from "../lib/eval/_tiny_run.ts";
import { errorLines, runVatt } from "./_run.ts";

Deno.test("vatt eval retrieval", async (t) => {
  const fx = await demoDataset({ clips: 32 });
  const dir = await Deno.makeTempDir({ prefix: "vatt-cli-retrieval-" });
  try {
    const run = await pretrainTiny(fx.data, path.join(dir, "run"), { steps: 1, batch: 4 });
    const base = ["eval", "retrieval", fx.data, "--from", run, "--backend", "wasm"];

    await t.step("--json prints one object with R@K, median rank and chance", async () => {
      const r = await runVatt([...base, "--json", "--pair", "audio-video", "--batch", "6"]);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.equal(out.pair, "audio-video");
      assert.equal(out.space, "va");
      assert.equal(out.candidates, 32);
      assert.ok(out.queries > 0 && out.queries <= 32);
      for (const k of ["1", "5", "10"]) {
        assert.ok(out.recallAtK[k] >= 0 && out.recallAtK[k] <= 1);
        assert.equal(out.chance.recallAtK[k], Number(k) / 32);
      }
      assert.ok(out.medianRank >= 1 && out.medianRank <= 32);
      assert.equal(out.chance.medianRank, 16.5);
      assert.equal(out.checkpoint, path.join(run, "checkpoints", "step-0000001"));
    });

    await t.step("prints a table next to chance", async () => {
      const r = await runVatt(base);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /text-video retrieval in the vt space: \d+ queries, 32 candidates/);
      assert.match(r.stdout, /R@1\s+\d\.\d{3}\s+0\.031/);
      assert.match(r.stdout, /median rank\s+\S+\s+16\.5/);
    });

    await t.step("bad input: one line and a non-zero exit", async () => {
      const cases: [string[], number, RegExp][] = [
        [[...base, "--pair", "text-audio"], 2, /needs a modality-agnostic model/],
        [[...base, "--windows", "2"], 1, /is not of the form <clip>#w<k>/],
        [[...base, "--windows", "0"], 2, /--windows must be at least 1/],
        [["eval", "retrieval", fx.data, "--from", dir, "--backend", "wasm"], 1, /no complete/],
        [["eval", "retrieval", dir, "--from", run, "--backend", "wasm"], 1, /not a dataset/],
      ];
      for (const [args, code, pattern] of cases) {
        const r = await runVatt(args);
        const lines = errorLines(r);
        assert.equal(r.code, code, r.stderr);
        assert.equal(lines.length, 1, r.stderr);
        assert.match(lines[0], pattern);
        assert.equal(r.stdout, "");
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
