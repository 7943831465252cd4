import assert from "node:assert/strict";
import { embeddingMap } from "../../../../lib/eval/embeddings/map.ts";
import type { EmbeddingRows } from "../../../../lib/eval/embeddings/read.ts";

function rows(n: number, dims: Record<string, number> = { video: 4, audio: 4 }): EmbeddingRows {
  const out: EmbeddingRows = { ids: [], modality: [], index: new Int32Array(0), vectors: [] };
  const index: number[] = [];
  for (let i = 0; i < n; i++) {
    for (const [m, d] of Object.entries(dims)) {
      out.ids.push(`clip-${i}`);
      out.modality.push(m);
      index.push(m === "text" ? 1 : 0);
      out.vectors.push(Float32Array.from({ length: d }, (_, j) => Math.sin(i * 7 + j * 3 + d)));
    }
  }
  out.index = Int32Array.from(index);
  return out;
}

Deno.test("embeddingMap() colours by modality and labels each point", () => {
  const map = embeddingMap(rows(6), { method: "pca" });
  assert.equal(map.points.length, 12);
  assert.deepEqual(map.groups.slice(0, 2), ["video", "audio"]);
  assert.deepEqual(map.counts, { video: 6, audio: 6 });
  assert.equal(map.labels[1], "clip-0 audio");
  assert.ok(map.points.every(([x, y]) => Number.isFinite(x) && Number.isFinite(y)));
});

Deno.test("embeddingMap() colours by label from a clip-id map, unlabelled clips apart", () => {
  const labels = new Map([["clip-0", "red"], ["clip-1", "blue"]]);
  const map = embeddingMap(rows(3), { method: "pca", colorBy: "label", labels });
  assert.deepEqual(map.groups, ["red", "red", "blue", "blue", "(no label)", "(no label)"]);
  // Colour says the label, the marker the modality.
  assert.deepEqual(map.markers, ["video", "audio", "video", "audio", "video", "audio"]);
  // By modality, or with one modality only, there is nothing for markers to add.
  assert.equal(embeddingMap(rows(3), { method: "pca" }).markers, undefined);
  const one = rows(3, { video: 4 });
  assert.equal(embeddingMap(one, { method: "pca", colorBy: "label", labels }).markers, undefined);
  assert.throws(() => embeddingMap(rows(3), { colorBy: "label" }), /without the dataset's labels/);
});

Deno.test("embeddingMap() subsamples to maxPoints with the seed, and filters modalities", () => {
  const all = rows(20);
  const a = embeddingMap(all, { method: "pca", maxPoints: 7, seed: 3 });
  const b = embeddingMap(all, { method: "pca", maxPoints: 7, seed: 3 });
  const c = embeddingMap(all, { method: "pca", maxPoints: 7, seed: 4 });
  assert.equal(a.drawn, 7);
  assert.equal(a.total, 40);
  assert.deepEqual(a.labels, b.labels);
  assert.notDeepEqual(a.labels, c.labels);
  const video = embeddingMap(all, { method: "pca", modalities: ["video"] });
  assert.deepEqual(video.counts, { video: 20 });
  assert.throws(() => embeddingMap(all, { modalities: ["text"] }), /no rows of text/);
});

Deno.test("embeddingMap() refuses to map vectors of different lengths together", () => {
  const mixed = rows(5, { video: 4, text: 3 });
  assert.throws(() => embeddingMap(mixed, { method: "pca" }), /different lengths/);
  const text = embeddingMap(mixed, { method: "pca", modalities: ["text"] });
  assert.equal(text.labels[0], "clip-0 text#1");
});
