import assert from "node:assert/strict";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { findPeerPython, FORWARD_DRIVER, runPeer } from "../../tasks/_bench_peer.ts";

/**
 * A stand-in peer (a shell script, run by `sh` as the "python"): it writes its
 * arguments to `args.txt` beside it and prints the JSON line a peer prints.
 */
async function fakePeer(): Promise<{ dir: string; script: string }> {
  const dir = await Deno.makeTempDir({ prefix: "vatt-peer-test-" });
  const script = path.join(dir, "peer.sh");
  await Deno.writeTextFile(
    script,
    `echo "$@" > "${dir}/args.txt"\n` +
      `echo '{"ms_per_step": 10.0, "clips_per_s": 800.0, "params": 5, "torch": "1.13", "threads": 1}'\n`,
  );
  return { dir, script };
}

async function withPeer<T>(f: (dir: string) => Promise<T>): Promise<T> {
  const { dir, script } = await fakePeer();
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

/** A stand-in interpreter: an executable that records its arguments and prints `json`. */
async function fakePython(dir: string, json: string): Promise<string> {
  const exe = path.join(dir, "python.sh");
  await Deno.writeTextFile(exe, `#!/bin/sh\necho "$@" > "${dir}/py_args.txt"\necho '${json}'\n`);
  await Deno.chmod(exe, 0o755);
  return exe;
}

Deno.test("runPeer() with forwardOnly runs the forward driver on the peer script's model", async () => {
  await withPeer(async (dir) => {
    const json =
      '{"ms_per_step": 10.0, "clips_per_s": 800.0, "params": 5, "threads": 1, "mode": "forward"}';
    const python = await fakePython(dir, json);
    const r = await runPeer(python, ["--batch", "8"], { torch: 1 }, { forwardOnly: true });
    assert.equal(
      (await Deno.readTextFile(path.join(dir, "py_args.txt"))).trim(),
      `${FORWARD_DRIVER} --peer ${
        path.join(dir, "peer.sh")
      } --framework pytorch --batch 8 --threads 1`,
    );
    assert.ok(r.ok);
    assert.equal(r.forwardOnly, true);
    assert.equal(r.msPerStep, 10);
    assert.equal(r.clipsPerSec, 800);
  });
});

Deno.test("runPeer() without forwardOnly runs the training step as before", async () => {
  await withPeer(async (dir) => {
    const r = await runPeer("sh", ["--batch", "8"], { torch: 2 });
    assert.equal(
      (await Deno.readTextFile(path.join(dir, "args.txt"))).trim(),
      "--batch 8 --threads 2",
    );
    assert.ok(r.ok);
    assert.equal(r.forwardOnly, undefined);
  });
});

Deno.test("runPeer() refuses a forward-only figure that does not say it timed a forward pass", async () => {
  await withPeer(async (dir) => {
    const python = await fakePython(dir, '{"ms_per_step": 10.0, "clips_per_s": 800.0}');
    const r = await runPeer(python, [], { torch: 1 }, { forwardOnly: true });
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.reason : "", /did not time a forward pass/);
  });
});

const PEER = fileURLToPath(new URL("../../../shared/peer/vatt_torch.py", import.meta.url));
const torchPython = await findPeerPython("pytorch");
const hasTorchPeer = torchPython.python !== null &&
  await Deno.stat(PEER).then(() => true, () => false);

Deno.test({
  name: "peer_forward.py times the PyTorch peer's own model: the same parameters, inference mode",
  ignore: !hasTorchPeer,
  async fn() {
    const sizes = ["--batch", "2", "--dim", "32", "--layers", "1", "--heads", "2", "--mlp", "64"];
    const small = [...sizes, "--frames", "4", "--size", "32", "--audio-samples", "1024"];
    const train = await runPeer(torchPython.python!, [...small, "--steps", "1", "--warmup", "0"], {
      torch: 1,
    });
    const infer = await runPeer(torchPython.python!, [...small, "--steps", "2", "--warmup", "1"], {
      torch: 1,
    }, {
      forwardOnly: true,
    });
    assert.ok(train.ok && infer.ok, JSON.stringify([train, infer]));
    assert.equal(infer.params, train.params);
    assert.equal(infer.forwardOnly, true);
    assert.ok(infer.msPerStep > 0);
  },
});
