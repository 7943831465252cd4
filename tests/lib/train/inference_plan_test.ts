import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { resolveVattConfig } from "../../../lib/config/vatt_config.ts";
import { estimateInference, largestInferenceBatch } from "../../../lib/train/inference_plan.ts";
import { PLAN_FILL } from "../../../lib/train/memory_plan.ts";

await tf.setBackend("cpu"); // no attention kernel: the composite ops' four score copies

Deno.test("estimateInference() counts the inputs and the widest modality's one layer, by hand", () => {
  const backbone = { layers: 3, hidden: 8, mlp: 16, heads: 2 };
  const c = resolveVattConfig({
    preset: "tiny",
    video: { frames: 2, height: 4, width: 4, patch: [2, 2, 2], backbone },
    audio: { samples: 8, patch: 4, backbone },
    text: { maxLength: 3, backbone },
  });
  // 2 clips. Video: 2·2·4·4·3 = 192 values a batch, three copies while cut: 576 floats;
  // 1·2·2 = 4 patches + 1 = 5 tokens: 2·5·(10·8 + 2·16) = 1,120 and scores 4·2·2·5·5 = 400.
  // Audio: 2·8 = 16 floats; 2 + 1 = 3 tokens: 2·3·112 = 672 and scores 4·2·2·3·3 = 144.
  assert.equal(estimateInference(c, 2, ["video", "audio"]), 4 * (576 + 16 + 1120 + 400));
  // Text: 2 clips · 4 captions = 8 sequences of 3 + 1 tokens: 8·4·112 = 3,584; scores 4·8·2·16 = 1,024.
  assert.equal(estimateInference(c, 2, ["text"]), 4 * (3584 + 1024));
  // The layers are not summed: one modality's layer at a time.
  assert.equal(estimateInference(c, 2, ["audio", "text"]), 4 * (16 + 3584 + 1024));
});

Deno.test("largestInferenceBatch() keeps to PLAN_FILL of the free memory, and gives 0 when one clip is too many", () => {
  const c = resolveVattConfig({ preset: "base" });
  const all = ["video", "audio", "text"] as const;
  const free = (bytes: number) => ({ backend: "wasm", bytes, detail: "test" });
  const four = estimateInference(c, 4, all);
  assert.equal(largestInferenceBatch(c, all, free(four / PLAN_FILL), 16), 4);
  assert.equal(largestInferenceBatch(c, all, free(four / PLAN_FILL - 1), 16), 3);
  assert.equal(largestInferenceBatch(c, all, free(four), 2), 2); // never more than asked
  assert.equal(largestInferenceBatch(c, all, free(1), 16), 0);
});
