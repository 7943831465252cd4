import assert from "node:assert/strict";
import { command as tokenizeCommand } from "../../../../cli/tokenize.ts";
import {
  DEFAULT_STORE_SIZE_FACTOR,
  DEFAULT_TOKENIZE_SETTINGS,
  DEFAULT_WINDOW_FACTOR,
  resolveTokenizeSettings,
} from "../../../../lib/data/tokenize/settings.ts";

Deno.test("resolveTokenizeSettings(): the stored span is 1.5× the model's window and the stored side round(1.15 × size)", async (t) => {
  await t.step("the paper's sampling: 32 frames of 224² at 10 fps, 48 kHz", () => {
    const s = resolveTokenizeSettings({});
    // 1.5 × 3.2 s = 4.8 s = 48 frames; 224 · 1.15 = 257.6 → 258; 153,600 + 1.6 s · 48,000.
    assert.deepEqual(
      [s.windowSeconds, s.storedFrames, s.storedSize, s.storedAudioSamples],
      [4.8, 48, 258, 230400],
    );
    assert.deepEqual(s, DEFAULT_TOKENIZE_SETTINGS);
  });
  await t.step("the tiny preset's: 8 frames of 32² at 10 fps, 8 kHz", () => {
    const s = resolveTokenizeSettings({ frames: 8, fps: 10, size: 32, sampleRate: 8000 });
    // 1.2 s = 12 frames; 36.8 → 37; 6400 + 0.4 s · 8000.
    assert.deepEqual(
      [s.windowSeconds, s.storedFrames, s.storedSize, s.storedAudioSamples],
      [1.2, 12, 37, 9600],
    );
  });
  await t.step(
    "a span that is not a whole number of frames is rounded to frames, then audio follows",
    () => {
      const s = resolveTokenizeSettings({
        frames: 8,
        fps: 10,
        sampleRate: 8000,
        windowSeconds: 1.04,
      });
      assert.deepEqual([s.storedFrames, s.windowSeconds, s.storedAudioSamples], [10, 1, 8000]);
    },
  );
  await t.step("a span shorter than the window stores the window (an old dataset's layout)", () => {
    const s = resolveTokenizeSettings({
      frames: 8,
      fps: 10,
      size: 32,
      windowSeconds: 0.3,
      storedSize: 32,
    });
    assert.deepEqual([s.storedFrames, s.storedSize, s.storedAudioSamples], [8, 32, s.audioSamples]);
  });
  await t.step("a longer audio window than the video's keeps its extra samples", () => {
    const s = resolveTokenizeSettings({ frames: 8, fps: 10, sampleRate: 8000, audioSeconds: 1 });
    assert.equal(s.audioSamples, 8000);
    assert.equal(s.storedAudioSamples, 8000 + 3200);
  });
  await t.step("a stored side below the crop is refused", () => {
    assert.throws(
      () => resolveTokenizeSettings({ size: 32, storedSize: 30 }),
      /store size 30 is smaller than the frame size 32/,
    );
  });
});

Deno.test("vatt tokenize --help shows the library's factors for --window-seconds and --store-size", () => {
  const help = tokenizeCommand().helpInformation().replace(/\s+/g, " ");
  assert.match(help, new RegExp(`--window-seconds <s> .*default: ${DEFAULT_WINDOW_FACTOR}×`));
  assert.match(
    help,
    new RegExp(`--store-size <n> .*default: round\\(${DEFAULT_STORE_SIZE_FACTOR} × size\\)`),
  );
  const cmd = tokenizeCommand();
  cmd.parseOptions(["--window-seconds", "2.5", "--store-size", "256"]);
  assert.equal(cmd.opts().windowSeconds, 2.5);
  assert.equal(cmd.opts().storeSize, 256);
});

Deno.test("resolveTokenizeSettings() bounds audio seconds × sample rate: 3600 s at 768 kHz is refused at once", () => {
  assert.throws(
    () => resolveTokenizeSettings({ audioSeconds: 3600, sampleRate: 768000 }),
    /audio of \d+ samples per clip .* is over the limit of 268435456 \(1 GiB of float32\)/,
  );
  // 2^28 samples is the limit: 1 h at 48 kHz (3600 · 48000 = 1.728·10⁸ samples, no spare stored
  // window) is fine.
  const ok = resolveTokenizeSettings({
    audioSeconds: 3600,
    sampleRate: 48000,
    fps: 1,
    frames: 1,
    windowSeconds: 1,
  });
  assert.equal(ok.storedAudioSamples, 172_800_000);
});
