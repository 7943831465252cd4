import assert from "node:assert/strict";
import { resolveVattConfig } from "../../lib/config/vatt_config.ts";
import { loadBlas } from "../../lib/backend/blas.ts";
import {
  encoderMacs,
  forwardMacs,
  measureSgemmCeiling,
  stepFlops,
} from "../../tasks/_bench_flops.ts";

Deno.test("a step's multiply-adds equal a hand count of every product, after DropToken", () => {
  const backbone = { layers: 1, hidden: 4, mlp: 8, heads: 2 };
  const c = resolveVattConfig({
    preset: "tiny",
    dropToken: 0.5,
    video: { frames: 2, height: 4, width: 4, patch: [2, 2, 2], backbone },
    audio: { samples: 8, patch: 4, backbone },
    text: { maxLength: 3, backbone },
    heads: { vaDim: 4, vtDim: 2 },
  });
  const m = forwardMacs(c, { batch: 2, captions: 3 });
  // video: 1·2·2 = 4 patches of 2·2·2·3 = 24 values, 2 kept, → d 4, for 2 clips: 2·2·24·4
  assert.equal(m.videoEmbed, 384);
  // audio: 8/4 = 2 patches of 4 samples, 1 kept → 4: 2·1·4·4
  assert.equal(m.audioEmbed, 32);
  // video encoder on 2 kept + 1 = 3 tokens, 2 clips (6 tokens), d 4, mlp 8:
  // q,k,v,o 4·6·4·4 = 384; QKᵀ and αV 2·2·3·3·4 = 144; MLP 2·6·4·8 = 384
  assert.equal(m.video, 384 + 144 + 384);
  // audio encoder on 1 kept + 1 = 2 tokens: 4·4·16 = 256; 2·2·2·2·4 = 64; 2·4·4·8 = 256
  assert.equal(m.audio, 256 + 64 + 256);
  // text: 2·3 = 6 captions of 3 + 1 = 4 tokens (24 tokens): 4·24·16; 2·6·4·4·4; 2·24·4·8
  assert.equal(m.text, 1536 + 768 + 1536);
  // heads: video 2·(4·4 + 4·4 + 4·2) = 80, audio 2·4·4 = 32, text 6·4·2 = 48;
  // similarities: video–audio 2·2·4 = 16, video–text 2·6·2 = 24
  assert.equal(m.heads, 80 + 32 + 48 + 16 + 24);
  assert.equal(m.total, 5944);
  assert.equal(stepFlops(m), 6 * 5944); // forward + backward ≈ 3 × forward, 2 FLOPs a multiply-add
});

Deno.test("an encoder's multiply-adds grow with its layers, and its scores with the square of the length", () => {
  const b = { layers: 2, hidden: 8, mlp: 16, heads: 2 };
  // one sequence of 5 tokens: 2·(4·5·64 + 2·25·8 + 2·5·8·16) = 2·(1280 + 400 + 1280)
  assert.equal(encoderMacs(b, 1, 5), 5920);
});

Deno.test({
  name:
    "the sgemm ceiling is positive on one thread and on all, and the thread setting is restored",
  ignore: loadBlas() === null,
  fn() {
    const blas = loadBlas()!;
    const before = blas.threads();
    const c = measureSgemmCeiling(blas, 2, 1);
    assert.ok(c.oneThread > 0 && c.allThreads > 0);
    assert.deepEqual(c.shape, [544, 2048, 512]);
    assert.equal(blas.threads(), before);
  },
});
