import assert from "node:assert/strict";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const DEMO = fileURLToPath(new URL("../../tasks/demo.ts", import.meta.url));

Deno.test("deno task demo runs end to end on a reduced size and prints the results table", async () => {
  const dir = await Deno.makeTempDir();
  const out = path.join(dir, "demo");
  const json = path.join(dir, "demo.json");
  const r = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      DEMO,
      "--out",
      out,
      "--clips",
      "24",
      "--test-clips",
      "16",
      "--steps",
      "12",
      "--batch",
      "8",
      "--probe-epochs",
      "3",
      "--backend",
      "wasm",
      "--json",
      json,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(r.stdout);
  assert.equal(r.code, 0, new TextDecoder().decode(r.stderr).slice(-2000));
  for (
    const row of [
      "text-video R@1",
      "text-video R@10",
      "audio-video R@5",
      "median rank",
      "linear probe top-1 (video)",
      "linear probe top-1 (audio)",
    ]
  ) {
    assert.ok(stdout.includes(row), `missing ${row} in\n${stdout}`);
  }
  const results = JSON.parse(await Deno.readTextFile(json));
  assert.equal(results.retrieval["text-video"].candidates, 16);
  for (
    const file of [
      "embeddings.parquet",
      "embeddings.png",
      "embeddings-by-label.png",
      "training.png",
      "run/config.json",
    ]
  ) {
    assert.ok((await Deno.stat(path.join(out, file))).size > 0, file);
  }
  // A folder that is not a demo folder is refused.
  const foreign = path.join(dir, "foreign");
  await Deno.mkdir(foreign);
  await Deno.writeTextFile(path.join(foreign, "keep.txt"), "mine");
  const refused = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", DEMO, "--out", foreign],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(refused.code, 2);
  assert.equal(await Deno.readTextFile(path.join(foreign, "keep.txt")), "mine");
  await Deno.remove(dir, { recursive: true });
});
