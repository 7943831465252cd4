import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Mpi, SOLO } from "../../../lib/dist/mpi.ts";
import { mpiLaunchers, mpiMissingReason, runRanks } from "../../_mpi.ts";

const RANK = fileURLToPath(new URL("./_collectives_rank.ts", import.meta.url));
const missing = mpiMissingReason();

Deno.test({
  name: "Mpi collectives over 2 ranks give the hand-computed sums, gather and broadcast",
  ignore: missing !== undefined,
  fn: async (t) => {
    for (const launcher of mpiLaunchers()) {
      await t.step(launcher.name, async () => {
        const out = await runRanks(launcher, 2, [Deno.execPath(), "run", "-A", RANK]);
        assert.equal(out.code, 0, out.stderr);
        const lines = out.stdout.trim().split("\n").map((l) => JSON.parse(l));
        assert.equal(lines.length, 2);
        for (const l of lines) {
          assert.equal(l.size, 2);
          // Rank 0 gives [1, 10, 0.25], rank 1 [2, 20, 0.25].
          assert.deepEqual(l.sum, [3, 30, 0.5]);
          // 1e-17 + 2e-17 in doubles (lost in float32), and 0 + 1.
          assert.deepEqual(l.sum64, [1e-17 + 2e-17, 1]);
          assert.deepEqual(l.sumInto, [1, 2]); // into the caller's buffer: [0, 1] + [1, 1]
          assert.deepEqual(l.inPlace, [3, 2]); // MPI_IN_PLACE: [1, 0] + [2, 2] in x itself
          assert.deepEqual(l.onHeap, [0, 0, 1, 10, 0, 0]); // [0, 5] + [1, 5]; neighbours untouched
          assert.deepEqual(l.gathered, [0, 0, 7, 1, -1, 7]);
          assert.deepEqual(l.broadcast, [4, 5, 6]);
          assert.match(l.library, launcher.name === "mpich" ? /mpich/ : /libmpi\.so\.40/);
        }
        assert.deepEqual(lines.map((l) => l.rank).sort(), [0, 1]);
      });
    }
  },
});

Deno.test("Mpi.init names what to install when the library is missing", () => {
  assert.throws(
    () => Mpi.init({ env: { VATT_MPI_LIB: "/nonexistent/libmpich.so.12" } }),
    (e: Error) => {
      assert.equal(e.name, "MpiLibraryMissingError");
      assert.match(e.message, /tried \/nonexistent\/libmpich\.so\.12/);
      assert.match(e.message, /apt-get install openmpi-bin libopenmpi3/);
      assert.match(e.message, /apt-get install mpich/);
      return true;
    },
  );
});

Deno.test("SOLO's collectives are those of one rank", () => {
  assert.deepEqual(SOLO.allgather(new Int32Array([3, 4])), new Int32Array([3, 4]));
  assert.deepEqual(SOLO.allreduceSum(new Float64Array([0.5])), new Float64Array([0.5]));
  const x = new Uint8Array([9]);
  assert.equal(SOLO.broadcast(x, 0), x);
});
