/**
 * Pretraining on a dataset with audio-only clips: they take part in no loss. One video clip
 * and three audio-only clips (no captions) in one batch, with the one-way forms: the only clip
 * with both sides has no negative left, so NCE and MIL-NCE are exactly 0 — had the zero
 * videos of the audio-only clips counted, NCE would not be.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { initBackend } from "../../../lib/backend/select.ts";
import { resolvePretrainConfig } from "../../../lib/config/pretrain_config.ts";
import { resolveVattConfig } from "../../../lib/config/vatt_config.ts";
import { encodeWav } from "../../../lib/data/media/wav.ts";
import { Dataset } from "../../../lib/data/shards/dataset.ts";
import { tokenizeDataset } from "../../../lib/data/tokenize/tokenize.ts";
import { prepareRunFolder } from "../../../lib/run/run_folder.ts";
import { pretrain, type PretrainMetrics } from "../../../lib/train/pretrain.ts";
import { demoDataset, TINY_SETTINGS } from "../../_fixtures.ts";

Deno.test("pretrain() leaves audio-only clips out of NCE and MIL-NCE (one-way: exactly 0 with one full clip)", async () => {
  const root = await Deno.makeTempDir({ prefix: "vatt-pretrain-audio-only-" });
  try {
    const fx = await demoDataset({ clips: 32 });
    const first = JSON.parse(
      (await Deno.readTextFile(path.join(fx.media, "manifest.jsonl"))).split("\n")[0],
    );
    const rows = [{
      ...first,
      video: path.join(fx.media, first.video),
      audio: path.join(fx.media, first.audio),
    }];
    for (let k = 0; k < 3; k++) {
      const wave = Float32Array.from(
        { length: 8000 },
        (_, i) => 0.3 * Math.sin(i * (0.05 + 0.1 * k)),
      );
      const file = path.join(root, `a${k}.wav`);
      await Deno.writeFile(file, encodeWav([wave], { sampleRate: 8000 }));
      rows.push({ id: `a${k}`, audio: file, captions: [] });
    }
    const manifest = path.join(root, "m.jsonl");
    await Deno.writeTextFile(manifest, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const dataDir = path.join(root, "data");
    await tokenizeDataset({
      manifest,
      out: dataDir,
      settings: TINY_SETTINGS,
      text: { vocabFile: path.join(fx.data, "vocab.txt") },
    });
    await initBackend("cpu");
    const model = resolveVattConfig({ preset: "tiny" });
    const train = resolvePretrainConfig({
      steps: 1,
      batchSize: 4,
      lossForm: "one-way",
      augment: "none",
    });
    const runDir = path.join(root, "run");
    await prepareRunFolder(runDir, { config: { model, train }, resume: false, force: false });
    const data = await Dataset.open(dataDir);
    const seen: PretrainMetrics[] = [];
    try {
      assert.deepEqual([...(await data.readClips([0, 1, 2, 3])).videoMask!].sort(), [0, 0, 0, 1]);
      await pretrain({ runDir, model, train, data, onStep: (m) => seen.push(m) });
    } finally {
      data.close();
    }
    assert.equal(seen.length, 1);
    assert.equal(seen[0].nce, 0);
    assert.equal(seen[0].milNce, 0);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
