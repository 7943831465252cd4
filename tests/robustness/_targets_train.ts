/**
 * Fuzz target of checkpoints: a run folder whose newest checkpoint has a
 * damaged `model.safetensors`, `optimizer.safetensors` or `state.json` (bytes,
 * header JSON, or a missing file), loaded the way `--resume` loads it:
 * `resolveCheckpoint`, `readTrainState`, `readCheckpointConfig`,
 * `loadModelWeights`, `loadOptimizerTensors` and `Adam.loadState`. A load
 * that fails must also leave no tensor behind.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import fc from "fast-check";
import * as path from "node:path";
import type { VattConfig } from "../../lib/config/vatt_config.ts";
import { VattModel } from "../../lib/model/vatt.ts";
import {
  loadModelWeights,
  loadOptimizerTensors,
  readCheckpointConfig,
  readTrainState,
  resolveCheckpoint,
} from "../../lib/run/checkpoint.ts";
import { Adam } from "../../lib/train/optimizer.ts";
import { applyBytePlan, applyJsonPlan, bytePlan, draw, jsonPlan } from "./_mutate.ts";
import {
  caseDir,
  editSafetensorsHeader,
  expect,
  readSeed,
  safetensorsHot,
  type Target,
} from "./_target.ts";

const FILES = ["model.safetensors", "optimizer.safetensors", "state.json"] as const;

tf.env().set("PROD", true);

let model: { model: VattModel; optimizer: Adam } | undefined;

async function tinyModel(config: VattConfig) {
  if (!model) {
    await tf.setBackend("cpu");
    const m = VattModel.create(config);
    model = {
      model: m,
      optimizer: new Adam(m.trainableWeights(), { decayable: (n) => n.endsWith("/kernel") }),
    };
  }
  return model;
}

/** A run folder with a damaged newest checkpoint. */
export const checkpointTarget: Target = {
  name: "checkpoint",
  description:
    "resolveCheckpoint / readTrainState / readCheckpointConfig / loadModelWeights / loadOptimizerTensors / Adam.loadState: damaged checkpoints",
  timeoutMs: 30_000,
  allocLimit: (bytes) => 3 * bytes + (8 << 20),
  async cases(ctx, seed, count) {
    const seedRun = ctx.seeds.run;
    const config = JSON.parse(
      new TextDecoder().decode(await readSeed(path.join(seedRun, "config.json"))),
    );
    const name = path.basename(ctx.seeds.checkpoint);
    const originals = await Promise.all(
      FILES.map((f) => readSeed(path.join(ctx.seeds.checkpoint, f))),
    );
    const total = originals.reduce((s, b) => s + b.length, 0);
    const plans = draw(
      fc.record({
        file: fc.nat(2),
        kind: fc.constantFrom("bytes", "bytes", "header", "header", "missing"),
        bp: bytePlan,
        jp: jsonPlan,
      }),
      seed,
      count,
    );
    return (i) => {
      const valid = i === 0;
      const p = plans[i];
      const file = FILES[p.file];
      const kind = valid ? "valid" : p.kind;
      const run = async () => {
        const { model: m, optimizer } = await tinyModel(config.model);
        const dir = path.join(await caseDir(ctx), "run");
        const ckpt = path.join(dir, "checkpoints", name);
        await Deno.mkdir(ckpt, { recursive: true });
        await Deno.writeFile(
          path.join(dir, "config.json"),
          await readSeed(path.join(seedRun, "config.json")),
        );
        for (const [k, f] of FILES.entries()) {
          let bytes = originals[k];
          if (f === file && kind === "missing") continue;
          if (f === file && kind === "bytes") {
            bytes = applyBytePlan(
              bytes,
              p.bp,
              f === "state.json" ? bytes.length : safetensorsHot(bytes),
            );
          } else if (f === file && kind === "header") {
            bytes = f === "state.json"
              ? new TextEncoder().encode(
                applyJsonPlan(JSON.parse(new TextDecoder().decode(bytes)), p.jp),
              )
              : editSafetensorsHeader(bytes, (h) => applyJsonPlan(h, p.jp));
          }
          await Deno.writeFile(path.join(ckpt, f), bytes);
        }
        const before = tf.memory().numTensors;
        try {
          const found = await resolveCheckpoint(dir);
          expect(found === ckpt, "resolved another checkpoint");
          const state = await readTrainState(found);
          expect(Number.isSafeInteger(state.step) && state.step >= 0, "state step");
          await readCheckpointConfig(found);
          await loadModelWeights(found, { weights: m.weights, config: m.config });
          const opt = await loadOptimizerTensors(found);
          try {
            await optimizer.loadState(opt);
          } finally {
            tf.dispose(Object.values(opt));
          }
        } finally {
          const leaked = tf.memory().numTensors - before;
          expect(leaked === 0, `a failed load left ${leaked} tensors behind`);
        }
      };
      return Promise.resolve({
        testCase: { input: `${valid ? "checkpoint" : file} ${kind}`, run, valid },
        bytes: total,
      });
    };
  },
};
