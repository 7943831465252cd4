import assert from "node:assert/strict";
import { resolveVattConfig } from "../../../lib/config/vatt_config.ts";
import { checkModelFitsData } from "../../../lib/data/fit.ts";
import { Dataset } from "../../../lib/data/shards/dataset.ts";
import { MismatchError } from "../../../lib/util/errors.ts";
import { demoDataset } from "../../_fixtures.ts";

const fixture = await demoDataset({ clips: 32 });

Deno.test("checkModelFitsData() names what does not fit", async () => {
  const data = await Dataset.open(fixture.data);
  assert.throws(
    () => checkModelFitsData(resolveVattConfig({ preset: "tiny", video: { frames: 16 } }), data),
    (e: Error) => e instanceof MismatchError && /8 frames \(model expects 16\)/.test(e.message),
  );
  assert.throws(
    () => checkModelFitsData(resolveVattConfig({ preset: "tiny", text: { vocabSize: 10 } }), data),
    /vocabulary of \d+ \(model holds 10\)/,
  );
  data.close();
});
