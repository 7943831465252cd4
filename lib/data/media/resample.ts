/**
 * Band-limited resampling (Kaiser-windowed sinc) and down-mixing to mono.
 *
 * The low-pass cutoff sits just below the lower of the two Nyquist
 * frequencies, so downsampling does not alias and upsampling does not image.
 * Rational ratios of integer rates (44.1 kHz → 48 kHz is 160/147) use an exact
 * polyphase table; other ratios (irrational, or with huge terms) interpolate a
 * finely sampled kernel table.
 *
 * @module
 */

/** Options of {@link resample}. */
export interface ResampleOptions {
  /**
   * Half-length of the filter in samples of the lower rate (zero crossings on
   * each side). More is sharper and slower. Default 32.
   */
  halfTaps?: number;
  /** Kaiser window β: larger means more stopband attenuation and a wider transition. Default 9 (about 90 dB). */
  beta?: number;
  /** Centre of the transition band as a fraction of the lower Nyquist frequency, in (0, 1]. Default 0.91. */
  cutoff?: number;
  /** First output sample to compute (index on the whole output grid). Default 0. */
  start?: number;
  /**
   * Number of output samples to compute from `start`. Default: up to the end
   * of the signal, `ceil(signal.length · toRate / fromRate) - start`. Samples
   * past the end of the input read it as zeros.
   */
  length?: number;
}

/** Resolved filter settings. */
interface Filter {
  /** Half-width of the kernel in input samples. */
  halfWidth: number;
  /** Taps read per output sample. */
  taps: number;
  /** Normalised cutoff: the kernel is `g · sinc(g · d)` with `d` in input samples. */
  g: number;
  beta: number;
}

/** Zeroth-order modified Bessel function of the first kind (power series). */
function besselI0(x: number): number {
  let sum = 1, term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 64; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

/** The windowed-sinc kernel at distance `d` (input samples) from the output instant. */
function kernel(d: number, f: Filter, i0beta: number): number {
  const r = d / f.halfWidth;
  if (r <= -1 || r >= 1) return 0;
  const x = f.g * d;
  const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
  return f.g * sinc * (besselI0(f.beta * Math.sqrt(1 - r * r)) / i0beta);
}

/** Greatest common divisor of two integers. */
function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * Builds `phases + 1` rows of `taps` coefficients. Row `p` holds the weights
 * for an output instant `p / phases` of an input sample past `base`, applied to
 * inputs `base - taps/2 + 1 … base + taps/2`; each row is normalised to sum 1.
 */
function buildTable(f: Filter, phases: number): Float32Array {
  const { taps } = f;
  const table = new Float32Array((phases + 1) * taps);
  const i0beta = besselI0(f.beta);
  const first = 1 - taps / 2;
  for (let p = 0; p <= phases; p++) {
    const frac = p / phases;
    let sum = 0;
    const row = new Float64Array(taps);
    for (let j = 0; j < taps; j++) {
      row[j] = kernel(first + j - frac, f, i0beta);
      sum += row[j];
    }
    for (let j = 0; j < taps; j++) table[p * taps + j] = row[j] / sum;
  }
  return table;
}

/** Largest exact polyphase table (rows) before falling back to interpolation. */
const MAX_EXACT_PHASES = 4096;
/** Largest table (rows × taps) of either kind. */
const MAX_TABLE_ENTRIES = 1 << 22;
/** Rows of the interpolated kernel table when not downsampling (fewer for smoother kernels). */
const INTERPOLATED_PHASES = 1024;
/** Most taps per output sample: a downsampling ratio below about 1/1000 is refused. */
const MAX_TAPS = 1 << 16;

/** Throws `RangeError` unless `rate` is a positive finite number. */
function checkRate(name: string, rate: number): void {
  if (!Number.isFinite(rate) || rate <= 0) {
    throw new RangeError(`Cannot resample: ${name} ${rate} is not a positive finite number`);
  }
}

/**
 * Resamples a signal from `fromRate` to `toRate` with a Kaiser-windowed sinc
 * low-pass whose cutoff is just below the lower Nyquist frequency. Output
 * sample `k` is the band-limited signal at input time `k · fromRate / toRate`
 * (the first samples of input and output coincide). Equal rates return an
 * exact copy (of the requested `start`/`length` range).
 *
 * About 10 ms per second of 44.1 kHz audio resampled to 48 kHz.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resample } from "./resample.ts";
 * const tone = Float32Array.from({ length: 44100 }, (_, i) => Math.sin(2 * Math.PI * 440 * i / 44100));
 * const out = resample(tone, 44100, 48000);
 * assert.equal(out.length, 48000);
 * assert.ok(Math.abs(out[1000] - Math.sin(2 * Math.PI * 440 * 1000 / 48000)) < 1e-3);
 * ```
 */
export function resample(
  signal: Float32Array,
  fromRate: number,
  toRate: number,
  options: ResampleOptions = {},
): Float32Array {
  if (!(signal instanceof Float32Array)) {
    throw new TypeError(`Cannot resample: signal must be a Float32Array, got ${typeof signal}`);
  }
  checkRate("fromRate", fromRate);
  checkRate("toRate", toRate);
  const settings = resolveOptions(options);
  const start = settings.start;
  const ratio = toRate / fromRate;
  const fullLength = Math.max(0, Math.ceil(signal.length * ratio - 1e-9));
  const length = options.length ?? Math.max(0, fullLength - start);
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`Cannot resample: length ${length} is not a non-negative integer`);
  }
  const out = new Float32Array(length);
  if (fromRate === toRate) {
    const end = Math.min(signal.length, start + length);
    if (end > start) out.set(signal.subarray(start, end));
    return out;
  }
  const plan = planFilter(fromRate, toRate, settings);
  for (let k = 0; k < length; k++) {
    const value = outputSample(signal, start + k, plan);
    if (value !== undefined) out[k] = value;
  }
  return out;
}

/** The filter options with their defaults, checked. */
type ResolvedOptions = Required<Omit<ResampleOptions, "length">>;

/** Fills in the defaults of {@linkcode ResampleOptions} and throws `RangeError` on bad values. */
function resolveOptions(options: ResampleOptions): ResolvedOptions {
  const halfTaps = options.halfTaps ?? 32;
  const beta = options.beta ?? 9;
  const cutoff = options.cutoff ?? 0.91;
  const start = options.start ?? 0;
  if (!Number.isInteger(halfTaps) || halfTaps < 1 || halfTaps > 1024) {
    throw new RangeError(`Cannot resample: halfTaps ${halfTaps} is not an integer in [1, 1024]`);
  }
  if (!Number.isFinite(beta) || beta < 0) {
    throw new RangeError(`Cannot resample: beta ${beta} is negative`);
  }
  if (!(cutoff > 0 && cutoff <= 1)) {
    throw new RangeError(`Cannot resample: cutoff ${cutoff} is not in (0, 1]`);
  }
  if (!Number.isSafeInteger(start) || start < 0) {
    throw new RangeError(`Cannot resample: start ${start} is not a non-negative integer`);
  }
  return { halfTaps, beta, cutoff, start };
}

/** A filter ready to apply: its coefficient table and how output instants map onto it. */
interface FilterPlan {
  fromRate: number;
  toRate: number;
  taps: number;
  /** Rows of the table (minus one). */
  phases: number;
  table: Float32Array;
  /** Exact polyphase: output step in input samples is `stepNum / exact` (0 = interpolated). */
  exact: number;
  stepNum: number;
}

/** Chooses the filter for `fromRate → toRate` and builds its table (exact polyphase when it can). */
function planFilter(fromRate: number, toRate: number, settings: ResolvedOptions): FilterPlan {
  const scale = Math.min(1, toRate / fromRate);
  const halfWidth = settings.halfTaps / scale;
  const f: Filter = {
    halfWidth,
    taps: 2 * Math.ceil(halfWidth),
    g: settings.cutoff * scale,
    beta: settings.beta,
  };
  const taps = f.taps;
  if (taps > MAX_TAPS) {
    throw new RangeError(
      `Cannot resample: ratio ${fromRate} → ${toRate} needs ${taps} taps (max ${MAX_TAPS})`,
    );
  }
  let exact = 0;
  let stepNum = 0; // output step in input samples is stepNum / exact
  if (Number.isInteger(fromRate) && Number.isInteger(toRate)) {
    const d = gcd(fromRate, toRate);
    if (toRate / d <= MAX_EXACT_PHASES && (toRate / d + 1) * taps <= MAX_TABLE_ENTRIES) {
      exact = toRate / d;
      stepNum = fromRate / d;
    }
  }
  // the kernel is smoother (in input samples) the lower the cutoff, so needs fewer rows
  const phases = exact ||
    Math.max(
      16,
      Math.min(
        INTERPOLATED_PHASES,
        Math.ceil(INTERPOLATED_PHASES * scale),
        Math.floor(MAX_TABLE_ENTRIES / taps) - 1,
      ),
    );
  const table = buildTable(f, phases);
  return { fromRate, toRate, taps, phases, table, exact, stepNum };
}

/** Output sample `index` of the whole output grid; undefined when no input lies under the kernel. */
function outputSample(signal: Float32Array, index: number, plan: FilterPlan): number | undefined {
  const { taps, table, exact, phases } = plan;
  let base: number, row: number, mix = 0;
  if (exact) {
    // integer arithmetic: no drift however long the signal
    const num = index * plan.stepNum;
    base = Math.floor(num / exact);
    row = num - base * exact;
  } else {
    const t = (index * plan.fromRate) / plan.toRate;
    base = Math.floor(t);
    const pos = (t - base) * phases;
    row = Math.floor(pos);
    mix = pos - row;
  }
  const first = base - taps / 2 + 1;
  const lo = first < 0 ? -first : 0;
  const hi = first + taps > signal.length ? signal.length - first : taps;
  if (hi <= lo) return undefined;
  let acc = 0;
  const r0 = row * taps;
  if (mix === 0) {
    for (let j = lo; j < hi; j++) acc += table[r0 + j] * signal[first + j];
  } else {
    const r1 = r0 + taps;
    for (let j = lo; j < hi; j++) {
      const w = table[r0 + j] + mix * (table[r1 + j] - table[r0 + j]);
      acc += w * signal[first + j];
    }
  }
  return acc;
}

/**
 * Mixes channels to one by averaging them. One channel comes back as a copy.
 *
 * Throws `RangeError` when there are no channels or they differ in length.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toMono } from "./resample.ts";
 * const mono = toMono([Float32Array.of(1, 0), Float32Array.of(0, 1)]);
 * assert.equal(mono[0], 0.5);
 * assert.equal(mono[1], 0.5);
 * ```
 */
export function toMono(channels: Float32Array[]): Float32Array {
  if (!Array.isArray(channels) || channels.length === 0) {
    throw new RangeError(`Cannot mix to mono: no channels (got ${channels?.length})`);
  }
  const n = channels[0].length;
  for (const [c, ch] of channels.entries()) {
    if (ch.length !== n) {
      throw new RangeError(
        `Cannot mix to mono: channel ${c} has ${ch.length} samples, channel 0 has ${n}`,
      );
    }
  }
  if (channels.length === 1) return channels[0].slice();
  const out = new Float32Array(n);
  for (const ch of channels) for (let i = 0; i < n; i++) out[i] += ch[i];
  const inv = 1 / channels.length;
  for (let i = 0; i < n; i++) out[i] *= inv;
  return out;
}
