import assert from "node:assert/strict";
import { detectLauncher, resolveDistributed, stopGraceNote } from "../../../lib/dist/launcher.ts";
import { abiOfLibrary, mpiLibraryCandidates } from "../../../lib/dist/library.ts";

Deno.test("detectLauncher() reads each launcher's size and rank variables", async (t) => {
  await t.step("Open MPI's mpirun", () => {
    assert.deepEqual(
      detectLauncher({ OMPI_COMM_WORLD_SIZE: "2", OMPI_COMM_WORLD_RANK: "1", PMIX_RANK: "1" }),
      { launcher: "openmpi", size: 2, rank: 1 },
    );
  });
  await t.step("MPICH's mpiexec (Hydra, PMI)", () => {
    assert.deepEqual(detectLauncher({ PMI_SIZE: "3", PMI_RANK: "2", PMI_FD: "6" }), {
      launcher: "mpich",
      size: 3,
      rank: 2,
    });
  });
  await t.step("Slurm's srun", () => {
    assert.deepEqual(detectLauncher({ SLURM_NTASKS: "256", SLURM_PROCID: "17" }), {
      launcher: "slurm",
      size: 256,
      rank: 17,
    });
  });
  await t.step("a PMIX_RANK alone (no size) is no launcher", () => {
    assert.equal(detectLauncher({ PMIX_RANK: "0" }), undefined);
  });
  await t.step("nonsense values are no launcher", () => {
    assert.equal(detectLauncher({ PMI_SIZE: "two", PMI_RANK: "0" }), undefined);
    assert.equal(detectLauncher({ PMI_SIZE: "0", PMI_RANK: "0" }), undefined);
  });
});

Deno.test("resolveDistributed(): auto is on only with a launcher of 2+ ranks; mpi needs one", () => {
  const two = { PMI_SIZE: "2", PMI_RANK: "0" };
  assert.deepEqual(resolveDistributed("auto", {}), { kind: "off" });
  assert.deepEqual(resolveDistributed("auto", two), {
    kind: "mpi",
    launcher: "mpich",
    size: 2,
    rank: 0,
  });
  assert.deepEqual(resolveDistributed("mpi", { PMI_SIZE: "1", PMI_RANK: "0" }), {
    kind: "mpi",
    launcher: "mpich",
    size: 1,
    rank: 0,
  });
  assert.deepEqual(resolveDistributed("off", two), { kind: "off" });
  assert.throws(() => resolveDistributed("mpi", {}), RangeError);
  assert.throws(() => resolveDistributed("on" as "mpi", {}), /expected one of auto, off, mpi/);
});

Deno.test("mpiLibraryCandidates(): VATT_MPI_LIB alone, else the launcher's MPI first", () => {
  assert.deepEqual(
    mpiLibraryCandidates({}, "openmpi").map((c) => c.path).filter((p) =>
      p.endsWith(".so.40") || p.endsWith(".so.12")
    ),
    ["libmpi.so.40", "libmpich.so.12"],
  );
  assert.deepEqual(
    mpiLibraryCandidates({}, "mpich").map((c) => c.abi),
    ["mpich", "mpich", "openmpi", "openmpi"],
  );
  assert.deepEqual(
    mpiLibraryCandidates({ VATT_MPI_LIB: "/opt/x/libmpi.so", VATT_MPI_ABI: "mpich" }, undefined),
    [
      { path: "/opt/x/libmpi.so", abi: "mpich" },
    ],
  );
  assert.equal(abiOfLibrary("libmpich.so.12"), "mpich");
  assert.equal(abiOfLibrary("libmpi.so.40"), "openmpi");
});

Deno.test("stopGraceNote() asks for a longer mpirun kill timeout under Open MPI below 10 s only", () => {
  const ompi = { OMPI_COMM_WORLD_SIZE: "2", OMPI_COMM_WORLD_RANK: "0" };
  const note = (env: Record<string, string>) => stopGraceNote(resolveDistributed("auto", env), env);
  // Unset: Open MPI's default of 1 s.
  assert.match(note(ompi)!, /kills the ranks 1 s after asking them to stop/);
  assert.match(note(ompi)!, /`mpirun --mca odls_base_sigkill_timeout 10 …`/);
  assert.match(note({ ...ompi, OMPI_MCA_odls_base_sigkill_timeout: "5" })!, /5 s after/);
  assert.equal(note({ ...ompi, OMPI_MCA_odls_base_sigkill_timeout: "10" }), undefined);
  assert.equal(note({ PMI_SIZE: "2", PMI_RANK: "1" }), undefined); // MPICH passes SIGINT on
  assert.equal(stopGraceNote({ kind: "off" }, ompi), undefined);
});
