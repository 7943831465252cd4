import assert from "node:assert/strict";
import { FormatError } from "../../../../lib/util/errors.ts";
import { loadAudioWindow } from "../../../../lib/data/media/audio_load.ts";
import { encodeWav } from "../../../../lib/data/media/wav.ts";
import { resample } from "../../../../lib/data/media/resample.ts";
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

/** A WAV of 1 s at `rate` whose header and size say `bytes` of 16-bit mono data (sparse file). */
async function hugeWav(file: string, rate: number, dataBytes: number): Promise<void> {
  const head = encodeWav([tone(440, rate, rate)], { sampleRate: rate });
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  view.setUint32(4, Math.min(0xffffffff, 36 + dataBytes), true);
  view.setUint32(40, Math.min(0xffffffff, dataBytes), true);
  await Deno.writeFile(file, head);
  using f = await Deno.open(file, { write: true });
  await f.truncate(44 + dataBytes); // sparse: the rest reads as zeros, no disk used
}

Deno.test("loadAudioWindow() reads only up to the window of a long WAV (a 4 GiB header is not read whole)", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/long.wav`;
    await hugeWav(file, 16000, 0xffffffff - 36 - 1); // about 4 GiB of (sparse) samples
    const rss0 = Deno.memoryUsage().rss;
    const t0 = performance.now();
    const win = await loadAudioWindow(file, { sampleRate: 16000, start: 0.5, seconds: 0.8 });
    const ms = performance.now() - t0;
    assert.equal(win.samples.length, 12800);
    assert.equal(win.validSamples, 12800);
    // The tone's samples came through (the sparse tail would be zeros).
    assert.ok(Math.max(...win.samples.subarray(0, 8000).map(Math.abs)) > 0.1);
    assert.ok(ms < 2000, `took ${ms} ms`);
    assert.ok(
      Deno.memoryUsage().rss - rss0 < 256 * 1024 * 1024,
      "memory grew by more than 256 MiB",
    );
  });
});

Deno.test("loadAudioWindow() still refuses a WAV whose header claims more data than the file holds", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/short.wav`;
    const bytes = encodeWav([tone(440, 16000, 800)], { sampleRate: 16000 });
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(40, 0xfffffff0, true);
    await Deno.writeFile(file, bytes);
    await assert.rejects(
      loadAudioWindow(file, { sampleRate: 16000, seconds: 0.8 }),
      (e) => e instanceof FormatError && /declares \d+ bytes but only 1600 remain/.test(e.message),
    );
  });
});

Deno.test("loadAudioWindow() bounds --audio-seconds × --sample-rate (1 GiB of float32) before reading", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/a.wav`;
    await Deno.writeFile(file, encodeWav([tone(440, 16000, 800)], { sampleRate: 16000 }));
    await assert.rejects(
      loadAudioWindow(file, { sampleRate: 768000, seconds: 3600 }),
      /3600 s at 768000 Hz is 2764800000 samples, over the limit of 268435456/,
    );
  });
});

Deno.test("loadAudioWindow() seeks a late WAV window: the same samples as resampling the whole file", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/tone.wav`;
    const rate = 44100;
    const x = tone(440, rate, rate * 10);
    await Deno.writeFile(file, encodeWav([x], { sampleRate: rate, format: "float32" }));
    for (const start of [0, 0.01, 3.7, 9.5]) {
      const win = await loadAudioWindow(file, { sampleRate: 16000, start, seconds: 0.8 });
      const first = Math.round(start * 16000);
      const whole = resample(x, rate, 16000, { start: first, length: 12800 });
      const valid = Math.min(12800, 160000 - first);
      assert.equal(win.validSamples, valid);
      assert.deepEqual(win.samples.subarray(0, valid), whole.subarray(0, valid), `start ${start}`);
    }
  });
});

Deno.test("loadAudioWindow() reads a window near the end of a 4 GiB WAV without reading the rest", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/long.wav`;
    await hugeWav(file, 16000, 0xffffffff - 36 - 1);
    const rss0 = Deno.memoryUsage().rss;
    const t0 = performance.now();
    const win = await loadAudioWindow(file, { sampleRate: 16000, start: 100_000, seconds: 0.8 });
    assert.equal(win.validSamples, 12800);
    assert.ok(win.samples.every((v) => v === 0)); // the sparse part reads as zeros
    assert.ok(performance.now() - t0 < 2000);
    assert.ok(
      Deno.memoryUsage().rss - rss0 < 256 * 1024 * 1024,
      "memory grew by more than 256 MiB",
    );
  });
});
