/**
 * The project's own lint rules, loaded by `deno lint` (see `lint.plugins` in
 * `deno.json`) and run over every file of `lib/` and `cli/` by
 * `tests/architecture_test.ts`:
 *
 * - `vatt/max-function-lines`: no function in `lib/` or `cli/` longer than
 *   {@link MAX_FUNCTION_LINES} lines (split it into named steps);
 * - `vatt/max-file-lines`: no file in `lib/` longer than {@link MAX_FILE_LINES}
 *   lines (split it by concern).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import rules from "./lint_rules.ts";
 * const body = "  x += 1;\n".repeat(90);
 * const source = `let x = 0;\nfunction f() {\n${body}}\nf();\n`;
 * const found = Deno.lint.runPlugin(rules, "lib/a.ts", source);
 * assert.equal(found.length, 1);
 * assert.match(found[0].message, /f\(\) is 92 lines/);
 * assert.equal(Deno.lint.runPlugin(rules, "tests/lib/a_test.ts", source).length, 0);
 * ```
 *
 * @module
 */

/** The longest function allowed in `lib/` and `cli/`, in lines. */
export const MAX_FUNCTION_LINES = 80;
/** The longest file allowed in `lib/`, in lines. */
export const MAX_FILE_LINES = 400;

/** The repository's root folder, with a trailing slash. */
const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);

/** Whether `filename` (absolute, or relative to the root) lies in one of the root's `folders`. */
function inFolder(filename: string, folders: string[]): boolean {
  const p = filename.replaceAll("\\", "/");
  const rel = p.startsWith(ROOT) ? p.slice(ROOT.length) : p;
  return folders.some((f) => rel.startsWith(`${f}/`));
}

/** The lines that `node` spans. */
function lineCount(text: string, node: Deno.lint.Node): number {
  const [from, to] = node.range;
  let n = 1;
  for (let i = from; i < to; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

/** Any node that is a function. */
type FunctionNode =
  | Deno.lint.FunctionDeclaration
  | Deno.lint.FunctionExpression
  | Deno.lint.ArrowFunctionExpression;

/** A readable name for a function node: its own, its variable's, its property's. */
function functionName(node: FunctionNode): string {
  if ("id" in node && node.id && node.id.type === "Identifier") return node.id.name;
  const parent = node.parent;
  if (parent?.type === "VariableDeclarator" && parent.id.type === "Identifier") {
    return parent.id.name;
  }
  if ((parent?.type === "MethodDefinition" || parent?.type === "Property") && parent.key) {
    if (parent.key.type === "Identifier") return parent.key.name;
  }
  return "(anonymous)";
}

const plugin: Deno.lint.Plugin = {
  name: "vatt",
  rules: {
    "max-function-lines": {
      create(context) {
        if (!inFolder(context.filename, ["lib", "cli"])) return {};
        const check = (node: FunctionNode) => {
          const n = lineCount(context.sourceCode.text, node);
          if (n <= MAX_FUNCTION_LINES) return;
          context.report({
            node,
            message: `${functionName(node)}() is ${n} lines; the limit is ${MAX_FUNCTION_LINES}`,
            hint: "Split it into named steps, each a function of its own.",
          });
        };
        return {
          FunctionDeclaration: check,
          FunctionExpression: check,
          ArrowFunctionExpression: check,
        };
      },
    },
    "max-file-lines": {
      create(context) {
        if (!inFolder(context.filename, ["lib"])) return {};
        return {
          Program(node) {
            const n = context.sourceCode.text.split("\n").length - 1;
            if (n <= MAX_FILE_LINES) return;
            context.report({
              node,
              message: `this file is ${n} lines; the limit for lib/ is ${MAX_FILE_LINES}`,
              hint: "Split it by concern.",
            });
          },
        };
      },
    },
  },
};

export default plugin;
