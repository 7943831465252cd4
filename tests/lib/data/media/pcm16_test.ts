import assert from "node:assert/strict";
import { floatToPcm16, PCM16_SCALE, pcm16ToFloat } from "../../../../lib/data/media/pcm16.ts";
import { decodeWav, encodeWav } from "../../../../lib/data/media/wav.ts";

Deno.test("floatToPcm16() and pcm16ToFloat() use one scale: every int16 sample round-trips", () => {
  for (let s = -32768; s <= 32767; s++) {
    assert.equal(floatToPcm16(pcm16ToFloat(s)), s);
  }
  assert.equal(PCM16_SCALE, 32768);
});

Deno.test("floatToPcm16() writes within half a step of the value, clipping only above 32767/32768", () => {
  // By hand: 0.75 · 32768 = 24576 exactly; −0.3 · 32768 = −9830.4 → −9830; 1 clips to 32767.
  assert.equal(floatToPcm16(0.75), 24576);
  assert.equal(floatToPcm16(-0.3), -9830);
  assert.equal(floatToPcm16(1), 32767);
  assert.equal(floatToPcm16(-1.5), -32768);
  for (let i = 0; i <= 1000; i++) {
    const v = -1 + (2 * i) / 1000;
    const back = pcm16ToFloat(floatToPcm16(v));
    const bound = v > 32767 / 32768 ? 1 / 32768 : 1 / 65536;
    assert.ok(Math.abs(back - v) <= bound, `${v} came back as ${back}`);
  }
});

Deno.test("a 16-bit WAV decodes and re-encodes to the same bytes", () => {
  const samples = Float32Array.from([-1, -0.75, -1 / 32768, 0, 0.5, 32767 / 32768]);
  const bytes = encodeWav([samples], { sampleRate: 8000, format: "pcm16" });
  const decoded = decodeWav(bytes).channels[0];
  assert.deepEqual([...decoded], [...samples]);
  assert.deepEqual(encodeWav([decoded], { sampleRate: 8000, format: "pcm16" }), bytes);
});
