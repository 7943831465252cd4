/**
 * Fuzz targets of `lib/io/`: safetensors (in memory, from disk, by rows,
 * against expected specs), `.npy`, JSON Lines (and `metrics.jsonl`
 * truncation), and embeddings Parquet.
 *
 * @module
 */
import fc from "fast-check";
import * as path from "node:path";
import { readJsonl } from "../../lib/io/jsonl.ts";
import { decodeNpy, readNpy } from "../../lib/io/npy.ts";
import { openEmbeddingsParquet, readEmbeddingsParquet } from "../../lib/io/parquet.ts";
import {
  decodeSafetensors,
  dtypeItemsize,
  type NamedArray,
  openSafetensors,
  type TensorSpec,
} from "../../lib/io/safetensors.ts";
import { truncateMetrics } from "../../lib/run/metrics_log.ts";
import {
  applyBytePlan,
  applyJsonPlan,
  bytePlan,
  draw,
  hostileJsonValue,
  jsonPlan,
  seedCase,
} from "./_mutate.ts";
import {
  caseDir,
  type CaseFactory,
  editSafetensorsHeader,
  expect,
  product,
  readSeed,
  safetensorsHot,
  type Target,
  type TargetContext,
} from "./_target.ts";

const DTYPE_NAMES = [
  "F64",
  "F32",
  "F16",
  "BF16",
  "I64",
  "I32",
  "I16",
  "I8",
  "U64",
  "U32",
  "U16",
  "U8",
  "BOOL",
];

function checkArrays(tensors: Record<string, NamedArray>): void {
  for (const [name, t] of Object.entries(tensors)) {
    expect(
      t.data.length === product(t.shape),
      `tensor ${name}: ${t.data.length} values for shape [${t.shape}]`,
    );
    expect(
      t.data.byteLength === t.data.length * dtypeItemsize(t.dtype),
      `tensor ${name}: wrong byte length`,
    );
  }
}

/** A header made up from scratch, with a length field that may lie. */
const synthHeader = fc.record({
  entries: fc.dictionary(
    fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom("__metadata__", "", "video", "label")),
    fc.oneof(
      fc.record(
        {
          dtype: fc.oneof(
            fc.constantFrom(...DTYPE_NAMES),
            fc.constantFrom("F8", "f32", "", 5, null),
          ),
          shape: fc.oneof(
            fc.array(
              fc.oneof(
                fc.integer({ min: 0, max: 5 }),
                fc.constantFrom(-1, 0.5, 2 ** 31, 2 ** 32, 2 ** 53, 1e300, "3", null),
              ),
              { maxLength: 5 },
            ),
            hostileJsonValue,
          ),
          data_offsets: fc.oneof(
            fc.tuple(fc.integer({ min: -1, max: 300 }), fc.integer({ min: -1, max: 300 })),
            fc.constantFrom([0], [0, 2 ** 53], [2 ** 64, 0], [0, 1e300], "0,4", null, [0, 4, 8]),
          ),
        },
        { requiredKeys: [] },
      ),
      hostileJsonValue,
    ),
    { maxKeys: 5 },
  ),
  length: fc.constantFrom(
    "exact",
    "exact",
    "exact",
    "plus",
    "minus",
    "huge",
    "u32",
    "zero",
    "file",
  ),
  data: fc.integer({ min: 0, max: 300 }),
  pad: fc.integer({ min: 0, max: 8 }),
});

function buildSynth(h: SynthHeader): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(h.entries) + " ".repeat(h.pad));
  const total = 8 + json.length + h.data;
  const out = new Uint8Array(total);
  const n = BigInt(json.length);
  const length = {
    exact: n,
    plus: n + 1n,
    minus: n - 1n,
    huge: 2n ** 63n,
    u32: 0xffffffffn,
    zero: 0n,
    file: BigInt(total),
  }[h.length] ?? n;
  new DataView(out.buffer).setBigUint64(0, length & (2n ** 64n - 1n), true);
  out.set(json, 8);
  for (let i = 8 + json.length; i < total; i++) out[i] = (i * 37) & 0xff;
  return out;
}

type SynthHeader = typeof synthHeader extends fc.Arbitrary<infer T> ? T : never;

/** Safetensors in memory, from disk, by rows and against expected specs. */
export const safetensorsTarget: Target = {
  name: "safetensors",
  description:
    "decodeSafetensors / openSafetensors / readTensor(rows) / expect: mutated files and made-up headers",
  timeoutMs: 10_000,
  allocLimit: (bytes) => 3 * bytes + (1 << 16),
  cases(ctx: TargetContext, seed: number, count: number): CaseFactory {
    const files = ctx.seeds.safetensors;
    const plans = draw(
      fc.record({
        source: fc.nat(),
        kind: fc.constantFrom("bytes", "bytes", "synth", "json"),
        plan: bytePlan,
        jp: jsonPlan,
        synth: synthHeader,
        mode: fc.constantFrom("decode", "open", "rows", "expect"),
      }),
      seed,
      count,
    );
    return async (i) => {
      const { valid, p, file } = seedCase(files, plans, i);
      const original = await readSeed(file);
      const bytes = valid
        ? original
        : p.kind === "synth"
        ? buildSynth(p.synth)
        : p.kind === "json"
        ? editSafetensorsHeader(original, (h) => applyJsonPlan(h, p.jp))
        : applyBytePlan(original, p.plan, safetensorsHot(original));
      const mode = valid ? "rows" : p.mode;
      const input = `${path.basename(file)} ${valid ? "valid" : p.kind} ${mode}`;
      const run = async () => {
        if (mode === "decode") {
          checkArrays(decodeSafetensors(bytes).tensors);
          return;
        }
        const dir = await caseDir(ctx);
        const target = path.join(dir, "x.safetensors");
        await Deno.writeFile(target, bytes);
        let expected: Record<string, TensorSpec> | undefined;
        if (mode === "expect") {
          const header = decodeSafetensors(original).tensors;
          expected = Object.fromEntries(
            Object.entries(header).map(([k, v]) => [k, { dtype: v.dtype, shape: v.shape }]),
          );
        }
        using f = await openSafetensors(target, expected ? { expect: expected } : {});
        if (mode === "rows") {
          for (const name of f.names) {
            const shape = f.header.tensors[name].shape;
            if (shape.length === 0) continue;
            const n = shape[0];
            for (
              const rows of [[0, Math.min(1, n)], [Math.max(0, n - 1), n]] as [number, number][]
            ) {
              const t = await f.readTensor(name, { rows });
              expect(t.shape[0] === rows[1] - rows[0], `rows of ${name}`);
              checkArrays({ [name]: t });
            }
          }
        } else {
          checkArrays(await f.readTensors());
        }
      };
      return { testCase: { input, run, valid }, bytes: bytes.length };
    };
  },
};

/** A made-up `.npy` header. */
const synthNpy = fc.record({
  version: fc.constantFrom(1, 2, 3, 0, 9),
  descr: fc.oneof(
    fc.constantFrom("<f4", "|u1", "<i8", ">f4", "<c8", "|O", "<U4", "|b1"),
    fc.string({ maxLength: 5 }),
  ),
  fortran: fc.constantFrom("False", "True", "0", "None"),
  shape: fc.oneof(
    fc.array(
      fc.oneof(fc.integer({ min: 0, max: 6 }), fc.constantFrom(-1, 2 ** 53, 2 ** 62, 99999999999)),
      {
        maxLength: 4,
      },
    ).map((d) => d.length === 1 ? `(${d[0]},)` : `(${d.join(", ")})`),
    fc.constantFrom("[]", "None", "(1,", "((1,),)", "'x'"),
  ),
  extraKey: fc.boolean(),
  lengthLie: fc.constantFrom(0, 0, 0, 1, -1, 1 << 20, 65535),
  data: fc.integer({ min: 0, max: 200 }),
});

function buildNpy(h: typeof synthNpy extends fc.Arbitrary<infer T> ? T : never): Uint8Array {
  const dict = `{'descr': '${h.descr}', 'fortran_order': ${h.fortran}, 'shape': ${h.shape}, ${
    h.extraKey ? "'x': 1, " : ""
  }}`;
  const text = new TextEncoder().encode(dict + " ".repeat(64 - ((dict.length + 11) % 64)) + "\n");
  const lengthBytes = h.version === 1 ? 2 : 4;
  const prefix = 6 + 2 + lengthBytes;
  const out = new Uint8Array(prefix + text.length + h.data);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, h.version, 0]);
  const view = new DataView(out.buffer);
  const hlen = Math.max(0, text.length + h.lengthLie);
  if (lengthBytes === 2) view.setUint16(8, hlen & 0xffff, true);
  else view.setUint32(8, hlen >>> 0, true);
  out.set(text, prefix);
  return out;
}

/** `.npy` in memory and from disk. */
export const npyTarget: Target = {
  name: "npy",
  description: "decodeNpy / readNpy: mutated files and made-up headers",
  timeoutMs: 10_000,
  allocLimit: (bytes) => 3 * bytes + (1 << 16),
  cases(ctx, seed, count) {
    const files = ctx.seeds.npy;
    const plans = draw(
      fc.record({
        source: fc.nat(),
        synth: fc.boolean(),
        plan: bytePlan,
        npy: synthNpy,
        file: fc.boolean(),
      }),
      seed,
      count,
    );
    return async (i) => {
      const { valid, p, file } = seedCase(files, plans, i);
      const original = await readSeed(file);
      const bytes = valid
        ? original
        : p.synth
        ? buildNpy(p.npy)
        : applyBytePlan(original, p.plan, 128);
      const run = async () => {
        let a;
        if (p.file) {
          const dir = await caseDir(ctx);
          await Deno.writeFile(path.join(dir, "x.npy"), bytes);
          a = await readNpy(path.join(dir, "x.npy"));
        } else a = decodeNpy(bytes);
        checkArrays({ array: a });
      };
      const input = `${path.basename(file)} ${valid ? "valid" : p.synth ? "synth" : "bytes"}`;
      return { testCase: { input, run, valid }, bytes: bytes.length };
    };
  },
};

const jsonlLine = fc.oneof(
  fc.json({ maxDepth: 2 }),
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    '{"step": 3, "loss": 1',
    "",
    "   ",
    '{"step": "x"}',
    '{"step": 1e999}',
    "\r",
    "null",
  ),
);

/** JSON Lines reading and the resume-time truncation of `metrics.jsonl`. */
export const jsonlTarget: Target = {
  name: "jsonl",
  description:
    "readJsonl (strict and tolerant) / truncateMetrics: mutated metrics and made-up lines",
  timeoutMs: 10_000,
  allocLimit: (bytes) => 8 * bytes + (1 << 20),
  cases(ctx, seed, count) {
    const files = ctx.seeds.jsonl;
    const plans = draw(
      fc.record({
        synth: fc.boolean(),
        plan: bytePlan,
        lines: fc.array(jsonlLine, { maxLength: 12 }),
        crlf: fc.boolean(),
        mode: fc.constantFrom("strict", "tolerant", "truncate"),
        step: fc.integer({ min: 0, max: 3 }),
      }),
      seed,
      count,
    );
    return async (i) => {
      const valid = i < files.length;
      const p = plans[i];
      const original = await readSeed(files[0]);
      const bytes = valid
        ? original
        : p.synth
        ? new TextEncoder().encode(p.lines.join(p.crlf ? "\r\n" : "\n"))
        : applyBytePlan(original, p.plan);
      const mode = valid ? "strict" : p.mode;
      const run = async () => {
        const dir = await caseDir(ctx);
        const file = path.join(dir, "metrics.jsonl");
        await Deno.writeFile(file, bytes);
        if (mode === "truncate") {
          await truncateMetrics(file, p.step);
          const kept = await readJsonl(file);
          for (const v of kept) {
            const step = (v as { step?: unknown })?.step;
            expect(typeof step === "number" && step <= p.step, `kept a line of step ${step}`);
          }
          return;
        }
        await readJsonl(file, { allowTruncatedTail: mode === "tolerant" });
      };
      const input = `metrics.jsonl ${valid ? "valid" : p.synth ? "synth" : "bytes"} ${mode}`;
      return { testCase: { input, run, valid }, bytes: bytes.length };
    };
  },
};

/** Embeddings Parquet files, whole and by row ranges. */
export const parquetTarget: Target = {
  name: "parquet",
  description: "readEmbeddingsParquet / openEmbeddingsParquet().read(range): mutated files",
  timeoutMs: 10_000,
  allocLimit: (bytes) => 64 * bytes + (1 << 20),
  cases(ctx, seed, count) {
    const files = ctx.seeds.parquet;
    const plans = draw(
      fc.record({
        source: fc.nat(),
        plan: bytePlan,
        tail: fc.boolean(),
        range: fc.tuple(fc.nat(12), fc.nat(12)),
      }),
      seed,
      count,
    );
    return async (i) => {
      const { valid, p, file } = seedCase(files, plans, i);
      const original = await readSeed(file);
      // Half of the edits land in the footer (the last 400 bytes), where the metadata is.
      const bytes = valid ? original : p.tail
        ? (() => {
          const cut = Math.max(0, original.length - 400);
          const tail = applyBytePlan(original.subarray(cut), p.plan);
          const out = new Uint8Array(cut + tail.length);
          out.set(original.subarray(0, cut));
          out.set(tail, cut);
          return out;
        })()
        : applyBytePlan(original, p.plan);
      const run = async () => {
        const dir = await caseDir(ctx);
        const target = path.join(dir, "e.parquet");
        await Deno.writeFile(target, bytes);
        if (valid || p.range[0] % 2 === 0) {
          const t = await readEmbeddingsParquet(target);
          expect(t.vectors.length === t.ids.length * t.dim, "vectors do not match rows × dim");
          return;
        }
        using f = await openEmbeddingsParquet(target);
        const start = Math.min(p.range[0], f.numRows);
        const end = Math.min(f.numRows, start + p.range[1]);
        const t = await f.read({ rowStart: start, rowEnd: end });
        expect(t.ids.length === end - start, "wrong number of rows");
        expect(t.vectors.length === t.ids.length * t.dim, "vectors do not match rows × dim");
      };
      const input = `${path.basename(file)} ${valid ? "valid" : p.tail ? "footer" : "bytes"}`;
      return { testCase: { input, run, valid }, bytes: bytes.length };
    };
  },
};
