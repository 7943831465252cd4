import assert from "node:assert/strict";
import fc from "fast-check";
import { FormatError, MismatchError } from "../../../lib/util/errors.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  type NamedArray,
  openSafetensors,
  readSafetensors,
  SafetensorsStreamWriter,
  type TensorDtype,
  type TypedArray,
  writeSafetensors,
} from "../../../lib/io/safetensors.ts";

const CTORS: Record<TensorDtype, new (buffer: ArrayBuffer) => TypedArray> = {
  F64: Float64Array,
  F32: Float32Array,
  F16: Uint16Array,
  BF16: Uint16Array,
  I64: BigInt64Array,
  I32: Int32Array,
  I16: Int16Array,
  I8: Int8Array,
  U64: BigUint64Array,
  U32: Uint32Array,
  U16: Uint16Array,
  U8: Uint8Array,
  BOOL: Uint8Array,
};
const ITEMSIZE: Record<TensorDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};
const DTYPE_NAMES = Object.keys(CTORS) as TensorDtype[];

function bytesOf(data: TypedArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** A tensor of `dtype` whose bytes are a deterministic pseudo-random pattern. */
function patterned(dtype: TensorDtype, shape: number[], seed = 1): NamedArray {
  const count = shape.reduce((a, b) => a * b, 1);
  const bytes = new Uint8Array(count * ITEMSIZE[dtype]);
  let s = seed;
  for (let i = 0; i < bytes.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    bytes[i] = s >>> 24;
  }
  return { dtype, shape, data: new CTORS[dtype](bytes.buffer) };
}

/** A file with the given header text (or bytes) and data, and optionally a forged length field. */
function craft(header: string | Uint8Array, data = new Uint8Array(), length?: bigint): Uint8Array {
  const json = typeof header === "string" ? new TextEncoder().encode(header) : header;
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function assertSameTensor(got: NamedArray, want: NamedArray): void {
  assert.equal(got.dtype, want.dtype);
  assert.deepEqual(got.shape, want.shape);
  assert.equal(got.data.constructor, want.data.constructor);
  assert.deepEqual(bytesOf(got.data), bytesOf(want.data));
}

Deno.test("encodeSafetensors() round-trips every dtype byte-exactly", () => {
  const tensors: Record<string, NamedArray> = {};
  DTYPE_NAMES.forEach((dtype, i) => {
    tensors[`t_${dtype}`] = patterned(dtype, [2, 3], i + 1);
  });
  tensors.scalar = patterned("F32", [], 99);
  tensors.empty = patterned("I32", [0, 4], 5);
  const bytes = encodeSafetensors(tensors, { metadata: { b: "2", a: "1" } });
  const decoded = decodeSafetensors(bytes);
  assert.deepEqual(Object.keys(decoded.tensors).sort(), Object.keys(tensors).sort());
  for (const [name, want] of Object.entries(tensors)) assertSameTensor(decoded.tensors[name], want);
  assert.deepEqual(decoded.metadata, { a: "1", b: "2" });
  assert.ok(decoded.tensors.t_I64.data instanceof BigInt64Array);
});

Deno.test("encodeSafetensors() is deterministic whatever the key order", () => {
  const a = patterned("F32", [4], 1);
  const b = patterned("U8", [3], 2);
  const one = encodeSafetensors({ a, b }, { metadata: { x: "1", y: "2" } });
  const two = encodeSafetensors({ b, a }, { metadata: { y: "2", x: "1" } });
  assert.deepEqual(one, two);
  assert.deepEqual(
    encodeSafetensors(decodeSafetensors(one).tensors, { metadata: { x: "1", y: "2" } }),
    one,
  );
});

Deno.test("encodeSafetensors() pads the header with spaces to 8-byte alignment", () => {
  for (let n = 1; n <= 9; n++) {
    const bytes = encodeSafetensors({ ["x".repeat(n)]: patterned("U8", [n]) });
    const length = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.equal(length % 8, 0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + length));
    assert.match(text, /^\{.*\} *$/);
    assert.ok(text.trimEnd().length > length - 8);
  }
});

Deno.test("encodeSafetensors() rejects data that does not fit its dtype or shape", () => {
  assert.throws(
    () => encodeSafetensors({ w: { dtype: "F32", shape: [2], data: new Float64Array(2) } }),
    TypeError,
  );
  assert.throws(
    () => encodeSafetensors({ w: { dtype: "F32", shape: [3], data: new Float32Array(2) } }),
    RangeError,
  );
  assert.throws(
    () => encodeSafetensors({ w: { dtype: "F32", shape: [-1], data: new Float32Array(0) } }),
    RangeError,
  );
  assert.throws(
    () =>
      encodeSafetensors({ w: patterned("U8", [1]) }, {
        metadata: { n: 5 as unknown as string },
      }),
    TypeError,
  );
  assert.throws(() => encodeSafetensors({ __metadata__: patterned("U8", [1]) }), RangeError);
});

Deno.test("decodeSafetensors() keeps a tensor named __proto__ as data", () => {
  const tensors = Object.fromEntries([["__proto__", patterned("I16", [2])]]);
  const decoded = decodeSafetensors(encodeSafetensors(tensors));
  assert.ok(Object.hasOwn(decoded.tensors, "__proto__"));
  assertSameTensor(decoded.tensors["__proto__"], tensors["__proto__"]);
});

Deno.test("decodeSafetensors() returns aligned copies, not views of the input", () => {
  // "a" is one byte, so "b" (F32) starts at an odd offset in the file.
  const bytes = encodeSafetensors({ a: patterned("U8", [1]), b: patterned("F32", [3]) });
  const decoded = decodeSafetensors(bytes);
  assert.notEqual(decoded.tensors.b.data.buffer, bytes.buffer);
  assert.equal(decoded.tensors.b.data.byteOffset, 0);
  bytes.fill(0);
  assertSameTensor(decoded.tensors.b, patterned("F32", [3]));
});

Deno.test("decodeSafetensors() checks the expected tensors", async (t) => {
  const bytes = encodeSafetensors({ w: patterned("F32", [2, 3]), b: patterned("F32", [3]) });
  const expect = {
    w: { dtype: "F32" as const, shape: [2, 3] },
    b: { dtype: "F32" as const, shape: [3] },
  };
  await t.step("passes when names, dtypes and shapes match", () => {
    decodeSafetensors(bytes, { expect });
  });
  const cases: [string, Record<string, { dtype: TensorDtype; shape: number[] }>, RegExp][] = [
    ["a wrong shape", { ...expect, w: { dtype: "F32", shape: [3, 2] } }, /"w".*shape/],
    ["a wrong dtype", { ...expect, b: { dtype: "F64", shape: [3] } }, /"b".*F32/],
    ["a missing tensor", { ...expect, c: { dtype: "U8", shape: [1] } }, /"c" is missing/],
    ["an extra tensor", { w: expect.w }, /unexpected tensor "b"/],
  ];
  for (const [what, want, message] of cases) {
    await t.step(`fails on ${what}`, () => {
      assert.throws(() => decodeSafetensors(bytes, { expect: want, path: "m.st" }), (e) => {
        assert.ok(e instanceof MismatchError);
        assert.match(e.message, message);
        assert.match(e.message, /m\.st/);
        return true;
      });
    });
  }
});

const VALID_DATA = new Uint8Array(12);
const MALFORMED: [string, () => Uint8Array][] = [
  ["a file shorter than the length field", () => new Uint8Array(5)],
  ["a header length beyond the file", () => craft("{}", new Uint8Array(), 1000n)],
  ["a header length of 2^63", () => craft("{}", new Uint8Array(), 2n ** 63n)],
  ["a header length of 2^64-1", () => craft("{}", new Uint8Array(), 2n ** 64n - 1n)],
  ["a header length of 0", () => craft("", new Uint8Array(4))],
  ["a header that is a JSON array", () => craft("[1, 2]")],
  ["a header that is a JSON string", () => craft('"tensors"')],
  ["a header that is null", () => craft("null ")],
  ["a header that is a number", () => craft("42")],
  ["a header that is not JSON", () => craft('{"a": ')],
  ["a header with trailing garbage", () => craft("{} xyz")],
  ["a header that is not UTF-8", () => {
    const json = new TextEncoder().encode('{"__metadata__": {"k": "..."}}');
    json[json.indexOf(0x2e)] = 0xff;
    json[json.indexOf(0x2e)] = 0xfe;
    return craft(json);
  }],
  ["an entry that is not an object", () => craft('{"a": 5}')],
  [
    "an unknown dtype",
    () => craft('{"a": {"dtype": "Q4", "shape": [3], "data_offsets": [0, 12]}}', VALID_DATA),
  ],
  ["a missing dtype", () => craft('{"a": {"shape": [3], "data_offsets": [0, 12]}}', VALID_DATA)],
  [
    "negative offsets",
    () => craft('{"a": {"dtype": "U8", "shape": [4], "data_offsets": [-4, 0]}}', new Uint8Array(4)),
  ],
  [
    "fractional offsets",
    () =>
      craft('{"a": {"dtype": "U8", "shape": [1], "data_offsets": [0.5, 1.5]}}', new Uint8Array(2)),
  ],
  [
    "huge offsets",
    () => craft('{"a": {"dtype": "U8", "shape": [0], "data_offsets": [1e300, 1e300]}}'),
  ],
  ["one offset", () => craft('{"a": {"dtype": "U8", "shape": [4], "data_offsets": [4]}}')],
  [
    "offsets that end before they begin",
    () => craft('{"a": {"dtype": "U8", "shape": [0], "data_offsets": [8, 4]}}', new Uint8Array(8)),
  ],
  ["overlapping offsets", () =>
    craft(
      '{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},' +
        ' "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}',
      VALID_DATA,
    )],
  [
    "offsets beyond the buffer",
    () =>
      craft('{"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}', new Uint8Array(8)),
  ],
  [
    "a byte count that does not match the shape",
    () => craft('{"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}', new Uint8Array(8)),
  ],
  [
    "an absurd shape [1e12, 1e12]",
    () =>
      craft(
        '{"a": {"dtype": "F32", "shape": [1e12, 1e12], "data_offsets": [0, 4]}}',
        new Uint8Array(4),
      ),
  ],
  [
    "a dimension beyond 2^53",
    () =>
      craft(
        '{"a": {"dtype": "U8", "shape": [9007199254740993], "data_offsets": [0, 1]}}',
        new Uint8Array(1),
      ),
  ],
  [
    "a negative dimension",
    () => craft('{"a": {"dtype": "U8", "shape": [-1], "data_offsets": [0, 0]}}'),
  ],
  [
    "a fractional dimension",
    () =>
      craft('{"a": {"dtype": "U8", "shape": [2.5], "data_offsets": [0, 2]}}', new Uint8Array(2)),
  ],
  [
    "a string dimension",
    () =>
      craft('{"a": {"dtype": "U8", "shape": ["2"], "data_offsets": [0, 2]}}', new Uint8Array(2)),
  ],
  [
    "a shape that is not an array",
    () => craft('{"a": {"dtype": "U8", "shape": 2, "data_offsets": [0, 2]}}', new Uint8Array(2)),
  ],
  [
    "bytes after the last tensor",
    () => craft('{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}', new Uint8Array(8)),
  ],
  ["a gap between tensors", () =>
    craft(
      '{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},' +
        ' "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}',
      VALID_DATA,
    )],
  ["data but no tensors", () => craft("{}", new Uint8Array(3))],
  ["metadata that is not an object", () => craft('{"__metadata__": ["a"]}')],
  ["a metadata value that is not a string", () => craft('{"__metadata__": {"step": 5}}')],
];

Deno.test("decodeSafetensors() rejects malformed files with FormatError", async (t) => {
  for (const [what, make] of MALFORMED) {
    await t.step(what, () => {
      assert.throws(() => decodeSafetensors(make(), { path: "bad.safetensors" }), (e) => {
        assert.ok(e instanceof FormatError, `${what}: got ${e}`);
        assert.match(e.message, /^bad\.safetensors: /);
        return true;
      });
    });
  }
});

Deno.test("openSafetensors() rejects the same malformed files with FormatError", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const [what, make] of MALFORMED) {
      const path = `${dir}/bad.safetensors`;
      await Deno.writeFile(path, make());
      await assert.rejects(() => openSafetensors(path), (e) => {
        assert.ok(e instanceof FormatError, `${what}: got ${e}`);
        return true;
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("decodeSafetensors() accepts a valid hand-written file", () => {
  const bytes = craft(
    '{"b": {"dtype": "U8", "shape": [4], "data_offsets": [8, 12]}, ' +
      '"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, ' +
      '"z": {"dtype": "I64", "shape": [0, 3], "data_offsets": [12, 12]}, "__metadata__": {}}',
    new Uint8Array([0, 0, 128, 63, 0, 0, 0, 64, 1, 2, 3, 4]),
  );
  const { tensors } = decodeSafetensors(bytes);
  assert.deepEqual(Array.from(tensors.a.data as Float32Array), [1, 2]);
  assert.deepEqual(Array.from(tensors.b.data as Uint8Array), [1, 2, 3, 4]);
  assert.deepEqual(tensors.z.shape, [0, 3]);
});

Deno.test("writeSafetensors() writes a file that readSafetensors() reads back", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/m.safetensors`;
    const tensors = { w: patterned("F32", [3, 2]), step: patterned("I64", [1]) };
    await writeSafetensors(path, tensors, { metadata: { format: "vatt" } });
    assert.deepEqual(
      await Deno.readFile(path),
      encodeSafetensors(tensors, { metadata: { format: "vatt" } }),
    );
    const read = await readSafetensors(path);
    assertSameTensor(read.tensors.w, tensors.w);
    assert.equal(read.metadata.format, "vatt");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["m.safetensors"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openSafetensors().readTensor() reads whole tensors and row ranges", async (t) => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/shard.safetensors`;
  const video = patterned("U8", [5, 2, 3, 3], 7);
  const label = patterned("I32", [5], 8);
  const scalar = patterned("F64", [], 9);
  await writeSafetensors(path, { video, label, scalar }, { metadata: { ids: "a,b,c,d,e" } });
  using file = await openSafetensors(path, {
    expect: {
      video: { dtype: "U8", shape: [5, 2, 3, 3] },
      label: { dtype: "I32", shape: [5] },
      scalar: { dtype: "F64", shape: [] },
    },
  });
  await t.step("header", () => {
    assert.deepEqual(file.names, ["label", "scalar", "video"]);
    assert.equal(file.header.metadata.ids, "a,b,c,d,e");
    assert.deepEqual(file.header.tensors.video.shape, [5, 2, 3, 3]);
  });
  await t.step("whole tensors", async () => {
    assertSameTensor(await file.readTensor("video"), video);
    assertSameTensor(await file.readTensor("scalar"), scalar);
    const all = await file.readTensors();
    assertSameTensor(all.label, label);
  });
  await t.step("row ranges", async () => {
    const rowBytes = 2 * 3 * 3;
    for (const [start, end] of [[0, 5], [1, 4], [4, 5], [2, 2], [5, 5]] as [number, number][]) {
      const part = await file.readTensor("video", { rows: [start, end] });
      assert.deepEqual(part.shape, [end - start, 2, 3, 3]);
      assert.deepEqual(
        part.data,
        (video.data as Uint8Array).slice(start * rowBytes, end * rowBytes),
      );
    }
    const labels = await file.readTensor("label", { rows: [3, 5] });
    assert.deepEqual(labels.data, (label.data as Int32Array).slice(3, 5));
  });
  await t.step("concurrent reads do not mix up", async () => {
    const parts = await Promise.all(
      [0, 1, 2, 3, 4].map((i) => file.readTensor("label", { rows: [i, i + 1] })),
    );
    assert.deepEqual(
      parts.map((p) => (p.data as Int32Array)[0]),
      Array.from(label.data as Int32Array),
    );
  });
  await t.step("bad requests", async () => {
    await assert.rejects(() => file.readTensor("video", { rows: [3, 2] }), RangeError);
    await assert.rejects(() => file.readTensor("video", { rows: [0, 6] }), RangeError);
    await assert.rejects(() => file.readTensor("video", { rows: [-1, 2] }), RangeError);
    await assert.rejects(() => file.readTensor("scalar", { rows: [0, 0] }), RangeError);
    await assert.rejects(() => file.readTensor("audio"), MismatchError);
  });
  file.close();
  await assert.rejects(() => file.readTensor("label"), TypeError);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("openSafetensors().readTensor() reads only the rows asked for", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/shard.safetensors`;
    const video = patterned("U8", [8, 1000], 3);
    await writeSafetensors(path, { video });
    using file = await openSafetensors(path);
    // Cut the file after row 3: rows before it still read, rows after do not.
    await Deno.truncate(path, file.header.dataStart + 3 * 1000);
    const early = await file.readTensor("video", { rows: [1, 3] });
    assert.deepEqual(early.data, (video.data as Uint8Array).slice(1000, 3000));
    await assert.rejects(() => file.readTensor("video", { rows: [2, 4] }), FormatError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openSafetensors() checks the expected tensors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/m.safetensors`;
    await writeSafetensors(path, { w: patterned("F32", [2]) });
    await assert.rejects(
      () => openSafetensors(path, { expect: { w: { dtype: "F32", shape: [3] } } }),
      MismatchError,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SafetensorsStreamWriter writes the same bytes as encodeSafetensors()", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/emb.safetensors`;
    const video = patterned("F32", [6, 4], 1);
    const text = patterned("F32", [6, 2, 4], 2);
    const ids = patterned("I64", [6], 3);
    const metadata = { ids: "a,b,c,d,e,f" };
    const out = await SafetensorsStreamWriter.create(path, {
      video: { dtype: "F32", shape: [6, 4] },
      text: { dtype: "F32", shape: [6, 2, 4] },
      ids: { dtype: "I64", shape: [6] },
    }, { metadata });
    assert.deepEqual(out.order, ["ids", "text", "video"]);
    // Interleave batches of rows across tensors, as an exporter would.
    for (let row = 0; row < 6; row += 2) {
      await out.append("video", (video.data as Float32Array).subarray(row * 4, row * 4 + 8));
      await out.append("text", (text.data as Float32Array).subarray(row * 8, row * 8 + 16));
    }
    await out.append("ids", ids.data);
    assert.equal(out.written("video"), 24);
    await out.finish();
    assert.deepEqual(
      await Deno.readFile(path),
      encodeSafetensors({ video, text, ids }, { metadata }),
    );
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["emb.safetensors"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SafetensorsStreamWriter refuses wrong or excess data and incomplete files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/emb.safetensors`;
    await Deno.writeTextFile(path, "old");
    const out = await SafetensorsStreamWriter.create(path, { v: { dtype: "F32", shape: [2, 2] } });
    await assert.rejects(() => out.append("v", new Float64Array(2)), TypeError);
    await assert.rejects(() => out.append("w", new Float32Array(2)), RangeError);
    await out.append("v", new Float32Array(3));
    await assert.rejects(() => out.append("v", new Float32Array(2)), RangeError);
    await assert.rejects(() => out.finish(), /"v" has 3 of 4 elements/);
    assert.equal(await Deno.readTextFile(path), "old");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["emb.safetensors"]);

    const aborted = await SafetensorsStreamWriter.create(path, { v: { dtype: "U8", shape: [1] } });
    await aborted.append("v", new Uint8Array(1));
    await aborted.abort();
    assert.equal(await Deno.readTextFile(path), "old");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["emb.safetensors"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const tensorArb = fc
  .record({
    dtype: fc.constantFrom(...DTYPE_NAMES),
    shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
  })
  .chain(({ dtype, shape }) => {
    const n = shape.reduce((a, b) => a * b, 1) * ITEMSIZE[dtype];
    return fc.uint8Array({ minLength: n, maxLength: n }).map((bytes): NamedArray => ({
      dtype,
      shape,
      data: new CTORS[dtype](bytes.slice().buffer),
    }));
  });
const tensorsArb = fc
  .uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), { minLength: 0, maxLength: 4 })
  .chain((names) =>
    fc.tuple(...names.map(() => tensorArb)).map((ts) =>
      Object.fromEntries(names.map((n, i) => [n, ts[i]]))
    )
  );
const metadataArb = fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 8 }), {
  maxKeys: 3,
  noNullPrototype: true,
});

Deno.test("safetensors: random valid tensors round-trip (property)", () => {
  fc.assert(
    fc.property(tensorsArb, metadataArb, (tensors, metadata) => {
      const bytes = encodeSafetensors(tensors, { metadata });
      const decoded = decodeSafetensors(bytes);
      assert.deepEqual(Object.keys(decoded.tensors).sort(), Object.keys(tensors).sort());
      for (const [name, want] of Object.entries(tensors)) {
        assertSameTensor(decoded.tensors[name], want);
      }
      assert.deepEqual({ ...decoded.metadata }, { ...metadata });
      assert.deepEqual(encodeSafetensors(decoded.tensors, { metadata: decoded.metadata }), bytes);
    }),
    { numRuns: 100 },
  );
});

const BASE = encodeSafetensors(
  {
    video: patterned("U8", [2, 3, 2], 1),
    audio: patterned("F32", [2, 5], 2),
    label: patterned("I64", [2], 3),
  },
  { metadata: { ids: "x,y" } },
);
const HEADER_END = 8 + Number(new DataView(BASE.buffer).getBigUint64(0, true));

const mutationArb = fc.record({
  // Most edits hit the length field and the JSON, where the parser works.
  edits: fc.array(
    fc.tuple(
      fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: 0, max: HEADER_END - 1 }) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: BASE.length - 1 }) },
      ),
      fc.oneof(
        fc.integer({ min: 0, max: 255 }),
        fc.constantFrom(...new TextEncoder().encode('{}[]",:0123456789-e. ')),
      ),
    ),
    { minLength: 1, maxLength: 4 },
  ),
  resize: fc.oneof(
    fc.constant(0),
    fc.integer({ min: -BASE.length, max: -1 }),
    fc.integer({ min: 1, max: 16 }),
  ),
});

function mutate({ edits, resize }: { edits: [number, number][]; resize: number }): Uint8Array {
  const out = new Uint8Array(Math.max(0, BASE.length + resize));
  out.set(BASE.subarray(0, Math.min(BASE.length, out.length)));
  for (const [pos, value] of edits) if (pos < out.length) out[pos] = value;
  return out;
}

Deno.test("decodeSafetensors() on mutated files decodes or throws FormatError (property)", () => {
  fc.assert(
    fc.property(mutationArb, (mutation) => {
      try {
        decodeSafetensors(mutate(mutation));
      } catch (e) {
        if (!(e instanceof FormatError)) throw e;
      }
    }),
    { numRuns: 200 },
  );
});

Deno.test("openSafetensors() on mutated files reads or throws FormatError (property)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/m.safetensors`;
    await fc.assert(
      fc.asyncProperty(mutationArb, async (mutation) => {
        await Deno.writeFile(path, mutate(mutation));
        try {
          using file = await openSafetensors(path);
          for (const name of file.names) {
            const { shape } = file.header.tensors[name];
            await file.readTensor(name, shape.length > 0 ? { rows: [0, shape[0]] } : {});
          }
        } catch (e) {
          if (!(e instanceof FormatError)) throw e;
        }
      }),
      { numRuns: 50 },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
