import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { resolveVattConfig } from "../../../lib/config/vatt_config.ts";
import { audioTokens, textTokens, videoTokens } from "../../../lib/model/patch_embed.ts";
import { weightSpecs } from "../../../lib/model/weight_specs.ts";
import { createWeights } from "../../../lib/model/weights.ts";

// Raw position sums (no LayerNorm on them), so tokens can be checked against the tables.
const ODD = resolveVattConfig({
  preset: "tiny",
  positionNorm: false,
  video: { frames: 7, height: 30, width: 17, patch: [2, 8, 8] },
  audio: { samples: 6401, patch: 128 },
});

Deno.test("videoTokens() cuts odd sizes into ceil(T/t)·ceil(H/h)·ceil(W/w) patches", () => {
  const w = createWeights(weightSpecs(ODD), { seed: 0 });
  try {
    const before = tf.memory().numTensors;
    const tokens = videoTokens(tf.zeros([2, 7, 30, 17, 3]), w, ODD);
    assert.deepEqual(tokens.shape, [2, 4 * 4 * 3, 64]);
    assert.deepEqual(w["video/patch/kernel"].shape, [2 * 8 * 8 * 3, 64]);
    tf.dispose(tokens);
    assert.equal(tf.memory().numTensors, before + 1); // only the zeros input remains
  } finally {
    tf.dispose(Object.values(w));
  }
});

Deno.test("videoTokens() adds factorized positions e_t + e_v + e_h per token", async () => {
  const w = createWeights(weightSpecs(ODD), { seed: 3 });
  try {
    // Zero projection: each token is its position embedding alone.
    w["video/patch/kernel"].assign(tf.zerosLike(w["video/patch/kernel"]));
    w["video/patch/bias"].assign(tf.zerosLike(w["video/patch/bias"]));
    const tokens = await videoTokens(tf.ones([1, 7, 30, 17, 3]), w, ODD).array();
    const et = await w["video/pos/temporal"].array() as number[][];
    const ev = await w["video/pos/vertical"].array() as number[][];
    const eh = await w["video/pos/horizontal"].array() as number[][];
    for (const [i, j, k] of [[0, 0, 0], [3, 2, 1], [1, 3, 2], [2, 0, 2]]) {
      const token = tokens[0][(i * 4 + j) * 3 + k];
      for (let c = 0; c < 64; c += 7) {
        assert.ok(
          Math.abs(token[c] - (et[i][c] + ev[j][c] + eh[k][c])) < 1e-6,
          `token ${i},${j},${k} channel ${c}`,
        );
      }
    }
  } finally {
    tf.dispose(Object.values(w));
  }
});

Deno.test("videoTokens() projects each t×h×w×3 voxel block with W_vp (zero padding at the edges)", async () => {
  const c = resolveVattConfig({
    preset: "tiny",
    video: { frames: 3, height: 3, width: 2, patch: [2, 2, 2], backbone: { hidden: 4, heads: 1 } },
  });
  const w = createWeights(weightSpecs(c), { seed: 1 });
  try {
    for (
      const n of [
        "video/pos/temporal",
        "video/pos/vertical",
        "video/pos/horizontal",
        "video/patch/bias",
      ]
    ) {
      w[n].assign(tf.zerosLike(w[n]));
    }
    const values = Array.from({ length: 3 * 3 * 2 * 3 }, (_, i) => (i % 7) / 7);
    const clip = tf.tensor(values, [1, 3, 3, 2, 3]);
    const tokens = await videoTokens(clip, w, c).array(); // [1, 2·2·1, 4]
    const kernel = await w["video/patch/kernel"].array() as number[][];
    const at = (t: number, y: number, x: number, ch: number) =>
      t < 3 && y < 3 && x < 2 ? values[((t * 3 + y) * 2 + x) * 3 + ch] : 0;
    for (let ti = 0; ti < 2; ti++) {
      for (let yi = 0; yi < 2; yi++) {
        let expected = [0, 0, 0, 0];
        let row = 0;
        for (let dt = 0; dt < 2; dt++) {
          for (let dy = 0; dy < 2; dy++) {
            for (let dx = 0; dx < 2; dx++) {
              for (let ch = 0; ch < 3; ch++) {
                const v = at(ti * 2 + dt, yi * 2 + dy, dx, ch);
                expected = expected.map((e, o) => e + v * kernel[row][o]);
                row++;
              }
            }
          }
        }
        const got = tokens[0][ti * 2 + yi];
        expected.forEach((e, o) =>
          assert.ok(Math.abs(got[o] - e) < 1e-5, `patch ${ti},${yi}: ${got[o]} vs ${e}`)
        );
      }
    }
  } finally {
    tf.dispose(Object.values(w));
  }
});

Deno.test("audioTokens() cuts ceil(T'/t') segments and adds one position each", async () => {
  const w = createWeights(weightSpecs(ODD), { seed: 0 });
  try {
    const tokens = audioTokens(tf.zeros([3, 6401]), w, ODD);
    assert.deepEqual(tokens.shape, [3, 51, 64]);
    // Zero waveform: token = bias + position.
    const got = await tokens.array();
    const pos = await w["audio/pos"].array() as number[][];
    assert.ok(Math.abs(got[2][50][5] - pos[50][5]) < 1e-6);
    assert.throws(() => audioTokens(tf.zeros([1, 100]), w, ODD), /expects \[B, 6401\]/);
  } finally {
    tf.dispose(Object.values(w));
  }
});

Deno.test("textTokens() looks up ids and marks padding", async () => {
  const w = createWeights(weightSpecs(ODD), { seed: 0 });
  try {
    const { tokens, mask } = textTokens(tf.tensor2d([[3, 0], [7, 3]], undefined, "int32"), w, ODD);
    const table = await w["text/embedding"].array() as number[][];
    const got = await tokens.array();
    assert.deepEqual(got[0][0], table[3]);
    assert.deepEqual(got[1][1], table[3]);
    assert.deepEqual(await mask.array(), [[1, 0], [1, 1]]);
  } finally {
    tf.dispose(Object.values(w));
  }
});

/** LayerNorm of one vector by hand: (v − mean)/sqrt(var + 1e-6)·gamma + beta. */
function layerNormByHand(v: number[], gamma: number[], beta: number[]): number[] {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length;
  return v.map((x, i) => ((x - mean) / Math.sqrt(variance + 1e-6)) * gamma[i] + beta[i]);
}

Deno.test("videoTokens() with positionNorm adds LN(e_t + e_v + e_h) to each token, by hand", async () => {
  // 2 frames of 2×4, patch [1, 2, 2]: grid 2×1×2, d = 4, one head.
  const c = resolveVattConfig({
    preset: "tiny",
    positionNorm: true,
    video: { frames: 2, height: 2, width: 4, patch: [1, 2, 2], backbone: { hidden: 4, heads: 1 } },
  });
  const w = createWeights(weightSpecs(c), { seed: 0 });
  try {
    const set = (name: string, v: number[][] | number[]) => w[name].assign(tf.tensor(v));
    set("video/patch/kernel", Array.from({ length: 12 }, () => [0, 0, 0, 0]));
    set("video/patch/bias", [1, 0, 0, -1]); // every token before positions
    set("video/pos/temporal", [[1, 2, 3, 4], [0, 0, 0, 8]]);
    set("video/pos/vertical", [[0, 1, 0, 1]]);
    set("video/pos/horizontal", [[2, 0, 0, 0], [0, 0, -3, 0]]);
    const gamma = [1, 2, 0.5, 1];
    const beta = [0, 0.1, 0, -0.2];
    set("video/pos/ln/gamma", gamma);
    set("video/pos/ln/beta", beta);
    const tokens = await videoTokens(tf.zeros([1, 2, 2, 4, 3]), w, c).array(); // [1, 4, 4]
    const cases: [number, number[]][] = [
      [0, [1 + 0 + 2, 2 + 1 + 0, 3 + 0 + 0, 4 + 1 + 0]], // t 0, column 0
      [1, [1, 3, 0, 5]], // t 0, column 1: e_t0 + e_v0 + e_h1
      [2, [2, 1, 0, 9]], // t 1, column 0
      [3, [0, 1, -3, 9]], // t 1, column 1
    ];
    for (const [token, sum] of cases) {
      const expected = layerNormByHand(sum, gamma, beta).map((v, i) => v + [1, 0, 0, -1][i]);
      expected.forEach((e, i) =>
        assert.ok(Math.abs(tokens[0][token][i] - e) < 1e-4, `token ${token}[${i}]: ${e}`)
      );
    }
  } finally {
    tf.dispose(Object.values(w));
  }
});

Deno.test("audioTokens() with positionNorm adds LN(e_i) to each segment, by hand", async () => {
  const c = resolveVattConfig({
    preset: "tiny",
    positionNorm: true,
    audio: { samples: 4, patch: 2, backbone: { hidden: 4, heads: 1 } },
  });
  const w = createWeights(weightSpecs(c), { seed: 0 });
  try {
    const pos = [[1, 2, 3, 4], [-2, 0, 0, 2]];
    w["audio/pos"].assign(tf.tensor2d(pos));
    w["audio/patch/bias"].assign(tf.zeros([4]));
    const tokens = await audioTokens(tf.zeros([1, 4]), w, c).array(); // zero waveform
    pos.forEach((p, n) => {
      const expected = layerNormByHand(p, [1, 1, 1, 1], [0, 0, 0, 0]);
      expected.forEach((e, i) => assert.ok(Math.abs(tokens[0][n][i] - e) < 1e-4));
    });
  } finally {
    tf.dispose(Object.values(w));
  }
});
