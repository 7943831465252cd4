import assert from "node:assert/strict";
import { classificationReport } from "../../../../lib/eval/classify/classify.ts";

Deno.test("classificationReport() on single-label logits: accuracy, loss, chance, confusion", () => {
  // 3 clips × 6 classes.
  const logits = new Float32Array([
    5,
    1,
    0,
    0,
    0,
    0, // true 0: right
    1,
    0,
    2,
    3,
    4,
    5, // true 1: last of 6
    0,
    0,
    9,
    0,
    0,
    1, // true 5: rank 2
  ]);
  const labels = new Int32Array([0, 1, 5]);
  const r = classificationReport(logits, labels, {
    numClasses: 6,
    multiLabel: false,
    confusion: true,
  });
  assert.equal(r.clips, 3);
  assert.equal(r.top1, 1 / 3);
  assert.equal(r.top5, 2 / 3);
  assert.deepEqual(r.chance, { top1: 1 / 6, top5: 5 / 6 });
  let loss = 0;
  for (let i = 0; i < 3; i++) {
    const row = Array.from(logits.subarray(i * 6, i * 6 + 6));
    loss -= Math.log(Math.exp(row[labels[i]]) / row.reduce((s, v) => s + Math.exp(v), 0));
  }
  assert.ok(Math.abs(r.loss - loss / 3) < 1e-9);
  assert.equal(r.confusion![0][0], 1);
  assert.equal(r.confusion![1][5], 1);
  assert.equal(r.confusion![5][2], 1);
  assert.equal(r.confusion!.flat().reduce((a, b) => a + b, 0), 3);
  assert.equal(r.mAP, undefined);
});

Deno.test("classificationReport() takes top-K with K = C when there are fewer than 5 classes", () => {
  const r = classificationReport(new Float32Array([0, 1, 1, 0]), new Int32Array([0, 0]), {
    numClasses: 2,
    multiLabel: false,
  });
  assert.equal(r.top1, 0.5);
  assert.equal(r.top5, 1);
  assert.equal(r.chance.top5, 1);
  assert.equal(r.confusion, undefined);
});

Deno.test("classificationReport() on multi-label logits: mAP, ROC-AUC, sigmoid loss", () => {
  const logits = new Float32Array([2, -1, 0.5, 1, -2, 0]);
  const targets = new Uint8Array([1, 0, 1, 1, 0, 0]); // 2 clips × 3 classes
  const r = classificationReport(logits, targets, { numClasses: 3, multiLabel: true });
  assert.equal(r.clips, 2);
  // class 0: both positive → AP 1, AUC undefined; class 1: no positive; class 2: pos 0.5 > neg 0.
  assert.equal(r.mAP, 1);
  assert.equal(r.rocAuc, 1);
  const sig = (z: number) => 1 / (1 + Math.exp(-z));
  let loss = 0;
  logits.forEach((z, i) => {
    loss -= targets[i] ? Math.log(sig(z)) : Math.log(1 - sig(z));
  });
  assert.ok(Math.abs(r.loss - loss / 6) < 1e-9);
  assert.equal(r.chance.mAP, 3 / 6);
  assert.equal(r.chance.rocAuc, 0.5);
  assert.equal(r.top1, undefined);
});

Deno.test("classificationReport() rejects logits that do not split into rows", () => {
  assert.throws(
    () =>
      classificationReport(new Float32Array(5), new Int32Array([0, 0]), {
        numClasses: 2,
        multiLabel: false,
      }),
    RangeError,
  );
});
