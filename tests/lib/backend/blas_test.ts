import assert from "node:assert/strict";
import { blasAdvice, blasLibraryNames } from "../../../lib/backend/blas.ts";

Deno.test("each system tries only its own library names; macOS ends with Accelerate", () => {
  for (const os of ["linux", "darwin", "windows"]) {
    const names = blasLibraryNames(os);
    assert.ok(names.length > 0, os);
    assert.equal(names.some((n) => n.endsWith(".dll")), os === "windows", os);
    assert.equal(names.some((n) => /\.so(\.\d+)?$/.test(n)), os === "linux", os);
    assert.equal(names.some((n) => n.endsWith(".dylib")), os === "darwin", os);
  }
  assert.equal(
    blasLibraryNames("darwin").at(-1),
    "/System/Library/Frameworks/Accelerate.framework/Accelerate",
  );
  assert.ok(blasLibraryNames("linux").includes("/usr/lib64/libopenblas.so.0")); // Fedora's openblas
});

Deno.test("blasAdvice: one line naming the package when not found, nothing when loaded or turned off", () => {
  const notFound = "OpenBLAS not found (libopenblas.so.0: cannot open shared object file)";
  const linux = blasAdvice(notFound, "linux")!;
  assert.equal(linux.split("\n").length, 1);
  assert.match(linux, /^note: no BLAS library loaded/);
  assert.match(linux, /Debian\/Ubuntu: sudo apt-get install libopenblas0-pthread/);
  assert.match(linux, /Fedora: sudo dnf install openblas/);
  assert.match(linux, /the run goes on/);
  assert.match(blasAdvice(notFound, "windows")!, /libopenblas\.dll on PATH/);
  assert.equal(
    blasAdvice(
      "Accelerate (/System/Library/Frameworks/Accelerate.framework/Accelerate, 1 thread)",
      "darwin",
    ),
    null,
  );
  assert.equal(
    blasAdvice("OpenBLAS (libopenblas.so.0, 2 threads on large products)", "linux"),
    null,
  );
  assert.equal(blasAdvice("off (VATT_BLAS=0)", "linux"), null);
  assert.match(
    blasAdvice("FFI not permitted (run with --allow-ffi)", "linux")!,
    /run with --allow-ffi/,
  );
});
