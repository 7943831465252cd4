/**
 * Every default the CLI shows is the library's own constant, and the library
 * applies it when the option is left out (the checks behind the defaults in
 * `lib/config/eval_config.ts` and `lib/data/tokenize/settings.ts`).
 */
import assert from "node:assert/strict";
import { command as evalClassifyCommand } from "../../cli/eval_classify.ts";
import { command as evalRetrievalCommand } from "../../cli/eval_retrieval.ts";
import { command as evalZeroShotCommand } from "../../cli/eval_zero_shot.ts";
import { checkPrompts } from "../../lib/eval/classify/prompts.ts";
import { command as exportCommand } from "../../cli/export.ts";
import { command as plotCommand } from "../../cli/plot.ts";
import { command as tokenizeCommand } from "../../cli/tokenize.ts";
import { command as pretrainCommand } from "../../cli/pretrain.ts";
import { command as finetuneCommand } from "../../cli/finetune.ts";
import { DEFAULT_ACCUMULATE, DEFAULT_RECOMPUTE } from "../../lib/config/memory_config.ts";
import { resolvePretrainConfig } from "../../lib/config/pretrain_config.ts";
import { resolveFinetuneConfig } from "../../lib/config/finetune_config.ts";
import {
  DEFAULT_EVAL_BATCH_SIZE,
  DEFAULT_EXPORT_SPACE,
  DEFAULT_MAP_COLOR_BY,
  DEFAULT_MAP_MAX_POINTS,
  DEFAULT_MAP_METHOD,
  DEFAULT_MAP_SEED,
  DEFAULT_RETRIEVAL_PAIR,
  DEFAULT_RETRIEVAL_WINDOWS,
  DEFAULT_TSNE_MAX_POINTS,
  DEFAULT_ZERO_SHOT_PROMPT,
} from "../../lib/config/eval_config.ts";
import { PRESETS } from "../../lib/config/vatt_config.ts";
import { DEFAULT_TOKENIZE_WORKERS } from "../../lib/data/tokenize/settings.ts";
import { SPACE_MODALITIES } from "../../lib/eval/embeddings/export.ts";
import { embeddingMap } from "../../lib/eval/embeddings/map.ts";
import { spaceOfPair } from "../../lib/eval/retrieval/retrieval.ts";
import { groupWindows } from "../../lib/eval/retrieval/windows.ts";

Deno.test("DEFAULT_EVAL_BATCH_SIZE: the CLI shows the library's default, and the library applies it", () => {
  assert.equal(evalClassifyCommand().opts().batch, DEFAULT_EVAL_BATCH_SIZE); // what --help shows
  assert.equal(DEFAULT_EVAL_BATCH_SIZE, 16);
});

Deno.test("DEFAULT_RETRIEVAL_PAIR: the CLI shows the library's default, and the library applies it", () => {
  assert.equal(evalRetrievalCommand().opts().pair, DEFAULT_RETRIEVAL_PAIR); // what --help shows
  assert.equal(spaceOfPair(DEFAULT_RETRIEVAL_PAIR, PRESETS.tiny), "vt"); // ranked in video-text space
});

Deno.test("DEFAULT_RETRIEVAL_WINDOWS: the CLI shows the library's default, and the library applies it", () => {
  assert.equal(evalRetrievalCommand().opts().windows, DEFAULT_RETRIEVAL_WINDOWS);
  // One window: ids without a `#w<k>` suffix are their own clips.
  assert.deepEqual(groupWindows(["a", "b"], DEFAULT_RETRIEVAL_WINDOWS).clipIds, ["a", "b"]);
});

Deno.test("DEFAULT_EXPORT_SPACE: the CLI shows the library's default, and the library applies it", () => {
  assert.equal(exportCommand().opts().space, DEFAULT_EXPORT_SPACE);
  assert.deepEqual(SPACE_MODALITIES[DEFAULT_EXPORT_SPACE], ["video", "audio"]);
});

Deno.test("DEFAULT_MAP_METHOD: the CLI shows the library's default, and the library applies it", () => {
  assert.equal(plotCommand().opts().method, DEFAULT_MAP_METHOD);
  // Leaving the method out maps the rows as the default method does, not as PCA.
  const n = 8;
  const rows = {
    ids: Array.from({ length: n }, (_, i) => `c${i}`),
    modality: Array.from({ length: n }, () => "video"),
    index: new Int32Array(n),
    vectors: Array.from({ length: n }, (_, i) => new Float32Array([i, i % 3, i % 2])),
  };
  const implied = embeddingMap(rows).points;
  assert.deepEqual(implied, embeddingMap(rows, { method: DEFAULT_MAP_METHOD }).points);
  assert.notDeepEqual(implied, embeddingMap(rows, { method: "pca" }).points);
});

Deno.test("DEFAULT_MAP_SEED: the CLI shows the library's default, and the library applies it", () => {
  assert.equal(plotCommand().opts().seed, DEFAULT_MAP_SEED);
  // Leaving the seed out draws the same subsample as giving the default.
  const n = 12;
  const rows = {
    ids: Array.from({ length: n }, (_, i) => `c${i}`),
    modality: Array.from({ length: n }, () => "video"),
    index: new Int32Array(n),
    vectors: Array.from({ length: n }, (_, i) => new Float32Array([i, i % 3])),
  };
  const given = embeddingMap(rows, { method: "pca", maxPoints: 5, seed: DEFAULT_MAP_SEED });
  assert.deepEqual(embeddingMap(rows, { method: "pca", maxPoints: 5 }).labels, given.labels);
});

Deno.test("DEFAULT_MAP_COLOR_BY: the CLI shows the library's default, and the library applies it", () => {
  assert.equal(plotCommand().opts().colorBy, DEFAULT_MAP_COLOR_BY);
  const rows = {
    ids: ["a", "a", "b"],
    modality: ["video", "audio", "video"],
    index: new Int32Array(3),
    vectors: [[1, 0], [0, 1], [1, 1]].map((v) => new Float32Array(v)),
  };
  assert.deepEqual(embeddingMap(rows, { method: "pca" }).groups, ["video", "audio", "video"]);
});

Deno.test("DEFAULT_MAP_MAX_POINTS: the CLI shows the library's default, and the library applies it", () => {
  const help = plotCommand().helpInformation().replace(/\s+/g, " ");
  assert.match(
    help,
    new RegExp(`default ${DEFAULT_MAP_MAX_POINTS}, t-SNE ${DEFAULT_TSNE_MAX_POINTS}`),
  );
  const n = DEFAULT_MAP_MAX_POINTS + 1;
  const rows = {
    ids: Array.from({ length: n }, (_, i) => `c${i}`),
    modality: Array.from({ length: n }, () => "video"),
    index: new Int32Array(n),
    vectors: Array.from({ length: n }, (_, i) => new Float32Array([i % 7, i % 5])),
  };
  assert.equal(embeddingMap(rows, { method: "pca" }).drawn, DEFAULT_MAP_MAX_POINTS);
});

Deno.test("DEFAULT_TOKENIZE_WORKERS: the CLI shows the library's default, and the library applies it", () => {
  const help = tokenizeCommand().helpInformation().replace(/\s+/g, " ");
  assert.match(help, new RegExp(`in parallel \\(default ${DEFAULT_TOKENIZE_WORKERS}\\)`));
});

Deno.test("DEFAULT_ZERO_SHOT_PROMPT: the CLI shows the library's default, and the library applies it", () => {
  assert.deepEqual(evalZeroShotCommand().opts().prompt, [DEFAULT_ZERO_SHOT_PROMPT]);
  // zeroShotClassify() without prompts uses checkPrompts()'s default.
  assert.deepEqual(checkPrompts(), [DEFAULT_ZERO_SHOT_PROMPT]);
});

Deno.test("DEFAULT_CLASSIFY_WINDOWS and DEFAULT_CLASSIFY_CROPS: the CLI shows the library's defaults, and they are the centre view", async () => {
  const {
    DEFAULT_CLASSIFY_CROPS,
    DEFAULT_CLASSIFY_WINDOWS,
    PAPER_CLASSIFY_CROPS,
    PAPER_CLASSIFY_WINDOWS,
  } = await import("../../lib/config/eval_config.ts");
  const { planViews } = await import("../../lib/eval/classify/views.ts");
  const cmd = evalClassifyCommand();
  assert.equal(cmd.opts().windows, DEFAULT_CLASSIFY_WINDOWS); // what --help shows
  assert.equal(cmd.opts().crops, DEFAULT_CLASSIFY_CROPS);
  const help = cmd.helpInformation();
  assert.match(help, new RegExp(`paper: ${PAPER_CLASSIFY_WINDOWS}\\)`));
  assert.match(help, new RegExp(`paper: ${PAPER_CLASSIFY_CROPS}\\)`));
  // The defaults are one view: the centre window and the centre crop, as evaluation reads a clip.
  const shape = { frames: 8, size: 32, audioSamples: 800 };
  const plan = planViews({ frames: 12, size: 37, audioSamples: 1200 }, shape, {
    windows: DEFAULT_CLASSIFY_WINDOWS,
    crops: DEFAULT_CLASSIFY_CROPS,
  });
  assert.deepEqual(plan.views, [{ view: { window: 0.5, crop: 0.5 }, weight: 1 }]);
});

Deno.test("DEFAULT_RECOMPUTE and DEFAULT_ACCUMULATE: the CLI shows the library's defaults, and the library applies them", () => {
  for (const cmd of [pretrainCommand(), finetuneCommand()]) {
    assert.equal(cmd.opts().recompute, DEFAULT_RECOMPUTE);
    assert.equal(cmd.opts().accumulate, DEFAULT_ACCUMULATE);
  }
  assert.equal(resolvePretrainConfig({}).recompute, DEFAULT_RECOMPUTE);
  const f = resolveFinetuneConfig({ modalities: ["audio"] });
  assert.deepEqual([f.recompute, f.accumulate], [DEFAULT_RECOMPUTE, DEFAULT_ACCUMULATE]);
});

Deno.test("DEFAULT_DISTRIBUTED: the CLI shows the library's default, and the library applies it", async () => {
  const { DEFAULT_DISTRIBUTED, resolveDistributed } = await import("../../lib/dist/launcher.ts");
  assert.equal(pretrainCommand().opts().distributed, DEFAULT_DISTRIBUTED); // what --help shows
  assert.equal(finetuneCommand().opts().distributed, DEFAULT_DISTRIBUTED);
  // auto: one process without a launcher, MPI under mpirun with 2 ranks.
  assert.deepEqual(resolveDistributed(DEFAULT_DISTRIBUTED, {}), { kind: "off" });
  const two = { OMPI_COMM_WORLD_SIZE: "2", OMPI_COMM_WORLD_RANK: "0" };
  assert.equal(resolveDistributed(DEFAULT_DISTRIBUTED, two).kind, "mpi");
});
