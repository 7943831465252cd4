import assert from "node:assert/strict";
import * as path from "node:path";
import { runPeer } from "../../tasks/_bench_peer.ts";

/**
 * A stand-in peer (a shell script, run by `sh` as the "python"): it writes its
 * arguments to `args.txt` beside it and prints the JSON line a peer prints,
 * with `"mode": "forward"` only when `forwardAware` and asked `--forward-only`.
 */
async function fakePeer(forwardAware: boolean): Promise<{ dir: string; script: string }> {
  const dir = await Deno.makeTempDir({ prefix: "vatt-peer-test-" });
  const script = path.join(dir, "peer.sh");
  const mode = forwardAware
    ? `case " $* " in *" --forward-only "*) MODE=', "mode": "forward"';; esac`
    : "";
  await Deno.writeTextFile(
    script,
    `echo "$@" > "${dir}/args.txt"\nMODE=""\n${mode}\n` +
      `echo '{"ms_per_step": 10.0, "clips_per_s": 800.0, "params": 5, "torch": "1.13", "threads": 1'"$MODE"'}'\n`,
  );
  return { dir, script };
}

async function withPeer<T>(forwardAware: boolean, f: (dir: string) => Promise<T>): Promise<T> {
  const { dir, script } = await fakePeer(forwardAware);
  const before = Deno.env.get("VATT_PEER");
  Deno.env.set("VATT_PEER", script);
  try {
    return await f(dir);
  } finally {
    if (before === undefined) Deno.env.delete("VATT_PEER");
    else Deno.env.set("VATT_PEER", before);
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("runPeer() with forwardOnly passes --forward-only and records an inference run", async () => {
  await withPeer(true, async (dir) => {
    const r = await runPeer("sh", ["--batch", "8"], { torch: 1 }, { forwardOnly: true });
    assert.equal(
      (await Deno.readTextFile(path.join(dir, "args.txt"))).trim(),
      "--batch 8 --threads 1 --forward-only",
    );
    assert.ok(r.ok);
    assert.equal(r.forwardOnly, true);
    assert.equal(r.msPerStep, 10);
    assert.equal(r.clipsPerSec, 800);
  });
});

Deno.test("runPeer() without forwardOnly runs the training step as before", async () => {
  await withPeer(true, async (dir) => {
    const r = await runPeer("sh", ["--batch", "8"], { torch: 2 });
    assert.equal(
      (await Deno.readTextFile(path.join(dir, "args.txt"))).trim(),
      "--batch 8 --threads 2",
    );
    assert.ok(r.ok);
    assert.equal(r.forwardOnly, undefined);
  });
});

Deno.test("runPeer() refuses a training figure from a peer that ignores --forward-only", async () => {
  await withPeer(false, async () => {
    const r = await runPeer("sh", [], { torch: 1 }, { forwardOnly: true });
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.reason : "", /has no --forward-only mode/);
  });
});
