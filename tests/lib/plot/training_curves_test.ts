import assert from "node:assert/strict";
import { lineChartScene } from "../../../lib/plot/scene.ts";
import {
  curvePanels,
  readMetricRows,
  stackScenes,
  trainingCurvesScene,
} from "../../../lib/plot/training_curves.ts";

Deno.test("curvePanels() sorts loss terms, accuracies and lr into panels by name", () => {
  const rows = [
    { step: 1, loss: 4, nce: 2, milNce: 2, lr: 0, accVideoAudio: 0.1, gradNorm: 9, note: "x" },
    { step: 2, loss: 3, nce: 1.5, milNce: 1.5, lr: 1e-3, accVideoAudio: 0.2, gradNorm: 8 },
  ];
  const { panels, xLabel } = curvePanels(rows);
  assert.equal(xLabel, "step");
  assert.deepEqual(panels.map((p) => p.title), ["Losses", "Accuracy", "Learning rate"]);
  assert.deepEqual(panels[0].series.map((s) => s.name), ["loss", "nce", "milNce"]);
  assert.deepEqual(panels[1].series.map((s) => s.name), ["accVideoAudio"]);
  assert.deepEqual(Array.from(panels[2].series[0].y), [0, 1e-3]);
  assert.deepEqual(Array.from(panels[0].series[0].x), [1, 2]);
});

Deno.test("curvePanels() falls back to epoch, then to the row number, and leaves gaps", () => {
  const byEpoch = curvePanels([{ epoch: 3, trainLoss: 1 }, { epoch: 4, valLoss: 2 }]);
  assert.equal(byEpoch.xLabel, "epoch");
  const [panel] = byEpoch.panels;
  // Fine-tuning's fields: the validation curves are labelled as such.
  assert.deepEqual(panel.series.map((s) => s.name), ["training loss", "validation loss"]);
  assert.ok(Number.isNaN(panel.series[0].y[1]));
  assert.equal(curvePanels([{ top1: 0.5 }]).xLabel, "row");
});

Deno.test("stackScenes() moves each scene below the previous one", () => {
  const a = lineChartScene([{ name: "a", x: [0, 1], y: [0, 1] }], { width: 300, height: 200 });
  const b = lineChartScene([{ name: "b", x: [0, 1], y: [1, 0] }], { width: 300, height: 150 });
  const s = stackScenes([a, b]);
  assert.equal(s.height, 350);
  assert.equal(s.shapes.length, a.shapes.length + b.shapes.length);
  const first = b.shapes[0];
  const moved = s.shapes[a.shapes.length];
  if (first.kind === "line" && moved.kind === "line") assert.equal(moved.y1, first.y1 + 200);
  else assert.deepEqual(moved.kind, first.kind);
  assert.throws(() => stackScenes([]), RangeError);
});

Deno.test("trainingCurvesScene() refuses rows without any curve", () => {
  assert.throws(() => trainingCurvesScene([{ step: 1, clipsPerSec: 3 }]), RangeError);
  const s = trainingCurvesScene([{ step: 1, loss: 1 }, { step: 2, loss: 0.5 }], {
    panelHeight: 200,
  });
  assert.equal(s.height, 200);
});

Deno.test("readMetricRows() skips a half-written last line and non-objects", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/metrics.jsonl`;
    await Deno.writeTextFile(file, '{"step":1,"loss":2}\n[1,2]\n{"step":2,"loss":1}\n{"ste');
    const rows = await readMetricRows(file);
    assert.deepEqual(rows, [{ step: 1, loss: 2 }, { step: 2, loss: 1 }]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
