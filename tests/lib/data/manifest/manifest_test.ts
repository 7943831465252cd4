import assert from "node:assert/strict";
import { join } from "node:path";
import fc from "fast-check";
import { FormatError } from "../../../../lib/util/errors.ts";
import { readManifest, safeFileName } from "../../../../lib/data/manifest/manifest.ts";
import { safeFileName as safeFileNameDirect } from "../../../../lib/data/manifest/safe_file_name.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.realPath(await Deno.makeTempDir());
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const enc = new TextEncoder();

function bytes(...parts: (string | number[] | Uint8Array)[]): Uint8Array {
  const chunks = parts.map((p) => typeof p === "string" ? enc.encode(p) : Uint8Array.from(p));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

Deno.test("readManifest() reads a JSONL manifest and resolves paths against its folder", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(join(dir, "sub"));
    const path = join(dir, "sub", "m.jsonl");
    const lines = [
      { id: "c1", video: "a.mp4", captions: ["a dog", "a puppy"], label: "dog" },
      { id: "c2", video: "clips/b.webm", audio: "../wav/b.wav", captions: [], label: ["x", "y"] },
      { id: "c3", video: "/abs/c.mp4", captions: ["c"], start: 1.5, end: 4, extra: true },
      { id: "c4", video: "d.mp4", captions: ["d"], audio: null, label: null, start: 0 },
    ].map((o) => JSON.stringify(o));
    await Deno.writeTextFile(path, `${lines[0]}\n\n${lines[1]}\r\n${lines.slice(2).join("\n")}`);
    const m = await readManifest(path);
    assert.equal(m.format, "jsonl");
    assert.deepEqual(m.errors, []);
    assert.deepEqual(m.rows, [
      {
        row: 1,
        id: "c1",
        video: join(dir, "sub", "a.mp4"),
        videoRaw: "a.mp4",
        captions: ["a dog", "a puppy"],
        label: "dog",
      },
      {
        row: 3,
        id: "c2",
        video: join(dir, "sub", "clips", "b.webm"),
        videoRaw: "clips/b.webm",
        audio: join(dir, "wav", "b.wav"),
        audioRaw: "../wav/b.wav",
        captions: [],
        label: ["x", "y"],
      },
      {
        row: 4,
        id: "c3",
        video: "/abs/c.mp4",
        videoRaw: "/abs/c.mp4",
        captions: ["c"],
        start: 1.5,
        end: 4,
      },
      {
        row: 5,
        id: "c4",
        video: join(dir, "sub", "d.mp4"),
        videoRaw: "d.mp4",
        captions: ["d"],
        start: 0,
      },
    ]);
  });
});

Deno.test("readManifest() reports each bad JSONL row and keeps the good ones", async () => {
  const good = (id: string) => JSON.stringify({ id, video: "v.mp4", captions: ["x"] });
  const cases: [string, string | Uint8Array, RegExp][] = [
    ["not JSON", '{"id": "a", ', /not valid JSON/],
    ["not an object", "[1, 2]", /expected a JSON object, got an array/],
    ["missing id", '{"video":"v.mp4","captions":[]}', /missing id/],
    ["numeric id", '{"id":7,"video":"v.mp4","captions":[]}', /id must be a string, got number 7/],
    ["blank id", '{"id":"  ","video":"v.mp4","captions":[]}', /id is blank/],
    ["missing video", '{"id":"a","captions":[]}', /missing video/],
    ["video not a string", '{"id":"a","video":["v"],"captions":[]}', /video must be a path/],
    ["video URL", '{"id":"a","video":"https://x/v.mp4","captions":[]}', /not a URL/],
    ["NUL in path", '{"id":"a","video":"v\\u0000.mp4","captions":[]}', /NUL/],
    ["audio not a string", '{"id":"a","video":"v","audio":3,"captions":[]}', /audio must be/],
    ["missing captions", '{"id":"a","video":"v.mp4"}', /missing captions/],
    ["captions a string", '{"id":"a","video":"v","captions":"x"}', /captions must be an array/],
    [
      "caption not a string",
      '{"id":"a","video":"v","captions":["x",2]}',
      /captions\[1\] must be a string/,
    ],
    ["label a number", '{"id":"a","video":"v","captions":[],"label":3}', /label must be a string/],
    ["label empty array", '{"id":"a","video":"v","captions":[],"label":[]}', /empty array/],
    [
      "start a string",
      '{"id":"a","video":"v","captions":[],"start":"1"}',
      /start must be a number/,
    ],
    [
      "negative start",
      '{"id":"a","video":"v","captions":[],"start":-1}',
      /start must not be negative/,
    ],
    [
      "end before start",
      '{"id":"a","video":"v","captions":[],"start":2,"end":1}',
      /end 1 must be greater than start 2/,
    ],
    ["end zero", '{"id":"a","video":"v","captions":[],"end":0}', /end 0 must be greater/],
    ["duplicate id", good("g1"), /duplicate id "g1" \(first on line 1\)/],
    [
      "not UTF-8",
      bytes('{"id":"a","video":"v', [0xc3, 0x28], '","captions":[]}'),
      /not valid UTF-8/,
    ],
    [
      "over-long line",
      JSON.stringify({ id: "a", video: "v", captions: ["x".repeat(500)] }),
      /longer than 300 bytes/,
    ],
  ];
  for (const [name, line, reason] of cases) {
    await withDir(async (dir) => {
      const path = join(dir, "m.jsonl");
      await Deno.writeFile(path, bytes(`${good("g1")}\n`, line, `\n${good("g2")}\n`));
      const m = await readManifest(path, { maxLineBytes: 300 });
      assert.deepEqual(m.rows.map((r) => r.id), ["g1", "g2"], name);
      assert.equal(m.errors.length, 1, name);
      assert.equal(m.errors[0].row, 2, name);
      assert.match(m.errors[0].reason, reason, name);
      assert.ok(!m.errors[0].reason.includes("\n"), name);
    });
  }
});

Deno.test("readManifest() reads an RFC 4180 CSV manifest", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "m.csv");
    const text = [
      "\uFEFF id , video,audio,captions,label,start,end,notes",
      'c1,a.mp4,,"a dog, barking || a ""loud"" dog",dog,,,x',
      'c2,"b c.mp4",b.wav,"line one',
      'still one || two",cat|dog,1.5,3,',
      "",
      'c3,d.mp4,,"[""json, one"",""two""]",,0,2e0,',
      'c4,e.mp4,,,  a | b |  ,,,"quoted ""notes"""',
      "c5,f.mp4,,[music] a man sings,,,,",
    ].join("\r\n") + "\r\n";
    await Deno.writeTextFile(path, text);
    const m = await readManifest(path);
    assert.equal(m.format, "csv");
    assert.deepEqual(m.errors, []);
    assert.deepEqual(m.rows, [
      {
        row: 2,
        id: "c1",
        video: join(dir, "a.mp4"),
        videoRaw: "a.mp4",
        captions: ["a dog, barking", 'a "loud" dog'],
        label: "dog",
      },
      {
        row: 3,
        id: "c2",
        video: join(dir, "b c.mp4"),
        videoRaw: "b c.mp4",
        audio: join(dir, "b.wav"),
        audioRaw: "b.wav",
        captions: ["line one\nstill one", "two"],
        label: ["cat", "dog"],
        start: 1.5,
        end: 3,
      },
      {
        row: 6,
        id: "c3",
        video: join(dir, "d.mp4"),
        videoRaw: "d.mp4",
        captions: ["json, one", "two"],
        start: 0,
        end: 2,
      },
      {
        row: 7,
        id: "c4",
        video: join(dir, "e.mp4"),
        videoRaw: "e.mp4",
        captions: [],
        label: ["a", "b"],
      },
      {
        row: 8,
        id: "c5",
        video: join(dir, "f.mp4"),
        videoRaw: "f.mp4",
        captions: ["[music] a man sings"],
      },
    ]);
  });
});

Deno.test("readManifest() splits CSV captions on || with or without spaces", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "m.csv");
    await Deno.writeTextFile(
      path,
      [
        "id,video,captions",
        "c1,a.mp4,a dog||a puppy",
        "c2,b.mp4,a cat ||a kitten|| a kitty",
        "c3,c.mp4,one || two",
        "c4,d.mp4,||only|| ||",
        "c5,e.mp4,a | b",
      ].join("\n") + "\n",
    );
    const m = await readManifest(path);
    assert.deepEqual(m.errors, []);
    assert.deepEqual(m.rows.map((r) => r.captions), [
      ["a dog", "a puppy"],
      ["a cat", "a kitten", "a kitty"],
      ["one", "two"],
      ["only"],
      ["a | b"], // a single bar is text, not a separator
    ]);
  });
});

Deno.test("readManifest() reports each bad CSV row with its line and keeps the good ones", async () => {
  const header = "id,video,captions,start,end\n";
  const cases: [string, string | Uint8Array, number, RegExp][] = [
    ["too few fields", "a,v.mp4\n", 3, /has 2 fields, the header has 5/],
    ["too many fields", "a,v.mp4,x,,,\n", 3, /has 6 fields/],
    ["quote inside a field", 'a,v"x.mp4,x,,\n', 3, /quote inside an unquoted field/],
    ["text after a quote", 'a,"v.mp4"x,x,,\n', 3, /text after a closing quote/],
    ["start not a number", "a,v.mp4,x,abc,\n", 3, /start "abc" is not a number/],
    ["start hex", "a,v.mp4,x,0x10,\n", 3, /start "0x10" is not a number/],
    ["negative start", "a,v.mp4,x,-2,\n", 3, /must not be negative/],
    ["end not after start", "a,v.mp4,x,3,3\n", 3, /end 3 must be greater than start 3/],
    ["empty id", ",v.mp4,x,,\n", 3, /missing id/],
    ["empty video", "a,,x,,\n", 3, /missing video/],
    ["captions JSON of numbers", 'a,v.mp4,"[1,2]",,\n', 3, /captions\[0\] must be a string/],
    ["duplicate id", "g1,v.mp4,x,,\n", 3, /duplicate id "g1" \(first on line 2\)/],
    ["not UTF-8", bytes("a,v", [0xff], ".mp4,x,,\n"), 3, /not valid UTF-8/],
    [
      "not UTF-8 in a later line of a quoted field",
      bytes('a,v.mp4,"x\ny', [0xfe], '",,\n'),
      3,
      /line 4: not valid UTF-8/,
    ],
    ["over-long line", `a,v.mp4,${"w".repeat(400)},,\n`, 3, /longer than 300 bytes/],
    [
      "over-long quoted record",
      `a,v.mp4,"${"w\n".repeat(200)}",,\n`,
      3,
      /record longer than 300 bytes/,
    ],
  ];
  for (const [name, line, row, reason] of cases) {
    await withDir(async (dir) => {
      const path = join(dir, "m.csv");
      await Deno.writeFile(path, bytes(header, "g1,v.mp4,x,,\n", line, "g2,w.mp4,y,,\n"));
      const m = await readManifest(path, { maxLineBytes: 300 });
      assert.deepEqual(m.rows.map((r) => r.id), ["g1", "g2"], name);
      assert.equal(m.errors.length, 1, `${name}: ${JSON.stringify(m.errors)}`);
      assert.equal(m.errors[0].row, row, name);
      assert.match(m.errors[0].reason, reason, name);
      assert.ok(!m.errors[0].reason.includes("\n"), name);
    });
  }
});

Deno.test("readManifest() reports an unclosed quote at the end of a CSV file", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "m.csv");
    await Deno.writeTextFile(path, 'id,video,captions\ng1,v.mp4,x\ng2,w.mp4,"never closed\nmore\n');
    const m = await readManifest(path);
    assert.deepEqual(m.rows.map((r) => r.id), ["g1"]);
    assert.deepEqual(m.errors, [{ row: 3, reason: "quoted field is never closed (end of file)" }]);
  });
});

Deno.test("readManifest() skips a 3 MB line without holding it and reads on", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "m.jsonl");
    const ok = JSON.stringify({ id: "b", video: "v", captions: [] });
    await Deno.writeTextFile(path, `{"id":"a","video":"${"v".repeat(3 << 20)}"}\n${ok}\n`);
    const m = await readManifest(path);
    assert.deepEqual(m.rows.map((r) => r.id), ["b"]);
    assert.deepEqual(m.errors, [{ row: 1, reason: "line longer than 1048576 bytes" }]);
  });
});

Deno.test("readManifest() picks the format by extension, else by content", async () => {
  await withDir(async (dir) => {
    const jsonl = '{"id":"a","video":"v","captions":[]}\n';
    const csv = "id,video,captions\na,v,\n";
    for (
      const [name, text, format] of [
        ["m.ndjson", jsonl, "jsonl"],
        ["m.JSONL", jsonl, "jsonl"],
        ["m.txt", jsonl, "jsonl"],
        ["m", csv, "csv"],
        ["m.tsv", csv, "csv"],
      ] as const
    ) {
      await Deno.writeTextFile(join(dir, name), text);
      const m = await readManifest(join(dir, name));
      assert.equal(m.format, format, name);
      assert.deepEqual(m.rows.map((r) => r.id), ["a"], name);
    }
    await Deno.writeTextFile(join(dir, "forced.txt"), csv);
    await assert.rejects(readManifest(join(dir, "forced.txt"), { format: "jsonl" }), FormatError);
  });
});

Deno.test("readManifest() throws FormatError on files that are not manifests", async (t) => {
  const cases: [string, string, string | Uint8Array, RegExp][] = [
    ["empty", "m.jsonl", "", /empty/],
    ["blank lines only", "m.jsonl", "\n  \n\n", /empty/],
    ["empty CSV", "m.csv", "\n\n", /empty/],
    [
      "binary",
      "m.jsonl",
      bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
      /binary/,
    ],
    ["binary CSV", "m.csv", bytes("id,video", [0], ",captions\n"), /binary/],
    [
      "CSV without a header",
      "m.csv",
      "a1,clip.mp4,a dog\na2,clip2.mp4,a cat\n",
      /lacks column\(s\) id, video or audio, captions/,
    ],
    ["CSV header missing captions", "m.csv", "id,video\na,v\n", /lacks column\(s\) captions/],
    ["CSV header with a duplicate", "m.csv", "id,video,captions,id\n", /twice/],
    ["CSV header not UTF-8", "m.csv", bytes("id,vid", [0xff], "eo,captions\n"), /header.*UTF-8/],
    ["CSV header quote never closed", "m.csv", 'id,video,"captions\n', /header.*never closed/],
    [
      "prose named .jsonl",
      "m.jsonl",
      "Hello,\nthis is a letter.\n",
      /no line is a JSON object \(line 1: not valid JSON/,
    ],
    ["JSON values but no object", "m.jsonl", "1\n[2]\n", /no line is a JSON object/],
  ];
  for (const [name, file, content, message] of cases) {
    await t.step(name, async () => {
      await withDir(async (dir) => {
        const path = join(dir, file);
        await Deno.writeFile(path, typeof content === "string" ? enc.encode(content) : content);
        await assert.rejects(readManifest(path), (e: unknown) => {
          assert.ok(e instanceof FormatError, String(e));
          assert.match(e.message, message);
          assert.equal(e.path, path);
          assert.ok(!e.message.includes("\n"));
          return true;
        });
      });
    });
  }
  await t.step("missing file and folder", async () => {
    await withDir(async (dir) => {
      await assert.rejects(readManifest(join(dir, "nope.jsonl")), FormatError);
      await assert.rejects(readManifest(dir), /not a regular file/);
    });
  });
  await t.step("bad option", async () => {
    await assert.rejects(readManifest("x.jsonl", { maxLineBytes: 0 }), RangeError);
  });
});

Deno.test("readManifest() reads back any quoted CSV cells with their line numbers", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "m.csv");
    const special = fc.array(fc.constantFrom(",", '"', "\n", "a", "é", " ", "|", "東", "[", "'"), {
      minLength: 1,
      maxLength: 12,
    }).map((parts) => parts.join(""));
    const cellText = fc.oneof(fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }), special)
      .filter((v) =>
        v.length > 0 && v.trim() === v && !v.includes("\0") && !v.includes("\r") &&
        !/^[a-z][a-z0-9+.-]*:\/\//i.test(v)
      );
    const quote = (v: string) => `"${v.replaceAll('"', '""')}"`;
    await fc.assert(
      fc.asyncProperty(fc.array(cellText, { minLength: 1, maxLength: 8 }), async (videos) => {
        let text = "id,video,captions\n";
        const rows: number[] = [];
        let line = 2;
        videos.forEach((v, i) => {
          rows.push(line);
          text += `r${i},${quote(v)},\n`;
          line += 1 + (v.match(/\n/g)?.length ?? 0);
        });
        await Deno.writeTextFile(path, text);
        const m = await readManifest(path);
        assert.deepEqual(m.errors, []);
        assert.deepEqual(m.rows.map((r) => r.videoRaw), videos);
        assert.deepEqual(m.rows.map((r) => r.row), rows);
      }),
      { numRuns: 60 },
    );
  });
});

Deno.test("manifest.ts re-exports safeFileName()", () => {
  assert.equal(safeFileName("a/b"), safeFileNameDirect("a/b"));
});
