import assert from "node:assert/strict";
import { errorLines, runVatt } from "./_run.ts";

Deno.test("vatt info --preset base --json shows the paper-sized video parameter count", async () => {
  const r = await runVatt(["info", "--preset", "base", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.ok(Math.abs(info.params.video - 87.9e6) / 87.9e6 < 0.02, String(info.params.video));
  assert.equal(info.config.video.backbone.layers, 12);
  const names = info.backends.map((b: { name: string }) => b.name);
  assert.deepEqual(names.slice(0, 2), ["cpu", "wasm"]);
  assert.ok(info.backends.find((b: { name: string }) => b.name === "wasm").available);
});

Deno.test("vatt info prints a table with per-module counts and backends", async () => {
  const r = await runVatt(["info", "--agnostic"]);
  assert.equal(r.code, 0, r.stderr);
  for (const word of ["video", "audio", "text", "shared", "heads", "backends", "wasm"]) {
    assert.match(r.stdout, new RegExp(word));
  }
});

Deno.test("bad config ends with one line and exit code 2", async (t) => {
  const dir = await Deno.makeTempDir();
  const write = async (name: string, value: unknown) => {
    const p = `${dir}/${name}.json`;
    await Deno.writeTextFile(p, JSON.stringify(value));
    return p;
  };
  const cases: [string, string[], RegExp][] = [
    ["unknown preset", ["info", "--preset", "huge"], /Unknown preset "huge"/],
    ["patch larger than the input", [
      "info",
      "--config",
      await write("patch", { video: { patch: [2, 64, 8] } }),
    ], /patch 64 is larger than frame height 32/],
    ["heads not dividing d", [
      "info",
      "--config",
      await write("heads", { video: { backbone: { heads: 5 } } }),
    ], /heads 5 do not divide hidden size 64/],
    ["not JSON", [
      "info",
      "--config",
      await write("bad", "x").then(async (p) => (await Deno.writeTextFile(p, "{"), p)),
    ], /not valid JSON/],
    ["unknown option", ["info", "--nope"], /unknown option/],
  ];
  for (const [name, args, message] of cases) {
    await t.step(name, async () => {
      const r = await runVatt(args);
      assert.equal(r.code, 2, r.stderr);
      const lines = errorLines(r).filter((l) => !l.startsWith("(run with --help"));
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], message);
      assert.ok(!r.stderr.includes("    at "), "no stack trace");
    });
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("vatt --help and every subcommand's --help exit 0", async () => {
  for (
    const args of [
      ["--help"],
      ...["info", "demo-data", "tokenize", "pretrain", "finetune", "export", "plot"].map((
        c,
      ) => [c, "--help"]),
    ]
  ) {
    const r = await runVatt(args);
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stdout, /Usage: vatt/);
  }
});
