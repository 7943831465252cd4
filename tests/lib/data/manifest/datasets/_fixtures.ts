/**
 * Shared by the UCF101, HMDB51, MSR-VTT and YouCook2 reader tests: empty media
 * stand-ins and one run of `vatt manifest` as a subprocess.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../../../../../", import.meta.url));

/** Writes empty files (media stand-ins) at `paths` under `root`. */
export async function touch(root: string, ...paths: string[]): Promise<void> {
  for (const p of paths) {
    await Deno.mkdir(dirname(join(root, p)), { recursive: true });
    await Deno.writeTextFile(join(root, p), "");
  }
}

/** What one `vatt manifest` run gave: exit code, stderr lines, and the JSONL rows written. */
export interface CliRun {
  code: number;
  stderr: string[];
  rows: Record<string, unknown>[];
}

/** Runs `vatt manifest DATASET ROOT --out ROOT/out.jsonl …flags` and reads the rows back. */
export async function vattManifest(
  dataset: string,
  root: string,
  ...flags: string[]
): Promise<CliRun> {
  const out = join(root, "out.jsonl");
  await Deno.remove(out).catch(() => {});
  const r = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "-A",
      "cli/main.ts",
      "manifest",
      dataset,
      root,
      "--out",
      out,
      ...flags,
    ],
    cwd: REPO,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(r.stderr).split("\n").filter((l) => l !== "");
  if (r.code !== 0) return { code: r.code, stderr, rows: [] };
  const text = (await Deno.readTextFile(out)).trim();
  return { code: 0, stderr, rows: text === "" ? [] : text.split("\n").map((l) => JSON.parse(l)) };
}
