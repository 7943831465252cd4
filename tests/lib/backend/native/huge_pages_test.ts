import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import type { WasmBackendLike } from "../../../../lib/backend/kernels/_wasm_heap.ts";
import { adviseHugePages, hugePagesStatus } from "../../../../lib/backend/native/huge_pages.ts";
import { initBackend } from "../../../../lib/backend/select.ts";
import { builtNative } from "./_built.ts";

const kernels = await builtNative("huge_pages_test");
await initBackend("wasm");

/** The VmFlags of the mapping of /proc/self/smaps that holds `address`. */
function vmFlagsAt(address: bigint): string[] | null {
  let inside = false;
  for (const line of Deno.readTextFileSync("/proc/self/smaps").split("\n")) {
    const range = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
    if (range) inside = BigInt(`0x${range[1]}`) <= address && address < BigInt(`0x${range[2]}`);
    else if (inside && line.startsWith("VmFlags:")) return line.slice(8).trim().split(/\s+/);
  }
  return null;
}

Deno.test({
  name:
    "initBackend('wasm') asks for huge pages over the whole wasm heap: the mappings at its start and 1 GiB in carry the advice",
  ignore: !kernels || Deno.build.os !== "linux",
  fn() {
    const heap = (tf.backend() as unknown as WasmBackendLike).wasm.HEAPU8;
    assert.match(hugePagesStatus(), /^advised over the wasm heap \((\d+) MiB reserved\)$/);
    const base = Deno.UnsafePointer.value(
      Deno.UnsafePointer.of(heap as Uint8Array<ArrayBuffer>),
    ) as bigint;
    // 2 MiB in (the advice starts at the first 2 MiB boundary), and 1 GiB in: reserved, not yet
    // committed, so that the heap's growth gets huge pages too.
    for (const offset of [2n << 20n, 1n << 30n]) {
      const flags = vmFlagsAt(base + offset);
      assert.ok(flags, `no mapping ${offset} bytes into the heap`);
      assert.ok(flags.includes("hg"), `no huge-page advice ${offset} bytes in: ${flags.join(" ")}`);
    }
    // Asked again for the same heap: nothing new.
    assert.equal(adviseHugePages(heap), hugePagesStatus());
  },
});
