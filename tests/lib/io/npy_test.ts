import assert from "node:assert/strict";
import fc from "fast-check";
import { FormatError } from "../../../lib/util/errors.ts";
import {
  decodeNpy,
  encodeNpy,
  type NamedArray,
  NpyStreamWriter,
  readNpy,
  type TensorDtype,
  type TypedArray,
  writeNpy,
} from "../../../lib/io/npy.ts";

const CASES: [TensorDtype, new (buffer: ArrayBuffer) => TypedArray, number, string][] = [
  ["F64", Float64Array, 8, "<f8"],
  ["F32", Float32Array, 4, "<f4"],
  ["F16", Uint16Array, 2, "<f2"],
  ["I64", BigInt64Array, 8, "<i8"],
  ["I32", Int32Array, 4, "<i4"],
  ["I16", Int16Array, 2, "<i2"],
  ["I8", Int8Array, 1, "|i1"],
  ["U64", BigUint64Array, 8, "<u8"],
  ["U32", Uint32Array, 4, "<u4"],
  ["U16", Uint16Array, 2, "<u2"],
  ["U8", Uint8Array, 1, "|u1"],
  ["BOOL", Uint8Array, 1, "|b1"],
];

function patterned(
  dtype: TensorDtype,
  ctor: new (buffer: ArrayBuffer) => TypedArray,
  itemsize: number,
  shape: number[],
): NamedArray {
  const bytes = new Uint8Array(shape.reduce((a, b) => a * b, 1) * itemsize);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 37 + 11) & 0xff;
  if (dtype === "BOOL") bytes.forEach((b, i) => (bytes[i] = b & 1));
  return { dtype, shape, data: new ctor(bytes.buffer) };
}

function bytesOf(data: TypedArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** A .npy file with the given header text, padded like numpy, and data. */
function craft(header: string, data = new Uint8Array(), version = 1): Uint8Array {
  const prefix = version === 1 ? 10 : 12;
  let text = header;
  while ((prefix + text.length + 1) % 64 !== 0) text += " ";
  text += "\n";
  const out = new Uint8Array(prefix + text.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, text.length, true);
  else view.setUint32(8, text.length, true);
  out.set(new TextEncoder().encode(text), prefix);
  out.set(data, prefix + text.length);
  return out;
}

const hasNumpy = await (async () => {
  try {
    const { success } = await new Deno.Command("python3", {
      args: ["-c", "import numpy"],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
})();

Deno.test("encodeNpy() round-trips every dtype byte-exactly", () => {
  for (const [dtype, ctor, itemsize, descr] of CASES) {
    for (const shape of [[3, 4], [5], [], [2, 0, 3]]) {
      const array = patterned(dtype, ctor, itemsize, shape);
      const bytes = encodeNpy(array);
      assert.equal(bytes.length % 64, (array.data.byteLength) % 64, `${dtype} ${shape}`);
      const header = new TextDecoder().decode(
        bytes.subarray(10, bytes.length - array.data.byteLength),
      );
      assert.ok(header.includes(`'descr': '${descr}'`));
      assert.ok(header.endsWith("\n"));
      const decoded = decodeNpy(bytes);
      assert.equal(decoded.dtype, dtype);
      assert.deepEqual(decoded.shape, shape);
      assert.equal(decoded.data.constructor, ctor);
      assert.deepEqual(bytesOf(decoded.data), bytesOf(array.data));
      assert.deepEqual(encodeNpy(decoded), bytes);
    }
  }
});

Deno.test("encodeNpy() rejects BF16 and data that does not fit", () => {
  assert.throws(
    () => encodeNpy({ dtype: "BF16", shape: [1], data: new Uint16Array(1) }),
    TypeError,
  );
  assert.throws(
    () => encodeNpy({ dtype: "F32", shape: [2], data: new Float32Array(3) }),
    RangeError,
  );
  assert.throws(() => encodeNpy({ dtype: "F32", shape: [2], data: new Int32Array(2) }), TypeError);
});

Deno.test("decodeNpy() reads the header variants numpy writes", () => {
  const data = new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer);
  for (
    const header of [
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
      '{"shape": (2,3), "descr": "<f4", "fortran_order": False}',
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }",
    ]
  ) {
    const array = decodeNpy(craft(header, data));
    assert.deepEqual(array.shape, [2, 3]);
    assert.deepEqual(Array.from(array.data as Float32Array), [1, 2, 3, 4, 5, 6]);
  }
  const v2 = decodeNpy(craft("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", data, 2));
  assert.deepEqual(v2.shape, [6]);
  const u8 = decodeNpy(craft("{'descr': '<u1', 'fortran_order': True, 'shape': (24,), }", data));
  assert.equal(u8.dtype, "U8");
});

const F4 = new Uint8Array(8);
const MALFORMED: [string, () => Uint8Array][] = [
  ["an empty file", () => new Uint8Array()],
  ["no magic", () => new TextEncoder().encode("PK\x03\x04 zip file, not npy")],
  ["version 4", () => {
    const b = craft("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", F4);
    b[6] = 4;
    return b;
  }],
  ["a header length beyond the file", () => {
    const b = craft("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", F4);
    new DataView(b.buffer).setUint16(8, 60000, true);
    return b;
  }],
  ["a v2 header length of 4 GiB", () => {
    const b = craft("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", F4, 2);
    new DataView(b.buffer).setUint32(8, 0xffffffff, true);
    return b;
  }],
  ["a header that is not a literal", () => craft("__import__('os').system('true')", F4)],
  ["a header that is not a dict", () => craft("('<f4', False, (2,))", F4)],
  ["a missing key", () => craft("{'descr': '<f4', 'shape': (2,), }", F4)],
  [
    "an extra key",
    () => craft("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", F4),
  ],
  [
    "a duplicate key",
    () => craft("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", F4),
  ],
  [
    "a big-endian descr",
    () => craft("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", F4),
  ],
  ["an object descr", () => craft("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", F4)],
  [
    "a structured descr",
    () => craft("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", F4),
  ],
  [
    "a Fortran-order matrix",
    () => craft("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", new Uint8Array(16)),
  ],
  [
    "a negative dimension",
    () => craft("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }"),
  ],
  [
    "an absurd shape",
    () =>
      craft(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000, 1000000000000), }",
        F4,
      ),
  ],
  [
    "a huge integer",
    () =>
      craft("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }", F4),
  ],
  ["too little data", () => craft("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", F4)],
  ["too much data", () => craft("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", F4)],
  [
    "an unterminated string",
    () => craft("{'descr: '<f4', 'fortran_order': False, 'shape': (2,)}", F4),
  ],
  ["deep nesting", () => craft(`{'descr': ${"(".repeat(50)}${")".repeat(50)}}`, F4)],
  ["a non-UTF-8 v3 header", () => {
    const b = craft("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", F4, 3);
    b[13] = 0xff;
    return b;
  }],
];

Deno.test("decodeNpy() rejects malformed files with FormatError", async (t) => {
  for (const [what, make] of MALFORMED) {
    await t.step(what, () => {
      assert.throws(() => decodeNpy(make(), { path: "x.npy" }), (e) => {
        assert.ok(e instanceof FormatError, `${what}: got ${e}`);
        assert.match(e.message, /^x\.npy: /);
        return true;
      });
    });
  }
});

Deno.test("writeNpy() and readNpy() round-trip through a file atomically", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const array = patterned("F32", Float32Array, 4, [4, 3]);
    await writeNpy(`${dir}/e.npy`, array);
    const back = await readNpy(`${dir}/e.npy`);
    assert.deepEqual(bytesOf(back.data), bytesOf(array.data));
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["e.npy"]);
    await Deno.writeTextFile(`${dir}/bad.npy`, "nope");
    await assert.rejects(() => readNpy(`${dir}/bad.npy`), (e) => {
      assert.ok(e instanceof FormatError);
      assert.ok(e.message.includes("bad.npy"));
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("NpyStreamWriter writes chunks to the same bytes as encodeNpy()", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const array = patterned("I16", Int16Array, 2, [5, 3]);
    const data = array.data as Int16Array;
    const out = await NpyStreamWriter.create(`${dir}/e.npy`, { dtype: "I16", shape: [5, 3] });
    await out.append(data.subarray(0, 6));
    await out.append(data.subarray(6, 7));
    await out.append(data.subarray(7));
    assert.equal(out.written, 15);
    await out.finish();
    assert.deepEqual(await Deno.readFile(`${dir}/e.npy`), encodeNpy(array));
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["e.npy"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("NpyStreamWriter refuses wrong or excess data and incomplete files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/e.npy`;
    await Deno.writeTextFile(path, "old");
    const out = await NpyStreamWriter.create(path, { dtype: "F32", shape: [2, 2] });
    await assert.rejects(() => out.append(new Float64Array(1)), TypeError);
    await out.append(new Float32Array(3));
    await assert.rejects(() => out.append(new Float32Array(2)), RangeError);
    await assert.rejects(() => out.finish(), /3 of 4 elements/);
    assert.equal(await Deno.readTextFile(path), "old");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["e.npy"]);
    const dropped = await NpyStreamWriter.create(path, { dtype: "U8", shape: [1] });
    await dropped.abort();
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["e.npy"]);
    await assert.rejects(
      () => NpyStreamWriter.create(path, { dtype: "F32", shape: [-1] }),
      RangeError,
    );
    await assert.rejects(
      () => NpyStreamWriter.create(path, { dtype: "BF16", shape: [1] }),
      TypeError,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "encodeNpy() output matches numpy.save and numpy reads it back",
  ignore: !hasNumpy,
}, async () => {
  const dir = await Deno.makeTempDir();
  try {
    const script = [
      "import numpy as np, sys",
      "d = sys.argv[1]",
      "for name, dt, shape in [('f4', '<f4', (3, 4)), ('i4', '<i4', (5,)), ('u1', '|u1', (2, 0, 3)),",
      "                        ('i2', '<i2', ()), ('f8', '<f8', (7, 1))]:",
      "    n = int(np.prod(shape))",
      "    a = (np.arange(n) * 37 + 11).astype(dt).reshape(shape)",
      "    np.save(f'{d}/np-{name}.npy', a)",
      "    b = np.load(f'{d}/vatt-{name}.npy')",
      "    assert b.dtype == a.dtype and b.shape == a.shape and (a == b).all(), name",
      "print('ok')",
    ].join("\n");
    const arrays: Record<string, NamedArray> = {
      f4: {
        dtype: "F32",
        shape: [3, 4],
        data: Float32Array.from({ length: 12 }, (_, i) => i * 37 + 11),
      },
      i4: { dtype: "I32", shape: [5], data: Int32Array.from({ length: 5 }, (_, i) => i * 37 + 11) },
      u1: { dtype: "U8", shape: [2, 0, 3], data: new Uint8Array(0) },
      i2: { dtype: "I16", shape: [], data: Int16Array.from([11]) },
      f8: {
        dtype: "F64",
        shape: [7, 1],
        data: Float64Array.from({ length: 7 }, (_, i) => i * 37 + 11),
      },
    };
    for (const [name, array] of Object.entries(arrays)) {
      await writeNpy(`${dir}/vatt-${name}.npy`, array);
    }
    const result = await new Deno.Command("python3", { args: ["-c", script, dir] }).output();
    assert.ok(result.success, new TextDecoder().decode(result.stderr));
    for (const [name, array] of Object.entries(arrays)) {
      assert.deepEqual(
        await Deno.readFile(`${dir}/vatt-${name}.npy`),
        await Deno.readFile(`${dir}/np-${name}.npy`),
      );
      const theirs = await readNpy(`${dir}/np-${name}.npy`);
      assert.deepEqual(bytesOf(theirs.data), bytesOf(array.data));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const BASE = encodeNpy(patterned("F32", Float32Array, 4, [3, 2]));

Deno.test("decodeNpy() on mutated files decodes or throws FormatError (property)", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.tuple(fc.integer({ min: 0, max: BASE.length - 1 }), fc.integer({ min: 0, max: 255 })),
        {
          minLength: 1,
          maxLength: 4,
        },
      ),
      fc.integer({ min: -BASE.length, max: 8 }),
      (edits, resize) => {
        const bytes = new Uint8Array(Math.max(0, BASE.length + resize));
        bytes.set(BASE.subarray(0, Math.min(BASE.length, bytes.length)));
        for (const [pos, value] of edits) if (pos < bytes.length) bytes[pos] = value;
        try {
          decodeNpy(bytes);
        } catch (e) {
          if (!(e instanceof FormatError)) throw e;
        }
      },
    ),
    { numRuns: 200 },
  );
});
