import assert from "node:assert/strict";
import {
  type BenchReport,
  formatReport,
  type PeerRecord,
  ratiosByRound,
  type RunRecord,
} from "../../tasks/_bench_report.ts";
import type { WorkerResult } from "../../tasks/_bench_worker.ts";

function worker(stepMs: number, rss: number, tensors = [5, 5]): WorkerResult {
  return {
    case: "tiny",
    backend: "wasm",
    blas: "OpenBLAS",
    batch: 8,
    params: 1,
    pretrain: {
      stepMs: [stepMs],
      medianMs: stepMs,
      clipsPerSec: 8000 / stepMs,
      gradMs: stepMs,
      optimizerMs: 0,
      numTensors: tensors,
    },
    peakRssMiB: rss,
  };
}

function peer(msPerStep: number, threads: number, round?: number): PeerRecord {
  return {
    ok: true,
    msPerStep,
    clipsPerSec: 8000 / msPerStep,
    params: 1,
    torch: "1.13",
    threads,
    python: "python3",
    flags: [],
    ...(round ? { round } : {}),
  } as PeerRecord;
}

function report(runs: RunRecord[], peers: PeerRecord[]): BenchReport {
  return {
    benchmark: "vatt",
    date: "2026-11-29T00:00:00.000Z",
    seconds: 1,
    machine: { os: "linux", arch: "x86_64", cpus: 2, deno: "2", loadBefore: null, loadAfter: null },
    blas: "OpenBLAS",
    cases: { tiny: { label: "tiny", batch: 8 } },
    runs,
    notes: [],
    peer: { tiny: peers },
    tokenize: null,
  };
}

/** The table row of `backend` (case `tiny`). */
const row = (text: string, backend: string) =>
  text.split("\n").find((l) =>
    new RegExp(`^tiny +${backend.replace(/[()+.]/g, "\\$&")}  `).test(l)
  )!;

Deno.test("ratiosByRound() divides by the fastest PyTorch run of the same round", () => {
  const peers = [peer(100, 2, 1), peer(50, 1, 1), peer(40, 2, 2), peer(80, 1, 2)];
  const ratios = ratiosByRound(
    [{ round: 1, clipsPerSec: 80 }, { round: 2, clipsPerSec: 100 }],
    peers,
  );
  // round 1: fastest 160 clips/s; round 2: fastest 200 clips/s
  assert.deepEqual(ratios, [0.5, 0.5]);
  // a round whose peer failed is left out
  assert.deepEqual(
    ratiosByRound([{ round: 3, clipsPerSec: 1 }], [...peers, { ok: false, reason: "x", round: 3 }]),
    [],
  );
});

Deno.test("formatReport() gives one round's ratio against the fastest PyTorch row", () => {
  const text = formatReport(report(
    [{ case: "tiny", backend: "wasm+blas", result: worker(40, 250) }],
    [peer(80, 2), peer(20, 1)],
  ));
  assert.match(row(text, "wasm+blas"), /\b40\s+200\.00\s+0\.50×\s+250\s+flat 5$/);
  assert.match(row(text, "PyTorch 1.13 (2 thr)"), /80\*\s+100\.00\s+0\.25×$/);
  assert.match(row(text, "PyTorch 1.13 (1 thr)"), /20\*\s+400\.00\s+1\.00×$/);
  assert.doesNotMatch(text, /rounds/);
});

Deno.test("formatReport() takes medians over rounds and shows each ratio's range", () => {
  const runs: RunRecord[] = [
    { case: "tiny", backend: "wasm+blas", round: 1, result: worker(40, 250) },
    { case: "tiny", backend: "wasm+blas", round: 2, result: worker(50, 260) },
    { case: "tiny", backend: "wasm+blas", round: 3, result: worker(100, 240, [5, 6]) },
    { case: "tiny", backend: "webgpu", skipped: "no adapter" },
  ];
  // PyTorch: 40 ms in rounds 1 and 2, 50 ms in round 3 (its slow round matches ours)
  const peers = [peer(40, 1, 1), peer(40, 1, 2), peer(50, 1, 3)];
  const text = formatReport(report(runs, peers));
  assert.match(text, /3 rounds/);
  // step: median 50; ratios per round 1.00, 0.80, 0.50 → median 0.80, range 0.50–1.00;
  // peak: the largest; tensors: both trends
  assert.match(
    row(text, "wasm+blas"),
    /\b50\s+160\.00\s+0\.80× \(0\.50–1\.00\)\s+260\s+flat 5, 5→6$/,
  );
  assert.match(row(text, "webgpu"), /–/);
  assert.match(text, /tiny\/webgpu: skipped: no adapter/);
  assert.match(
    row(text, "PyTorch 1.13 (1 thr)"),
    /40\*\s+200\.00\s+1\.00× \(1\.00–1\.00\)$/,
  );
});

Deno.test("formatReport() takes the fastest peer of any framework, and marks a reference-BLAS one", () => {
  const tf: PeerRecord = {
    ...peer(25, 1),
    torch: "tensorflow 2.21.0 XLA",
    framework: "tensorflow",
    xla: true,
  } as PeerRecord;
  const reference = { ...peer(50, 1), blasThreads: 1, referenceBlas: true } as PeerRecord;
  const runs = [{ case: "tiny", backend: "wasm+blas", result: worker(40, 250) }];
  const text = formatReport({
    ...report(runs, [reference, tf]),
    stepFlops: { tiny: 4e9 },
    ceiling: { shape: [544, 2048, 512], oneThread: 200, allThreads: 400, threads: 2 },
  });
  // 200 clips/s over TensorFlow's 320; 4 GFLOP in 40 ms = 100 GFLOP/s, 25 % of 400 on 2 threads
  assert.match(row(text, "wasm+blas"), /\b40\s+200\.00\s+0\.63×\s+100\.0\s+25\.0%\s+250\s+flat 5$/);
  // TensorFlow on 1 thread: 4 GFLOP in 25 ms = 160 GFLOP/s, 80 % of the 1-thread 200
  assert.match(
    row(text, "TensorFlow 2.21.0 XLA (1 thr)"),
    /25\*\s+320\.00\s+1\.00×\s+160\.0\s+80\.0%$/,
  );
  assert.match(row(text, "PyTorch 1.13 (1 thr, BLAS 1) †"), /50\*/);
  assert.doesNotMatch(text, /† the fastest peer/); // the fastest is TensorFlow
  const onlyReference = formatReport(report(runs, [reference]));
  assert.match(row(onlyReference, "wasm+blas"), /1\.25× †/); // 200 over its 160 clips/s
  assert.match(onlyReference, /† the fastest peer of tiny multiplies on the REFERENCE BLAS/);
});

Deno.test("formatReport() gives the export row its ratio against the fastest forward-only peer of the round", () => {
  const exporting = (stepMs: number, exportMs: number): WorkerResult => ({
    ...worker(stepMs, 250),
    export: { batchMs: [exportMs], medianMs: exportMs, clipsPerSec: 8000 / exportMs },
  });
  const forward = (ms: number, threads: number, round: number, tf = false) =>
    ({
      ...peer(ms, threads, round),
      forwardOnly: true,
      ...(tf ? { torch: "tensorflow 2.21.0", framework: "tensorflow" } : {}),
    }) as PeerRecord;
  const runs: RunRecord[] = [
    { case: "tiny", backend: "wasm+blas", round: 1, result: exporting(40, 10) },
    { case: "tiny", backend: "wasm+blas", round: 2, result: exporting(40, 20) },
  ];
  // round 1: PyTorch 8 ms (1,000 clips/s) is the fastest; round 2: TensorFlow 10 ms (800 clips/s)
  const exportPeer = [
    forward(8, 1, 1),
    forward(16, 1, 2),
    forward(20, 1, 1, true),
    forward(10, 1, 2, true),
  ];
  const text = formatReport({
    ...report(runs, [peer(80, 1, 1), peer(80, 1, 2)]),
    exportPeer: { tiny: exportPeer },
  });
  // ours: training 200 clips/s over PyTorch's 100; export 800 and 400 clips/s → median 600; ratios 800/1000 = 0.80 and 400/800 = 0.50
  assert.match(
    row(text, "wasm+blas"),
    /\b2\.00× \(2\.00–2\.00\)\s+600\.0\s+0\.65× \(0\.50–0\.80\)\s+250\s+flat 5$/,
  );
  // the PyTorch row carries its training and its forward-only figures: 1,000 and 500 → 750;
  // ratios 1.00 (round 1) and 500/800 = 0.63 (round 2)
  assert.match(
    row(text, "PyTorch 1.13 (1 thr)"),
    /80\*\s+100\.00\s+1\.00× \(1\.00–1\.00\)\s+750\.0\s+0\.81× \(0\.63–1\.00\)$/,
  );
  // TensorFlow ran forward only: no training cells; 400 and 800 → 600; ratios 0.40 and 1.00
  assert.match(
    row(text, "TensorFlow 2.21.0 (1 thr)"),
    /^tiny\s+TensorFlow 2\.21\.0 \(1 thr\)\s+600\.0\s+0\.70× \(0\.40–1\.00\)$/,
  );
  assert.match(text, /export vs peer: ÷ the fastest peer's export clips\/s in the same round/);
});

Deno.test("formatReport() notes a failed forward-only peer and leaves the export ratio empty", () => {
  const runs: RunRecord[] = [{
    case: "tiny",
    backend: "wasm+blas",
    result: {
      ...worker(40, 250),
      export: { batchMs: [10], medianMs: 10, clipsPerSec: 800 },
    },
  }];
  const text = formatReport({
    ...report(runs, [peer(20, 1)]),
    exportPeer: {
      tiny: [{ ok: false, reason: "peer failed: no --forward-only", framework: "pytorch" }],
    },
  });
  assert.match(row(text, "wasm+blas"), /\b0\.50×\s+800\.0\s+250\s+flat 5$/);
  assert.match(text, /tiny\/PyTorch \(forward only\): peer failed: no --forward-only/);
  assert.doesNotMatch(text, /export vs peer: ÷/);
});

Deno.test("formatReport() says whether the wasm heap had huge pages, from a wasm+blas run", () => {
  const heap = { ...worker(40, 250), hugePages: "advised over the wasm heap (4096 MiB reserved)" };
  const text = formatReport(report(
    [{ case: "tiny", backend: "wasm+blas", result: heap }],
    [peer(20, 1)],
  ));
  assert.match(text, /^wasm heap \(wasm\+blas\): huge pages advised over the wasm heap/m);
  const without = formatReport(report(
    [{ case: "tiny", backend: "wasm+blas", result: worker(40, 250) }],
    [peer(20, 1)],
  ));
  assert.doesNotMatch(without, /wasm heap/);
});
