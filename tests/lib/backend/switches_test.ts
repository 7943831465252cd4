import assert from "node:assert/strict";
import {
  blasThreadsSetting,
  effectiveSwitches,
  switchedOff,
  SWITCHES,
} from "../../../lib/backend/switches.ts";

Deno.test("switchedOff() reads 0/off/false/no in any case, and nothing else, as off", () => {
  const name = "VATT_TEST_SWITCH_A";
  const other = "VATT_TEST_SWITCH_B";
  try {
    for (const value of ["0", "off", "OFF", "false", "No", " 0 "]) {
      Deno.env.set(name, value);
      assert.equal(switchedOff(name), true, JSON.stringify(value));
      assert.equal(switchedOff(other, name), true, `${JSON.stringify(value)}, second name`);
    }
    for (const value of ["1", "on", "yes", "", "offline", "00"]) {
      Deno.env.set(name, value);
      assert.equal(switchedOff(name), false, JSON.stringify(value));
    }
    Deno.env.delete(name);
    assert.equal(switchedOff(name, other), false);
  } finally {
    Deno.env.delete(name);
  }
});

Deno.test("effectiveSwitches() reports every backend switch with its effective value", () => {
  // An environment of its own: test modules run in parallel and share the process's.
  const env = new Map<string, string>();
  const read = (name: string) => env.get(name);
  const defaults = effectiveSwitches(read);
  assert.deepEqual(Object.keys(defaults).sort(), Object.values(SWITCHES).sort());
  assert.equal(defaults.VATT_BLAS, "on");
  assert.equal(defaults.VATT_BLAS_LIB, "search");
  assert.equal(defaults.VATT_NATIVE, "on");
  assert.equal(defaults.VATT_NATIVE_LIB, "built");
  assert.equal(defaults.VATT_BLAS_THREADS, String(navigator.hardwareConcurrency || 1));
  env.set("VATT_SIMD", "no");
  env.set("VATT_BLAS_LIB", "/opt/libopenblas.so");
  env.set("VATT_BLAS_THREADS", "not a number");
  const set = effectiveSwitches(read);
  assert.equal(set.VATT_SIMD, "off");
  assert.equal(set.VATT_BLAS_LIB, "/opt/libopenblas.so");
  assert.equal(set.VATT_BLAS_THREADS, defaults.VATT_BLAS_THREADS); // ignored: every core
  env.set("VATT_BLAS_THREADS", "3");
  assert.equal(blasThreadsSetting(read), 3);
  assert.equal(effectiveSwitches(read).VATT_BLAS_THREADS, "3");
  assert.equal(set.VATT_FUSED_ATTENTION, "on");
  env.set("VATT_FUSED", "0");
  assert.equal(effectiveSwitches(read).VATT_FUSED_ATTENTION, "off");
  assert.equal(set.VATT_HUGE_PAGES, "on");
  env.set("VATT_NATIVE", "0"); // huge pages are asked of the native kernels
  assert.equal(effectiveSwitches(read).VATT_HUGE_PAGES, "off");
});
