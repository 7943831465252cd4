import assert from "node:assert/strict";
import { join } from "node:path";
import { FormatError } from "../../../../lib/util/errors.ts";
import { ffmpegPath } from "../../../../lib/data/media/ffmpeg_path.ts";
import { decodeVideoClip, probeMedia } from "../../../../lib/data/media/ffmpeg_video.ts";

// ---------------------------------------------------------------- fixtures (made at test time)

type Rgb = "red" | "green" | "blue" | "yellow" | "other";
const HEX: Record<Exclude<Rgb, "other">, string> = {
  red: "0xFF0000",
  green: "0x00FF00",
  blue: "0x0000FF",
  yellow: "0xFFFF00",
};

/**
 * A `w×h` clip of four bands along its long side: green | red | blue | yellow,
 * with the red/blue edge in the middle. The outer bands lie entirely outside
 * the centred square crop; any off-centre crop shows green or yellow.
 */
function bandsGraph(w: number, h: number, edges: [number, number, number]): string {
  const landscape = w >= h;
  const box = (from: number, to: number, c: string) =>
    landscape
      ? `drawbox=x=${from}:y=0:w=${to - from}:h=${h}:color=${c}:t=fill`
      : `drawbox=x=0:y=${from}:w=${w}:h=${to - from}:color=${c}:t=fill`;
  const long = landscape ? w : h;
  return [
    `color=c=${HEX.green}:s=${w}x${h}:r=25:d=1`,
    box(edges[0], edges[1], HEX.red),
    box(edges[1], edges[2], HEX.blue),
    box(edges[2], long, HEX.yellow),
  ].join(",");
}

async function ffmpeg(args: string[]): Promise<void> {
  const out = await new Deno.Command(ffmpegPath(), {
    args: ["-hide_banner", "-nostdin", "-loglevel", "error", "-y", ...args],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
}

const H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"];
const VP9 = [
  "-c:v",
  "libvpx-vp9",
  "-deadline",
  "realtime",
  "-cpu-used",
  "8",
  "-pix_fmt",
  "yuv420p",
];

interface Fixtures {
  dir: string;
  landscapeMp4: string;
  landscapeWebm: string;
  portraitMp4: string;
  testsrcMp4: string;
  testsrcWebm: string;
  /** 2 s: red for 1 s, then blue for 1 s; with a sine audio track. */
  timeline: string;
  wav: string;
}

let fixtures: Promise<Fixtures> | undefined;

/** Makes the clips once per test file (about a second of ffmpeg time). */
function getFixtures(): Promise<Fixtures> {
  fixtures ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "vatt_ffmpeg_test_" });
    const f: Fixtures = {
      dir,
      landscapeMp4: join(dir, "landscape.mp4"),
      landscapeWebm: join(dir, "landscape.webm"),
      portraitMp4: join(dir, "portrait.mp4"),
      testsrcMp4: join(dir, "testsrc.mp4"),
      testsrcWebm: join(dir, "testsrc.webm"),
      timeline: join(dir, "timeline.mp4"),
      wav: join(dir, "tone.wav"),
    };
    const landscape = bandsGraph(320, 240, [30, 160, 290]);
    const testsrc = "testsrc=size=320x240:rate=25:duration=1";
    await Promise.all([
      ffmpeg(["-f", "lavfi", "-i", landscape, ...H264, f.landscapeMp4]),
      ffmpeg(["-f", "lavfi", "-i", landscape, ...VP9, f.landscapeWebm]),
      ffmpeg(["-f", "lavfi", "-i", bandsGraph(180, 320, [50, 160, 270]), ...H264, f.portraitMp4]),
      ffmpeg(["-f", "lavfi", "-i", testsrc, ...H264, f.testsrcMp4]),
      ffmpeg(["-f", "lavfi", "-i", testsrc, ...VP9, f.testsrcWebm]),
      ffmpeg([
        "-f",
        "lavfi",
        "-i",
        `color=c=${HEX.red}:s=64x48:r=25:d=1[a];color=c=${HEX.blue}:s=64x48:r=25:d=1[b];[a][b]concat`,
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=2",
        ...H264,
        "-c:a",
        "aac",
        "-shortest",
        f.timeline,
      ]),
      ffmpeg(["-f", "lavfi", "-i", "sine=frequency=440:duration=0.5", f.wav]),
    ]);
    return f;
  })();
  return fixtures;
}

// Last test of the file removes the folder.
async function removeFixtures(): Promise<void> {
  if (fixtures) await Deno.remove((await fixtures).dir, { recursive: true });
}

function colourAt(data: Uint8Array, size: number, f: number, y: number, x: number): Rgb {
  const o = ((f * size + y) * size + x) * 3;
  const [r, g, b] = [data[o], data[o + 1], data[o + 2]];
  const hi = (v: number) => v > 160;
  const lo = (v: number) => v < 96;
  if (hi(r) && lo(g) && lo(b)) return "red";
  if (lo(r) && hi(g) && lo(b)) return "green";
  if (lo(r) && lo(g) && hi(b)) return "blue";
  if (hi(r) && hi(g) && lo(b)) return "yellow";
  return "other";
}

/** Colours of every pixel of frame `f`, along `axis` ("x": per column of row y, etc.). */
function colours(data: Uint8Array, size: number, f: number): Rgb[][] {
  const out: Rgb[][] = [];
  for (let y = 0; y < size; y++) {
    const row: Rgb[] = [];
    for (let x = 0; x < size; x++) row.push(colourAt(data, size, f, y, x));
    out.push(row);
  }
  return out;
}

function frame(data: Uint8Array, size: number, f: number): Uint8Array {
  const n = size * size * 3;
  return data.subarray(f * n, (f + 1) * n);
}

// ---------------------------------------------------------------- tests

Deno.test("decodeVideoClip() returns frames·size·size·3 bytes for H.264 and VP9", async () => {
  const f = await getFixtures();
  for (const path of [f.testsrcMp4, f.testsrcWebm]) {
    for (const [frames, fps, size] of [[8, 8, 32], [3, 2.5, 17], [1, 25, 1]]) {
      const clip = await decodeVideoClip(path, { frames, fps, size });
      assert.ok(clip.data instanceof Uint8Array);
      assert.equal(clip.data.length, frames * size * size * 3, `${path} ${frames} ${size}`);
      assert.equal(clip.validFrames, frames);
    }
  }
});

Deno.test("decodeVideoClip() centre-crops a landscape clip (mp4 and webm, even and odd sizes)", async () => {
  const f = await getFixtures();
  for (const path of [f.landscapeMp4, f.landscapeWebm]) {
    for (const size of [24, 17]) {
      const clip = await decodeVideoClip(path, { frames: 2, fps: 5, size });
      const grid = colours(clip.data, size, 1);
      for (let y = 0; y < size; y++) {
        const row = grid[y];
        assert.ok(!row.includes("green") && !row.includes("yellow"), `${path} ${size}: ${row}`);
        // Left half red, right half blue: the red/blue edge sits in the middle (±1 px).
        const reds = row.filter((c) => c === "red").length;
        const blues = row.filter((c) => c === "blue").length;
        assert.ok(Math.abs(reds - blues) <= 2, `${path} ${size} row ${y}: ${row}`);
        assert.ok(reds + blues >= size - 2, `${path} ${size} row ${y}: ${row}`);
        assert.equal(row[0], "red");
        assert.equal(row[size - 1], "blue");
      }
    }
  }
});

Deno.test("decodeVideoClip() centre-crops a portrait 180x320 clip", async () => {
  const f = await getFixtures();
  for (const size of [24, 17]) {
    const clip = await decodeVideoClip(f.portraitMp4, { frames: 1, fps: 5, size });
    const grid = colours(clip.data, size, 0);
    for (let x = 0; x < size; x++) {
      const column = grid.map((row) => row[x]);
      assert.ok(!column.includes("green") && !column.includes("yellow"), `${size}: ${column}`);
      const reds = column.filter((c) => c === "red").length;
      const blues = column.filter((c) => c === "blue").length;
      assert.ok(Math.abs(reds - blues) <= 2, `${size} column ${x}: ${column}`);
      assert.equal(column[0], "red");
      assert.equal(column[size - 1], "blue");
    }
  }
});

Deno.test("decodeVideoClip() starts at `start` seconds", async () => {
  const f = await getFixtures();
  const size = 8;
  const fromZero = await decodeVideoClip(f.timeline, { frames: 8, fps: 4, size });
  assert.equal(fromZero.validFrames, 8);
  const seq = Array.from({ length: 8 }, (_, i) => colourAt(fromZero.data, size, i, 4, 4));
  assert.deepEqual(seq.slice(0, 3), ["red", "red", "red"]);
  assert.deepEqual(seq.slice(5), ["blue", "blue", "blue"]);
  const tiny = await decodeVideoClip(f.timeline, { frames: 1, fps: 4, size, start: 1e-9 });
  assert.equal(colourAt(tiny.data, size, 0, 4, 4), "red");
  const later = await decodeVideoClip(f.timeline, { frames: 2, fps: 4, size, start: 1.25 });
  assert.equal(later.validFrames, 2);
  assert.equal(colourAt(later.data, size, 0, 4, 4), "blue");
  assert.equal(colourAt(later.data, size, 1, 4, 4), "blue");
});

Deno.test("decodeVideoClip() pads a short clip with its last frame and counts real frames", async () => {
  const f = await getFixtures();
  const size = 8;
  // 2 s clip, window from 1.5 s: only 1.5 and 1.75 exist at 4 fps.
  const clip = await decodeVideoClip(f.timeline, { frames: 6, fps: 4, size, start: 1.5 });
  assert.equal(clip.validFrames, 2);
  assert.equal(clip.data.length, 6 * size * size * 3);
  for (let i = 2; i < 6; i++) {
    assert.deepEqual(frame(clip.data, size, i), frame(clip.data, size, 1));
  }
  assert.equal(colourAt(clip.data, size, 5, 0, 0), "blue");
  // Only 0.1 s left: the last decoded frame still counts.
  const tail = await decodeVideoClip(f.timeline, { frames: 3, fps: 4, size, start: 1.9 });
  assert.equal(tail.validFrames, 1);
  assert.equal(colourAt(tail.data, size, 2, 0, 0), "blue");
  // A window past the end has no real frame: zeros.
  const past = await decodeVideoClip(f.timeline, { frames: 3, fps: 4, size, start: 10 });
  assert.equal(past.validFrames, 0);
  assert.ok(past.data.every((v) => v === 0));
});

Deno.test("decodeVideoClip() throws FormatError with ffmpeg's reason on bad inputs", async (t) => {
  const f = await getFixtures();
  const bad = join(f.dir, "bad");
  await Deno.mkdir(bad, { recursive: true });
  await Deno.writeFile(join(bad, "empty.mp4"), new Uint8Array());
  await Deno.writeTextFile(join(bad, "text.mp4"), "this is not a video\n");
  const mp4 = await Deno.readFile(f.testsrcMp4);
  await Deno.writeFile(join(bad, "truncated.mp4"), mp4.subarray(0, mp4.length >> 1));
  const cases: [string, string, RegExp][] = [
    ["missing", join(bad, "missing.mp4"), /file not found/],
    ["zero-length", join(bad, "empty.mp4"), /empty/],
    ["text named .mp4", join(bad, "text.mp4"), /Invalid data found/],
    ["truncated mp4", join(bad, "truncated.mp4"), /cannot decode video: \S/],
    ["audio only", f.wav, /matches no streams/],
    ["a folder", bad, /not a regular file/],
  ];
  for (const [name, path, message] of cases) {
    await t.step(name, async () => {
      const t0 = performance.now();
      await assert.rejects(
        decodeVideoClip(path, { frames: 4, fps: 4, size: 16, timeoutMs: 10_000 }),
        (e: unknown) => {
          assert.ok(e instanceof FormatError, String(e));
          assert.equal(e.path, path);
          assert.match(e.message, message);
          assert.ok(!e.message.includes("\n"), e.message);
          return true;
        },
      );
      assert.ok(performance.now() - t0 < 10_000);
    });
  }
});

Deno.test("decodeVideoClip() kills an ffmpeg that hangs", async () => {
  const f = await getFixtures();
  const fake = join(f.dir, "hanging_ffmpeg.sh");
  // `sleep` runs as a child of the shell, so it keeps the pipes open after the shell is killed.
  await Deno.writeTextFile(fake, "#!/bin/sh\nsleep 5\n");
  await Deno.chmod(fake, 0o755);
  const t0 = performance.now();
  await assert.rejects(
    decodeVideoClip(f.testsrcMp4, { frames: 2, fps: 4, size: 8, ffmpeg: fake, timeoutMs: 300 }),
    (e: unknown) => e instanceof FormatError && /did not finish within 300 ms/.test(e.message),
  );
  assert.ok(performance.now() - t0 < 3000, `took ${performance.now() - t0} ms`);
});

Deno.test("decodeVideoClip() rejects bad options", async () => {
  const f = await getFixtures();
  const base = { frames: 2, fps: 4, size: 8 };
  for (
    const options of [
      { ...base, frames: 0 },
      { ...base, frames: 1.5 },
      { ...base, size: 0 },
      { ...base, fps: 0 },
      { ...base, fps: Number.NaN },
      { ...base, fps: 1e-7 },
      { ...base, start: -1 },
      { ...base, start: 1e21 },
      { ...base, timeoutMs: 0 },
      { ...base, frames: 100_000, size: 1024 },
    ]
  ) {
    await assert.rejects(
      decodeVideoClip(f.testsrcMp4, options),
      RangeError,
      JSON.stringify(options),
    );
  }
});

Deno.test("probeMedia() reads duration, streams and size", async () => {
  const f = await getFixtures();
  const land = await probeMedia(f.landscapeMp4);
  assert.deepEqual({ ...land, durationSeconds: undefined }, {
    hasVideo: true,
    hasAudio: false,
    width: 320,
    height: 240,
    durationSeconds: undefined,
  });
  assert.ok(Math.abs(land.durationSeconds! - 1) < 0.1, String(land.durationSeconds));
  const portrait = await probeMedia(f.portraitMp4);
  assert.equal(portrait.width, 180);
  assert.equal(portrait.height, 320);
  const webm = await probeMedia(f.testsrcWebm);
  assert.ok(webm.hasVideo && webm.width === 320 && webm.height === 240);
  const both = await probeMedia(f.timeline);
  assert.ok(both.hasVideo && both.hasAudio);
  assert.ok(Math.abs(both.durationSeconds! - 2) < 0.1, String(both.durationSeconds));
  const wav = await probeMedia(f.wav);
  assert.equal(wav.hasVideo, false);
  assert.equal(wav.hasAudio, true);
  assert.equal(wav.width, undefined);
  await Deno.writeTextFile(join(f.dir, "notes.mp4"), "not media");
  await assert.rejects(probeMedia(join(f.dir, "notes.mp4")), /cannot read media: Invalid data/);
  await assert.rejects(probeMedia(join(f.dir, "nothing.mp4")), FormatError);
});

Deno.test("(cleanup) remove the generated clips", async () => {
  await removeFixtures();
});
