import assert from "node:assert/strict";
import { FormatError } from "../../../../lib/util/errors.ts";
import { decodeAudioWithFfmpeg } from "../../../../lib/data/media/ffmpeg_audio.ts";
import {
  assertNear,
  ffmpeg,
  rms,
  SINE_AMPLITUDE,
  sineRms,
  toneFrequency,
} from "../_audio_fixtures.ts";

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir();
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** An mp4 with a small H.264 video and a stereo AAC track (a sine at `freq` in both channels). */
async function makeMp4(path: string, freq: number, seconds: number): Promise<string> {
  await ffmpeg([
    ...["-f", "lavfi", "-i", `testsrc=size=64x48:rate=10:duration=${seconds}`],
    ...["-f", "lavfi", "-i", `sine=frequency=${freq}:sample_rate=44100:duration=${seconds}`],
    ...["-map", "0:v", "-map", "1:a", "-ac", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p"],
    ...["-c:a", "aac", "-b:a", "96k", path],
  ]);
  return path;
}

async function assertFormatError(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  let caught: unknown;
  try {
    await promise;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof FormatError, `expected a FormatError, got ${caught}`);
  assert.match(caught.message, pattern);
  assert.ok(!caught.message.includes("\n"), `one line: ${caught.message}`);
}

Deno.test("decodeAudioWithFfmpeg() decodes the AAC track of an mp4 to mono at the asked rate", async () => {
  await withDir(async (dir) => {
    const path = await makeMp4(`${dir}/clip.mp4`, 440, 2);
    for (const rate of [16000, 48000]) {
      const audio = await decodeAudioWithFfmpeg(path, { sampleRate: rate });
      assert.ok(
        Math.abs(audio.length - 2 * rate) <= 0.03 * rate,
        `${audio.length} samples at ${rate} Hz`,
      );
      assertNear(toneFrequency(audio, rate), 440, 0.01, "frequency");
      assertNear(rms(audio, rate / 10), sineRms(SINE_AMPLITUDE), 0.1, "level");
    }
  });
});

Deno.test("decodeAudioWithFfmpeg() cuts the window given by start and duration", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/tone.wav`;
    await ffmpeg(["-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=16000:duration=3", path]);
    const audio = await decodeAudioWithFfmpeg(path, {
      sampleRate: 16000,
      start: 1.25,
      duration: 0.5,
    });
    assert.equal(audio.length, 8000);
    // the sine source starts at phase 0, so sample i of the window is sin(2π·1000·(1.25 + i/16000))
    for (let i = 0; i < audio.length; i += 97) {
      const expected = SINE_AMPLITUDE * Math.sin(2 * Math.PI * 1000 * (1.25 + i / 16000));
      assert.ok(Math.abs(audio[i] - expected) < 1e-3, `sample ${i}: ${audio[i]} vs ${expected}`);
    }
    const tail = await decodeAudioWithFfmpeg(path, { sampleRate: 16000, start: 2.75, duration: 1 });
    assert.equal(tail.length, 4000);
    const past = await decodeAudioWithFfmpeg(path, { sampleRate: 16000, start: 10, duration: 1 });
    assert.equal(past.length, 0);
  });
});

Deno.test("decodeAudioWithFfmpeg() reads names that look like options or URLs as files", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/-i http:x.wav`;
    await ffmpeg([
      "-f",
      "lavfi",
      "-i",
      "sine=frequency=500:sample_rate=8000:duration=0.5",
      `file:${path}`,
    ]);
    const audio = await decodeAudioWithFfmpeg(path, { sampleRate: 8000 });
    assert.equal(audio.length, 4000);
  });
});

Deno.test("decodeAudioWithFfmpeg() reports bad files with a one-line FormatError", async (t) => {
  await withDir(async (dir) => {
    await t.step("a video without audio: no audio stream", async () => {
      const path = `${dir}/silent.mp4`;
      await ffmpeg([
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=32x32:rate=5:duration=1",
        "-pix_fmt",
        "yuv420p",
        path,
      ]);
      await assertFormatError(
        decodeAudioWithFfmpeg(path, { sampleRate: 16000 }),
        /: no audio stream$/,
      );
    });
    await t.step("random bytes", async () => {
      const path = `${dir}/noise.mp4`;
      await Deno.writeFile(
        path,
        Uint8Array.from({ length: 5000 }, (_, i) => (i * 7919 + 13) % 251),
      );
      await assertFormatError(
        decodeAudioWithFfmpeg(path, { sampleRate: 16000 }),
        /noise\.mp4: .*(Invalid data|no audio stream)/,
      );
    });
    await t.step("an empty file", async () => {
      const path = `${dir}/empty.m4a`;
      await Deno.writeFile(path, new Uint8Array(0));
      await assertFormatError(decodeAudioWithFfmpeg(path, { sampleRate: 16000 }), /empty/);
    });
    await t.step("a missing file", async () => {
      await assertFormatError(
        decodeAudioWithFfmpeg(`${dir}/nope.mp4`, { sampleRate: 16000 }),
        /file not found/,
      );
    });
    await t.step("a decoder that hangs is killed after timeoutMs", async () => {
      const fake = `${dir}/slow-ffmpeg.sh`;
      await Deno.writeTextFile(fake, "#!/bin/sh\nexec sleep 30\n");
      await Deno.chmod(fake, 0o755);
      const path = `${dir}/x.wav`;
      await Deno.writeFile(path, new Uint8Array(10));
      const t0 = performance.now();
      await assertFormatError(
        decodeAudioWithFfmpeg(path, { sampleRate: 16000, ffmpeg: fake, timeoutMs: 300 }),
        /did not finish within 300 ms/,
      );
      assert.ok(performance.now() - t0 < 5000);
    });
  });
});

Deno.test("decodeAudioWithFfmpeg() rejects bad options", async () => {
  await assert.rejects(
    decodeAudioWithFfmpeg("a.wav", { sampleRate: 0 }),
    /sampleRate must be a positive integer, got 0/,
  );
  await assert.rejects(decodeAudioWithFfmpeg("a.wav", { sampleRate: 8000, start: -1 }), RangeError);
  await assert.rejects(
    decodeAudioWithFfmpeg("a.wav", { sampleRate: 8000, duration: 0 }),
    RangeError,
  );
  await assert.rejects(
    decodeAudioWithFfmpeg("a.wav", { sampleRate: 8000, timeoutMs: 0 }),
    RangeError,
  );
  await assert.rejects(decodeAudioWithFfmpeg("", { sampleRate: 8000 }), TypeError);
});
