import assert from "node:assert/strict";
import { hasAnyModality } from "../../../lib/train/finetune_plan.ts";

const base = {
  ids: ["video+audio", "audio-only", "video-only", "captions-only"],
  labels: new Int32Array([0, 1, 0, 1]),
  names: ["x", "y"],
  multiLabel: false,
  audioMask: Uint8Array.of(1, 1, 0, 0),
  captionMask: Uint8Array.of(0, 0, 0, 1),
  videoMask: Uint8Array.of(1, 0, 1, 0),
};

/** The clips a classifier on `modalities` keeps. */
function kept(modalities: string[], labels = base): string[] {
  return labels.ids.filter((_, i) => hasAnyModality(labels, modalities, i));
}

Deno.test("hasAnyModality(): a probe trains on the clips that have one of its modalities", () => {
  assert.deepEqual(kept(["audio"]), ["video+audio", "audio-only"]);
  assert.deepEqual(kept(["video"]), ["video+audio", "video-only"]);
  assert.deepEqual(kept(["text"]), ["captions-only"]);
  assert.deepEqual(kept(["video", "audio"]), ["video+audio", "audio-only", "video-only"]);
});

Deno.test("hasAnyModality(): a dataset without video_mask (older shards) has video everywhere", () => {
  const { videoMask: _, ...old } = base;
  assert.deepEqual(kept(["video"], old as typeof base), base.ids);
});
