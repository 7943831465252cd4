/**
 * Reads only the part of a WAV file that a window needs: the header and the
 * frames from a little before the window's start to its end, reassembled as
 * a small WAV file. Private to `lib/data/media/`.
 *
 * @module
 */
import { readInputRange } from "../../io/input.ts";
import { FormatError } from "../../util/errors.ts";
import { wavLayout } from "./wav.ts";

/** A small WAV holding frames `skip ..` of the file. */
export interface WavWindow {
  /** A complete WAV file: the original header, then the frames read. */
  bytes: Uint8Array;
  /** Frames of the file left out before the first one kept. */
  skip: number;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * The frames of the WAV at `path` (first bytes `head`) that a window from
 * `from` to `until` seconds needs, with `margin` seconds on each side, or
 * `undefined` when `head` does not show the layout. `skip` is a multiple of
 * `rate / gcd(rate, outRate)` so the window starts on a whole output sample.
 * A file shorter than its header says is a FormatError, as the full decoder.
 */
export async function readWavWindow(
  path: string,
  head: Uint8Array,
  window: { from: number; until: number; margin: number; outRate: number },
): Promise<WavWindow | undefined> {
  const lay = wavLayout(head);
  if (!lay || lay.dataOffset > head.length) return undefined;
  const placeholder = lay.declared === 0 || lay.declared === 0xffffffff;
  const remaining = Math.max(0, (await Deno.stat(path)).size - lay.dataOffset);
  if (!placeholder && lay.declared > remaining) {
    throw new FormatError(
      `not a readable WAV file: data chunk declares ${lay.declared} bytes but only ${remaining} remain`,
      { path },
    );
  }
  const total = Math.floor((placeholder ? remaining : lay.declared) / lay.blockAlign);
  if (total === 0) return undefined; // the full decoder says what is wrong
  const rate = lay.sampleRate;
  const step = rate / gcd(rate, window.outRate);
  // A window past the end still decodes the last frame (the rest is zero-padded).
  let skip = Math.min(total - 1, Math.max(0, Math.floor((window.from - window.margin) * rate)));
  skip -= skip % step;
  const end = Math.min(total, Math.ceil((window.until + window.margin) * rate) + 1);
  const at = lay.dataOffset + skip * lay.blockAlign;
  const { bytes } = await readInputRange(path, at, (end - skip) * lay.blockAlign, {
    label: "audio file",
  });
  const frames = Math.floor(bytes.length / lay.blockAlign) * lay.blockAlign;
  const out = new Uint8Array(lay.dataOffset + frames);
  out.set(head.subarray(0, lay.dataOffset));
  out.set(bytes.subarray(0, frames), lay.dataOffset);
  const view = new DataView(out.buffer);
  view.setUint32(4, out.length - 8, true);
  view.setUint32(lay.sizeField, frames, true);
  return { bytes: out, skip };
}
