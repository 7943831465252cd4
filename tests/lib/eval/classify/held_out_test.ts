import assert from "node:assert/strict";
import { chooseEvalClips } from "../../../../lib/eval/classify/held_out.ts";
import { MismatchError } from "../../../../lib/util/errors.ts";
import { splitByClip } from "../../../../lib/data/shards/split.ts";

const none = new Uint8Array(6);
/** Six clips of two classes; clip "f" has no label. */
const labels = {
  ids: ["a", "b", "c", "d", "e", "f"],
  labels: Int32Array.of(0, 0, 0, 1, 1, -1),
  names: ["x", "y"],
  multiLabel: false,
  audioMask: none,
  captionMask: none,
};
const labelled = [0, 1, 2, 3, 4];
const trainData = { fingerprint: "f1", dir: "/data/train" };
/** A run that trained on a, c, d and held out b and e. */
const run = {
  dir: "/runs/ft",
  dataDir: "/data/train",
  trainedOn: { data: "f1", trainClips: 3, heldOut: ["b", "e"] },
};

Deno.test("chooseEvalClips() on the run's training data scores only its held-out clips", () => {
  const c = chooseEvalClips(run, labels, { labelled, data: trainData });
  assert.deepEqual(c, { indices: [1, 4], source: "held-out", trainingClips: 0 });
});

Deno.test("chooseEvalClips() knows the training data by content, wherever the folder is", () => {
  const copy = chooseEvalClips(run, labels, {
    labelled,
    data: { fingerprint: "f1", dir: "/copy" },
  });
  assert.deepEqual(copy.indices, [1, 4]);
  // Same folder, tokenized again (other content): still the training data, by clip id.
  const again = chooseEvalClips(run, labels, {
    labelled,
    data: { fingerprint: "f9", dir: "/data/train" },
  });
  assert.deepEqual(again.indices, [1, 4]);
});

Deno.test("chooseEvalClips() with includeTrain scores every labelled clip and counts the training ones", () => {
  const c = chooseEvalClips(run, labels, { labelled, data: trainData, includeTrain: true });
  assert.deepEqual(c, { indices: labelled, source: "include-train", trainingClips: 3 });
});

Deno.test("chooseEvalClips() scores every labelled clip of other data", () => {
  const c = chooseEvalClips(run, labels, {
    labelled,
    data: { fingerprint: "f2", dir: "/data/val" },
  });
  assert.deepEqual(c, { indices: labelled, source: "other-data", trainingClips: 0 });
  const unknown = chooseEvalClips(undefined, labels, { labelled, data: trainData });
  assert.equal(unknown.source, "unknown");
});

Deno.test("chooseEvalClips() refuses the training data of a run that validated on --val data", () => {
  const valRun = {
    dir: "/runs/ft",
    dataDir: "/data/train",
    valDir: "/data/val",
    trainedOn: { data: "f1", trainClips: 5, heldOut: [] },
  };
  assert.throws(
    () => chooseEvalClips(valRun, labels, { labelled, data: trainData }),
    (e: Error) =>
      e instanceof MismatchError &&
      /\/data\/train is the data \/runs\/ft was trained on/.test(e.message) &&
      /validated on \/data\/val/.test(e.message) && /--include-train/.test(e.message),
  );
  const all = chooseEvalClips(valRun, labels, { labelled, data: trainData, includeTrain: true });
  assert.equal(all.trainingClips, 5);
});

Deno.test("chooseEvalClips() counts a clip as trained on when any of its windows was", () => {
  const ids = ["a#w0", "a#w1", "b#w0", "b#w1"];
  const w = { ...labels, ids, labels: Int32Array.of(0, 0, 1, 1), audioMask: new Uint8Array(4) };
  // The split was by entry: a#w1 was held out but a#w0 trained on, so only b is unseen.
  const r = { ...run, trainedOn: { data: "f1", trainClips: 1, heldOut: ["a#w1", "b#w0", "b#w1"] } };
  const clipOf = (id: string) => id.replace(/#w\d+$/, "");
  const c = chooseEvalClips(r, w, { labelled: [0, 1, 2, 3], data: trainData, clipOf });
  assert.deepEqual(c.indices, [2, 3]);
  const all = chooseEvalClips(r, w, {
    labelled: [0, 1, 2, 3],
    data: trainData,
    clipOf,
    includeTrain: true,
  });
  assert.equal(all.trainingClips, 1);
});

Deno.test("chooseEvalClips() splits again a run recorded before trainedOn, from its fraction and seed", () => {
  const old = { dir: "/runs/old", dataDir: "/data/train", split: { valFraction: 0.5, seed: 3 } };
  const c = chooseEvalClips(old, labels, { labelled, data: trainData });
  assert.deepEqual(c.indices, splitByClip(labels, { valFraction: 0.5, seed: 3 }).val);
  assert.equal(c.source, "held-out");
});
