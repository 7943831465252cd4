import assert from "node:assert/strict";
import fc from "fast-check";
import { FormatError } from "../../../../lib/util/errors.ts";
import { decodeWav, encodeWav } from "../../../../lib/data/media/wav.ts";
import {
  assertNear,
  ffmpeg,
  makeTone,
  rms,
  SINE_AMPLITUDE,
  sineRms,
  tone,
  toneFrequency,
} from "../_audio_fixtures.ts";

/** A RIFF chunk: 4-char id and body (a pad byte is added after odd bodies). */
type Chunk = [string, Uint8Array];

function riff(chunks: Chunk[], form = "WAVE"): Uint8Array {
  const parts: number[] = [];
  const ascii = (s: string) => [...s].forEach((c) => parts.push(c.charCodeAt(0)));
  const u32 = (v: number) => parts.push(v & 255, (v >>> 8) & 255, (v >>> 16) & 255, v >>> 24);
  for (const [id, body] of chunks) {
    ascii(id);
    u32(body.length);
    parts.push(...body);
    if (body.length & 1) parts.push(0);
  }
  const head: number[] = [];
  const all = Uint8Array.from(parts);
  const out = new Uint8Array(12 + all.length);
  head.push(..."RIFF".split("").map((c) => c.charCodeAt(0)));
  out.set(head);
  new DataView(out.buffer).setUint32(4, 4 + all.length, true);
  out.set([...form].map((c) => c.charCodeAt(0)), 8);
  out.set(all, 12);
  return out;
}

function fmtBody(
  tag: number,
  channels: number,
  rate: number,
  bits: number,
  align?: number,
): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  const blockAlign = align ?? channels * (bits / 8);
  v.setUint16(0, tag, true);
  v.setUint16(2, channels, true);
  v.setUint32(4, rate, true);
  v.setUint32(8, rate * blockAlign, true);
  v.setUint16(12, blockAlign, true);
  v.setUint16(14, bits, true);
  return b;
}

function extensibleBody(subTag: number, channels: number, rate: number, bits: number): Uint8Array {
  const b = new Uint8Array(40);
  b.set(fmtBody(0xfffe, channels, rate, bits));
  const v = new DataView(b.buffer);
  v.setUint16(16, 22, true); // cbSize
  v.setUint16(18, bits, true); // valid bits
  v.setUint32(20, channels === 1 ? 4 : 3, true); // channel mask
  v.setUint16(24, subTag, true);
  b.set([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71], 26);
  return b;
}

function int16Body(values: number[]): Uint8Array {
  const b = new Uint8Array(values.length * 2);
  const v = new DataView(b.buffer);
  values.forEach((x, i) => v.setInt16(i * 2, x, true));
  return b;
}

function assertFormatError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FormatError, `expected FormatError, got ${e}`);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes("\n"), "the reason is one line");
    return true;
  });
}

Deno.test("decodeWav() reads ffmpeg's PCM and float WAVs at odd rates with the tone's frequency and level", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    const cases = [
      { codec: "pcm_u8", rate: 8000, freq: 440 },
      { codec: "pcm_s16le", rate: 22050, freq: 1000 },
      { codec: "pcm_s24le", rate: 44100, freq: 440 },
      { codec: "pcm_s32le", rate: 11025, freq: 700 },
      { codec: "pcm_f32le", rate: 48000, freq: 3000 },
      { codec: "pcm_f64le", rate: 16000, freq: 250 },
    ];
    for (const c of cases) {
      await t.step(`${c.codec} at ${c.rate} Hz`, async () => {
        const path = await makeTone(`${dir}/${c.codec}.wav`, {
          freqs: [c.freq],
          rate: c.rate,
          seconds: 0.5,
          codec: ["-c:a", c.codec],
        });
        const audio = decodeWav(await Deno.readFile(path), { path });
        assert.equal(audio.sampleRate, c.rate);
        assert.equal(audio.channels.length, 1);
        assert.equal(audio.channels[0].length, Math.round(c.rate / 2));
        assertNear(toneFrequency(audio.channels[0], c.rate), c.freq, 0.01, "frequency");
        assertNear(rms(audio.channels[0]), sineRms(SINE_AMPLITUDE), 0.02, "level");
        for (const x of audio.channels[0]) assert.ok(x >= -1 && x <= 1);
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("decodeWav() keeps the channel order of a stereo 24-bit (extensible) file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = await makeTone(`${dir}/stereo.wav`, {
      freqs: [440, 660],
      rate: 44100,
      seconds: 0.5,
      codec: ["-c:a", "pcm_s24le"],
    });
    const bytes = await Deno.readFile(path);
    // ffmpeg writes WAVE_FORMAT_EXTENSIBLE for samples wider than 16 bits
    const tag = new DataView(bytes.buffer).getUint16(20, true);
    assert.equal(tag, 0xfffe);
    const audio = decodeWav(bytes);
    assert.equal(audio.channels.length, 2);
    assertNear(toneFrequency(audio.channels[0], 44100), 440, 0.01, "left");
    assertNear(toneFrequency(audio.channels[1], 44100), 660, 0.01, "right");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("decodeWav() scales every integer width and float to [-1, 1] exactly", () => {
  const u8 = riff([["fmt ", fmtBody(1, 1, 8000, 8)], ["data", Uint8Array.of(0, 128, 255)]]);
  assert.deepEqual([...decodeWav(u8).channels[0]], [-1, 0, 127 / 128]);
  const s24 = riff([["fmt ", fmtBody(1, 1, 8000, 24)], [
    "data",
    Uint8Array.of(0x00, 0x00, 0x80, 0xff, 0xff, 0x7f, 0x00, 0x00, 0x40),
  ]]);
  assert.deepEqual([...decodeWav(s24).channels[0]], [-1, 8388607 / 8388608, 0.5]);
  const s32Body = new Uint8Array(8);
  new DataView(s32Body.buffer).setInt32(0, -2147483648, true);
  new DataView(s32Body.buffer).setInt32(4, 1073741824, true);
  const s32 = riff([["fmt ", extensibleBody(1, 1, 8000, 32)], ["data", s32Body]]);
  assert.deepEqual([...decodeWav(s32).channels[0]], [-1, 0.5]);
  const f64Body = new Uint8Array(24);
  new DataView(f64Body.buffer).setFloat64(0, 0.25, true);
  new DataView(f64Body.buffer).setFloat64(8, NaN, true);
  new DataView(f64Body.buffer).setFloat64(16, -0.75, true);
  const f64 = riff([["fmt ", extensibleBody(3, 1, 8000, 64)], ["data", f64Body]]);
  assert.deepEqual([...decodeWav(f64).channels[0]], [0.25, 0, -0.75]);
});

Deno.test("decodeWav() skips extra chunks with odd-size padding, before and after fmt", () => {
  const bytes = riff([
    ["JUNK", Uint8Array.of(1, 2, 3)], // odd: one pad byte follows
    ["fmt ", fmtBody(1, 2, 16000, 16)],
    ["LIST", new TextEncoder().encode("INFOISFT\x05\0\0\0vatt\0")],
    ["data", int16Body([16384, -16384, 8192, -8192, 1, 2, 3])], // a trailing partial frame
    ["id3 ", Uint8Array.of(9)],
  ]);
  const audio = decodeWav(bytes);
  assert.equal(audio.sampleRate, 16000);
  assert.deepEqual(audio.channels.map((c) => [...c]), [[0.5, 0.25, 1 / 32768], [
    -0.5,
    -0.25,
    2 / 32768,
  ]]);
});

Deno.test("decodeWav() reads a streamed file whose data size was never filled in", () => {
  const bytes = riff([["fmt ", fmtBody(1, 1, 8000, 16)], ["data", int16Body([100, 200, 300])]]);
  const view = new DataView(bytes.buffer);
  const dataSizeAt = 12 + 8 + 16 + 4;
  for (const placeholder of [0xffffffff, 0]) {
    view.setUint32(dataSizeAt, placeholder, true);
    assert.deepEqual([...decodeWav(bytes).channels[0]].map((x) => x * 32768), [100, 200, 300]);
  }
});

Deno.test("decodeWav() rejects a data chunk longer than the file unless strict is off", () => {
  const bytes = riff([["fmt ", fmtBody(1, 1, 8000, 16)], ["data", int16Body([1, 2, 3, 4])]]);
  const cut = bytes.subarray(0, bytes.length - 3); // 2.5 samples left
  assertFormatError(
    () => decodeWav(cut, { path: "cut.wav" }),
    /^cut\.wav: .*data chunk declares 8 bytes but only 5 remain/,
  );
  assert.deepEqual([...decodeWav(cut, { strict: false }).channels[0]].map((x) => x * 32768), [
    1,
    2,
  ]);
});

Deno.test("decodeWav() rejects malformed files with a one-line FormatError", async (t) => {
  const good = riff([["fmt ", fmtBody(1, 1, 8000, 16)], ["data", int16Body([1, 2])]]);
  const cases: [string, Uint8Array, RegExp][] = [
    ["empty", new Uint8Array(0), /empty/],
    ["shorter than a header", good.subarray(0, 11), /shorter than a RIFF header/],
    ["truncated header", good.subarray(0, 30), /chunk "fmt " declares 16 bytes but only 10 remain/],
    ["header only", good.subarray(0, 12), /no fmt chunk/],
    ["not WAVE", riff([["fmt ", fmtBody(1, 1, 8000, 16)]], "AVI "), /no RIFF\/WAVE header/],
    [
      "random text",
      new TextEncoder().encode("this is not a wav file at all"),
      /no RIFF\/WAVE header/,
    ],
    ["no data", riff([["fmt ", fmtBody(1, 1, 8000, 16)]]), /no data chunk/],
    ["no fmt", riff([["data", int16Body([1, 2])]]), /no fmt chunk/],
    [
      "short fmt",
      riff([["fmt ", new Uint8Array(8)], ["data", int16Body([1])]]),
      /fmt chunk is 8 bytes/,
    ],
    [
      "mu-law",
      riff([["fmt ", fmtBody(7, 1, 8000, 8)], ["data", Uint8Array.of(1)]]),
      /unsupported WAV format tag 7/,
    ],
    [
      "12-bit",
      riff([["fmt ", fmtBody(1, 1, 8000, 12, 2)], ["data", Uint8Array.of(1, 2)]]),
      /unsupported PCM bit depth 12/,
    ],
    [
      "16-bit float",
      riff([["fmt ", fmtBody(3, 1, 8000, 16)], ["data", int16Body([1])]]),
      /unsupported float bit depth 16/,
    ],
    [
      "0 channels",
      riff([["fmt ", fmtBody(1, 0, 8000, 16, 0)], ["data", int16Body([1])]]),
      /bad channel count 0/,
    ],
    [
      "rate 0",
      riff([["fmt ", fmtBody(1, 1, 0, 16)], ["data", int16Body([1])]]),
      /bad sample rate 0/,
    ],
    [
      "block align",
      riff([["fmt ", fmtBody(1, 2, 8000, 16, 3)], ["data", int16Body([1])]]),
      /block align 3/,
    ],
    [
      "bad GUID",
      (() => {
        const body = extensibleBody(1, 1, 8000, 16);
        body[30] = 0x11;
        return riff([["fmt ", body], ["data", int16Body([1])]]);
      })(),
      /sub-format GUID/,
    ],
    [
      "huge chunk before fmt",
      (() => {
        const b = riff([["JUNK", new Uint8Array(4)], ["fmt ", fmtBody(1, 1, 8000, 16)], [
          "data",
          int16Body([1]),
        ]]);
        new DataView(b.buffer).setUint32(16, 0x7fffffff, true);
        return b;
      })(),
      /chunk "JUNK" declares 2147483647 bytes/,
    ],
  ];
  for (const [name, bytes, pattern] of cases) {
    await t.step(name, () => assertFormatError(() => decodeWav(bytes), pattern));
  }
});

Deno.test("decodeWav() throws only FormatError on random and mutated bytes", () => {
  const good = encodeWav([tone(440, 8000, 64), tone(220, 8000, 64)], { sampleRate: 8000 });
  const check = (bytes: Uint8Array) => {
    try {
      const audio = decodeWav(bytes);
      // what decodes is consistent: equal-length channels within the file's size
      assert.ok(audio.channels.every((c) => c.length === audio.channels[0].length));
      assert.ok(audio.channels[0].length * audio.channels.length <= bytes.length);
    } catch (e) {
      if (!(e instanceof FormatError)) throw e;
    }
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), check), { seed: 7, numRuns: 300 });
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(good.length - 1), fc.nat(255)), { minLength: 1, maxLength: 6 }),
      fc.nat(good.length),
      (edits, cut) => {
        const bytes = good.slice(0, Math.max(cut, 0));
        for (const [at, v] of edits) if (at < bytes.length) bytes[at] = v;
        check(bytes);
      },
    ),
    { seed: 11, numRuns: 500 },
  );
});

Deno.test("encodeWav() round-trips through decodeWav() and ffmpeg reads what it writes", async () => {
  const left = tone(440, 16000, 1600, 0.9);
  const right = tone(880, 16000, 1600, 0.3);
  const float = decodeWav(encodeWav([left, right], { sampleRate: 16000, format: "float32" }));
  assert.equal(float.sampleRate, 16000);
  assert.deepEqual(float.channels, [left, right]);
  const pcm = decodeWav(encodeWav([left, right], { sampleRate: 16000, format: "pcm16" }));
  for (let i = 0; i < left.length; i++) {
    assert.ok(Math.abs(pcm.channels[0][i] - left[i]) <= 1 / 32768);
    assert.ok(Math.abs(pcm.channels[1][i] - right[i]) <= 1 / 32768);
  }
  // clipping
  const clipped =
    decodeWav(encodeWav([Float32Array.of(2, -2, NaN)], { sampleRate: 8000 })).channels[0];
  assert.deepEqual([...clipped], [32767 / 32768, -1, 0]);

  const dir = await Deno.makeTempDir();
  try {
    for (const format of ["pcm16", "float32"] as const) {
      await Deno.writeFile(
        `${dir}/in.wav`,
        encodeWav([left, right], { sampleRate: 16000, format }),
      );
      await ffmpeg(["-i", `${dir}/in.wav`, "-c:a", "pcm_f32le", `${dir}/out.wav`]);
      const back = decodeWav(await Deno.readFile(`${dir}/out.wav`));
      assert.equal(back.sampleRate, 16000);
      assert.equal(back.channels.length, 2);
      assert.equal(back.channels[0].length, 1600);
      for (let i = 0; i < left.length; i++) {
        assert.ok(Math.abs(back.channels[1][i] - right[i]) <= 1 / 32768);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("encodeWav() rejects bad arguments with RangeError", () => {
  assert.throws(() => encodeWav([], { sampleRate: 8000 }), RangeError);
  assert.throws(
    () => encodeWav([new Float32Array(2), new Float32Array(3)], { sampleRate: 8000 }),
    /channel 1 has 3/,
  );
  assert.throws(() => encodeWav([new Float32Array(2)], { sampleRate: 0 }), /sample rate 0/);
  assert.throws(() => encodeWav([new Float32Array(2)], { sampleRate: 44100.5 }), RangeError);
});
