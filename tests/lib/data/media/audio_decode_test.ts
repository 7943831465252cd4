import assert from "node:assert/strict";
import { FLACDecoder } from "@wasm-audio-decoders/flac";
import { OggVorbisDecoder } from "@wasm-audio-decoders/ogg-vorbis";
import { OggOpusDecoder } from "ogg-opus-decoder";
import { FormatError } from "../../../../lib/util/errors.ts";
import {
  decodeAudioBytes,
  decodeAudioFile,
  sniffAudioFormat,
  UnsupportedAudioError,
} from "../../../../lib/data/media/audio_decode.ts";
import { decodeWav, encodeWav } from "../../../../lib/data/media/wav.ts";
import { Rng } from "../../../../lib/util/rng.ts";
import {
  assertNear,
  ffmpeg,
  makeTone,
  rms,
  SINE_AMPLITUDE,
  sineRms,
  toneFrequency,
} from "../_audio_fixtures.ts";

/** One compressed fixture and what decoding it must give. */
interface Case {
  name: string;
  file: string;
  freqs: number[];
  rate: number;
  codec: string[];
  /** Expected decoded rate (Opus always decodes at 48 kHz). */
  outRate?: number;
  /** Allowed difference in length (codec padding), in samples. */
  slack: number;
  format: string;
}

const SECONDS = 1;
const CASES: Case[] = [
  {
    name: "FLAC 24-bit stereo",
    file: "a.flac",
    freqs: [440, 660],
    rate: 44100,
    codec: ["-c:a", "flac", "-sample_fmt", "s32"],
    slack: 0,
    format: "flac",
  },
  {
    name: "FLAC 16-bit mono at 22.05 kHz",
    file: "b.flac",
    freqs: [1000],
    rate: 22050,
    codec: ["-c:a", "flac", "-sample_fmt", "s16"],
    slack: 0,
    format: "flac",
  },
  {
    name: "MP3 mono with ID3",
    file: "a.mp3",
    freqs: [440],
    rate: 44100,
    codec: ["-c:a", "libmp3lame", "-b:a", "128k"],
    slack: 1152,
    format: "mp3",
  },
  {
    name: "MP3 stereo at 22.05 kHz (MPEG-2), no ID3",
    file: "b.mp3",
    freqs: [440, 660],
    rate: 22050,
    codec: ["-c:a", "libmp3lame", "-id3v2_version", "0", "-write_xing", "0"],
    slack: 2 * 1152,
    format: "mp3",
  },
  {
    name: "MP3 mono at 8 kHz (MPEG-2.5)",
    file: "c.mp3",
    freqs: [300],
    rate: 8000,
    codec: ["-c:a", "libmp3lame", "-b:a", "32k"],
    slack: 1152,
    format: "mp3",
  },
  {
    name: "Ogg Vorbis stereo",
    file: "a.ogg",
    freqs: [440, 660],
    rate: 44100,
    codec: ["-c:a", "libvorbis"],
    slack: 64,
    format: "ogg-vorbis",
  },
  {
    name: "Ogg Vorbis mono at 11.025 kHz",
    file: "b.ogg",
    freqs: [500],
    rate: 11025,
    codec: ["-c:a", "libvorbis"],
    slack: 64,
    format: "ogg-vorbis",
  },
  {
    name: "Opus mono",
    file: "a.opus",
    freqs: [440],
    rate: 48000,
    codec: ["-c:a", "libopus"],
    slack: 960,
    format: "ogg-opus",
  },
  {
    name: "Opus stereo from 44.1 kHz",
    file: "b.opus",
    freqs: [440, 660],
    rate: 44100,
    outRate: 48000,
    codec: ["-c:a", "libopus"],
    slack: 960,
    format: "ogg-opus",
  },
  {
    name: "FLAC in Ogg",
    file: "c.oga",
    freqs: [440],
    rate: 44100,
    codec: ["-c:a", "flac", "-f", "ogg"],
    slack: 0,
    format: "ogg-flac",
  },
];

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir();
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function tonePath(dir: string, c: Case): Promise<string> {
  return makeTone(`${dir}/${c.file}`, {
    freqs: c.freqs,
    rate: c.rate,
    seconds: SECONDS,
    codec: c.codec,
  });
}

async function assertFormatError(promise: Promise<unknown>, pattern: RegExp): Promise<FormatError> {
  let caught: unknown;
  try {
    await promise;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof FormatError, `expected a FormatError, got ${caught}`);
  assert.match(caught.message, pattern);
  assert.ok(!caught.message.includes("\n"), `one line: ${caught.message}`);
  return caught;
}

Deno.test("decodeAudioFile() decodes FLAC, MP3, Ogg Vorbis, Opus and Ogg FLAC to the right rate, channels, length and tone", async (t) => {
  await withDir(async (dir) => {
    for (const c of CASES) {
      await t.step(c.name, async () => {
        const path = await tonePath(dir, c);
        const bytes = await Deno.readFile(path);
        assert.equal(sniffAudioFormat(bytes), c.format);
        const audio = await decodeAudioFile(path);
        const rate = c.outRate ?? c.rate;
        assert.equal(audio.sampleRate, rate);
        assert.equal(audio.channels.length, c.freqs.length);
        const n = audio.channels[0].length;
        assert.ok(audio.channels.every((ch) => ch.length === n));
        assert.ok(
          Math.abs(n - rate * SECONDS) <= c.slack,
          `${n} samples, expected ${rate * SECONDS}`,
        );
        c.freqs.forEach((f, i) => {
          assertNear(toneFrequency(audio.channels[i], rate), f, 0.01, `channel ${i} frequency`);
          assertNear(
            rms(audio.channels[i], Math.round(rate / 10)),
            sineRms(SINE_AMPLITUDE),
            0.1,
            `channel ${i} level`,
          );
        });
      });
    }
  });
});

Deno.test("decodeAudioFile() reads 24-bit FLAC losslessly (equal to the same tone as a 24-bit WAV)", async () => {
  await withDir(async (dir) => {
    const spec = { freqs: [440, 660], rate: 44100, seconds: 0.5 };
    const flac = await makeTone(`${dir}/t.flac`, {
      ...spec,
      codec: ["-c:a", "flac", "-sample_fmt", "s32"],
    });
    const wav = await makeTone(`${dir}/t.wav`, { ...spec, codec: ["-c:a", "pcm_s24le"] });
    const bytes = await Deno.readFile(flac);
    const bitsPerSample = (((bytes[20] & 1) << 4) | (bytes[21] >> 4)) + 1; // STREAMINFO
    assert.equal(bitsPerSample, 24);
    const fromFlac = await decodeAudioFile(flac);
    const fromWav = decodeWav(await Deno.readFile(wav));
    assert.equal(fromFlac.channels.length, 2);
    for (let c = 0; c < 2; c++) {
      assert.equal(fromFlac.channels[c].length, fromWav.channels[c].length);
      for (let i = 0; i < fromWav.channels[c].length; i++) {
        assert.ok(Math.abs(fromFlac.channels[c][i] - fromWav.channels[c][i]) < 2 ** -22);
      }
    }
  });
});

Deno.test("decodeAudioFile() sniffs the format from the bytes, not the extension", async () => {
  await withDir(async (dir) => {
    const flac = await tonePath(dir, CASES[0]);
    await Deno.rename(flac, `${dir}/really-flac.mp3`);
    const audio = await decodeAudioFile(`${dir}/really-flac.mp3`);
    assert.equal(audio.channels.length, 2);
    assert.equal(audio.channels[0].length, 44100);
    await Deno.writeFile(
      `${dir}/really-wav.ogg`,
      encodeWav([new Float32Array(100)], { sampleRate: 8000 }),
    );
    assert.equal((await decodeAudioFile(`${dir}/really-wav.ogg`)).sampleRate, 8000);
  });
});

Deno.test("sniffAudioFormat() names formats by magic bytes and rejects look-alikes", () => {
  const ascii = (s: string) => Uint8Array.from([...s].map((c) => c.charCodeAt(0)));
  const oggPage = (packet: string) => {
    const b = new Uint8Array(27 + 1 + packet.length);
    b.set(ascii("OggS"));
    b[26] = 1;
    b[27] = packet.length;
    b.set(ascii(packet), 28);
    return b;
  };
  assert.equal(sniffAudioFormat(ascii("RIFF\0\0\0\0WAVEfmt ")), "wav");
  assert.equal(sniffAudioFormat(ascii("RIFF\0\0\0\0AVI LIST")), undefined);
  assert.equal(sniffAudioFormat(oggPage("OpusHead\x01\x02")), "ogg-opus");
  assert.equal(sniffAudioFormat(oggPage("\x01vorbis\0\0")), "ogg-vorbis");
  assert.equal(sniffAudioFormat(oggPage("\x80theora\0\0")), undefined);
  assert.equal(sniffAudioFormat(ascii("ID3\x04\0\0\0\0\0\x02\0\0fLaC")), "flac");
  // one valid MPEG-1 layer III frame header followed by garbage is not enough
  const frame = new Uint8Array(1000);
  frame.set([0xff, 0xfb, 0x90, 0x64]); // 128 kbit/s, 44.1 kHz: 417-byte frames
  assert.equal(sniffAudioFormat(frame), undefined);
  frame.set([0xff, 0xfb, 0x90, 0x64], 417);
  assert.equal(sniffAudioFormat(frame), "mp3");
  assert.equal(sniffAudioFormat(new Uint8Array(0)), undefined);
  assert.equal(sniffAudioFormat(ascii("just some text, really")), undefined);
});

Deno.test("decodeAudioBytes() with maxSeconds stops early and keeps exactly that much", async () => {
  await withDir(async (dir) => {
    for (const c of [CASES[0], CASES[2], CASES[5], CASES[7]]) {
      const path = await tonePath(dir, c);
      const rate = c.outRate ?? c.rate;
      const audio = await decodeAudioBytes(await Deno.readFile(path), { maxSeconds: 0.25 });
      assert.equal(audio.channels[0].length, Math.ceil(0.25 * rate), c.name);
    }
    await assert.rejects(decodeAudioBytes(new Uint8Array(4), { maxSeconds: 0 }), RangeError);
  });
});

Deno.test("decodeAudioFile() rejects bad files with a FormatError naming the file and the reason", async (t) => {
  await withDir(async (dir) => {
    const write = async (name: string, bytes: Uint8Array) => {
      await Deno.writeFile(`${dir}/${name}`, bytes);
      return `${dir}/${name}`;
    };
    const flac = await Deno.readFile(await tonePath(dir, CASES[0]));
    const vorbis = await Deno.readFile(await tonePath(dir, { ...CASES[5], file: "long.ogg" }));
    const wav = encodeWav([new Float32Array(1000)], { sampleRate: 8000 });
    const rng = new Rng(5);
    const random = Uint8Array.from({ length: 4096 }, () => rng.nextInt(256));

    const cases: [string, string, Uint8Array, RegExp][] = [
      ["empty file", "empty.wav", new Uint8Array(0), /empty/],
      ["truncated WAV header", "cut.wav", wav.subarray(0, 30), /chunk "fmt " declares 16 bytes/],
      ["random bytes", "noise.flac", random, /unknown audio format/],
      [
        "text renamed .mp3",
        "text.mp3",
        new TextEncoder().encode("Hello!\nThis is not audio.\n".repeat(50)),
        /unknown audio format/,
      ],
      [
        "truncated FLAC",
        "half.flac",
        flac.subarray(0, flac.length >> 1),
        /truncated FLAC: decoded \d+ of 44100 samples/,
      ],
      ["FLAC header only", "head.flac", flac.subarray(0, 100), /no audio frames decoded/],
      [
        "FLAC marker only",
        "marker.flac",
        flac.subarray(0, 10),
        /truncated before the end of STREAMINFO/,
      ],
      ["truncated Ogg", "half.ogg", vorbis.subarray(0, vorbis.length >> 1), /truncated Ogg stream/],
      [
        "FLAC marker + noise",
        "noise2.flac",
        Uint8Array.from([...flac.subarray(0, 42), ...random]),
        /no audio frames decoded|corrupt/,
      ],
      [
        "Ogg capture + noise",
        "noise.ogg",
        Uint8Array.from([...vorbis.subarray(0, 64), ...random]),
        /Ogg|no audio/,
      ],
    ];
    for (const [name, file, bytes, pattern] of cases) {
      await t.step(name, async () => {
        const path = await write(file, bytes);
        const e = await assertFormatError(decodeAudioFile(path), pattern);
        assert.equal(e.path, path);
        assert.ok(e.message.startsWith(`${path}: `));
      });
    }
    await t.step("a missing file", async () => {
      await assertFormatError(decodeAudioFile(`${dir}/nothing-here.wav`), /file not found/);
    });
  });
});

Deno.test("decodeAudioBytes() with strict: false returns what a truncated file holds", async () => {
  await withDir(async (dir) => {
    const flac = await Deno.readFile(await tonePath(dir, CASES[0]));
    const part = await decodeAudioBytes(flac.subarray(0, flac.length >> 1), { strict: false });
    assert.equal(part.channels.length, 2);
    assert.ok(part.channels[0].length > 4096 && part.channels[0].length < 44100);
    assertNear(toneFrequency(part.channels[1], 44100), 660, 0.01, "frequency");
    const long = { ...CASES[7], file: "long.opus" };
    const opus = await Deno.readFile(
      await makeTone(`${dir}/${long.file}`, {
        freqs: [440],
        rate: 48000,
        seconds: 4,
        codec: long.codec,
      }),
    );
    const cut = await decodeAudioBytes(opus.subarray(0, Math.floor(opus.length * 0.7)), {
      strict: false,
    });
    // only whole pages are decoded: some but not all of the 4 s, never more
    assert.ok(
      cut.channels[0].length >= 48000 && cut.channels[0].length < 4 * 48000,
      `${cut.channels[0].length}`,
    );
  });
});

Deno.test("decodeAudioBytes() calls containers and codecs it does not read UnsupportedAudioError", async () => {
  await withDir(async (dir) => {
    await ffmpeg([
      "-f",
      "lavfi",
      "-i",
      "sine=frequency=440:duration=0.5",
      "-c:a",
      "aac",
      `${dir}/a.m4a`,
    ]);
    await ffmpeg([
      "-f",
      "lavfi",
      "-i",
      "sine=frequency=440:sample_rate=16000:duration=0.5",
      "-c:a",
      "libspeex",
      "-f",
      "ogg",
      `${dir}/a.spx`,
    ]);
    await ffmpeg([
      "-f",
      "lavfi",
      "-i",
      "sine=frequency=440:duration=0.2",
      "-c:a",
      "pcm_mulaw",
      `${dir}/mulaw.wav`,
    ]);
    const cases: [string, RegExp][] = [
      ["a.m4a", /unknown audio format/],
      ["a.spx", /unsupported codec in Ogg/],
      ["mulaw.wav", /unsupported WAV format tag 7/],
    ];
    for (const [file, pattern] of cases) {
      const e = await assertFormatError(decodeAudioFile(`${dir}/${file}`), pattern);
      assert.ok(e instanceof UnsupportedAudioError, file);
    }
  });
});

Deno.test("decodeAudioBytes() throws only FormatError on damaged compressed files and frees its decoders", async () => {
  // every decoder instance that decoded anything must have been freed
  const used = new Set<unknown>(), freed = new Set<unknown>();
  type Methods = { decode(data: Uint8Array): unknown; free(): void };
  const prototypes = [FLACDecoder, OggVorbisDecoder, OggOpusDecoder].map((k) =>
    k.prototype as unknown as Methods
  );
  const originals = prototypes.map((p) => ({ decode: p.decode, free: p.free }));
  prototypes.forEach((p, i) => {
    p.decode = function (this: Methods, data: Uint8Array) {
      used.add(this);
      return originals[i].decode.call(this, data);
    };
    p.free = function (this: Methods) {
      freed.add(this);
      return originals[i].free.call(this);
    };
  });
  const printed: unknown[][] = [];
  const consoleError = console.error, consoleWarn = console.warn;
  console.error = (...args: unknown[]) => void printed.push(args);
  console.warn = (...args: unknown[]) => void printed.push(args);
  try {
    await withDir(async (dir) => {
      const rng = new Rng(9);
      for (const c of [CASES[0], CASES[2], CASES[5], CASES[7]]) {
        const good = await Deno.readFile(await tonePath(dir, c));
        for (let trial = 0; trial < 6; trial++) {
          const bytes = good.slice(0, trial % 2 ? good.length : rng.nextInt(good.length) + 1);
          for (let k = 0; k < 20; k++) {
            bytes[64 + rng.nextInt(bytes.length - 64)] = rng.nextInt(256);
          }
          for (const strict of [true, false]) {
            try {
              const audio = await decodeAudioBytes(bytes, { strict });
              assert.ok(audio.channels.length >= 1 && audio.channels[0].length > 0);
            } catch (e) {
              if (!(e instanceof FormatError)) throw e;
            }
          }
        }
      }
    });
  } finally {
    prototypes.forEach((p, i) => Object.assign(p, originals[i]));
    console.error = consoleError;
    console.warn = consoleWarn;
  }
  assert.ok(used.size >= 10, `${used.size} decoders used`);
  assert.equal([...used].filter((d) => !freed.has(d)).length, 0, "decoders left unfreed");
  const noise = printed.filter((args) =>
    /mpg123|wasm-audio-decoders|libopus/.test(String(args[0]))
  );
  assert.deepEqual(noise, [], "the decoders' console messages are kept out");
});

Deno.test("decodeAudioBytes() lets unrelated console messages through while decoding", async () => {
  const printed: unknown[] = [];
  const consoleError = console.error;
  console.error = (...args: unknown[]) => void printed.push(args[0]);
  try {
    const wav = encodeWav([new Float32Array(10)], { sampleRate: 8000 });
    const pending = decodeAudioBytes(new TextEncoder().encode("fLaC\0\0\0\x22".padEnd(80, "x")));
    console.error("from elsewhere");
    await assert.rejects(pending, FormatError);
    await decodeAudioBytes(wav);
  } finally {
    console.error = consoleError;
  }
  assert.deepEqual(printed, ["from elsewhere"]);
});
