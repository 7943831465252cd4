/**
 * Streamed safetensors writing, for tensors larger than memory (exported
 * embeddings). Re-exported by `safetensors.ts`.
 *
 * @module
 */
import { assertLittleEndian, bytesOf, checkAppendData, DTYPES, type TypedArray } from "./_dtype.ts";
import { buildHeader, type TensorSpec } from "./_safetensors_header.ts";
import { AtomicStreamWriter } from "./stream_writer.ts";

/** Options of {@linkcode SafetensorsStreamWriter.create}. */
export interface SafetensorsStreamWriterOptions {
  /** String pairs stored as `__metadata__`. */
  metadata?: Record<string, string>;
}

interface Slot {
  spec: TensorSpec;
  /** File offset of the tensor's first byte. */
  start: number;
  /** Bytes in the tensor. */
  bytes: number;
  /** Bytes written so far. */
  written: number;
}

/**
 * Writes a safetensors file whose tensors are known up front (names, dtypes,
 * shapes) but whose data arrives in chunks: the header goes first, then each
 * `append` adds the next elements of one tensor (C order). Tensors can be
 * filled in any interleaving. {@linkcode SafetensorsStreamWriter.finish}
 * checks every byte was written and renames the temporary file into place;
 * the output is byte-identical to `encodeSafetensors` of the same data.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SafetensorsStreamWriter } from "./_safetensors_stream.ts";
 * import { readSafetensors } from "./safetensors.ts";
 * const dir = Deno.makeTempDirSync();
 * const out = await SafetensorsStreamWriter.create(`${dir}/emb.safetensors`, {
 *   video: { dtype: "F32", shape: [4, 2] },
 * });
 * await out.append("video", new Float32Array([1, 2, 3, 4])); // rows 0-1
 * await out.append("video", new Float32Array([5, 6, 7, 8])); // rows 2-3
 * await out.finish();
 * const { tensors } = await readSafetensors(`${dir}/emb.safetensors`);
 * assert.equal(tensors.video.data[7], 8);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class SafetensorsStreamWriter {
  /** Where the file lands on finish. */
  readonly path: string;
  /** Tensor names in file order (sorted). */
  readonly order: string[];
  #out: AtomicStreamWriter;
  #slots: Map<string, Slot>;

  private constructor(out: AtomicStreamWriter, order: string[], slots: Map<string, Slot>) {
    this.path = out.path;
    this.#out = out;
    this.order = order;
    this.#slots = slots;
  }

  /** Writes the header of `specs` to a temporary file next to `path`. */
  static async create(
    path: string,
    specs: Record<string, TensorSpec>,
    options: SafetensorsStreamWriterOptions = {},
  ): Promise<SafetensorsStreamWriter> {
    assertLittleEndian();
    const header = buildHeader(specs, options.metadata);
    const slots = new Map<string, Slot>();
    for (const name of header.order) {
      const [begin, end] = header.offsets.get(name)!;
      const spec = { dtype: specs[name].dtype, shape: [...specs[name].shape] };
      slots.set(name, { spec, start: header.bytes.length + begin, bytes: end - begin, written: 0 });
    }
    const out = await AtomicStreamWriter.create(path, { header: header.bytes });
    return new SafetensorsStreamWriter(out, header.order, slots);
  }

  /** Elements of tensor `name` written so far. */
  written(name: string): number {
    const slot = this.#slot(name);
    return slot.written / DTYPES[slot.spec.dtype].itemsize;
  }

  /**
   * Appends the next elements of tensor `name`; `data` must be the tensor's
   * typed array (`Float32Array` for `F32`, …) and not run past its end.
   */
  async append(name: string, data: TypedArray): Promise<void> {
    const slot = this.#slot(name);
    checkAppendData(data, { dtype: slot.spec.dtype, target: `"${name}"` });
    this.#out.assertOpen(`append to "${name}"`);
    const bytes = bytesOf(data);
    if (slot.written + bytes.length > slot.bytes) {
      throw new RangeError(
        `Cannot append ${data.length} elements to "${name}": only ${
          (slot.bytes - slot.written) / DTYPES[slot.spec.dtype].itemsize
        } of its ${slot.bytes / DTYPES[slot.spec.dtype].itemsize} remain`,
      );
    }
    const offset = slot.start + slot.written;
    slot.written += bytes.length;
    await this.#out.writeAt(offset, bytes);
  }

  /**
   * Checks that every tensor is complete, then flushes and renames the file
   * into place. An incomplete tensor is a RangeError, and the temporary file
   * is removed.
   */
  finish(): Promise<void> {
    return this.#out.finish(() => {
      for (const [name, slot] of this.#slots) {
        if (slot.written !== slot.bytes) {
          const itemsize = DTYPES[slot.spec.dtype].itemsize;
          throw new RangeError(
            `Cannot finish ${this.path}: tensor "${name}" has ${slot.written / itemsize} of ${
              slot.bytes / itemsize
            } elements`,
          );
        }
      }
    });
  }

  /** Stops writing and removes the temporary file; `path` is not touched. */
  abort(): Promise<void> {
    return this.#out.abort();
  }

  /** Aborts unless finished, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.abort();
  }

  #slot(name: string): Slot {
    const slot = this.#slots.get(name);
    if (!slot) {
      throw new RangeError(
        `Unknown tensor "${name}": this writer has ${this.order.join(", ") || "no tensors"}`,
      );
    }
    return slot;
  }
}
