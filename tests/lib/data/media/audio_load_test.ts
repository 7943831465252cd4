import assert from "node:assert/strict";
import { FormatError } from "../../../../lib/util/errors.ts";
import { loadAudioWindow } from "../../../../lib/data/media/audio_load.ts";
import { encodeWav } from "../../../../lib/data/media/wav.ts";
import {
  assertNear,
  ffmpeg,
  makeTone,
  SINE_AMPLITUDE,
  tone,
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

/** Largest difference between `x[i]` and a sine of `freq` at time `offset + i / rate`. */
function phaseError(
  x: Float32Array,
  n: number,
  freq: number,
  rate: number,
  offset: number,
): number {
  let worst = 0;
  for (let i = 0; i < n; i++) {
    const expected = SINE_AMPLITUDE * Math.sin(2 * Math.PI * freq * (offset + i / rate));
    worst = Math.max(worst, Math.abs(x[i] - expected));
  }
  return worst;
}

const NO_FFMPEG = "/nonexistent/ffmpeg";

Deno.test("loadAudioWindow() cuts a resampled window at the right time from a WAV, in process", async () => {
  await withDir(async (dir) => {
    const path = await makeTone(`${dir}/tone.wav`, {
      freqs: [1000],
      rate: 22050,
      seconds: 3,
      codec: ["-c:a", "pcm_s16le"],
    });
    const win = await loadAudioWindow(path, {
      sampleRate: 16000,
      start: 0.5,
      seconds: 1,
      ffmpeg: NO_FFMPEG,
    });
    assert.equal(win.samples.length, 16000);
    assert.equal(win.validSamples, 16000);
    assert.ok(
      phaseError(win.samples, 16000, 1000, 16000, 0.5) < 2e-3,
      "window follows the tone at 0.5 s",
    );
  });
});

Deno.test("loadAudioWindow() zero-pads past the end of the file and says how much is real", async () => {
  await withDir(async (dir) => {
    const path = await makeTone(`${dir}/tone.wav`, {
      freqs: [500],
      rate: 44100,
      seconds: 1,
      codec: ["-c:a", "pcm_f32le"],
    });
    const win = await loadAudioWindow(path, { sampleRate: 16000, start: 0.75, seconds: 0.5 });
    assert.equal(win.samples.length, 8000);
    assert.equal(win.validSamples, 4000);
    assert.ok(win.samples.subarray(4000).every((v) => v === 0));
    assert.ok(phaseError(win.samples, 3900, 500, 16000, 0.75) < 2e-3);
    const after = await loadAudioWindow(path, { sampleRate: 16000, start: 5, seconds: 0.5 });
    assert.equal(after.validSamples, 0);
    assert.ok(after.samples.every((v) => v === 0));
    const odd = await loadAudioWindow(path, { sampleRate: 16000, seconds: 1 / 3 });
    assert.equal(odd.samples.length, 5333);
  });
});

Deno.test("loadAudioWindow() mixes channels to mono", async () => {
  await withDir(async (dir) => {
    const x = tone(300, 8000, 8000, 0.5);
    const minus = x.map((v) => -v);
    await Deno.writeFile(
      `${dir}/cancel.wav`,
      encodeWav([x, minus], { sampleRate: 8000, format: "float32" }),
    );
    await Deno.writeFile(
      `${dir}/same.wav`,
      encodeWav([x, x], { sampleRate: 8000, format: "float32" }),
    );
    const cancel = await loadAudioWindow(`${dir}/cancel.wav`, { sampleRate: 8000, seconds: 1 });
    assert.ok(cancel.samples.every((v) => v === 0));
    const same = await loadAudioWindow(`${dir}/same.wav`, { sampleRate: 8000, seconds: 1 });
    assert.deepEqual(same.samples, x);
  });
});

Deno.test("loadAudioWindow() decodes FLAC, MP3, Vorbis and Opus in process, whatever the extension", async (t) => {
  await withDir(async (dir) => {
    const cases: [string, number, string[]][] = [
      ["flac", 44100, ["-c:a", "flac", "-sample_fmt", "s32", "-f", "flac"]],
      ["mp3", 44100, ["-c:a", "libmp3lame", "-f", "mp3"]],
      ["ogg", 22050, ["-c:a", "libvorbis", "-f", "ogg"]],
      ["opus", 48000, ["-c:a", "libopus", "-f", "ogg"]],
    ];
    for (const [name, rate, codec] of cases) {
      await t.step(name, async () => {
        const path = await makeTone(`${dir}/${name}.bin`, {
          freqs: [440, 440],
          rate,
          seconds: 2,
          codec,
        });
        // a missing ffmpeg proves the decoding happens in process
        const win = await loadAudioWindow(path, {
          sampleRate: 16000,
          start: 0.5,
          seconds: 1,
          ffmpeg: NO_FFMPEG,
        });
        assert.equal(win.samples.length, 16000);
        assert.equal(win.validSamples, 16000);
        assertNear(toneFrequency(win.samples, 16000), 440, 0.01, "frequency");
      });
    }
  });
});

Deno.test("loadAudioWindow() falls back to ffmpeg for an mp4 with AAC and a μ-law WAV", async () => {
  await withDir(async (dir) => {
    const mp4 = `${dir}/clip.mp4`;
    await ffmpeg([
      ...["-f", "lavfi", "-i", "testsrc=size=32x32:rate=5:duration=2"],
      ...["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=2"],
      ...[
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        mp4,
      ],
    ]);
    const win = await loadAudioWindow(mp4, { sampleRate: 16000, start: 0.5, seconds: 1 });
    assert.equal(win.samples.length, 16000);
    assert.equal(win.validSamples, 16000);
    assertNear(toneFrequency(win.samples, 16000), 440, 0.01, "frequency");
    const tail = await loadAudioWindow(mp4, { sampleRate: 16000, start: 1.5, seconds: 1 });
    assert.ok(Math.abs(tail.validSamples - 8000) < 400, `${tail.validSamples}`);
    assert.ok(tail.samples.subarray(tail.validSamples).every((v) => v === 0));
    await assert.rejects(
      loadAudioWindow(mp4, { sampleRate: 16000, seconds: 1, ffmpeg: NO_FFMPEG }),
      /Cannot run ffmpeg/,
    );

    const mulaw = `${dir}/mulaw.wav`;
    await ffmpeg([
      "-f",
      "lavfi",
      "-i",
      "sine=frequency=440:sample_rate=8000:duration=1",
      "-c:a",
      "pcm_mulaw",
      mulaw,
    ]);
    const law = await loadAudioWindow(mulaw, { sampleRate: 8000, seconds: 1 });
    assert.equal(law.validSamples, 8000);
    assertNear(toneFrequency(law.samples, 8000), 440, 0.01, "frequency");
  });
});

Deno.test("loadAudioWindow() rejects bad files with FormatError and bad options with RangeError", async (t) => {
  await withDir(async (dir) => {
    const flac = await Deno.readFile(
      await makeTone(`${dir}/a.flac`, {
        freqs: [440],
        rate: 44100,
        seconds: 1,
        codec: ["-c:a", "flac"],
      }),
    );
    const cases: [string, Uint8Array, RegExp][] = [
      ["empty.wav", new Uint8Array(0), /empty/],
      [
        "noise.wav",
        Uint8Array.from({ length: 3000 }, (_, i) => (i * 7919 + 5) % 256),
        /cannot decode audio/,
      ],
      ["text.mp3", new TextEncoder().encode("not audio\n".repeat(100)), /cannot decode audio/],
      ["cut.flac", flac.subarray(0, flac.length >> 1), /truncated FLAC/],
      [
        "cut.wav",
        encodeWav([new Float32Array(100)], { sampleRate: 8000 }).subarray(0, 30),
        /not a readable WAV/,
      ],
    ];
    for (const [name, bytes, pattern] of cases) {
      await t.step(name, async () => {
        await Deno.writeFile(`${dir}/${name}`, bytes);
        await assert.rejects(
          loadAudioWindow(`${dir}/${name}`, { sampleRate: 16000, seconds: 1 }),
          (e: unknown) =>
            e instanceof FormatError && pattern.test(e.message) && !e.message.includes("\n"),
        );
      });
    }
    await t.step("a missing file", async () => {
      await assert.rejects(
        loadAudioWindow(`${dir}/missing.wav`, { sampleRate: 16000, seconds: 1 }),
        FormatError,
      );
    });
  });
  await assert.rejects(loadAudioWindow("a.wav", { sampleRate: 0, seconds: 1 }), RangeError);
  await assert.rejects(loadAudioWindow("a.wav", { sampleRate: 16000, seconds: 0 }), RangeError);
  await assert.rejects(
    loadAudioWindow("a.wav", { sampleRate: 16000, seconds: 1, start: -2 }),
    RangeError,
  );
});
