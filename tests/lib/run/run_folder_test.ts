import assert from "node:assert/strict";
import * as path from "node:path";
import { effectiveSwitches } from "../../../lib/backend/switches.ts";
import { prepareRunFolder } from "../../../lib/run/run_folder.ts";

Deno.test("prepareRunFolder() refuses an existing run without --resume or --force, and a config change on resume", async () => {
  const dir = await Deno.makeTempDir();
  const runDir = path.join(dir, "run");
  await prepareRunFolder(runDir, { config: { a: 1 }, resume: false, force: false });
  await assert.rejects(
    prepareRunFolder(runDir, { config: { a: 1 }, resume: false, force: false }),
    /already holds a run/,
  );
  await assert.rejects(
    prepareRunFolder(runDir, { config: { a: 2 }, resume: true, force: false }),
    /another config/,
  );
  // Stopped before the first checkpoint: resuming starts from step 0.
  assert.deepEqual(
    await prepareRunFolder(runDir, { config: { a: 1 }, resume: true, force: false }),
    { step: 0 },
  );
  const again = await prepareRunFolder(runDir, { config: { a: 2 }, resume: false, force: true });
  assert.equal(again.step, 0);
  await assert.rejects(
    prepareRunFolder(path.join(dir, "nothing"), { config: {}, resume: true, force: false }),
    /not a run folder/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("prepareRunFolder() records the kernel switches in config.json, and resumes whatever they were", async () => {
  const dir = await Deno.makeTempDir();
  const runDir = path.join(dir, "run");
  await prepareRunFolder(runDir, { config: { a: 1 }, resume: false, force: false });
  const configPath = path.join(runDir, "config.json");
  const written = JSON.parse(await Deno.readTextFile(configPath));
  assert.deepEqual(written.kernels, effectiveSwitches());
  // Resumed with other switches: not "another config".
  written.kernels.VATT_FUSED = written.kernels.VATT_FUSED === "on" ? "off" : "on";
  await Deno.writeTextFile(configPath, JSON.stringify(written));
  assert.deepEqual(
    await prepareRunFolder(runDir, { config: { a: 1 }, resume: true, force: false }),
    { step: 0 },
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("prepareRunFolder() removes the temporaries of a run killed mid-write, fresh or resumed", async () => {
  const dir = await Deno.makeTempDir();
  const runDir = path.join(dir, "run");
  // A process id that cannot be alive (above Linux's pid_max), as a killed run leaves it.
  const stale = (name: string) => path.join(runDir, `.${name}.tmp-4194399-0123456789ab`);
  await Deno.mkdir(runDir);
  await Deno.writeTextFile(stale("config.json"), "{");
  await prepareRunFolder(runDir, { config: { a: 1 }, resume: false, force: false });
  await Deno.writeTextFile(stale("metrics.jsonl"), "{");
  await prepareRunFolder(runDir, { config: { a: 1 }, resume: true, force: false });
  const left = [...Deno.readDirSync(runDir)].map((e) => e.name).sort();
  assert.deepEqual(left, ["config.json"]);
  await Deno.remove(dir, { recursive: true });
});
