/**
 * The layout's rules, checked on the code itself: imports in `lib/` point only
 * down the layers of {@link LAYERS}, no folder's parts import each other in a
 * circle, `_private.ts` files are imported only from their own folder, and the
 * project's lint rules (function and file lengths) hold for every file of
 * `lib/` and `cli/`.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import rules from "../tasks/lint_rules.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/**
 * The layers of `lib/`, bottom first. A folder may import folders of lower
 * layers only; folders of one layer never import each other.
 */
const LAYERS: string[][] = [
  ["util"],
  ["config", "io", "backend", "dist"],
  ["loss"],
  ["model", "data", "plot"],
  ["demo", "run"],
  ["train", "eval"],
  ["protocol"],
];

/** Every `.ts` file below `dir` (relative to the repository root). */
function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(path.join(ROOT, dir))) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...sourceFiles(rel));
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".as.ts")) out.push(rel);
  }
  return out.sort();
}

/** `text` with comments and the insides of strings blanked, so only code is left. */
function codeOnly(text: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i], d = text[i + 1];
    if (c === "/" && d === "/") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === "/" && d === "*") {
      const end = text.indexOf("*/", i + 2);
      i = end < 0 ? text.length : end + 2;
      out += " ";
    } else if (c === '"' || c === "'" || c === "`") {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const IMPORT = /(?:\bfrom|\bimport)\s*\(?\s*["'](\.\.?\/[^"']+)["']/g;

/** The repository-relative files that `file` imports. */
function importsOf(file: string): string[] {
  const code = codeOnly(Deno.readTextFileSync(path.join(ROOT, file)));
  return [...code.matchAll(IMPORT)].map((m) => path.posix.join(path.posix.dirname(file), m[1]));
}

/** The edges of `lib/`'s import graph. */
function libEdges(): [string, string][] {
  return sourceFiles("lib").flatMap((f) => importsOf(f).map((t): [string, string] => [f, t]));
}

/** The part of `file` directly below `dir` (a file name or a folder name). */
function childOf(dir: string, file: string): string {
  return file.slice(dir.length + 1).split("/")[0];
}

/** The deepest folder that holds both `a` and `b`. */
function commonFolder(a: string, b: string): string {
  const x = a.split("/"), y = b.split("/");
  let n = 0;
  while (n < Math.min(x.length, y.length) - 1 && x[n] === y[n]) n++;
  return x.slice(0, n).join("/");
}

/** A circle in `graph` as a list of nodes, or `undefined` when there is none. */
function findCircle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (v: string): string[] | undefined => {
    state.set(v, "open");
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (state.get(w) === "open") return [...stack.slice(stack.indexOf(w)), w];
      if (!state.has(w)) {
        const found = visit(w);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(v, "done");
    return undefined;
  };
  for (const v of graph.keys()) {
    if (state.has(v)) continue;
    const found = visit(v);
    if (found) return found;
  }
  return undefined;
}

Deno.test("every folder of lib/ has a layer", () => {
  const folders = [...Deno.readDirSync(path.join(ROOT, "lib"))].map((e) => e.name);
  const placed = LAYERS.flat();
  for (const f of folders) assert.ok(placed.includes(f), `lib/${f} is in no layer of LAYERS`);
});

Deno.test("imports in lib/ point only down the layers", () => {
  const layerOf = (file: string) => LAYERS.findIndex((l) => l.includes(file.split("/")[1]));
  const wrong = libEdges().filter(([a, b]) => {
    if (!b.startsWith("lib/") || a.split("/")[1] === b.split("/")[1]) return false;
    return layerOf(b) >= layerOf(a);
  });
  assert.deepEqual(wrong.map(([a, b]) => `${a} -> ${b}`), []);
});

Deno.test("no folder's parts (files or sub-folders) import each other in a circle", () => {
  const graphs = new Map<string, Map<string, Set<string>>>();
  for (const [a, b] of libEdges()) {
    const dir = commonFolder(a, b);
    const from = childOf(dir, a), to = childOf(dir, b);
    if (from === to) continue;
    const g = graphs.get(dir) ?? new Map<string, Set<string>>();
    graphs.set(dir, g);
    g.set(from, (g.get(from) ?? new Set()).add(to));
  }
  const circles = [...graphs].flatMap(([dir, g]) => {
    const c = findCircle(g);
    return c ? [`${dir}: ${c.join(" -> ")}`] : [];
  });
  assert.deepEqual(circles, []);
});

Deno.test("a _private.ts file is imported only from its own folder", () => {
  const edges = [...sourceFiles("lib"), ...sourceFiles("cli")].flatMap((f) =>
    importsOf(f).map((t) => [f, t])
  );
  const wrong = edges.filter(([a, b]) =>
    path.posix.basename(b).startsWith("_") && !a.startsWith(`${path.posix.dirname(b)}/`)
  );
  assert.deepEqual(wrong.map(([a, b]) => `${a} -> ${b}`), []);
});

Deno.test("functions in lib/ and cli/ and files in lib/ keep to the length limits", () => {
  const found = [...sourceFiles("lib"), ...sourceFiles("cli")].flatMap((f) =>
    Deno.lint.runPlugin(rules, f, Deno.readTextFileSync(path.join(ROOT, f))).map((d) =>
      `${f}: ${d.message}`
    )
  );
  assert.deepEqual(found, []);
});
