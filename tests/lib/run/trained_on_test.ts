import assert from "node:assert/strict";
import * as path from "node:path";
import { datasetFingerprint, readRunRecord, trainedOnRecord } from "../../../lib/run/trained_on.ts";
import { sha256Bytes } from "../../../lib/io/sha256.ts";
import { FormatError } from "../../../lib/util/errors.ts";

Deno.test("datasetFingerprint() is the SHA-256 of the shards' SHA-256s, one a line", () => {
  const shards = [{ sha256: "0a" }, { sha256: "0b" }];
  assert.equal(datasetFingerprint({ shards }), sha256Bytes("0a\n0b"));
});

Deno.test("trainedOnRecord() lists the held-out clips by id", () => {
  const r = trainedOnRecord({ shards: [{ sha256: "0a" }] }, {
    ids: ["p", "q", "r", "s"],
    train: [0, 3],
    heldOut: [2, 1],
  });
  assert.deepEqual(r, { data: sha256Bytes("0a"), trainClips: 2, heldOut: ["r", "q"] });
});

Deno.test("readRunRecord() reads the run folder above a checkpoint, old runs too", async () => {
  const run = await Deno.makeTempDir();
  const ckpt = path.join(run, "checkpoints", "step-0000004");
  await Deno.mkdir(ckpt, { recursive: true });
  const config = {
    kind: "finetune",
    data: { dir: "/d/train", clips: 10 },
    val: { dir: "/d/val", clips: 4 },
    finetune: { valFraction: 0, seed: 7 },
  };
  await Deno.writeTextFile(path.join(run, "config.json"), JSON.stringify(config));
  assert.deepEqual(await readRunRecord(ckpt), {
    dir: run,
    dataDir: "/d/train",
    valDir: "/d/val",
    split: { valFraction: 0, seed: 7 },
    trainedOn: undefined,
  });
  await Deno.writeTextFile(
    path.join(run, "config.json"),
    JSON.stringify({ ...config, trainedOn: { data: "x", heldOut: "b" } }),
  );
  await assert.rejects(readRunRecord(ckpt), FormatError);
  // A pretraining run's folder says nothing about a classifier's training data.
  await Deno.writeTextFile(path.join(run, "config.json"), JSON.stringify({ kind: "pretrain" }));
  assert.equal(await readRunRecord(ckpt), undefined);
  await Deno.remove(run, { recursive: true });
});
