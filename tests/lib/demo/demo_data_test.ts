import assert from "node:assert/strict";
import { isAbsolute, join, normalize } from "node:path";
import {
  DEMO_HUES,
  DEMO_PITCHES,
  type DemoClipSpec,
  type DemoManifestRow,
  generateDemoData,
  planDemoClips,
  renderClipFrames,
  resolveDemoDataOptions,
  synthesizeClipAudio,
} from "../../../lib/demo/demo_data.ts";
import { ffmpegPath } from "../../../lib/data/media/ffmpeg_path.ts";

const SMALL = { clips: 8, seed: 3, seconds: 4 };

async function ffmpeg(args: string[]): Promise<{ ok: boolean; stdout: Uint8Array; log: string }> {
  const out = await new Deno.Command(ffmpegPath(), {
    args: ["-hide_banner", "-nostdin", "-v", "error", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { ok: out.success, stdout: out.stdout, log: new TextDecoder().decode(out.stderr) };
}

async function readRows(manifestPath: string): Promise<DemoManifestRow[]> {
  const text = await Deno.readTextFile(manifestPath);
  return text.trim().split("\n").map((line) => JSON.parse(line));
}

async function firstFrame(file: string): Promise<Uint8Array> {
  const r = await ffmpeg([
    "-i",
    file,
    "-frames:v",
    "1",
    "-f",
    "rawvideo",
    "-pix_fmt",
    "rgb24",
    "-",
  ]);
  assert.ok(r.ok, r.log);
  return r.stdout;
}

/** Hue (degrees), saturation and value of an RGB pixel in 0–255. */
function hsv(r: number, g: number, b: number): [number, number, number] {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const d = max - min;
  let h = 0;
  if (d > 0) {
    if (max === r) h = 60 * (((g - b) / d) % 6);
    else if (max === g) h = 60 * ((b - r) / d + 2);
    else h = 60 * ((r - g) / d + 4);
  }
  return [(h + 360) % 360, max === 0 ? 0 : d / max, max / 255];
}

/** Circular mean hue and mean x of the strongly coloured pixels of one frame. */
function colouredPixels(
  frame: Uint8Array,
  width: number,
): { hue: number; x: number; count: number } {
  let sx = 0;
  let sy = 0;
  let px = 0;
  let count = 0;
  for (let i = 0; i < frame.length / 3; i++) {
    const [h, s, v] = hsv(frame[3 * i], frame[3 * i + 1], frame[3 * i + 2]);
    if (s < 0.6 || v < 0.5) continue;
    sx += Math.cos((h * Math.PI) / 180);
    sy += Math.sin((h * Math.PI) / 180);
    px += i % width;
    count++;
  }
  return { hue: ((Math.atan2(sy, sx) * 180) / Math.PI + 360) % 360, x: px / count, count };
}

function hueDistance(a: number, b: number): number {
  const d = Math.abs(a - b) % 360;
  return Math.min(d, 360 - d);
}

/** The frequency (on a 1/48-octave grid over 100–3000 Hz) with the most energy in `x`. */
function dominantFrequency(x: Float32Array, sampleRate: number): number {
  let best = 0;
  let bestPower = -1;
  for (let f = 100; f < 3000; f *= 2 ** (1 / 48)) {
    const w = (2 * Math.PI * f) / sampleRate;
    const c = 2 * Math.cos(w);
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < x.length; i++) {
      const s0 = x[i] + c * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    const power = s1 * s1 + s2 * s2 - c * s1 * s2;
    if (power > bestPower) [best, bestPower] = [f, power];
  }
  return best;
}

Deno.test("generateDemoData() writes a manifest of real media files with relative paths", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "demo");
    const progress: [number, number][] = [];
    const result = await generateDemoData(out, {
      ...SMALL,
      onProgress: (done, total) => progress.push([done, total]),
    });
    assert.equal(result.clips, SMALL.clips);
    assert.equal(result.manifestPath, join(out, "manifest.jsonl"));
    assert.deepEqual(progress.map(([d]) => d), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.ok(progress.every(([, t]) => t === SMALL.clips));

    const classes = (await Deno.readTextFile(join(out, "classes.txt"))).trim().split("\n");
    assert.deepEqual(classes, result.classes);
    assert.ok(classes.length >= 6 && classes.length <= 8, `${classes.length} classes`);

    const rows = await readRows(result.manifestPath);
    assert.equal(rows.length, SMALL.clips);
    assert.equal(new Set(rows.map((r) => r.id)).size, rows.length);
    const extensions = new Set<string>();
    let embedded = 0;
    for (const row of rows) {
      assert.ok(classes.includes(row.label), row.label);
      assert.ok(row.captions.length >= 3 && row.captions.length <= 5, row.captions.join(" / "));
      assert.equal(new Set(row.captions).size, row.captions.length);
      const files = row.audio === undefined ? [row.video] : [row.video, row.audio];
      for (const file of files) {
        assert.ok(!isAbsolute(file) && !normalize(file).startsWith(".."), file);
        const check = await ffmpeg(["-i", join(out, file), "-f", "null", "-"]);
        assert.ok(check.ok, `${file}: ${check.log}`);
      }
      if (row.audio === undefined) {
        // The sound is the mp4's own track: selecting the audio stream must work.
        const track = await ffmpeg([
          "-i",
          join(out, row.video),
          "-map",
          "0:a:0",
          "-f",
          "null",
          "-",
        ]);
        assert.ok(track.ok, `${row.video} has no audio track: ${track.log}`);
        embedded++;
      } else {
        extensions.add(row.audio.slice(row.audio.lastIndexOf(".") + 1));
      }
    }
    assert.ok(extensions.has("wav"), [...extensions].join());
    assert.ok(
      ["flac", "mp3", "ogg", "opus"].some((e) => extensions.has(e)),
      [...extensions].join(),
    );
    assert.ok(embedded >= 1);
    // Nothing else is left beside the finished folder.
    const siblings = [];
    for await (const e of Deno.readDir(dir)) siblings.push(e.name);
    assert.deepEqual(siblings, ["demo"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("generateDemoData() gives the same manifest and frames for the same seed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const options = { clips: 3, seed: 11, seconds: 1 };
    const a = await generateDemoData(join(dir, "a"), options);
    const b = await generateDemoData(join(dir, "b"), options);
    const c = await generateDemoData(join(dir, "c"), { ...options, seed: 12 });
    const [ta, tb, tc] = await Promise.all(
      [a, b, c].map((r) => Deno.readTextFile(r.manifestPath)),
    );
    assert.equal(ta, tb);
    assert.notEqual(ta, tc);
    const rows = await readRows(a.manifestPath);
    for (const row of rows) {
      const fa = await firstFrame(join(dir, "a", row.video));
      const fb = await firstFrame(join(dir, "b", row.video));
      assert.equal(fa.length, 128 * 96 * 3);
      let maxDiff = 0;
      for (let i = 0; i < fa.length; i++) maxDiff = Math.max(maxDiff, Math.abs(fa[i] - fb[i]));
      assert.ok(maxDiff <= 2, `${row.video}: frames differ by up to ${maxDiff}`);
    }
    const fc = await firstFrame(join(dir, "c", rows[0].video));
    const fa = await firstFrame(join(dir, "a", rows[0].video));
    assert.notDeepEqual(fa, fc);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("generateDemoData() refuses a non-empty folder unless force; force keeps unrelated files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "keep.txt"), "user data");
    await Deno.mkdir(join(dir, "video"));
    await Deno.writeTextFile(join(dir, "video", "mine.mp4"), "user video");
    await assert.rejects(() => generateDemoData(dir, { clips: 1, seconds: 1 }), RangeError);
    assert.equal(await Deno.readTextFile(join(dir, "keep.txt")), "user data");
    const result = await generateDemoData(dir, { clips: 3, seconds: 1, force: true });
    assert.equal((await readRows(result.manifestPath)).length, 3);
    // --force removes only what demo-data wrote: the user's files stay.
    assert.equal(await Deno.readTextFile(join(dir, "keep.txt")), "user data");
    assert.equal(await Deno.readTextFile(join(dir, "video", "mine.mp4")), "user video");
    const owned = JSON.parse(await Deno.readTextFile(join(dir, "demo-data.json"))).files;
    assert.ok(owned.includes("video/clip-00002.mp4"));
    // A smaller run over it removes the clips the earlier run wrote and this one does not.
    await generateDemoData(dir, { clips: 1, seconds: 1, force: true });
    await assert.rejects(
      () => Deno.stat(join(dir, "video", "clip-00002.mp4")),
      Deno.errors.NotFound,
    );
    assert.equal(await Deno.readTextFile(join(dir, "keep.txt")), "user data");
    assert.equal(await Deno.readTextFile(join(dir, "video", "mine.mp4")), "user video");
    // A FIFO where a clip goes is never replaced.
    await Deno.remove(join(dir, "classes.txt"));
    const mk = await new Deno.Command("mkfifo", { args: [join(dir, "classes.txt")] }).output();
    assert.ok(mk.success);
    await assert.rejects(
      () => generateDemoData(dir, { clips: 1, seconds: 1, force: true }),
      /classes\.txt is a FIFO/,
    );
    assert.ok((await Deno.lstat(join(dir, "classes.txt"))).isFifo);
    // An existing empty folder is fine without force.
    const empty = await Deno.makeTempDir();
    try {
      const r = await generateDemoData(empty, { clips: 1, seconds: 1 });
      assert.equal((await readRows(r.manifestPath)).length, 1);
    } finally {
      await Deno.remove(empty, { recursive: true });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("generateDemoData() leaves no folder behind when ffmpeg fails", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(() =>
      generateDemoData(join(dir, "demo"), { clips: 2, seconds: 1, ffmpeg: join(dir, "no-ffmpeg") })
    );
    const left = [];
    for await (const e of Deno.readDir(dir)) left.push(e.name);
    assert.deepEqual(left, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resolveDemoDataOptions() rejects sizes and rates the encoders cannot take", async (t) => {
  await t.step(
    "odd width",
    () => assert.throws(() => resolveDemoDataOptions({ width: 65 }), RangeError),
  );
  await t.step(
    "no clips",
    () => assert.throws(() => resolveDemoDataOptions({ clips: 0 }), RangeError),
  );
  await t.step(
    "fractional clips",
    () => assert.throws(() => resolveDemoDataOptions({ clips: 1.5 }), TypeError),
  );
  await t.step(
    "44.1 kHz",
    () => assert.throws(() => resolveDemoDataOptions({ sampleRate: 44100 }), RangeError),
  );
  await t.step("defaults", () => {
    const o = resolveDemoDataOptions();
    assert.equal(o.clips, 96);
    assert.ok(o.seconds * o.fps >= 32 && o.seconds >= 3.2 + 0.5);
  });
});

Deno.test("planDemoClips() balances and shuffles classes and words captions differently", () => {
  const specs = planDemoClips({ clips: 96 });
  const counts = new Map<string, number>();
  for (const s of specs) counts.set(s.label, (counts.get(s.label) ?? 0) + 1);
  assert.ok(counts.size >= 6);
  assert.ok([...counts.values()].every((n) => n === 96 / counts.size), JSON.stringify([...counts]));
  // The id order is not the class order.
  const inOrder = specs.every((s, i) => i === 0 || s.classIndex >= specs[i - 1].classIndex);
  assert.ok(!inOrder);
  const cyclic = specs.every((s, i) => s.classIndex === i % counts.size);
  assert.ok(!cyclic);
  const captions = specs.flatMap((s) => s.captions);
  assert.ok(new Set(captions).size > 0.9 * captions.length);
  // Within a class, the nuisance factors vary.
  const reds = specs.filter((s) => s.label === specs[0].label);
  assert.ok(new Set(reds.map((s) => s.shape)).size > 1);
  assert.ok(new Set(reds.map((s) => Math.round(s.video.radius))).size > 1);
});

Deno.test("renderClipFrames() and synthesizeClipAudio() are pure functions of the seed", () => {
  const options = { clips: 2, seed: 5, seconds: 1, width: 64, height: 48 };
  const [a, b] = [planDemoClips(options), planDemoClips(options)];
  assert.deepEqual(a, b);
  assert.deepEqual(renderClipFrames(a[1]), renderClipFrames(b[1]));
  assert.deepEqual(synthesizeClipAudio(a[1]), synthesizeClipAudio(b[1]));
  const other = planDemoClips({ ...options, seed: 6 });
  assert.notDeepEqual(renderClipFrames(a[1]), renderClipFrames(other[1]));
  assert.notDeepEqual(synthesizeClipAudio(a[1]), synthesizeClipAudio(other[1]));
});

Deno.test("renderClipFrames() shows the class's colour moving in the class's direction", () => {
  const specs = planDemoClips({ clips: 16, seed: 2, seconds: 3 });
  const hues = new Map<string, number[]>();
  for (const spec of specs) {
    const frames = renderClipFrames(spec);
    const size = spec.width * spec.height * 3;
    const first = colouredPixels(frames.subarray(0, size), spec.width);
    const last = colouredPixels(frames.subarray((spec.frames - 1) * size), spec.width);
    assert.ok(first.count > 20 && last.count > 20, `${spec.id}: shape not found`);
    assert.ok(hueDistance(first.hue, DEMO_HUES[spec.colour]) < 20, `${spec.id}: hue ${first.hue}`);
    const moved = last.x - first.x;
    assert.ok(spec.motion === "right" ? moved > 10 : moved < -10, `${spec.id}: moved ${moved}`);
    hues.set(spec.colour, [...(hues.get(spec.colour) ?? []), first.hue]);
  }
  // Every clip of a colour is closer in hue to the others of its colour than to any other colour.
  const colours = [...hues.keys()];
  assert.ok(colours.length >= 3);
  for (const c of colours) {
    for (const d of colours) {
      if (c === d) continue;
      for (const h of hues.get(c)!) {
        const within = Math.max(...hues.get(c)!.map((o) => hueDistance(h, o)));
        const across = Math.min(...hues.get(d)!.map((o) => hueDistance(h, o)));
        assert.ok(within < across, `${c} vs ${d}: ${within} ≥ ${across}`);
      }
    }
  }
});

Deno.test("synthesizeClipAudio() encodes the colour in pitch and the direction in the sweep", () => {
  const specs: DemoClipSpec[] = planDemoClips({ clips: 16, seed: 4, seconds: 4 });
  for (const spec of specs) {
    const x = synthesizeClipAudio(spec);
    const q = Math.floor(x.length / 4);
    const start = dominantFrequency(x.subarray(0, q), spec.sampleRate);
    const middle = dominantFrequency(
      x.subarray(Math.floor(1.5 * q), Math.floor(2.5 * q)),
      spec.sampleRate,
    );
    const end = dominantFrequency(x.subarray(3 * q), spec.sampleRate);
    const octaves = Math.abs(Math.log2(middle / DEMO_PITCHES[spec.colour]));
    assert.ok(octaves < 0.3, `${spec.id} (${spec.colour}): ${middle.toFixed(0)} Hz`);
    assert.ok(
      spec.motion === "right" ? end > start : end < start,
      `${spec.id} (${spec.motion}): ${start.toFixed(0)} → ${end.toFixed(0)} Hz`,
    );
  }
});
