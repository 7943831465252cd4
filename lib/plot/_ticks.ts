/**
 * Axis ticks and number labels (private to `lib/plot/`).
 *
 * @module
 */

/** A tick: its value and its label. */
export interface Tick {
  value: number;
  label: string;
}

/** An axis: the domain it maps and its ticks. */
export interface Axis {
  domain: [number, number];
  ticks: Tick[];
  log: boolean;
}

/** 1, 2 or 5 times a power of ten, the smallest such step ≥ `raw`. */
function niceStep(raw: number): number {
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / power;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * power;
}

/** A short label for `value` on an axis whose ticks are `step` apart. */
export function formatTick(value: number, step: number): string {
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs >= 1e6 || abs < 1e-4) {
    const digits = Math.max(0, Math.min(6, Math.ceil(Math.log10(abs / step))));
    return value.toExponential(digits).replace(/\.?0+e/, "e").replace("e+", "e");
  }
  const decimals = Math.max(0, Math.min(10, -Math.floor(Math.log10(step) + 1e-9)));
  return Number(value.toFixed(decimals)).toString();
}

/**
 * A linear axis over [min, max] with about `count` ticks at 1/2/5 × 10^k steps. With `nice`,
 * the domain is widened to the ticks around it; a zero-width range is widened to ±1 (or ±|v|/2).
 */
export function linearAxis(
  min: number,
  max: number,
  options: { count?: number; nice?: boolean } = {},
): Axis {
  let lo = min;
  let hi = max;
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [0, 1];
  if (hi === lo) {
    const pad = lo === 0 ? 1 : Math.abs(lo) / 2;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep((hi - lo) / (options.count ?? 5));
  if (options.nice) {
    lo = Math.floor(lo / step) * step;
    hi = Math.ceil(hi / step) * step;
  }
  const ticks: Tick[] = [];
  const first = Math.ceil(lo / step - 1e-9);
  const last = Math.floor(hi / step + 1e-9);
  for (let i = first; i <= last; i++) {
    const value = Number((i * step).toPrecision(12)) + 0; // no 0.6000000000000001, no -0
    ticks.push({ value, label: formatTick(value, step) });
  }
  return { domain: [lo, hi], ticks, log: false };
}

/**
 * A base-10 log axis over the positive range [min, max]: the domain is widened to whole
 * decades, with a tick at each decade (every few decades when there are many).
 */
export function logAxis(min: number, max: number): Axis {
  let lo = Number.isFinite(min) && min > 0 ? Math.floor(Math.log10(min)) : 0;
  let hi = Number.isFinite(max) && max > 0 ? Math.ceil(Math.log10(max)) : 1;
  if (hi <= lo) {
    lo -= 1;
    hi = lo + 2;
  }
  const every = Math.max(1, Math.ceil((hi - lo) / 8));
  const ticks: Tick[] = [];
  for (let e = lo; e <= hi; e += every) {
    const value = Math.pow(10, e);
    ticks.push({ value, label: e >= -3 && e <= 5 ? formatTick(value, value) : `1e${e}` });
  }
  return { domain: [Math.pow(10, lo), Math.pow(10, hi)], ticks, log: true };
}

/** Maps a value of `axis` onto the pixel range [from, to]. */
export function scale(axis: Axis, from: number, to: number): (v: number) => number {
  const [d0, d1] = axis.log ? axis.domain.map(Math.log10) : axis.domain;
  const k = (to - from) / (d1 - d0);
  return axis.log ? (v) => from + (Math.log10(v) - d0) * k : (v) => from + (v - d0) * k;
}
