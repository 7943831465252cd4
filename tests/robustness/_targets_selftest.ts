/**
 * A target of deliberately broken "readers", one per kind of failure the
 * harness must catch: an engine error, an allocation sized by the input, an
 * allocation refused and then hidden behind a clean error, a wrong result, a
 * synchronous hang, an unhandled rejection, a valid input rejected, and a
 * process that dies. The
 * suite's own test runs it to prove that the harness can fail.
 *
 * @module
 */
import { FormatError } from "../../lib/util/errors.ts";
import { expect, type Target } from "./_target.ts";

/** What each self-test case is expected to give. */
export const SELFTEST_EXPECTED = [
  "ok",
  "clean",
  "crash: engine error",
  "crash: untrusted allocation",
  "crash: refused allocation hidden behind a clean error",
  "crash: wrong result",
  "hang",
  "ok, then an unhandled rejection",
  "ok (after the worker was restarted)",
  "crash: valid input rejected",
  "crash: the process died (as on an abort in native code)",
  "ok (after the process was replaced)",
] as const;

/** The self-test target (not part of the suite's runs). */
export const selftestTarget: Target = {
  name: "selftest",
  description: "the harness's own check: broken readers it must report",
  timeoutMs: 1500,
  allocLimit: (bytes) => 4 * bytes,
  cases() {
    return Promise.resolve((i: number) => {
      const cases: (() => Promise<void>)[] = [
        () => Promise.resolve(),
        () => Promise.reject(new FormatError("bad header", { path: "x.bin" })),
        () => {
          const header = JSON.parse("{}") as { shape: number[] };
          return Promise.resolve(void header.shape.length);
        },
        () => Promise.resolve(void new Uint8Array(2 ** 31)),
        () => {
          try {
            new Float64Array(2 ** 28);
          } catch (e) {
            return Promise.reject(new FormatError(`cannot decode: ${(e as Error).message}`));
          }
          return Promise.resolve();
        },
        () => Promise.resolve(expect(false, "3 values for shape [2, 2]")),
        () => {
          // deno-lint-ignore no-empty
          while (Date.now() > 0) {}
          return Promise.resolve();
        },
        () => {
          Promise.reject(new Error("an abandoned read failed"));
          return Promise.resolve();
        },
        () => Promise.resolve(),
        () => Promise.reject(new FormatError("valid file refused")),
        () => Deno.exit(134),
        () => Promise.resolve(),
      ];
      return Promise.resolve({
        testCase: { input: SELFTEST_EXPECTED[i], run: cases[i], valid: i === 9 },
        bytes: 64,
      });
    });
  },
};
