// vatt's SIMD kernels, in AssemblyScript (https://www.assemblyscript.org), compiled by
// `deno task build:simd` into lib/backend/simd_wasm.ts. The module imports the memory of
// tfjs-backend-wasm (`env.memory`) and works on tensors where they lie: every pointer is
// a byte offset into that heap, every count a number of float32 values. It has no data
// segments, no allocator and no imports besides the memory, so instantiating it writes
// nothing into tfjs's heap.
//
// Arithmetic is float32 throughout (wasm's f32 and f32x4 operations are IEEE single
// precision, each result rounded once), so `adam` reproduces a chain of tfjs float32
// ops bit for bit.

// ---------------------------------------------------------------------------------------
// Adam(W): one pass, bit-identical to lib/train/optimizer.ts's chain of ops
//   m' = m·b1 + g·c1;  v' = v·b2 + (g·g)·c2
//   w' = w − (m'·lrc) / (√(v'·rbc2) + eps)  [− w·decay]
//   (lrc = lr/(1 − β1^t), rbc2 = 1/(1 − β2^t): one division and one root a value)
// ---------------------------------------------------------------------------------------
export function adam(
  w: usize, m: usize, v: usize, g: usize,
  wOut: usize, mOut: usize, vOut: usize, n: i32,
  b1: f32, c1: f32, b2: f32, c2: f32, lrc: f32, rbc2: f32, eps: f32, decay: f32,
): void {
  const vb1 = f32x4.splat(b1);
  const vc1 = f32x4.splat(c1);
  const vb2 = f32x4.splat(b2);
  const vc2 = f32x4.splat(c2);
  const vlrc = f32x4.splat(lrc);
  const vrbc2 = f32x4.splat(rbc2);
  const veps = f32x4.splat(eps);
  const vdecay = f32x4.splat(decay);
  const decayed = decay != 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = (<usize>i) << 2;
    const gi = v128.load(g + o);
    const wi = v128.load(w + o);
    const mi = f32x4.add(f32x4.mul(v128.load(m + o), vb1), f32x4.mul(gi, vc1));
    const vi = f32x4.add(f32x4.mul(v128.load(v + o), vb2), f32x4.mul(f32x4.mul(gi, gi), vc2));
    const den = f32x4.add(f32x4.sqrt(f32x4.mul(vi, vrbc2)), veps);
    const step = f32x4.div(f32x4.mul(mi, vlrc), den);
    let next = f32x4.sub(wi, step);
    if (decayed) next = f32x4.sub(next, f32x4.mul(wi, vdecay));
    v128.store(mOut + o, mi);
    v128.store(vOut + o, vi);
    v128.store(wOut + o, next);
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    const gi = load<f32>(g + o);
    const wi = load<f32>(w + o);
    const mi = load<f32>(m + o) * b1 + gi * c1;
    const vi = load<f32>(v + o) * b2 + (gi * gi) * c2;
    const step = (mi * lrc) / (Mathf.sqrt(vi * rbc2) + eps);
    let next = wi - step;
    if (decayed) next = next - wi * decay;
    store<f32>(mOut + o, mi);
    store<f32>(vOut + o, vi);
    store<f32>(wOut + o, next);
  }
}

// ---------------------------------------------------------------------------------------
// GELU (exact form): y = x·Φ(x), Φ(x) = ½(1 + erf(x/√2)), Φ kept for the backward pass.
// erf(u) = u·P(u²)/Q(u²) for |u| ≤ 4, ±1 beyond: the same rational fit as the JavaScript
// kernel in lib/backend/kernels/fused.ts (largest error 1.4e-8 in float64).
// ---------------------------------------------------------------------------------------
const P0: f32 = 1.1283791821055682;
const P1: f32 = 0.18471050080153265;
const P2: f32 = 0.05433255979346322;
const P3: f32 = 0.0038395276964266318;
const P4: f32 = 0.00038268988548873515;
const P5: f32 = 4.780474302371052e-06;
const P6: f32 = -1.366646121270243e-08;
const Q1: f32 = 0.4970289647130287;
const Q2: f32 = 0.11382632085921052;
const Q3: f32 = 0.015453505163543409;
const Q4: f32 = 0.001309575554470448;
const Q5: f32 = 6.40086481122756e-05;
const SQRT1_2: f32 = 0.7071067811865476;
const INV_SQRT_2PI: f32 = 0.3989422804014327;

// The splatted constants, as globals: read from memory in a loop (one load each) instead
// of being rebuilt from immediates in every iteration.
let vP0: v128 = f32x4.splat(P0);
let vP1: v128 = f32x4.splat(P1);
let vP2: v128 = f32x4.splat(P2);
let vP3: v128 = f32x4.splat(P3);
let vP4: v128 = f32x4.splat(P4);
let vP5: v128 = f32x4.splat(P5);
let vP6: v128 = f32x4.splat(P6);
let vQ1: v128 = f32x4.splat(Q1);
let vQ2: v128 = f32x4.splat(Q2);
let vQ3: v128 = f32x4.splat(Q3);
let vQ4: v128 = f32x4.splat(Q4);
let vQ5: v128 = f32x4.splat(Q5);
let vOne: v128 = f32x4.splat(1);
let vHalf: v128 = f32x4.splat(0.5);
let vSqrt1_2: v128 = f32x4.splat(SQRT1_2);
let vFour: v128 = f32x4.splat(4);
let vMinusFour: v128 = f32x4.splat(-4);
let vMinusHalf: v128 = f32x4.splat(-0.5);
let vInvSqrt2pi: v128 = f32x4.splat(INV_SQRT_2PI);

// @ts-ignore: decorator
@inline
function cdf4(x: v128): v128 {
  // pmin/pmax (`b < a ? b : a`) compile to one instruction each; min/max, whose NaN and
  // signed-zero rules a clamp to ±4 does not need, to several.
  const u = f32x4.pmin(f32x4.pmax(f32x4.mul(x, vSqrt1_2), vMinusFour), vFour);
  const t = f32x4.mul(u, u);
  let p = f32x4.add(f32x4.mul(t, vP6), vP5);
  p = f32x4.add(f32x4.mul(t, p), vP4);
  p = f32x4.add(f32x4.mul(t, p), vP3);
  p = f32x4.add(f32x4.mul(t, p), vP2);
  p = f32x4.add(f32x4.mul(t, p), vP1);
  p = f32x4.add(f32x4.mul(t, p), vP0);
  let q = f32x4.add(f32x4.mul(t, vQ5), vQ4);
  q = f32x4.add(f32x4.mul(t, q), vQ3);
  q = f32x4.add(f32x4.mul(t, q), vQ2);
  q = f32x4.add(f32x4.mul(t, q), vQ1);
  q = f32x4.add(f32x4.mul(t, q), vOne);
  const erf = f32x4.div(f32x4.mul(u, p), q);
  return f32x4.add(vHalf, f32x4.mul(vHalf, erf));
}

// exp(z) for z ≤ 0 (z below −87 gives exp(−87) ≈ 1.6e−38 instead of a smaller value):
// 2^k·e^r with k = round(z·log2 e), r = z − k·ln 2 (ln 2 in two parts), e^r by a
// degree-6 Taylor polynomial (|r| ≤ ln2/2: relative error below 2e−7), 2^k built in
// the exponent bits.
let vExpMin: v128 = f32x4.splat(-87);
let vLog2e: v128 = f32x4.splat(1.4426950408889634);
let vLn2Hi: v128 = f32x4.splat(0.693145751953125);
let vLn2Lo: v128 = f32x4.splat(1.4286068203094173e-6);
let vE6: v128 = f32x4.splat(1.0 / 720);
let vE5: v128 = f32x4.splat(1.0 / 120);
let vE4: v128 = f32x4.splat(1.0 / 24);
let vE3: v128 = f32x4.splat(1.0 / 6);
let vBias127: v128 = i32x4.splat(127);

// @ts-ignore: decorator
@inline
function expNonPositive4(z0: v128): v128 {
  const z = f32x4.pmax(z0, vExpMin); // one instruction (see cdf4)
  const k = f32x4.nearest(f32x4.mul(z, vLog2e));
  const r = f32x4.sub(f32x4.sub(z, f32x4.mul(k, vLn2Hi)), f32x4.mul(k, vLn2Lo));
  let e = f32x4.add(f32x4.mul(r, vE6), vE5);
  e = f32x4.add(f32x4.mul(r, e), vE4);
  e = f32x4.add(f32x4.mul(r, e), vE3);
  e = f32x4.add(f32x4.mul(r, e), vHalf);
  e = f32x4.add(f32x4.mul(r, e), vOne);
  e = f32x4.add(f32x4.mul(r, e), vOne);
  const bits = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(k), vBias127), 23);
  return f32x4.mul(e, bits);
}

// A vector of the last n % 4 values (the rest zero), and its store back.
// @ts-ignore: decorator
@inline
function loadTail(p: usize, count: i32): v128 {
  let x = f32x4.splat(0);
  if (count > 0) x = f32x4.replace_lane(x, 0, load<f32>(p));
  if (count > 1) x = f32x4.replace_lane(x, 1, load<f32>(p, 4));
  if (count > 2) x = f32x4.replace_lane(x, 2, load<f32>(p, 8));
  return x;
}

// @ts-ignore: decorator
@inline
function storeTail(p: usize, x: v128, count: i32): void {
  if (count > 0) store<f32>(p, f32x4.extract_lane(x, 0));
  if (count > 1) store<f32>(p, f32x4.extract_lane(x, 1), 4);
  if (count > 2) store<f32>(p, f32x4.extract_lane(x, 2), 8);
}

// The elementwise loops below take four vectors an iteration (then one at a time, then the
// tail): four independent chains keep the cores' pipelines full where one chain of dependent
// products waits on each (GELU on 2.1 M values: 3.65 → 2.65 ms). Each value is computed as
// in the one-vector loop, so the results do not change.
export function gelu(x: usize, y: usize, cdf: usize, n: i32): void {
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = (<usize>i) << 2;
    const x0 = v128.load(x + o);
    const x1 = v128.load(x + o, 16);
    const x2 = v128.load(x + o, 32);
    const x3 = v128.load(x + o, 48);
    const c0 = cdf4(x0);
    const c1 = cdf4(x1);
    const c2 = cdf4(x2);
    const c3 = cdf4(x3);
    v128.store(cdf + o, c0);
    v128.store(cdf + o, c1, 16);
    v128.store(cdf + o, c2, 32);
    v128.store(cdf + o, c3, 48);
    v128.store(y + o, f32x4.mul(x0, c0));
    v128.store(y + o, f32x4.mul(x1, c1), 16);
    v128.store(y + o, f32x4.mul(x2, c2), 32);
    v128.store(y + o, f32x4.mul(x3, c3), 48);
  }
  for (; i + 4 <= n; i += 4) {
    const o = (<usize>i) << 2;
    const xi = v128.load(x + o);
    const c = cdf4(xi);
    v128.store(cdf + o, c);
    v128.store(y + o, f32x4.mul(xi, c));
  }
  const rest = n - i;
  if (rest > 0) {
    const o = (<usize>i) << 2;
    const xi = loadTail(x + o, rest);
    const c = cdf4(xi);
    storeTail(cdf + o, c, rest);
    storeTail(y + o, f32x4.mul(xi, c), rest);
  }
}

// dx = dy·(Φ(x) + x·φ(x)), φ(x) = e^(−x²/2)/√(2π)
// @ts-ignore: decorator
@inline
function geluGrad4(xi: v128, ci: v128, dyi: v128): v128 {
  const pdf = f32x4.mul(
    vInvSqrt2pi,
    expNonPositive4(f32x4.mul(vMinusHalf, f32x4.mul(xi, xi))),
  );
  return f32x4.mul(dyi, f32x4.add(ci, f32x4.mul(xi, pdf)));
}

export function geluGrad(x: usize, cdf: usize, dy: usize, dx: usize, n: i32): void {
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = (<usize>i) << 2;
    const r0 = geluGrad4(v128.load(x + o), v128.load(cdf + o), v128.load(dy + o));
    const r1 = geluGrad4(v128.load(x + o, 16), v128.load(cdf + o, 16), v128.load(dy + o, 16));
    const r2 = geluGrad4(v128.load(x + o, 32), v128.load(cdf + o, 32), v128.load(dy + o, 32));
    const r3 = geluGrad4(v128.load(x + o, 48), v128.load(cdf + o, 48), v128.load(dy + o, 48));
    v128.store(dx + o, r0);
    v128.store(dx + o, r1, 16);
    v128.store(dx + o, r2, 32);
    v128.store(dx + o, r3, 48);
  }
  for (; i + 4 <= n; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(dx + o, geluGrad4(v128.load(x + o), v128.load(cdf + o), v128.load(dy + o)));
  }
  const rest = n - i;
  if (rest > 0) {
    const o = (<usize>i) << 2;
    const r = geluGrad4(loadTail(x + o, rest), loadTail(cdf + o, rest), loadTail(dy + o, rest));
    storeTail(dx + o, r, rest);
  }
}

// ---------------------------------------------------------------------------------------
// LayerNorm over rows of d values: y = (x − mean)·rstd·γ + β, rstd = 1/√(var + ε).
// ---------------------------------------------------------------------------------------
// @ts-ignore: decorator
@inline
function hsum(x: v128): f32 {
  return f32x4.extract_lane(x, 0) + f32x4.extract_lane(x, 1) +
    (f32x4.extract_lane(x, 2) + f32x4.extract_lane(x, 3));
}

let statMean: f32 = 0;
let statRstd: f32 = 0;

// Mean and 1/√(variance + ε) of the d values at row (two passes, for accuracy).
function rowStats(row: usize, d: i32, epsilon: f32): void {
  let acc = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= d; j += 4) acc = f32x4.add(acc, v128.load(row + ((<usize>j) << 2)));
  let sum = hsum(acc);
  for (; j < d; j++) sum += load<f32>(row + ((<usize>j) << 2));
  const mean = sum / <f32>d;
  const vmean = f32x4.splat(mean);
  acc = f32x4.splat(0);
  j = 0;
  for (; j + 4 <= d; j += 4) {
    const c = f32x4.sub(v128.load(row + ((<usize>j) << 2)), vmean);
    acc = f32x4.add(acc, f32x4.mul(c, c));
  }
  let sq = hsum(acc);
  for (; j < d; j++) {
    const c = load<f32>(row + ((<usize>j) << 2)) - mean;
    sq += c * c;
  }
  statMean = mean;
  statRstd = <f32>1 / Mathf.sqrt(sq / <f32>d + epsilon);
}

export function layerNorm(
  x: usize, gamma: usize, beta: usize, y: usize, rows: i32, d: i32, epsilon: f32,
): void {
  for (let r = 0; r < rows; r++) {
    const off = (<usize>r * <usize>d) << 2;
    rowStats(x + off, d, epsilon);
    const mean = statMean;
    const rstd = statRstd;
    const vmean = f32x4.splat(mean);
    const vrstd = f32x4.splat(rstd);
    let j = 0;
    for (; j + 4 <= d; j += 4) {
      const o = (<usize>j) << 2;
      const xhat = f32x4.mul(f32x4.sub(v128.load(x + off + o), vmean), vrstd);
      v128.store(y + off + o, f32x4.add(f32x4.mul(xhat, v128.load(gamma + o)), v128.load(beta + o)));
    }
    for (; j < d; j++) {
      const o = (<usize>j) << 2;
      const xhat = (load<f32>(x + off + o) - mean) * rstd;
      store<f32>(y + off + o, xhat * load<f32>(gamma + o) + load<f32>(beta + o));
    }
  }
}

// dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with ĝ = dy·γ; dγ = Σ dy·x̂; dβ = Σ dy.
export function layerNormGrad(
  x: usize, gamma: usize, dy: usize, dx: usize, dgamma: usize, dbeta: usize,
  rows: i32, d: i32, epsilon: f32,
): void {
  memory.fill(dgamma, 0, (<usize>d) << 2);
  memory.fill(dbeta, 0, (<usize>d) << 2);
  for (let r = 0; r < rows; r++) {
    const off = (<usize>r * <usize>d) << 2;
    rowStats(x + off, d, epsilon);
    const mean = statMean;
    const rstd = statRstd;
    const vmean = f32x4.splat(mean);
    const vrstd = f32x4.splat(rstd);
    let accG = f32x4.splat(0);
    let accGX = f32x4.splat(0);
    let j = 0;
    for (; j + 4 <= d; j += 4) {
      const o = (<usize>j) << 2;
      const xhat = f32x4.mul(f32x4.sub(v128.load(x + off + o), vmean), vrstd);
      const dyi = v128.load(dy + off + o);
      const gy = f32x4.mul(dyi, v128.load(gamma + o));
      accG = f32x4.add(accG, gy);
      accGX = f32x4.add(accGX, f32x4.mul(gy, xhat));
      v128.store(dgamma + o, f32x4.add(v128.load(dgamma + o), f32x4.mul(dyi, xhat)));
      v128.store(dbeta + o, f32x4.add(v128.load(dbeta + o), dyi));
    }
    let sumG = hsum(accG);
    let sumGX = hsum(accGX);
    for (; j < d; j++) {
      const o = (<usize>j) << 2;
      const xhat = (load<f32>(x + off + o) - mean) * rstd;
      const dyi = load<f32>(dy + off + o);
      const gy = dyi * load<f32>(gamma + o);
      sumG += gy;
      sumGX += gy * xhat;
      store<f32>(dgamma + o, load<f32>(dgamma + o) + dyi * xhat);
      store<f32>(dbeta + o, load<f32>(dbeta + o) + dyi);
    }
    const meanG = sumG / <f32>d;
    const meanGX = sumGX / <f32>d;
    const vmeanG = f32x4.splat(meanG);
    const vmeanGX = f32x4.splat(meanGX);
    j = 0;
    for (; j + 4 <= d; j += 4) {
      const o = (<usize>j) << 2;
      const xhat = f32x4.mul(f32x4.sub(v128.load(x + off + o), vmean), vrstd);
      const gy = f32x4.mul(v128.load(dy + off + o), v128.load(gamma + o));
      const inner = f32x4.sub(f32x4.sub(gy, vmeanG), f32x4.mul(xhat, vmeanGX));
      v128.store(dx + off + o, f32x4.mul(vrstd, inner));
    }
    for (; j < d; j++) {
      const o = (<usize>j) << 2;
      const xhat = (load<f32>(x + off + o) - mean) * rstd;
      const gy = load<f32>(dy + off + o) * load<f32>(gamma + o);
      store<f32>(dx + off + o, rstd * (gy - meanG - xhat * meanGX));
    }
  }
}

// ---------------------------------------------------------------------------------------
// Column sums: out[j] = Σ_r x[r·cols + j] (a bias gradient: a sum over every axis but
// the last), accumulated in float32 vectors row by row.
// ---------------------------------------------------------------------------------------
export function sumRows(x: usize, out: usize, rows: i32, cols: i32): void {
  memory.fill(out, 0, (<usize>cols) << 2);
  for (let r = 0; r < rows; r++) {
    const off = (<usize>r * <usize>cols) << 2;
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = (<usize>j) << 2;
      v128.store(out + o, f32x4.add(v128.load(out + o), v128.load(x + off + o)));
    }
    for (; j < cols; j++) {
      const o = (<usize>j) << 2;
      store<f32>(out + o, load<f32>(out + o) + load<f32>(x + off + o));
    }
  }
}

// ---------------------------------------------------------------------------------------
// Attention softmax over the rows of one clip-head's logits S [rows, cols] (in place):
// S ← softmax(S + bias + mask), where bias [rows, cols] (a relative-position bias) and
// mask [cols] (0 or a large negative number per key) are added only when present.
// exp(x − max) ≤ 1 comes from expNonPositive4 (masked keys: e^−87 instead of 0).
// ---------------------------------------------------------------------------------------
export function attentionSoftmax(
  s: usize, bias: usize, mask: usize, hasBias: i32, hasMask: i32, rows: i32, cols: i32,
): void {
  for (let r = 0; r < rows; r++) {
    const row = s + (((<usize>r) * <usize>cols) << 2);
    const brow = bias + (((<usize>r) * <usize>cols) << 2);
    // add, and the row's maximum
    let vmax = f32x4.splat(-Infinity);
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = (<usize>j) << 2;
      let x = v128.load(row + o);
      if (hasBias) x = f32x4.add(x, v128.load(brow + o));
      if (hasMask) x = f32x4.add(x, v128.load(mask + o));
      v128.store(row + o, x);
      vmax = f32x4.max(vmax, x);
    }
    let max = Mathf.max(
      Mathf.max(f32x4.extract_lane(vmax, 0), f32x4.extract_lane(vmax, 1)),
      Mathf.max(f32x4.extract_lane(vmax, 2), f32x4.extract_lane(vmax, 3)),
    );
    for (; j < cols; j++) {
      const o = (<usize>j) << 2;
      let x = load<f32>(row + o);
      if (hasBias) x += load<f32>(brow + o);
      if (hasMask) x += load<f32>(mask + o);
      store<f32>(row + o, x);
      max = Mathf.max(max, x);
    }
    // exponentials and their sum
    const vm = f32x4.splat(max);
    let acc = f32x4.splat(0);
    j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = (<usize>j) << 2;
      const e = expNonPositive4(f32x4.sub(v128.load(row + o), vm));
      v128.store(row + o, e);
      acc = f32x4.add(acc, e);
    }
    let sum = hsum(acc);
    const rest = cols - j;
    if (rest > 0) {
      const o = (<usize>j) << 2;
      const e = expNonPositive4(f32x4.sub(loadTail(row + o, rest), vm));
      storeTail(row + o, e, rest);
      for (let t = 0; t < rest; t++) sum += load<f32>(row + o + ((<usize>t) << 2));
    }
    // normalise
    const inv = f32x4.splat(<f32>1 / sum);
    j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = (<usize>j) << 2;
      v128.store(row + o, f32x4.mul(v128.load(row + o), inv));
    }
    const invs = <f32>1 / sum;
    for (; j < cols; j++) {
      const o = (<usize>j) << 2;
      store<f32>(row + o, load<f32>(row + o) * invs);
    }
  }
}

// Softmax's backward pass over rows, in place on g: g ← α ⊙ (g − Σ_j α_j·g_j).
export function attentionSoftmaxGrad(alpha: usize, g: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const off = ((<usize>r) * <usize>cols) << 2;
    let acc = f32x4.splat(0);
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = off + ((<usize>j) << 2);
      acc = f32x4.add(acc, f32x4.mul(v128.load(alpha + o), v128.load(g + o)));
    }
    let dot = hsum(acc);
    for (; j < cols; j++) {
      const o = off + ((<usize>j) << 2);
      dot += load<f32>(alpha + o) * load<f32>(g + o);
    }
    const vdot = f32x4.splat(dot);
    j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = off + ((<usize>j) << 2);
      v128.store(g + o, f32x4.mul(v128.load(alpha + o), f32x4.sub(v128.load(g + o), vdot)));
    }
    for (; j < cols; j++) {
      const o = off + ((<usize>j) << 2);
      store<f32>(g + o, load<f32>(alpha + o) * (load<f32>(g + o) - dot));
    }
  }
}

// ---------------------------------------------------------------------------------------
// Dropout with counter-based bits (lib/util/counter_bits.ts): value i is multiplied by
// `scale` when fmix32(fmix32(offset + i + k1) ^ k2) < threshold (unsigned), else by 0
// (as a product with a mask: −0 for negative values, NaN stays NaN).
// ---------------------------------------------------------------------------------------

let vMix1: v128 = i32x4.splat(0x85ebca6b);
let vMix2: v128 = i32x4.splat(0xc2b2ae35);
let vFourLanes: v128 = i32x4.splat(4);
let vEightLanes: v128 = i32x4.splat(8);
let vTwelveLanes: v128 = i32x4.splat(12);
let vSixteenLanes: v128 = i32x4.splat(16);

// @ts-ignore: decorator
@inline
function fmix4(h0: v128): v128 {
  let h = v128.xor(h0, i32x4.shr_u(h0, 16));
  h = i32x4.mul(h, vMix1);
  h = v128.xor(h, i32x4.shr_u(h, 13));
  h = i32x4.mul(h, vMix2);
  return v128.xor(h, i32x4.shr_u(h, 16));
}

// The multipliers of the four positions in `pos` (offset + k1 + index): `scale` where
// the bits are below the threshold, else 0.
// @ts-ignore: decorator
@inline
function dropMask4(pos: v128, vk2: v128, vt: v128, vs: v128): v128 {
  const bits = fmix4(v128.xor(fmix4(pos), vk2));
  return v128.and(vs, i32x4.lt_u(bits, vt));
}

// The positions of the first four values: offset + k1 + (0, 1, 2, 3).
// @ts-ignore: decorator
@inline
function firstPositions(offset: u32, k1: u32): v128 {
  return i32x4.add(i32x4.splat(offset + k1), i32x4(0, 1, 2, 3));
}

export function dropout(
  x: usize,
  y: usize,
  n: i32,
  offset: u32,
  k1: u32,
  k2: u32,
  threshold: u32,
  scale: f32,
): void {
  const vk2 = i32x4.splat(k2);
  const vt = i32x4.splat(threshold);
  const vs = f32x4.splat(scale);
  let pos = firstPositions(offset, k1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(y + o, f32x4.mul(v128.load(x + o), dropMask4(pos, vk2, vt, vs)));
    pos = i32x4.add(pos, vFourLanes);
  }
  const rest = n - i;
  if (rest > 0) {
    const o = (<usize>i) << 2;
    storeTail(y + o, f32x4.mul(loadTail(x + o, rest), dropMask4(pos, vk2, vt, vs)), rest);
  }
}

// GELU then dropout in one pass: y = x·Φ(x)·mask (as the two kernels round it), cdf = Φ(x).
export function geluDropout(
  x: usize,
  y: usize,
  cdf: usize,
  n: i32,
  offset: u32,
  k1: u32,
  k2: u32,
  threshold: u32,
  scale: f32,
): void {
  const vk2 = i32x4.splat(k2);
  const vt = i32x4.splat(threshold);
  const vs = f32x4.splat(scale);
  let pos = firstPositions(offset, k1);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = (<usize>i) << 2;
    const x0 = v128.load(x + o);
    const x1 = v128.load(x + o, 16);
    const x2 = v128.load(x + o, 32);
    const x3 = v128.load(x + o, 48);
    const c0 = cdf4(x0);
    const c1 = cdf4(x1);
    const c2 = cdf4(x2);
    const c3 = cdf4(x3);
    const m0 = dropMask4(pos, vk2, vt, vs);
    const m1 = dropMask4(i32x4.add(pos, vFourLanes), vk2, vt, vs);
    const m2 = dropMask4(i32x4.add(pos, vEightLanes), vk2, vt, vs);
    const m3 = dropMask4(i32x4.add(pos, vTwelveLanes), vk2, vt, vs);
    v128.store(cdf + o, c0);
    v128.store(cdf + o, c1, 16);
    v128.store(cdf + o, c2, 32);
    v128.store(cdf + o, c3, 48);
    v128.store(y + o, f32x4.mul(f32x4.mul(x0, c0), m0));
    v128.store(y + o, f32x4.mul(f32x4.mul(x1, c1), m1), 16);
    v128.store(y + o, f32x4.mul(f32x4.mul(x2, c2), m2), 32);
    v128.store(y + o, f32x4.mul(f32x4.mul(x3, c3), m3), 48);
    pos = i32x4.add(pos, vSixteenLanes);
  }
  for (; i + 4 <= n; i += 4) {
    const o = (<usize>i) << 2;
    const xi = v128.load(x + o);
    const c = cdf4(xi);
    v128.store(cdf + o, c);
    v128.store(y + o, f32x4.mul(f32x4.mul(xi, c), dropMask4(pos, vk2, vt, vs)));
    pos = i32x4.add(pos, vFourLanes);
  }
  const rest = n - i;
  if (rest > 0) {
    const o = (<usize>i) << 2;
    const xi = loadTail(x + o, rest);
    const c = cdf4(xi);
    storeTail(cdf + o, c, rest);
    storeTail(y + o, f32x4.mul(f32x4.mul(xi, c), dropMask4(pos, vk2, vt, vs)), rest);
  }
}

// The gradient of geluDropout: dx = (dy·mask)·(Φ(x) + x·φ(x)).
export function geluGradDropout(
  x: usize,
  cdf: usize,
  dy: usize,
  dx: usize,
  n: i32,
  offset: u32,
  k1: u32,
  k2: u32,
  threshold: u32,
  scale: f32,
): void {
  const vk2 = i32x4.splat(k2);
  const vt = i32x4.splat(threshold);
  const vs = f32x4.splat(scale);
  let pos = firstPositions(offset, k1);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = (<usize>i) << 2;
    const g0 = f32x4.mul(v128.load(dy + o), dropMask4(pos, vk2, vt, vs));
    const g1 = f32x4.mul(v128.load(dy + o, 16), dropMask4(i32x4.add(pos, vFourLanes), vk2, vt, vs));
    const g2 = f32x4.mul(v128.load(dy + o, 32), dropMask4(i32x4.add(pos, vEightLanes), vk2, vt, vs));
    const g3 = f32x4.mul(v128.load(dy + o, 48), dropMask4(i32x4.add(pos, vTwelveLanes), vk2, vt, vs));
    const r0 = geluGrad4(v128.load(x + o), v128.load(cdf + o), g0);
    const r1 = geluGrad4(v128.load(x + o, 16), v128.load(cdf + o, 16), g1);
    const r2 = geluGrad4(v128.load(x + o, 32), v128.load(cdf + o, 32), g2);
    const r3 = geluGrad4(v128.load(x + o, 48), v128.load(cdf + o, 48), g3);
    v128.store(dx + o, r0);
    v128.store(dx + o, r1, 16);
    v128.store(dx + o, r2, 32);
    v128.store(dx + o, r3, 48);
    pos = i32x4.add(pos, vSixteenLanes);
  }
  for (; i + 4 <= n; i += 4) {
    const o = (<usize>i) << 2;
    const g = f32x4.mul(v128.load(dy + o), dropMask4(pos, vk2, vt, vs));
    v128.store(dx + o, geluGrad4(v128.load(x + o), v128.load(cdf + o), g));
    pos = i32x4.add(pos, vFourLanes);
  }
  const rest = n - i;
  if (rest > 0) {
    const o = (<usize>i) << 2;
    const g = f32x4.mul(loadTail(dy + o, rest), dropMask4(pos, vk2, vt, vs));
    storeTail(dx + o, geluGrad4(loadTail(x + o, rest), loadTail(cdf + o, rest), g), rest);
  }
}
