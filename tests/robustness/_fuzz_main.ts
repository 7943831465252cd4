/**
 * Runs the fuzz suite in its own process and prints the report as JSON on
 * stdout (tests use it so the fuzz workers start without a type check):
 * `deno run -A tests/robustness/_fuzz_main.ts --level ci [--targets a,b] [--seed N]`.
 *
 * @module
 */
import { type FuzzLevel, type FuzzReport, runFuzz } from "./_fuzz.ts";

/**
 * Runs the fuzz suite in a subprocess and returns its report.
 *
 * @example
 * ```ts
 * import { runFuzzInSubprocess } from "./_fuzz_main.ts";
 * const report = await runFuzzInSubprocess({ level: "ci", targets: ["npy"] });
 * console.assert(report.crashed === 0);
 * ```
 */
export async function runFuzzInSubprocess(
  options: { level: FuzzLevel; targets?: string[]; seed?: number },
): Promise<FuzzReport> {
  const args = ["run", "-A", new URL(import.meta.url).pathname, "--level", options.level];
  if (options.targets) args.push("--targets", options.targets.join(","));
  if (options.seed !== undefined) args.push("--seed", String(options.seed));
  const out = await new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(
      `the fuzz process failed: ${new TextDecoder().decode(out.stderr).slice(-2000)}`,
    );
  }
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

if (import.meta.main) {
  const arg = (name: string) => {
    const i = Deno.args.indexOf(name);
    return i >= 0 ? Deno.args[i + 1] : undefined;
  };
  const report = await runFuzz({
    level: (arg("--level") ?? "ci") as FuzzLevel,
    targets: arg("--targets")?.split(","),
    seed: arg("--seed") === undefined ? undefined : Number(arg("--seed")),
  });
  console.log(JSON.stringify(report));
}
