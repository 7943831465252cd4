import assert from "node:assert/strict";
import { switchedOff } from "../../../lib/backend/switches.ts";

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
