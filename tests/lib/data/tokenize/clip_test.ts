import assert from "node:assert/strict";
import { join } from "node:path";
import { Dataset } from "../../../../lib/data/shards/dataset.ts";
import { generateDemoData } from "../../../../lib/demo/demo_data.ts";
import { encodeVocab, splitWords, WordTokenizer } from "../../../../lib/data/text/tokenizer.ts";
import { tokenizeClip } from "../../../../lib/data/tokenize/clip.ts";
import { tokenizeDataset } from "../../../../lib/data/tokenize/tokenize.ts";
import { readManifest } from "../../../../lib/data/manifest/manifest.ts";
import { resolveTokenizeSettings } from "../../../../lib/data/tokenize/settings.ts";

const TINY = { frames: 8, fps: 10, size: 32, audioSeconds: 0.8, sampleRate: 8000 };
const OOV = ["zzz qqq xyzzy", "plugh"];

Deno.test("a clip whose captions are all out of vocabulary keeps its video and audio, without captions", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "vatt-clip-test-" });
  try {
    const demo = await generateDemoData(join(dir, "media"), { clips: 2, seed: 3, seconds: 1 });
    const rows = (await Deno.readTextFile(demo.manifestPath)).trim().split("\n")
      .map((l) => JSON.parse(l));
    rows[1].captions = OOV;
    const manifest = join(dir, "media", "oov.jsonl");
    await Deno.writeTextFile(manifest, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const words = [...new Set(rows[0].captions.flatMap((c: string) => splitWords(c)))] as string[];
    const vocab = join(dir, "vocab.txt");
    await Deno.writeTextFile(vocab, encodeVocab(words));

    await t.step("tokenizeClip() keeps it with text and textMask all 0", async () => {
      const { rows: parsed } = await readManifest(manifest);
      const settings = resolveTokenizeSettings({ ...TINY, captionsPerClip: 2 });
      const clip = await tokenizeClip(parsed[1], {
        settings,
        tokenizer: new WordTokenizer(words),
        labelIndex: new Map(rows.map((r) => [r.label, 0])),
      });
      assert.ok(clip.ok, !clip.ok ? clip.reason : "");
      assert.deepEqual([...clip.textMask], [0, 0]);
      assert.ok(clip.text.every((id) => id === 0));
      assert.equal(clip.droppedCaptions, 2);
      assert.equal(clip.hasAudio, true);
      assert.ok(clip.videoFrames > 0);
    });

    await t.step("with a word-vector vocabulary (unknown words get the OOV id) too", async () => {
      const { rows: parsed } = await readManifest(manifest);
      const settings = resolveTokenizeSettings({ ...TINY, captionsPerClip: 2 });
      const options = {
        settings,
        tokenizer: new WordTokenizer(words, { oov: true }),
        labelIndex: new Map(rows.map((r) => [r.label, 0])),
      };
      const clip = await tokenizeClip(parsed[1], options);
      assert.ok(
        clip.ok && clip.textMask.every((m) => m === 0) && clip.text.every((id) => id === 0),
      );
      const known = await tokenizeClip(parsed[0], options);
      assert.ok(known.ok && known.textMask[0] === 1);
    });

    await t.step(
      "tokenizeDataset() stores it, skips nothing and counts the dropped captions",
      async () => {
        const out = join(dir, "data");
        const { index } = await tokenizeDataset({
          manifest,
          out,
          settings: TINY,
          text: { vocabFile: vocab },
        });
        assert.deepEqual(index.skipped, []);
        assert.equal(index.droppedCaptions, 2);
        const data = await Dataset.open(out);
        try {
          assert.deepEqual(await data.ids(), [rows[0].id, rows[1].id]);
          const b = await data.readClips([0, 1]);
          const p = data.index.settings.captionsPerClip;
          assert.equal(b.textMask[0], 1); // the other clip keeps its caption
          assert.ok(b.textMask.subarray(p, 2 * p).every((m) => m === 0));
          assert.deepEqual([...b.audioMask], [1, 1]);
        } finally {
          data.close();
        }
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
