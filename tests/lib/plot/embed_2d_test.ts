import assert from "node:assert/strict";
import { embed2d } from "../../../lib/plot/embed_2d.ts";
import { Rng } from "../../../lib/util/rng.ts";

/** Two Gaussian clusters (σ = 1) in 8-D whose centres are 12 apart. */
function twoClusters(
  perCluster: number,
  seed: number,
): { vectors: Float32Array[]; group: number[] } {
  const rng = new Rng(seed);
  const vectors: Float32Array[] = [];
  const group: number[] = [];
  for (let g = 0; g < 2; g++) {
    for (let i = 0; i < perCluster; i++) {
      vectors.push(
        Float32Array.from({ length: 8 }, (_, j) => rng.normal() + (j === 0 ? 12 * g : 0)),
      );
      group.push(g);
    }
  }
  return { vectors, group };
}

/** Distance between the two cluster centroids, and the larger mean distance to a centroid. */
function separation(
  points: [number, number][],
  group: number[],
): { between: number; within: number } {
  const centre = [0, 1].map((g) => {
    const mine = points.filter((_, i) => group[i] === g);
    return [0, 1].map((k) => mine.reduce((s, p) => s + p[k], 0) / mine.length);
  });
  const within = Math.max(
    ...[0, 1].map((g) => {
      const mine = points.filter((_, i) => group[i] === g);
      return mine.reduce((s, p) => s + Math.hypot(p[0] - centre[g][0], p[1] - centre[g][1]), 0) /
        mine.length;
    }),
  );
  return { between: Math.hypot(centre[0][0] - centre[1][0], centre[0][1] - centre[1][1]), within };
}

for (const method of ["pca", "tsne", "umap"] as const) {
  Deno.test(`embed2d() with ${method} is deterministic for a seed and separates two clusters`, () => {
    const { vectors, group } = twoClusters(30, 4);
    const options = { method, seed: 9, iterations: method === "tsne" ? 500 : undefined };
    const a = embed2d(vectors, options);
    const b = embed2d(vectors, options);
    assert.deepEqual(a, b);
    assert.equal(a.length, 60);
    for (const p of a) assert.ok(p.length === 2 && p.every(Number.isFinite));
    const { between, within } = separation(a, group);
    assert.ok(between > 3 * within, `centroids ${between} apart, spread ${within}`);
    if (method !== "pca") {
      assert.notDeepEqual(embed2d(vectors, { ...options, seed: 10 }), a);
    }
  });
}

Deno.test("embed2d() with pca projects collinear points onto the first axis", () => {
  // points t · (1, 2, 0) for t = −1, 0, 1, 2: axis (1, 2, 0)/√5, coordinate (t − 0.5)·√5
  const ts = [-1, 0, 1, 2];
  const points = embed2d(ts.map((t) => [t, 2 * t, 0]), { method: "pca", seed: 3 });
  ts.forEach((t, i) => {
    assert.ok(Math.abs(points[i][0] - (t - 0.5) * Math.sqrt(5)) < 1e-9, `${points[i]}`);
    assert.ok(Math.abs(points[i][1]) < 1e-9);
  });
});

Deno.test("embed2d() handles tiny inputs and rejects bad ones", async (t) => {
  await t.step("no vectors, one vector, three vectors", () => {
    assert.deepEqual(embed2d([], { method: "umap", seed: 1 }), []);
    assert.deepEqual(embed2d([[1, 2, 3]], { method: "tsne", seed: 1 }), [[0, 0]]);
    const three = embed2d([[0, 0], [1, 0], [0, 3]], { method: "umap", seed: 1 });
    assert.equal(three.length, 3);
    assert.ok(three.flat().every(Number.isFinite));
  });
  await t.step("bad input", () => {
    assert.throws(() => embed2d([[1, 2], [3]], { method: "pca", seed: 1 }), /length 1, expected 2/);
    assert.throws(() => embed2d([[1, NaN]], { method: "pca", seed: 1 }), /NaN/);
    // deno-lint-ignore no-explicit-any
    assert.throws(() => embed2d([[1]], { method: "mds" as any, seed: 1 }), TypeError);
    assert.throws(() => embed2d([[1]], { method: "umap", seed: 1, nNeighbors: 1 }), RangeError);
    assert.throws(() => embed2d([[1]], { method: "tsne", seed: 1, perplexity: 0 }), RangeError);
  });
});
