/**
 * SVG output of plots: scatter plots of embeddings and line charts of training curves.
 * Every piece of text (titles, group names, point labels, series names) is untrusted and is
 * escaped; colours must be `#rgb` / `#rrggbb`.
 *
 * @module
 */

import { markerPoints, type Scene } from "./shapes.ts";

/**
 * Escapes text for SVG/XML content and attribute values (`& < > " '`). Characters XML 1.0
 * forbids (control characters other than tab, newline and carriage return, lone surrogates)
 * become U+FFFD.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeXml } from "./svg.ts";
 * assert.equal(escapeXml(`a<b & "c"`), "a&lt;b &amp; &quot;c&quot;");
 * ```
 */
export function escapeXml(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x26) out += "&amp;";
    else if (c === 0x3c) out += "&lt;";
    else if (c === 0x3e) out += "&gt;";
    else if (c === 0x22) out += "&quot;";
    else if (c === 0x27) out += "&apos;";
    else if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0xfffe || c === 0xffff) {
      out += "\ufffd";
    } else if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += text[i] + text[i + 1];
        i++;
      } else out += "\ufffd";
    } else if (c >= 0xdc00 && c <= 0xdfff) out += "\ufffd";
    else out += text[i];
  }
  return out;
}

const num = (v: number): string => String(Math.round(v * 100) / 100);

/**
 * Writes a laid-out {@linkcode Scene} as a standalone SVG document.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sceneToSvg } from "./svg.ts";
 * import { scatterScene } from "./scene.ts";
 * assert.ok(sceneToSvg(scatterScene([[0, 1]])).startsWith("<svg"));
 * ```
 */
export function sceneToSvg(scene: Scene): string {
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${scene.width}" height="${scene.height}" viewBox="0 0 ${scene.width} ${scene.height}" font-family="sans-serif">`,
    `<rect x="0" y="0" width="${scene.width}" height="${scene.height}" fill="${
      escapeXml(scene.background)
    }"/>`,
  ];
  for (const s of scene.shapes) {
    switch (s.kind) {
      case "rect":
        out.push(
          `<rect x="${num(s.x)}" y="${num(s.y)}" width="${num(s.width)}" height="${
            num(s.height)
          }" fill="${escapeXml(s.fill ?? "none")}"${
            s.stroke ? ` stroke="${escapeXml(s.stroke)}"` : ""
          }/>`,
        );
        break;
      case "line":
        out.push(
          `<line x1="${num(s.x1)}" y1="${num(s.y1)}" x2="${num(s.x2)}" y2="${num(s.y2)}" stroke="${
            escapeXml(s.stroke)
          }" stroke-width="${num(s.width)}"/>`,
        );
        break;
      case "polyline":
        out.push(
          `<polyline points="${
            s.points.map(([x, y]) => `${num(x)},${num(y)}`).join(" ")
          }" fill="none" stroke="${escapeXml(s.stroke)}" stroke-width="${
            num(s.width)
          }" stroke-linejoin="round"/>`,
        );
        break;
      case "circle": {
        const fill = `fill="${escapeXml(s.fill)}"`;
        const [tag, attrs] = s.marker === undefined || s.marker === "circle"
          ? ["circle", `cx="${num(s.cx)}" cy="${num(s.cy)}" r="${num(s.r)}" ${fill}`]
          : [
            "polygon",
            `points="${markerPoints(s).map(([x, y]) => `${num(x)},${num(y)}`).join(" ")}" ${fill}`,
          ];
        out.push(
          s.title === undefined
            ? `<${tag} ${attrs}/>`
            : `<${tag} ${attrs}><title>${escapeXml(s.title)}</title></${tag}>`,
        );
        break;
      }
      case "text": {
        const anchor = s.anchor === "start" ? "start" : s.anchor === "end" ? "end" : "middle";
        const rotate = s.vertical ? ` transform="rotate(-90 ${num(s.x)} ${num(s.y)})"` : "";
        out.push(
          `<text x="${num(s.x)}" y="${num(s.y)}" font-size="${num(s.size)}" fill="${
            escapeXml(s.color)
          }" text-anchor="${anchor}" dominant-baseline="central"${rotate}>${
            escapeXml(s.text)
          }</text>`,
        );
        break;
      }
    }
  }
  out.push("</svg>");
  return out.join("\n") + "\n";
}
