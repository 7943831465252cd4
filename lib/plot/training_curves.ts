/**
 * Training curves of a run (`metrics.jsonl`) as one picture: panels stacked
 * top to bottom, one per kind of number, each a line chart from `lib/plot`.
 *
 * Panels (numeric fields are sorted into them by name; others are left out):
 * - losses: `loss` and any field whose name contains `loss` or `nce`
 *   (pretraining's `loss`, `nce`, `milNce`; fine-tuning's `trainLoss`, …);
 * - accuracies: fields whose name starts with `acc` or contains `accuracy`,
 *   `top1`, `top5`, `map` or `auc` (pretraining's in-batch `accVideoAudio`,
 *   `accVideoText`);
 * - learning rate: `lr`.
 *
 * The x axis is `step` when the rows have it, else `epoch`, else the row
 * number.
 *
 * @module
 */
import { readJsonl } from "../io/jsonl.ts";
import { lineChartScene, type LineSeries } from "./scene.ts";
import type { Scene, Shape } from "./shapes.ts";

/** One panel of {@linkcode trainingCurvesScene}. */
export interface CurvePanel {
  title: string;
  yLabel: string;
  series: LineSeries[];
}

const PANELS: { title: string; yLabel: string; match: (key: string) => boolean }[] = [
  { title: "Losses", yLabel: "loss", match: (k) => /loss|nce/i.test(k) },
  {
    title: "Accuracy",
    yLabel: "accuracy",
    match: (k) => /^acc|accuracy|top1|top5|map|auc/i.test(k),
  },
  { title: "Learning rate", yLabel: "lr", match: (k) => k === "lr" },
];

/**
 * Legend names of fine-tuning's fields, so validation curves say they are: `valLoss`,
 * `top1`, `top5` (top-K, K = min(5, classes)), `mAP` and `rocAuc` are scored on the
 * validation clips once per epoch, `trainLoss` is the epoch's mean training loss. Other
 * fields keep their `metrics.jsonl` names.
 */
export const SERIES_NAMES: Readonly<Record<string, string>> = {
  trainLoss: "training loss",
  valLoss: "validation loss",
  top1: "validation top-1",
  top5: "validation top-K",
  mAP: "validation mAP",
  rocAuc: "validation ROC-AUC",
};

/**
 * Sorts the numeric fields of metric rows into panels (see the module
 * documentation); panels without a field are dropped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { curvePanels } from "./training_curves.ts";
 * const { panels, xLabel } = curvePanels([{ step: 1, loss: 2, lr: 0.1 }, { step: 2, loss: 1, lr: 0.1 }]);
 * assert.equal(xLabel, "step");
 * assert.equal(panels.length, 2);
 * assert.equal(panels[0].series[0].name, "loss");
 * const tuned = curvePanels([{ step: 3, trainLoss: 1, valLoss: 2, top1: 0.5 }]);
 * assert.deepEqual(tuned.panels[0].series.map((s) => s.name), ["training loss", "validation loss"]);
 * assert.equal(tuned.panels[1].series[0].name, "validation top-1");
 * ```
 */
export function curvePanels(
  rows: readonly Record<string, unknown>[],
): { panels: CurvePanel[]; xLabel: string } {
  const has = (k: string) => rows.some((r) => typeof r[k] === "number");
  const xLabel = has("step") ? "step" : has("epoch") ? "epoch" : "row";
  const x = rows.map((r, i) => (xLabel === "row" ? i + 1 : Number(r[xLabel] ?? NaN)));
  const keys: string[] = [];
  for (const r of rows) {
    for (const [k, v] of Object.entries(r)) {
      if (typeof v === "number" && k !== xLabel && !keys.includes(k)) keys.push(k);
    }
  }
  const used = new Set<string>();
  const panels: CurvePanel[] = [];
  for (const p of PANELS) {
    const mine = keys.filter((k) => !used.has(k) && p.match(k));
    mine.forEach((k) => used.add(k));
    if (mine.length === 0) continue;
    panels.push({
      title: p.title,
      yLabel: p.yLabel,
      series: mine.map((k) => ({
        name: SERIES_NAMES[k] ?? k,
        x,
        y: rows.map((r) => (typeof r[k] === "number" ? r[k] as number : NaN)),
      })),
    });
  }
  return { panels, xLabel };
}

/** Moves a shape down by `dy` pixels. */
function shiftShape(s: Shape, dy: number): Shape {
  switch (s.kind) {
    case "rect":
      return { ...s, y: s.y + dy };
    case "line":
      return { ...s, y1: s.y1 + dy, y2: s.y2 + dy };
    case "polyline":
      return { ...s, points: s.points.map(([x, y]): [number, number] => [x, y + dy]) };
    case "circle":
      return { ...s, cy: s.cy + dy };
    case "text":
      return { ...s, y: s.y + dy };
  }
}

/**
 * Stacks scenes of equal width top to bottom into one scene.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lineChartScene } from "./scene.ts";
 * import { stackScenes } from "./training_curves.ts";
 * const a = lineChartScene([{ name: "a", x: [0, 1], y: [0, 1] }], { height: 200 });
 * assert.equal(stackScenes([a, a]).height, 400);
 * ```
 */
export function stackScenes(scenes: readonly Scene[]): Scene {
  if (scenes.length === 0) throw new RangeError("Cannot stack no scenes");
  const width = Math.max(...scenes.map((s) => s.width));
  const shapes: Shape[] = [];
  let y = 0;
  for (const s of scenes) {
    if (s.background !== scenes[0].background) {
      shapes.push({ kind: "rect", x: 0, y, width: s.width, height: s.height, fill: s.background });
    }
    for (const shape of s.shapes) shapes.push(shiftShape(shape, y));
    y += s.height;
  }
  return {
    width,
    height: y,
    background: scenes[0].background,
    shapes,
    frame: { left: 0, top: 0, right: width, bottom: y },
  };
}

/** Options of {@linkcode trainingCurvesScene}. */
export interface TrainingCurvesOptions {
  /** Image width in pixels. Default 720. */
  width?: number;
  /** Height of each panel in pixels. Default 280. */
  panelHeight?: number;
  /** Prefix of each panel's title (e.g. the run's name). */
  title?: string;
}

/**
 * Lays out the training curves of metric rows as stacked line charts.
 *
 * @throws {RangeError} when no row has a loss, accuracy or learning rate.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { trainingCurvesScene } from "./training_curves.ts";
 * const scene = trainingCurvesScene([
 *   { step: 1, loss: 3, accVideoText: 0.1, lr: 0 },
 *   { step: 2, loss: 2, accVideoText: 0.3, lr: 1e-3 },
 * ]);
 * assert.equal(scene.height, 3 * 280);
 * ```
 */
export function trainingCurvesScene(
  rows: readonly Record<string, unknown>[],
  options: TrainingCurvesOptions = {},
): Scene {
  const { panels, xLabel } = curvePanels(rows);
  if (panels.length === 0) {
    throw new RangeError(
      "Cannot draw training curves: no row has a loss, an accuracy or a learning rate",
    );
  }
  const width = options.width ?? 720;
  const height = options.panelHeight ?? 280;
  return stackScenes(panels.map((p) =>
    lineChartScene(p.series, {
      title: options.title ? `${options.title}: ${p.title}` : p.title,
      xLabel,
      yLabel: p.yLabel,
      width,
      height,
    })
  ));
}

/**
 * Reads a run's `metrics.jsonl` (a half-written last line is skipped) as rows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readMetricRows } from "./training_curves.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/metrics.jsonl`, '{"step":1,"loss":2}\n{"step":2,"lo');
 * assert.equal((await readMetricRows(`${dir}/metrics.jsonl`)).length, 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readMetricRows(path: string): Promise<Record<string, unknown>[]> {
  const rows = await readJsonl(path, { allowTruncatedTail: true });
  return rows.filter((r): r is Record<string, unknown> =>
    r !== null && typeof r === "object" && !Array.isArray(r)
  );
}
