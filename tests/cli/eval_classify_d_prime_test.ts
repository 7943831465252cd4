import assert from "node:assert/strict";
import { formatReport } from "../../cli/eval_classify.ts";

Deno.test("eval classify shows d′ = √2·Φ⁻¹(ROC-AUC) for multi-label data only", () => {
  // ROC-AUC = Φ(1/√2) = (1 + erf(1/2)) / 2, erf(1/2) = 0.5204998778130465 (tables) → d′ = 1
  const multi = formatReport({
    clips: 10,
    numClasses: 3,
    multiLabel: true,
    loss: 0.5,
    mAP: 0.6,
    rocAuc: (1 + 0.5204998778130465) / 2,
    chance: { mAP: 0.3, rocAuc: 0.5 },
  });
  assert.match(multi, /^d′: {6}1\.000 {2}\(chance 0\.000/m);
  const single = formatReport({
    clips: 4,
    numClasses: 8,
    multiLabel: false,
    loss: 1,
    top1: 0.5,
    top5: 1,
    chance: { top1: 0.125, top5: 0.625 },
  });
  assert.ok(!single.includes("d′"));
});
