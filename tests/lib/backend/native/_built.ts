/**
 * The native kernels as this checkout's sources build them, for the native tests: built when
 * missing or older than their sources (a stale library would test old code), or `null` with one
 * line saying why the test file is skipped.
 *
 * @module
 */
import { loadBlas } from "../../../../lib/backend/blas.ts";
import {
  nativeGemm,
  type NativeKernels,
  nativeKernels,
  nativeStatus,
} from "../../../../lib/backend/native/native.ts";
import { buildNative } from "../../../../tasks/build_native.ts";

/**
 * The loaded kernels, or `null` (logged as `test: why: skipped`); with `blas`, only where the
 * BLAS loads too, and bound to it for their split products.
 */
export async function builtNative(
  test: string,
  options: { blas?: boolean } = {},
): Promise<NativeKernels | null> {
  const built = await buildNative();
  const blas = options.blas ? loadBlas() : null;
  const kernels = !options.blas ? nativeKernels() : blas ? nativeGemm(blas.library) : null;
  if (!kernels) {
    const why = "error" in built ? built.error : options.blas && !blas ? "no BLAS" : nativeStatus();
    console.log(`${test}: ${why}: skipped`);
  }
  return kernels;
}
