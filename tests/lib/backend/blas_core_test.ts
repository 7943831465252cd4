import assert from "node:assert/strict";
import {
  applyBlasCoreType,
  type CoreTypeIo,
  preferredCoreType,
} from "../../../lib/backend/blas_core.ts";
import { blasStatus, loadBlas } from "../../../lib/backend/blas.ts";

const ZEN4 =
  "vendor_id\t: AuthenticAMD\ncpu family\t: 25\nflags\t\t: fpu avx2 fma avx512f avx512dq\n";
const SAPPHIRE_RAPIDS = ZEN4.replace("AuthenticAMD", "GenuineIntel");

/** An environment of its own and a CPU description, for applyBlasCoreType. */
function io(cpuinfo: string | (() => string), env: Record<string, string> = {}) {
  const vars = new Map(Object.entries(env));
  const described = typeof cpuinfo === "string" ? () => cpuinfo : cpuinfo;
  const ioOf: CoreTypeIo = {
    read: (n) => vars.get(n),
    set: (n, v) => void vars.set(n, v),
    preferred: () => preferredCoreType(described()),
  };
  return { io: ioOf, vars };
}

Deno.test("OpenBLAS gets its Haswell kernels on an AMD CPU with AVX-512, and only there", () => {
  const amd = io(ZEN4);
  assert.match(applyBlasCoreType(amd.io)!, /^Haswell kernels/);
  assert.equal(amd.vars.get("OPENBLAS_CORETYPE"), "Haswell");
  const intel = io(SAPPHIRE_RAPIDS);
  assert.equal(applyBlasCoreType(intel.io), null);
  assert.equal(intel.vars.has("OPENBLAS_CORETYPE"), false);
});

Deno.test("a user's OPENBLAS_CORETYPE and VATT_BLAS_CORE=0 are obeyed; no permission: OpenBLAS picks", () => {
  const user = io(ZEN4, { OPENBLAS_CORETYPE: "SkylakeX" });
  assert.equal(applyBlasCoreType(user.io), "SkylakeX kernels (OPENBLAS_CORETYPE)");
  assert.equal(user.vars.get("OPENBLAS_CORETYPE"), "SkylakeX");
  const off = io(ZEN4, { VATT_BLAS_CORE: "off" });
  assert.equal(applyBlasCoreType(off.io), null);
  assert.equal(off.vars.has("OPENBLAS_CORETYPE"), false);
  const denied = io(() => {
    throw new Deno.errors.NotCapable("read /proc/cpuinfo");
  });
  assert.equal(applyBlasCoreType(denied.io), null);
});

Deno.test("the BLAS's status line says which kernels were asked for", () => {
  if (!loadBlas()) return; // without OpenBLAS there is no status to read
  const asked = Deno.env.get("OPENBLAS_CORETYPE");
  if (asked) assert.match(blasStatus(), new RegExp(`${asked} kernels`));
  else assert.doesNotMatch(blasStatus(), /kernels/);
});
