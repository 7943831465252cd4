import assert from "node:assert/strict";
import * as path from "node:path";
import { demoDataset } from "../_fixtures.ts";
import { pretrainTiny, subsetManifest, tokenizeTiny } from "../lib/eval/_tiny_run.ts";
import { errorLines, runVatt } from "./_run.ts";

/** A tiny dataset of the first `clips` demo clips with each row's label changed by `relabel`. */
async function relabelled(
  media: string,
  dir: string,
  name: string,
  relabel: (label: string) => string | undefined,
): Promise<string> {
  const manifest = await subsetManifest(media, dir, { clips: 4 });
  const rows = (await Deno.readTextFile(manifest)).trim().split("\n").map((l) => JSON.parse(l));
  const file = path.join(dir, `${name}.jsonl`);
  await Deno.writeTextFile(
    file,
    rows.map((r) => JSON.stringify({ ...r, label: relabel(r.label) })).join("\n") + "\n",
  );
  const out = path.join(dir, name);
  await tokenizeTiny(file, out);
  return out;
}

Deno.test("vatt eval zero-shot", async (t) => {
  const fx = await demoDataset({ clips: 32 });
  const dir = await Deno.makeTempDir({ prefix: "vatt-cli-zero-shot-" });
  try {
    const run = await pretrainTiny(fx.data, path.join(dir, "run"), { steps: 1, batch: 4 });
    const base = ["eval", "zero-shot", fx.data, "--from", run, "--backend", "wasm"];

    await t.step(
      "--json prints one object with top-1/top-5, chance and the vocabulary",
      async () => {
        const r = await runVatt([
          ...base,
          "--json",
          "--prompt",
          "a video of {label}",
          "--prompt",
          "{label}",
          "--batch",
          "6",
        ]);
        assert.equal(r.code, 0, r.stderr);
        const out = JSON.parse(r.stdout);
        assert.equal(out.space, "vt");
        assert.equal(out.clips, 32);
        assert.equal(out.classes.length, 8);
        assert.deepEqual(out.prompts, ["a video of {label}", "{label}"]);
        assert.ok(out.top1 >= 0 && out.top1 <= out.top5 && out.top5 <= 1);
        assert.deepEqual(out.chance, { top1: 1 / 8, top5: 5 / 8 });
        assert.equal(out.vocabulary.unknownClassWordCount, 0);
        assert.equal(out.checkpoint, path.join(run, "checkpoints", "step-0000001"));
      },
    );

    await t.step(
      "prints a table next to chance, with the class words out of vocabulary",
      async () => {
        const data = await relabelled(fx.media, dir, "oov", (l) => `${l} xyzzy`);
        const r = await runVatt(["eval", "zero-shot", data, "--from", run, "--backend", "wasm"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(
          r.stdout,
          /zero-shot classification in the vt space: 4 labelled clips, 4 classes, 1 prompt/,
        );
        assert.match(r.stdout, /top-1:\s+\d+\.\d%\s+\(chance 25\.0%\)/);
        assert.match(r.stdout, /top-4:\s+100\.0%\s+\(chance 100\.0%\)/);
        assert.match(r.stdout, /class words out of vocabulary: 4 of 16 \(xyzzy\)/);
      },
    );

    await t.step("bad input: one line and exit 2", async () => {
      const unlabelled = await relabelled(fx.media, dir, "unlabelled", () => undefined);
      const cases: [string[], RegExp][] = [
        [[...base, "--prompt", "a video"], /prompt "a video" has no \{label\}/],
        [
          [...base, "--prompt", "{label}", "--prompt", "a clip"],
          /prompt "a clip" has no \{label\}/,
        ],
        [["eval", "zero-shot", unlabelled, "--from", run, "--backend", "wasm"], /has no labels/],
        [["eval", "zero-shot", fx.data, "--backend", "wasm"], /--from RUN is required/],
      ];
      for (const [args, pattern] of cases) {
        const r = await runVatt(args);
        const lines = errorLines(r);
        assert.equal(r.code, 2, r.stderr);
        assert.equal(lines.length, 1, r.stderr);
        assert.match(lines[0], pattern);
        assert.equal(r.stdout, "");
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
