import assert from "node:assert/strict";
import { meanAndSpread, tableLine } from "../../../lib/protocol/aggregate.ts";
import { PROTOCOLS } from "../../../lib/protocol/protocols.ts";

Deno.test("meanAndSpread() is the mean and the sample standard deviation (n − 1), by hand", () => {
  // UCF101-style three splits: 0.70, 0.74, 0.78 → mean 0.74; deviations ±0.04, 0 → s² = 0.0032 / 2.
  const s = meanAndSpread([0.7, 0.74, 0.78]);
  assert.ok(Math.abs(s.mean - 0.74) < 1e-12);
  assert.ok(Math.abs(s.spread - 0.04) < 1e-12);
  assert.throws(() => meanAndSpread([]), RangeError);
});

Deno.test("tableLine() writes rates in %, d′ to 3 places and the median rank as a number", () => {
  const audioset = tableLine("AudioSet", {
    folds: "eval",
    metrics: {
      mAP: { mean: 0.394, spread: 0 },
      rocAuc: { mean: 0.971, spread: 0 },
      dPrime: { mean: 2.8951, spread: 0 },
    },
  });
  assert.equal(
    audioset,
    "| AudioSet | eval | mAP 39.4 ± 0.0 | AUC 97.1 ± 0.0 | d′ 2.895 ± 0.000 |",
  );
  const msrvtt = tableLine("MSR-VTT (1k-A)", {
    folds: "1k-A",
    metrics: { "R@1": { mean: 0.125, spread: 0 }, medianRank: { mean: 42, spread: 0 } },
  });
  assert.equal(msrvtt, "| MSR-VTT (1k-A) | 1k-A | R@1 12.5 ± 0.0 | MedR 42.0 ± 0.0 |");
});

Deno.test("PROTOCOLS follow the paper: 3 splits (UCF101, HMDB51), 5 folds (ESC-50), zero-shot retrieval", () => {
  assert.equal(PROTOCOLS.ucf101.folds.length, 3);
  assert.deepEqual(PROTOCOLS.hmdb51.folds[2].test, { split: "3", subset: "test" });
  assert.deepEqual(PROTOCOLS.esc50.folds.map((f) => f.test.fold), [1, 2, 3, 4, 5]);
  assert.deepEqual(PROTOCOLS.audioset.folds[0].train, { split: "balanced_train" });
  // Linear evaluation for UCF101, HMDB51 and ESC-50; fine-tuning for Kinetics and AudioSet.
  assert.deepEqual(
    ["ucf101", "hmdb51", "esc50", "kinetics400", "audioset"].map((n) => PROTOCOLS[n].training),
    ["linear-probe", "linear-probe", "linear-probe", "finetune", "finetune"],
  );
  for (const name of ["msrvtt", "youcook2"]) {
    assert.equal(PROTOCOLS[name].kind, "retrieval");
    assert.equal(PROTOCOLS[name].folds[0].train, undefined);
  }
});
