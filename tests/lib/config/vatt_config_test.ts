import assert from "node:assert/strict";
import { PRESETS, resolveVattConfig } from "../../../lib/config/vatt_config.ts";

Deno.test("resolveVattConfig() merges over the preset and keeps the paper's sizes", () => {
  const base = resolveVattConfig({ preset: "base" });
  assert.deepEqual(base.video.backbone, { layers: 12, hidden: 768, mlp: 3072, heads: 12 });
  assert.deepEqual(base.text.backbone, PRESETS.small.text.backbone);
  assert.deepEqual(base.video.patch, [4, 16, 16]);
  assert.equal(base.audio.samples, 153600);
  assert.equal(base.text.vocabSize, 65536);
  const custom = resolveVattConfig({ preset: "tiny", video: { frames: 16 } });
  assert.equal(custom.video.frames, 16);
  assert.equal(custom.video.height, PRESETS.tiny.video.height);
});

Deno.test("resolveVattConfig() rejects bad values naming the offending value", async (t) => {
  const cases: [string, unknown, RegExp, ErrorConstructor][] = [
    [
      "patch larger than the frame",
      { video: { patch: [2, 64, 8] } },
      /patch 64 is larger than frame height 32/,
      RangeError,
    ],
    [
      "heads not dividing d",
      { video: { backbone: { heads: 5 } } },
      /heads 5 do not divide hidden size 64/,
      RangeError,
    ],
    ["unknown preset", { preset: "huge" }, /Unknown preset "huge"/, RangeError],
    [
      "fractional layers",
      { text: { backbone: { layers: 1.5 } } },
      /text.backbone.layers must be an integer, got 1.5/,
      TypeError,
    ],
    ["dropToken 1", { dropToken: 1 }, /dropToken must be in \[0, 1\), got 1/, RangeError],
    [
      "audio patch too long",
      { audio: { patch: 99999 } },
      /audio patch 99999 is longer than 6400 samples/,
      RangeError,
    ],
    [
      "relative form",
      { text: { relativePosition: "rope" } },
      /relativePosition must be "shaw" or "t5", got "rope"/,
      RangeError,
    ],
  ];
  for (const [name, input, message, type] of cases) {
    await t.step(name, () => {
      assert.throws(
        () => resolveVattConfig(input as never),
        (e: Error) => e instanceof type && message.test(e.message),
      );
    });
  }
});

Deno.test("resolveVattConfig() gives the agnostic variant one backbone size", () => {
  const c = resolveVattConfig({ preset: "base", agnostic: true });
  assert.deepEqual(c.audio.backbone, c.video.backbone);
  assert.deepEqual(c.text.backbone, c.video.backbone);
});
