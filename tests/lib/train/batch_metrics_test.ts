import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import assert from "node:assert/strict";
import { inBatchAccuracy, maskedTop1 } from "../../../lib/train/batch_metrics.ts";
import { Rng } from "../../../lib/util/rng.ts";

/** Cosine similarity in float64. */
function cosine(a: number[], b: number[]): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  a.forEach((x, d) => {
    ab += x * b[d];
    aa += x * x;
    bb += b[d] * b[d];
  });
  return ab / (Math.sqrt(aa) * Math.sqrt(bb) + 1e-12);
}

async function top1(
  queries: number[][],
  candidates: number[][],
  options: { owner: number[]; queryValid: number[]; candidateValid: number[] },
): Promise<number> {
  const q = tf.tensor2d(queries);
  const c = tf.tensor2d(candidates);
  try {
    return await maskedTop1(q, c, options);
  } finally {
    tf.dispose([q, c]);
  }
}

Deno.test("maskedTop1() never picks a padded caption, even for queries whose coordinates sum below zero", async () => {
  // Every query has a negative coordinate sum: the old metric's padding vectors (−1000 in every
  // coordinate) scored +1000 against them. Padding here is such a vector or a copy of another
  // clip's query (cosine 1): masked by score, it still loses.
  const queries = [[-1, -0.5], [-0.2, -1], [0.3, -2]];
  const candidates = [
    [-1, -0.4], // clip 0, real (cosine 0.997 with query 0)
    [-1000, -1000], // clip 0, padding
    [-0.1, -1], // clip 1, real (cosine 0.995 with query 1)
    [-1, -0.5], // clip 1, padding: a copy of query 0
    [-0.2, -1], // clip 2, padding: a copy of query 1
    [0.3, -2], // clip 2, real (a copy of query 2)
  ];
  const owner = [0, 0, 1, 1, 2, 2];
  const options = { owner, queryValid: [1, 1, 1], candidateValid: [1, 0, 1, 0, 0, 1] };
  assert.equal(await top1(queries, candidates, options), 1);
  // Without the mask queries 0 and 1 pick the padding copies of themselves (other clips).
  const unmasked = { ...options, candidateValid: [1, 1, 1, 1, 1, 1] };
  assert.equal(await top1(queries, candidates, unmasked), 1 / 3);
});

Deno.test("maskedTop1() never picks the audio of a clip without audio, and skips it as a query", async () => {
  const videos = [[1, 0], [0, 1], [1, 1]];
  const audios = [[1, 0.5], [1, 0], [0.9, 1]]; // clip 1 has no audio; its vector is video 0's
  const options = { owner: [0, 1, 2], queryValid: [1, 0, 1], candidateValid: [1, 0, 1] };
  assert.equal(await top1(videos, audios, options), 1);
  const unmasked = { ...options, candidateValid: [1, 1, 1] };
  assert.equal(await top1(videos, audios, unmasked), 0.5); // video 0 picks audio 1
  assert.equal(await top1(videos, audios, { ...options, queryValid: [0, 0, 0] }), 0);
});

Deno.test("maskedTop1() is the share of queries whose best real candidate is their own (random cases)", async () => {
  const rng = new Rng(23);
  for (let trial = 0; trial < 20; trial++) {
    const [q, perQuery, d] = [5, 3, 4];
    const queries = Array.from({ length: q }, () => Array.from({ length: d }, () => rng.normal()));
    const candidates = Array.from(
      { length: q * perQuery },
      () => Array.from({ length: d }, () => rng.normal()),
    );
    const owner = Array.from({ length: q * perQuery }, (_, k) => Math.floor(k / perQuery));
    const candidateValid = owner.map(() => (rng.nextFloat() < 0.6 ? 1 : 0));
    const queryValid = queries.map((_, i) =>
      candidateValid.some((v, k) => v === 1 && owner[k] === i) ? 1 : 0
    );
    let hits = 0;
    let n = 0;
    queries.forEach((query, i) => {
      if (!queryValid[i]) return;
      n++;
      let best = -1;
      candidates.forEach((c, k) => {
        if (candidateValid[k] && (best < 0 || cosine(query, c) > cosine(query, candidates[best]))) {
          best = k;
        }
      });
      if (owner[best] === i) hits++;
    });
    const expected = n === 0 ? 0 : hits / n;
    const actual = await top1(queries, candidates, { owner, queryValid, candidateValid });
    assert.ok(Math.abs(actual - expected) < 1e-12, `trial ${trial}: ${actual} vs ${expected}`);
  }
});

Deno.test("inBatchAccuracy() scores video→audio over clips with audio and video→text over real captions", async () => {
  const before = tf.memory().numTensors;
  const videoVa = tf.tensor2d([[1, 0], [0, 1], [-1, -1]]);
  const audioVa = tf.tensor2d([[1, 0.2], [1, 0], [-1, -0.8]]); // clip 1 without audio
  const videoVt = tf.tensor2d([[-1, -0.5], [0, -1], [1, 1]]); // coordinate sums < 0 for 0 and 1
  const textVt = tf.tensor3d([
    [[-1, -0.6], [-1000, -1000]], // clip 0: one real caption, padding
    [[0.5, -1], [-1, -0.5]], // clip 1: two real captions (the second is query 0's copy)
    [[0, 0], [0, 0]], // clip 2: no caption
  ]);
  const acc = await inBatchAccuracy({ videoVa, audioVa, videoVt, textVt }, {
    count: 3,
    audioMask: Uint8Array.of(1, 0, 1),
    textMask: Uint8Array.of(1, 0, 1, 1, 0, 0),
  });
  // video→audio: video 0 → audio 0 (audio 1 masked), video 2 → audio 2: 2 of 2.
  // video→text: video 0 → clip 1's second caption (cosine 1): miss; video 1 → clip 1: hit.
  assert.deepEqual(acc, { videoAudio: 1, videoText: 0.5 });
  tf.dispose([videoVa, audioVa, videoVt, textVt]);
  assert.equal(tf.memory().numTensors, before, "no tensor leaks");
});

Deno.test("maskedTop1() and inBatchAccuracy() refuse masks that do not fit", async () => {
  const q = tf.tensor2d([[1, 0], [0, 1]]);
  const c = tf.tensor2d([[1, 0], [0, 1]]);
  await assert.rejects(
    maskedTop1(q, c, { owner: [0, 1], queryValid: [1, 1], candidateValid: [1] }),
    /2 candidates but owner has 2 and candidateValid 1/,
  );
  await assert.rejects(
    maskedTop1(q, c, { owner: [0, 1], queryValid: [1], candidateValid: [1, 1] }),
    /2 queries but queryValid has 1/,
  );
  await assert.rejects(
    inBatchAccuracy({ videoVa: q, audioVa: c, videoVt: q, textVt: c }, {
      count: 2,
      audioMask: [1, 1],
      textMask: [1, 1, 1],
    }),
    /textMask has 3 entries for 2 clips/,
  );
  tf.dispose([q, c]);
});
