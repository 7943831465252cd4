/**
 * Where the ffmpeg binary is: `--ffmpeg PATH`, else `VATT_FFMPEG`, else the
 * static build shipped in the npm package `@ffmpeg-installer/ffmpeg`.
 *
 * @module
 */
import installer from "@ffmpeg-installer/ffmpeg";

/**
 * Resolves the ffmpeg binary to spawn.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ffmpegPath } from "./ffmpeg_path.ts";
 * assert.equal(ffmpegPath({ override: "/usr/bin/ffmpeg" }), "/usr/bin/ffmpeg");
 * ```
 */
export function ffmpegPath(options: { override?: string } = {}): string {
  if (options.override) return options.override;
  let fromEnv: string | undefined;
  try {
    fromEnv = Deno.env.get("VATT_FFMPEG");
  } catch {
    fromEnv = undefined; // no --allow-env: fall back to the bundled binary
  }
  return fromEnv || installer.path;
}
