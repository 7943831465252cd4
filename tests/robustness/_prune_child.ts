/**
 * Child process of the prune test: prunes the checkpoints folder given as
 * the first argument down to its newest two checkpoints.
 *
 * @module
 */
import { pruneCheckpoints } from "../../lib/run/checkpoint.ts";

if (import.meta.main) await pruneCheckpoints(Deno.args[0], 2);
