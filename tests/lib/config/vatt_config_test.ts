import assert from "node:assert/strict";
import { PRESETS, resolveVattConfig } from "../../../lib/config/vatt_config.ts";
import {
  LEGACY_ARCHITECTURE,
  resolveStoredVattConfig,
} from "../../../lib/config/stored_vatt_config.ts";

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
      /relativePosition must be one of "t5-shared", "t5", "shaw", got "rope"/,
      RangeError,
    ],
    ["dropout 1", { dropout: 1 }, /dropout must be in \[0, 1\), got 1/, RangeError],
    [
      "attention dropout negative",
      { attentionDropout: -0.1 },
      /attentionDropout must be in \[0, 1\), got -0.1/,
      RangeError,
    ],
    ["positionNorm not boolean", { positionNorm: 1 }, /positionNorm must be a boolean/, TypeError],
    [
      "projectionBias not boolean",
      { heads: { projectionBias: "yes" } },
      /heads.projectionBias must be a boolean, got "yes"/,
      TypeError,
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

Deno.test("every preset takes the official code's architecture defaults", () => {
  for (const [name, p] of Object.entries(PRESETS)) {
    // vatt/configs: dropout_rate 0.1 in ViT, WaT and T5; LN on the summed positions
    // (SpatioTemporal/TemporalEmbeddings); Dense(use_bias=True) for aud_to_vid and txt_to_vid;
    // T5Encoder: relative buckets only in layer 0, its bias reused by the others.
    assert.equal(p.dropout, 0.1, name);
    assert.equal(p.attentionDropout, 0.1, name);
    // tiny departs on purpose: LN'd positions drown its small audio tokens (demo audio probe 17%).
    assert.equal(p.positionNorm, name !== "tiny", name);
    assert.equal(p.heads.projectionBias, true, name);
    assert.equal(p.text.relativePosition, "t5-shared", name);
  }
});

Deno.test("resolveStoredVattConfig() gives a config without the new fields its old behaviour", () => {
  const now = resolveVattConfig({ preset: "tiny", text: { relativePosition: "t5" } });
  // Written by this version: resolves to itself, JSON for JSON.
  const again = resolveStoredVattConfig(JSON.parse(JSON.stringify(now)));
  assert.equal(JSON.stringify(again), JSON.stringify(now));
  // Written before: no dropout, no position LN, bias-free projections, per-layer T5 as stored.
  const { dropout: _d, attentionDropout: _a, positionNorm: _p, ...old } = now;
  const { projectionBias: _b, ...heads } = now.heads;
  const legacy = resolveStoredVattConfig({ ...old, heads });
  assert.equal(legacy.dropout, 0);
  assert.equal(legacy.attentionDropout, 0);
  assert.equal(legacy.positionNorm, false);
  assert.equal(legacy.heads.projectionBias, false);
  assert.equal(legacy.text.relativePosition, "t5");
  assert.deepEqual(LEGACY_ARCHITECTURE, {
    dropout: 0,
    attentionDropout: 0,
    positionNorm: false,
    heads: { projectionBias: false },
  });
  // A user's partial config (not stored) takes today's defaults.
  assert.equal(resolveVattConfig({ preset: "base" }).positionNorm, true);
  assert.equal(resolveVattConfig({ preset: "tiny" }).dropout, 0.1);
  assert.throws(() => resolveStoredVattConfig(null as never), /must be an object, got null/);
});
