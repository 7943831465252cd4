/**
 * Captions for the synthetic demo clips: paraphrases drawn from templates,
 * naming the colour, the shape and the direction (and sometimes the size,
 * speed, background or sound), each clip worded differently.
 *
 * Private to `lib/demo/`.
 *
 * @module
 */
import type { Rng } from "../util/rng.ts";
import type { DemoClipSpec, DemoColour, DemoMotion, DemoShape } from "./_spec.ts";

const COLOUR_WORDS: Record<DemoColour, string[]> = {
  red: ["red", "red", "red", "crimson", "scarlet"],
  green: ["green", "green", "green", "emerald", "lime"],
  blue: ["blue", "blue", "blue", "azure", "cobalt"],
  yellow: ["yellow", "yellow", "yellow", "golden", "lemon"],
};

const SHAPE_WORDS: Record<DemoShape, string[]> = {
  circle: ["circle", "ball", "disc", "dot", "round blob"],
  square: ["square", "box", "block", "tile"],
  triangle: ["triangle", "wedge", "three-sided shape"],
};

/** [gerund, third person] pairs. */
const VERBS: [string, string][] = [
  ["moving", "moves"],
  ["sliding", "slides"],
  ["drifting", "drifts"],
  ["gliding", "glides"],
  ["travelling", "travels"],
  ["heading", "heads"],
];

const DIRECTIONS: Record<DemoMotion, string[]> = {
  left: ["left", "to the left", "leftward", "towards the left", "from right to left"],
  right: ["right", "to the right", "rightward", "towards the right", "from left to right"],
};

const PITCH_WORDS: Record<DemoColour, string[]> = {
  red: ["low", "deep"],
  green: ["mid-pitched", "medium"],
  blue: ["high", "bright"],
  yellow: ["very high", "shrill"],
};

const SWEEP_WORDS: Record<DemoMotion, string[]> = {
  left: ["falling", "descending", "downward-gliding"],
  right: ["rising", "ascending", "upward-gliding"],
};

const BACKGROUNDS = ["noisy", "grainy", "dim", "speckled", "textured", "murky"];

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.nextInt(items.length)];
}

/** "a" or "an" before a phrase. */
function a(phrase: string): string {
  return `${/^[aeiou]/.test(phrase) ? "an" : "a"} ${phrase}`;
}

interface Parts {
  /** "small red ball" (adjectives optional). */
  thing: string;
  colour: string;
  shape: string;
  /** "sliding quickly to the left". */
  ing: string;
  /** "slides quickly to the left". */
  third: string;
  sound: string;
  background: string;
}

function parts(spec: DemoClipSpec, rng: Rng): Parts {
  const colour = pick(rng, COLOUR_WORDS[spec.colour]);
  const shape = pick(rng, SHAPE_WORDS[spec.shape]);
  const sizeWord = spec.size === "small"
    ? pick(rng, ["small ", "little ", "tiny ", ""])
    : spec.size === "large"
    ? pick(rng, ["large ", "big ", ""])
    : "";
  const speedWord = spec.speed === "slow"
    ? pick(rng, ["slowly ", "gently ", ""])
    : spec.speed === "fast"
    ? pick(rng, ["quickly ", "fast ", "rapidly ", ""])
    : "";
  const [ing, third] = pick(rng, VERBS);
  const direction = pick(rng, DIRECTIONS[spec.motion]);
  const pulsed = spec.audio.pulseHz > 0;
  const noun = pulsed
    ? pick(rng, ["beeping", "series of beeps", "pulsing tone"])
    : pick(rng, ["tone", "hum", "whistle"]);
  const sweep = rng.nextFloat() < 0.7 ? `${pick(rng, SWEEP_WORDS[spec.motion])} ` : "";
  return {
    thing: `${sizeWord}${colour} ${shape}`,
    colour,
    shape,
    ing: `${ing} ${speedWord}${direction}`,
    third: `${third} ${speedWord}${direction}`,
    sound: `${sweep}${pick(rng, PITCH_WORDS[spec.colour])} ${noun}`,
    background: pick(rng, BACKGROUNDS),
  };
}

const TEMPLATES: ((p: Parts) => string)[] = [
  (p) => `${a(p.thing)} ${p.ing}`,
  (p) => `${a(p.thing)} ${p.ing} across ${a(p.background)} background`,
  (p) => `${a(p.sound)} as ${a(p.thing)} ${p.third}`,
  (p) => `the ${p.shape} is ${p.colour} and it ${p.third}`,
  (p) => `video of ${a(p.thing)} ${p.ing}`,
  (p) => `${a(p.thing)} ${p.third} while ${a(p.sound)} plays`,
  (p) => `you can hear ${a(p.sound)} while ${a(p.thing)} ${p.third}`,
  (p) => `${p.thing}, ${p.ing}`,
  (p) => `over ${a(p.background)} backdrop ${a(p.thing)} ${p.third}`,
  (p) => `something ${p.colour} ${p.ing}: ${a(p.shape)}`,
  (p) => `a clip where ${a(p.thing)} ${p.third}`,
];

/**
 * 3–5 distinct captions for a planned clip, from distinct templates.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Rng } from "../util/rng.ts";
 * import { planDemoClipSpecs } from "./_plan.ts";
 * import { writeCaptions } from "./_captions.ts";
 * const [spec] = planDemoClipSpecs({ clips: 1, seed: 0, width: 64, height: 48, seconds: 2, fps: 10, sampleRate: 16000 });
 * const captions = writeCaptions(spec, new Rng(5));
 * assert.ok(captions.length >= 3);
 * assert.ok(captions.length <= 5);
 * ```
 */
export function writeCaptions(spec: DemoClipSpec, rng: Rng): string[] {
  const count = 3 + rng.nextInt(3);
  const templates = rng.shuffle(TEMPLATES.slice()).slice(0, count);
  const seen = new Set<string>();
  const out: string[] = [];
  for (const template of templates) {
    // Fresh wording per caption; retry a few times on a (rare) duplicate.
    for (let attempt = 0; attempt < 4; attempt++) {
      const text = template(parts(spec, rng));
      if (!seen.has(text)) {
        seen.add(text);
        out.push(text);
        break;
      }
    }
  }
  return out;
}
