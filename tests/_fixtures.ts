/**
 * Shared test fixtures: the demo dataset, tokenized at the tiny preset's
 * settings, built once per machine under the system temp folder and reused
 * by every test file (built in a private folder, then renamed into place, so
 * parallel test processes never see a half-built one).
 *
 * @module
 */
import * as path from "node:path";
import { generateDemoData } from "../lib/demo/demo_data.ts";
import { tokenizeDataset } from "../lib/data/tokenize/tokenize.ts";

/** Tokenize settings of the tiny preset. */
export const TINY_SETTINGS = {
  frames: 8,
  fps: 10,
  size: 32,
  audioSeconds: 0.8,
  sampleRate: 8000,
  clipsPerShard: 16,
};

const FIXTURE_VERSION = 1;

/** A hash of the code that makes the fixture, so a change to it builds a new one. */
async function codeHash(): Promise<string> {
  const root = new URL("../lib/", import.meta.url);
  const names: string[] = [];
  const walk = async (rel: string) => {
    for await (const e of Deno.readDir(new URL(rel, root))) {
      if (e.isDirectory) await walk(`${rel}${e.name}/`);
      else if (e.isFile && e.name.endsWith(".ts")) names.push(`${rel}${e.name}`);
    }
  };
  await walk("data/");
  await walk("demo/");
  const parts = await Promise.all(names.sort().map((n) => Deno.readFile(new URL(n, root))));
  const all = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return Array.from(digest.slice(0, 6), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The demo dataset with `clips` clips: `{ media, data }` folders (the media
 * with its manifest, and the tokenized dataset).
 */
export async function demoDataset(
  options: { clips: number; seed?: number },
): Promise<{ media: string; data: string }> {
  const seed = options.seed ?? 0;
  const root = path.join(Deno.env.get("TMPDIR") ?? "/tmp", "vatt-test-fixtures");
  const name = `demo-v${FIXTURE_VERSION}-${await codeHash()}-${options.clips}-${seed}`;
  const target = path.join(root, name);
  const ready = async () => {
    try {
      await Deno.stat(path.join(target, "data", "index.json"));
      return true;
    } catch {
      return false;
    }
  };
  if (await ready()) return { media: path.join(target, "media"), data: path.join(target, "data") };
  await Deno.mkdir(root, { recursive: true });
  const work = await Deno.makeTempDir({ dir: root, prefix: `.${name}-` });
  await generateDemoData(path.join(work, "media"), { clips: options.clips, seed });
  await tokenizeDataset({
    manifest: path.join(work, "media", "manifest.jsonl"),
    out: path.join(work, "data"),
    settings: TINY_SETTINGS,
    text: { buildVocab: 1023 },
  });
  try {
    await Deno.rename(work, target);
  } catch {
    // Another test process finished first: use its copy.
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
  if (!(await ready())) throw new Error(`fixture ${target} could not be built`);
  return { media: path.join(target, "media"), data: path.join(target, "data") };
}
