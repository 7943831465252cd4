/**
 * Test helpers: the backends available here, switching between them.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { type BackendName, initBackend, probeWebGpu } from "../lib/backend/select.ts";

/** The backends the model must work on that this machine has. */
export async function testBackends(): Promise<Exclude<BackendName, "auto" | "tensorflow">[]> {
  const out: Exclude<BackendName, "auto" | "tensorflow">[] = ["cpu", "wasm"];
  if (Deno.env.get("VATT_TEST_WEBGPU") !== "0" && (await probeWebGpu()).adapter) out.push("webgpu");
  return out;
}

/** Runs `fn` on backend `name`, then switches back to cpu. */
export async function onBackend<T>(name: BackendName, fn: () => Promise<T>): Promise<T> {
  await initBackend(name);
  try {
    return await fn();
  } finally {
    await tf.setBackend("cpu");
  }
}
