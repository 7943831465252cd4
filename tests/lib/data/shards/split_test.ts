import assert from "node:assert/strict";
import {
  type DatasetLabels,
  hasAnyModality,
  labelledIndices,
  requireLabels,
  requireModalities,
  splitByClip,
} from "../../../../lib/data/shards/split.ts";

function singleLabel(labels: number[], ids?: string[]): DatasetLabels {
  const n = labels.length;
  return {
    ids: ids ?? labels.map((_, i) => `clip-${i}`),
    labels: Int32Array.from(labels),
    names: ["a", "b", "c", "d"],
    multiLabel: false,
    audioMask: new Uint8Array(n).fill(1),
    captionMask: new Uint8Array(n).fill(1),
  };
}

Deno.test("splitByClip() stratifies: each class sends round(f·n_c) clips to validation", () => {
  const labels = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, -1, -1];
  const s = splitByClip(singleLabel(labels), { valFraction: 0.25, seed: 3 });
  const count = (list: number[], c: number) => list.filter((i) => labels[i] === c).length;
  for (const c of [0, 1, 2]) assert.equal(count(s.val, c), 1);
  assert.equal(count(s.val, 3), 1); // two clips: at least one held out
  assert.equal(s.train.length + s.val.length, 14); // the two unlabelled clips are out
  assert.ok(!s.train.includes(14) && !s.val.includes(15));
  assert.equal(new Set([...s.train, ...s.val]).size, 14);
  assert.deepEqual(s.train, [...s.train].sort((a, b) => a - b));
});

Deno.test("splitByClip() depends on the clip ids and seed, not on dataset order", () => {
  const labels = [0, 1, 0, 1, 0, 1, 0, 1, 0, 1];
  const ids = labels.map((_, i) => `id-${i}`);
  const a = splitByClip(singleLabel(labels, ids), { valFraction: 0.4, seed: 9 });
  const order = [7, 2, 9, 0, 4, 1, 8, 3, 6, 5];
  const b = splitByClip(
    singleLabel(order.map((i) => labels[i]), order.map((i) => ids[i])),
    { valFraction: 0.4, seed: 9 },
  );
  const valIds = (l: number[], idList: string[]) => l.map((i) => idList[i]).sort();
  assert.deepEqual(valIds(a.val, ids), valIds(b.val, order.map((i) => ids[i])));
  const c = splitByClip(singleLabel(labels, ids), { valFraction: 0.4, seed: 10 });
  const seeds = [
    c,
    ...[11, 12, 13].map((seed) =>
      splitByClip(singleLabel(labels, ids), { valFraction: 0.4, seed })
    ),
  ];
  assert.ok(seeds.some((s) => s.val.join() !== a.val.join()), "the seed changes the split");
});

Deno.test("splitByClip() with fraction 0 keeps every labelled clip for training", () => {
  const s = splitByClip(singleLabel([0, 1, -1, 2]), { valFraction: 0, seed: 0 });
  assert.deepEqual(s, { train: [0, 1, 3], val: [] });
  assert.throws(() => splitByClip(singleLabel([0]), { valFraction: 1, seed: 0 }), RangeError);
});

Deno.test("splitByClip() on multi-label data holds out round(f·N) clips, unlabelled rows included", () => {
  const n = 10;
  const l: DatasetLabels = {
    ids: Array.from({ length: n }, (_, i) => `m${i}`),
    labels: new Uint8Array(n * 3).map((_, k) => (k % 4 === 0 ? 1 : 0)),
    names: ["x", "y", "z"],
    multiLabel: true,
    audioMask: new Uint8Array(n),
    captionMask: new Uint8Array(n),
  };
  assert.equal(labelledIndices(l).length, n);
  const s = splitByClip(l, { valFraction: 0.3, seed: 1 });
  assert.equal(s.val.length, 3);
  assert.equal(s.train.length, 7);
});

Deno.test("requireLabels() refuses a dataset without classes or without a labelled clip", () => {
  assert.throws(() => requireLabels({ ...singleLabel([-1, -1]) }, "data"), /no labels/);
  assert.throws(() => requireLabels({ ...singleLabel([0]), names: [] }, "data"), /no labels/);
  requireLabels(singleLabel([-1, 2]), "data");
});

Deno.test("requireModalities() names the modality no clip has", () => {
  const l = {
    ...singleLabel([0, 1]),
    audioMask: new Uint8Array(2),
    captionMask: new Uint8Array([0, 1]),
  };
  assert.throws(() => requireModalities(l, { modalities: ["audio"], where: "d" }), /no audio/);
  requireModalities(l, { modalities: ["video", "text"], where: "d" });
  const noText = { ...l, captionMask: new Uint8Array(2) };
  assert.throws(() => requireModalities(noText, { modalities: ["text"], where: "d" }), /no text/);
});

const modalityLabels = {
  ids: ["video+audio", "audio-only", "video-only", "captions-only"],
  labels: new Int32Array([0, 1, 0, 1]),
  names: ["x", "y"],
  multiLabel: false,
  audioMask: Uint8Array.of(1, 1, 0, 0),
  captionMask: Uint8Array.of(0, 0, 0, 1),
  videoMask: Uint8Array.of(1, 0, 1, 0),
};

/** The clips a classifier on `modalities` keeps. */
function kept(modalities: string[], labels = modalityLabels): string[] {
  return labels.ids.filter((_, i) => hasAnyModality(labels, modalities, i));
}

Deno.test("hasAnyModality(): a probe trains on the clips that have one of its modalities", () => {
  assert.deepEqual(kept(["audio"]), ["video+audio", "audio-only"]);
  assert.deepEqual(kept(["video"]), ["video+audio", "video-only"]);
  assert.deepEqual(kept(["text"]), ["captions-only"]);
  assert.deepEqual(kept(["video", "audio"]), ["video+audio", "audio-only", "video-only"]);
});

Deno.test("hasAnyModality(): a dataset without video_mask (older shards) has video everywhere", () => {
  const { videoMask: _, ...old } = modalityLabels;
  assert.deepEqual(kept(["video"], old as typeof modalityLabels), modalityLabels.ids);
});
