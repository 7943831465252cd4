/**
 * Choosing and initialising the TensorFlow.js backend.
 *
 * - `cpu`: pure JavaScript, always there, slowest.
 * - `wasm`: SIMD WebAssembly; its `.wasm` files are found through the package
 *   graph, so a `deno compile`d binary finds them too. When OpenBLAS loads
 *   (Deno FFI; `VATT_BLAS=0` turns it off), its matrix products replace the
 *   wasm ones (`kernels/matmul.ts`) and attention runs as one kernel each way
 *   (`kernels/attention.ts`); Adam, GELU, LayerNorm, bias sums and row gathers
 *   run as vatt's own kernels (`kernels/fused.ts`, `kernels/wasm.ts`), on its
 *   SIMD module (`simd/simd.ts`) where the runtime has wasm SIMD. The kernel
 *   sets are installed together (`kernels/mod.ts`); `switches.ts` lists the
 *   `VATT_*` switches that keep them off.
 * - `webgpu`: through Deno's WebGPU (Vulkan). Without a GPU, Deno still finds
 *   Mesa's llvmpipe software adapter, which works but is slower than wasm, so
 *   `auto` takes webgpu only on a hardware adapter.
 * - `tensorflow`: `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node`, when
 *   the user has installed one.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { createRequire } from "node:module";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import "./gradients.ts";
import { blasStatus } from "./blas.ts";
import { describeKernelSets, registerKernelSets } from "./kernels/mod.ts";
import { simdStatus } from "./simd/simd.ts";
import { nativeStatus } from "./native/native.ts";
import { adviseHugePages } from "./native/huge_pages.ts";

/** Backends a user may ask for. */
export type BackendName = "auto" | "cpu" | "wasm" | "webgpu" | "tensorflow";

/** The backend names accepted by `--backend`. */
export const BACKEND_NAMES: readonly BackendName[] = [
  "auto",
  "cpu",
  "wasm",
  "webgpu",
  "tensorflow",
];

/** What a probe found out about one backend. */
export interface BackendProbe {
  /** The backend probed. */
  name: Exclude<BackendName, "auto">;
  /** Whether it can start here. */
  available: boolean;
  /** Adapter or reason, one line. */
  detail: string;
}

// The tfjs banner about installing tfjs-node, and per-op debug checks, are off.
tf.env().set("PROD", true);

let wasmPathsSet = false;
function prepareWasm(): void {
  if (wasmPathsSet) return;
  const entry = createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm");
  setWasmPaths(path.dirname(entry) + path.sep);
  wasmPathsSet = true;
}

interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string };
  isFallbackAdapter?: boolean;
}

/**
 * Runs `probe` (which may create Deno's WebGPU instance) so that libwayland,
 * which wgpu asks for a display, does not print "error: XDG_RUNTIME_DIR is
 * invalid or not set in the environment." on a headless Linux machine: it
 * prints that only when `XDG_RUNTIME_DIR` is not an absolute path, so for the
 * call it is set to one that does not exist (the connection then fails
 * silently, as it would anyway), and is put back after.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withoutWaylandNoise } from "./select.ts";
 * Deno.env.delete("XDG_RUNTIME_DIR");
 * const during = await withoutWaylandNoise(() => Promise.resolve(Deno.env.get("XDG_RUNTIME_DIR")));
 * if (Deno.build.os === "linux") assert.ok(during!.startsWith("/"));
 * assert.equal(Deno.env.get("XDG_RUNTIME_DIR"), undefined);
 * ```
 */
export async function withoutWaylandNoise<T>(probe: () => Promise<T>): Promise<T> {
  let shield = false;
  let before: string | undefined;
  try {
    before = Deno.env.get("XDG_RUNTIME_DIR");
    shield = Deno.build.os === "linux" && !Deno.env.get("XDG_RUNTIME_DIR")?.startsWith("/") &&
      !Deno.env.get("WAYLAND_DISPLAY")?.startsWith("/") && !Deno.env.get("WAYLAND_SOCKET");
    if (shield) Deno.env.set("XDG_RUNTIME_DIR", `/nonexistent/vatt-headless-${Deno.pid}`);
  } catch {
    shield = false; // no --allow-env: the probe runs as it is
  }
  try {
    return await probe();
  } finally {
    if (shield && before === undefined) Deno.env.delete("XDG_RUNTIME_DIR");
    else if (shield) Deno.env.set("XDG_RUNTIME_DIR", before!);
  }
}

/**
 * The WebGPU adapter, and whether it is a software one (llvmpipe/SwiftShader).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { probeWebGpu } from "./select.ts";
 * const gpu = await probeWebGpu();
 * assert.ok(gpu.detail.length > 0); // the adapter, or why there is none
 * if (!gpu.adapter) assert.equal(gpu.software, false);
 * ```
 */
export async function probeWebGpu(): Promise<
  { adapter: boolean; software: boolean; detail: string }
> {
  const gpu =
    (globalThis.navigator as { gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> } })
      ?.gpu;
  if (!gpu) return { adapter: false, software: false, detail: "no navigator.gpu" };
  let adapter: GpuAdapterLike | null = null;
  try {
    adapter = await withoutWaylandNoise(() => gpu.requestAdapter());
  } catch (e) {
    return {
      adapter: false,
      software: false,
      detail: `requestAdapter failed: ${(e as Error).message}`,
    };
  }
  if (!adapter) return { adapter: false, software: false, detail: "no WebGPU adapter" };
  const info = adapter.info ?? {};
  const text = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(
    " ",
  );
  const software = adapter.isFallbackAdapter === true ||
    /llvmpipe|swiftshader|lavapipe|software/i.test(text);
  return { adapter: true, software, detail: text || "unnamed adapter" };
}

const TFJS_NODE_PACKAGES = ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"];

async function tryTensorflow(): Promise<string | null> {
  // Looked up in the user's own node_modules (from the working directory up),
  // never downloaded: libtensorflow comes with the user's own install.
  const requireFromCwd = createRequire(path.join(Deno.cwd(), "noop.js"));
  for (const name of TFJS_NODE_PACKAGES) {
    let file: string;
    try {
      file = requireFromCwd.resolve(name);
    } catch {
      continue; // not installed
    }
    try {
      await import(pathToFileURL(file).href);
      if (tf.findBackend("tensorflow")) return name;
    } catch {
      // installed but broken (e.g. libtensorflow missing)
    }
  }
  return null;
}

/**
 * Probes every backend without switching to it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { probeBackends } from "./select.ts";
 * const probes = await probeBackends({ includeTensorflow: false });
 * assert.deepEqual(probes.map((p) => p.name), ["cpu", "wasm", "webgpu"]);
 * assert.ok(probes.find((p) => p.name === "cpu")!.available);
 * ```
 */
export async function probeBackends(
  options: { includeTensorflow?: boolean } = {},
): Promise<BackendProbe[]> {
  const out: BackendProbe[] = [{ name: "cpu", available: true, detail: "pure JavaScript" }];
  try {
    prepareWasm();
    out.push({
      name: "wasm",
      available: true,
      detail: `WebAssembly SIMD; matrix products: ${blasStatus()}; kernels: ${simdStatus()}; ` +
        `native kernels: ${nativeStatus()}; vatt kernel sets: ${describeKernelSets("wasm")}`,
    });
  } catch (e) {
    out.push({ name: "wasm", available: false, detail: (e as Error).message });
  }
  const gpu = await probeWebGpu();
  out.push({
    name: "webgpu",
    available: gpu.adapter,
    detail: gpu.adapter ? `${gpu.detail}${gpu.software ? " (software renderer)" : ""}` : gpu.detail,
  });
  if (options.includeTensorflow ?? true) {
    const found = tf.findBackend("tensorflow") ? "loaded" : await tryTensorflow();
    out.push({
      name: "tensorflow",
      available: found !== null,
      detail: found ?? "not installed (npm i @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu)",
    });
  }
  return out;
}

/**
 * Switches tfjs to `name` (or, for `auto`, to the fastest that works here:
 * webgpu on a hardware adapter, else wasm, else cpu) and returns the backend in
 * use. Throws `Error` with a one-line reason when the requested backend cannot
 * start.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initBackend } from "./select.ts";
 * assert.equal(await initBackend("cpu"), "cpu");
 * await assert.rejects(initBackend("gpu" as "cpu"), RangeError);
 * ```
 */
export async function initBackend(name: BackendName): Promise<Exclude<BackendName, "auto">> {
  if (!BACKEND_NAMES.includes(name)) {
    throw new RangeError(
      `Unknown backend ${JSON.stringify(name)}: expected one of ${BACKEND_NAMES.join(", ")}`,
    );
  }
  if (name === "auto") {
    const gpu = await probeWebGpu();
    if (gpu.adapter && !gpu.software) {
      try {
        return await initBackend("webgpu");
      } catch {
        // fall through to wasm
      }
    }
    try {
      return await initBackend("wasm");
    } catch {
      return await initBackend("cpu");
    }
  }
  if (name === "wasm") {
    prepareWasm();
    registerKernelSets("wasm"); // each set that is on and has what it needs (kernels/mod.ts)
  }
  if (name === "webgpu" && !tf.findBackend("webgpu")) {
    const gpu = await probeWebGpu();
    if (!gpu.adapter) throw new Error(`The webgpu backend cannot start: ${gpu.detail}`);
    await import("@tensorflow/tfjs-backend-webgpu");
  }
  if (name === "tensorflow" && !tf.findBackend("tensorflow")) {
    if (!(await tryTensorflow())) {
      throw new Error(
        "The tensorflow backend needs @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu, which is not installed: " +
          "install one with npm (it downloads libtensorflow) or use --backend wasm",
      );
    }
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`The ${name} backend failed to initialise`);
  await tf.ready();
  if (name === "wasm") {
    adviseHugePages((tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8);
  }
  return name;
}
