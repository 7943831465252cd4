/**
 * An allocation guard for fuzzing: while armed, every `new Uint8Array(n)`,
 * `new Float32Array(n)`, …, `new ArrayBuffer(n)` and `new Array(n)` made
 * anywhere in the process (vatt's code and the libraries it calls) is
 * checked against a byte limit set per case from the size of the input. A
 * larger request is refused with an {@link UntrustedAllocationError} before
 * any memory is taken, so a reader that sizes a buffer from a field of the
 * file without checking it against the file's real size is caught (and the
 * fuzzing process is not brought down by it).
 *
 * The global constructors are replaced by proxies whose `construct` trap does
 * the check; `instanceof`, statics (`Uint8Array.from`) and subclassing keep
 * working. Arrays made by `slice`/`subarray`/species are not seen.
 *
 * @module
 */

/** A request for more bytes than the case's input can justify. */
export class UntrustedAllocationError extends Error {
  /** Bytes requested. */
  readonly bytes: number;
  constructor(what: string, bytes: number, limit: number) {
    super(`${what} of ${bytes} bytes exceeds the limit of ${limit} bytes for this input`);
    this.name = "UntrustedAllocationError";
    this.bytes = bytes;
  }
}

const TYPED = [
  "Int8Array",
  "Uint8Array",
  "Uint8ClampedArray",
  "Int16Array",
  "Uint16Array",
  "Int32Array",
  "Uint32Array",
  "Float32Array",
  "Float64Array",
  "BigInt64Array",
  "BigUint64Array",
] as const;

type Global = Record<string, unknown>;

let limit = Infinity;
let peak = 0;
let tripped: UntrustedAllocationError | undefined;
let installed: Map<string, unknown> | undefined;

function check(what: string, count: unknown, itemsize: number): void {
  if (typeof count !== "number") return;
  const bytes = count * itemsize;
  if (bytes > peak && bytes <= limit) peak = bytes;
  if (bytes > limit) {
    tripped ??= new UntrustedAllocationError(what, bytes, limit);
    throw new UntrustedAllocationError(what, bytes, limit);
  }
}

/**
 * Replaces the global constructors by checking proxies (idempotent). The
 * limit starts unlimited; set it per case with {@link setAllocationLimit}.
 */
export function installAllocationGuard(): void {
  if (installed) return;
  const g = globalThis as unknown as Global;
  installed = new Map();
  for (const name of TYPED) {
    const ctor = g[name] as { BYTES_PER_ELEMENT: number } & (new (...a: unknown[]) => unknown);
    installed.set(name, ctor);
    g[name] = new Proxy(ctor, {
      construct(target, args, newTarget) {
        check(`new ${name}`, args[0], target.BYTES_PER_ELEMENT);
        return Reflect.construct(target, args, newTarget === g[name] ? target : newTarget);
      },
    });
  }
  const buffer = g.ArrayBuffer as new (...a: unknown[]) => unknown;
  installed.set("ArrayBuffer", buffer);
  g.ArrayBuffer = new Proxy(buffer, {
    construct(target, args, newTarget) {
      check("new ArrayBuffer", args[0], 1);
      return Reflect.construct(target, args, newTarget === g.ArrayBuffer ? target : newTarget);
    },
  });
  const array = g.Array as (new (...a: unknown[]) => unknown) & ((...a: unknown[]) => unknown);
  installed.set("Array", array);
  // A JavaScript array slot holds at least a pointer: count 8 bytes per element.
  const arrayCheck = (args: unknown[]) => {
    if (args.length === 1) check("new Array", args[0], 8);
  };
  g.Array = new Proxy(array, {
    construct(target, args, newTarget) {
      arrayCheck(args);
      return Reflect.construct(target, args, newTarget === g.Array ? target : newTarget);
    },
    apply(target, self, args) {
      arrayCheck(args);
      return Reflect.apply(target, self, args);
    },
  });
}

/** Puts the original constructors back. */
export function uninstallAllocationGuard(): void {
  if (!installed) return;
  const g = globalThis as unknown as Global;
  for (const [name, ctor] of installed) g[name] = ctor;
  installed = undefined;
  limit = Infinity;
}

/** Sets the byte limit of one allocation (Infinity: no limit) and resets the peak. */
export function setAllocationLimit(bytes: number): void {
  limit = bytes;
  peak = 0;
  tripped = undefined;
}

/**
 * The first refused allocation since the last {@link setAllocationLimit}, if
 * any: the code under test may have caught it and thrown something else.
 */
export function allocationRefused(): UntrustedAllocationError | undefined {
  return tripped;
}

/** The largest single allocation allowed since the last {@link setAllocationLimit}. */
export function allocationPeak(): number {
  return peak;
}
