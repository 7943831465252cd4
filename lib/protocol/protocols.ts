/**
 * The paper's evaluation protocols as data: which dataset reader, which
 * splits or folds, what is trained (a linear probe on one modality) or not
 * (zero-shot retrieval), and the metric the paper reports. `runProtocol`
 * (`run_protocol.ts`) runs one end to end.
 *
 * @module
 */
import type { Modality } from "../config/modality.ts";
import type { DatasetOptions } from "../data/manifest/datasets/mod.ts";

/** What a protocol measures: classification (top-1, or mAP and d′ for multi-label) or retrieval. */
export type ProtocolKind = "classify" | "retrieval";

/**
 * How a classification protocol trains: a linear probe on the frozen backbone,
 * or fine-tuning end to end (`vatt finetune` without `--linear-probe`).
 */
export type ProtocolTraining = "linear-probe" | "finetune";

/** Every training mode of a classification protocol. */
export const PROTOCOL_TRAININGS: readonly ProtocolTraining[] = ["linear-probe", "finetune"];

/** One split or fold: the manifest options of its training half (absent: zero-shot) and test half. */
export interface ProtocolFold {
  /** Its name in progress lines and results (`fold 1`, `split 2`, `1k-A`). */
  name: string;
  train?: DatasetOptions;
  test: DatasetOptions;
}

/** One of the paper's protocols. */
export interface ProtocolSpec {
  /** The name `vatt protocol` takes. */
  name: string;
  /** How the paper's tables name the benchmark. */
  title: string;
  /** The reader of `lib/data/manifest/datasets` (a key of `DATASETS`). */
  dataset: string;
  kind: ProtocolKind;
  /** The modality the classifier reads (classification). */
  modalities: Modality[];
  /** How the paper trains the classifier (classification only). */
  training?: ProtocolTraining;
  folds: ProtocolFold[];
}

/** `count` folds named `<word> k`: test fold/split k, train the rest. */
function numbered(
  word: "fold" | "split",
  count: number,
  make: (k: number) => Omit<ProtocolFold, "name">,
): ProtocolFold[] {
  return Array.from({ length: count }, (_, i) => ({ name: `${word} ${i + 1}`, ...make(i + 1) }));
}

/** The three official splits of UCF101 and HMDB51. */
const actionSplits = numbered("split", 3, (k) => ({
  train: { split: String(k), subset: "train" },
  test: { split: String(k), subset: "test" },
}));

/**
 * Every protocol, by name: the paper's linear-probe classification
 * (UCF101 and HMDB51: 3 splits; ESC-50: 5 folds), its fine-tuned
 * classification (Kinetics-400/600/700: train → val; AudioSet: balanced train
 * → eval, mAP and d′) and zero-shot text-to-video retrieval (MSR-VTT 1k-A,
 * YouCook2 validation).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PROTOCOLS } from "./protocols.ts";
 * assert.equal(PROTOCOLS.esc50.folds.length, 5);
 * assert.deepEqual(PROTOCOLS.esc50.folds[1].test, { fold: 2, split: "test" });
 * assert.equal(PROTOCOLS.msrvtt.folds[0].train, undefined); // zero-shot
 * ```
 */
export const PROTOCOLS: Readonly<Record<string, ProtocolSpec>> = {
  ucf101: {
    name: "ucf101",
    title: "UCF101",
    dataset: "ucf101",
    kind: "classify",
    modalities: ["video"],
    training: "linear-probe",
    folds: actionSplits,
  },
  hmdb51: {
    name: "hmdb51",
    title: "HMDB51",
    dataset: "hmdb51",
    kind: "classify",
    modalities: ["video"],
    training: "linear-probe",
    folds: actionSplits,
  },
  esc50: {
    name: "esc50",
    title: "ESC-50",
    dataset: "esc50",
    kind: "classify",
    modalities: ["audio"],
    training: "linear-probe",
    folds: numbered("fold", 5, (k) => ({
      train: { fold: k, split: "train" },
      test: { fold: k, split: "test" },
    })),
  },
  ...Object.fromEntries(
    ["kinetics400", "kinetics600", "kinetics700"].map((name) => [name, {
      name,
      title: `Kinetics-${name.slice(8)}`,
      dataset: name,
      kind: "classify" as const,
      modalities: ["video" as const],
      training: "finetune" as const,
      folds: [{ name: "val", train: { split: "train" }, test: { split: "val" } }],
    }]),
  ),
  audioset: {
    name: "audioset",
    title: "AudioSet",
    dataset: "audioset",
    kind: "classify",
    modalities: ["audio"],
    training: "finetune",
    folds: [{ name: "eval", train: { split: "balanced_train" }, test: { split: "eval" } }],
  },
  msrvtt: {
    name: "msrvtt",
    title: "MSR-VTT (1k-A)",
    dataset: "msrvtt",
    kind: "retrieval",
    modalities: ["video", "text"],
    folds: [{ name: "1k-A", test: { split: "1k-A" } }],
  },
  youcook2: {
    name: "youcook2",
    title: "YouCook2",
    dataset: "youcook2",
    kind: "retrieval",
    modalities: ["video", "text"],
    folds: [{ name: "val", test: { split: "validation" } }],
  },
};

/**
 * The protocol `name`; throws `RangeError` listing the known names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { protocolSpec } from "./protocols.ts";
 * assert.equal(protocolSpec("ESC50").kind, "classify");
 * assert.throws(() => protocolSpec("mnist"), /known: ucf101/);
 * ```
 */
export function protocolSpec(name: string): ProtocolSpec {
  const spec = PROTOCOLS[name.toLowerCase()];
  if (!spec) {
    throw new RangeError(
      `Unknown protocol ${JSON.stringify(name)} (known: ${Object.keys(PROTOCOLS).join(", ")})`,
    );
  }
  return spec;
}
