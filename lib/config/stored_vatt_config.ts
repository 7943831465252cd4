/**
 * Resolving the model config a checkpoint stored. A config is stored whole,
 * so a field it lacks did not exist when it was written: it takes the value
 * that reproduces the model that checkpoint holds, not today's default.
 *
 * @module
 */
import { resolveVattConfig, type VattConfig, type VattConfigInput } from "./vatt_config.ts";

/**
 * The values of the architecture fields added after the first checkpoints
 * (issue 13), as those checkpoints' models had them: no dropout, no LayerNorm
 * on the positions, bias-free audio → va and text → vt projections. (The T5
 * table form needs no entry: old configs name `"t5"`, the per-layer form.)
 */
export const LEGACY_ARCHITECTURE: Readonly<
  Required<Pick<VattConfigInput, "dropout" | "attentionDropout" | "positionNorm">> & {
    heads: { projectionBias: boolean };
  }
> = {
  dropout: 0,
  attentionDropout: 0,
  positionNorm: false,
  heads: { projectionBias: false },
};

/**
 * Resolves a config read back from a checkpoint or run folder: fields it
 * lacks take {@linkcode LEGACY_ARCHITECTURE}, the rest is validated as by
 * `resolveVattConfig`. A config written by this version resolves to itself.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveVattConfig } from "./vatt_config.ts";
 * import { resolveStoredVattConfig } from "./stored_vatt_config.ts";
 * const now = resolveVattConfig({ preset: "tiny" });
 * assert.deepEqual(resolveStoredVattConfig(JSON.parse(JSON.stringify(now))), now);
 * const { dropout: _d, attentionDropout: _a, positionNorm: _p, ...old } = now;
 * const legacy = resolveStoredVattConfig({ ...old, heads: { vaDim: 128, vtDim: 64, bnMomentum: 0.9, bnEpsilon: 1e-5 } });
 * assert.equal(legacy.dropout, 0);
 * assert.equal(legacy.positionNorm, false);
 * assert.equal(legacy.heads.projectionBias, false);
 * ```
 */
export function resolveStoredVattConfig(stored: VattConfigInput): VattConfig {
  if (stored === null || typeof stored !== "object" || Array.isArray(stored)) {
    throw new TypeError(`A stored config must be an object, got ${JSON.stringify(stored)}`);
  }
  const { heads, ...rest } = LEGACY_ARCHITECTURE;
  return resolveVattConfig({
    ...rest,
    ...stored,
    heads: { ...heads, ...stored.heads },
  });
}
