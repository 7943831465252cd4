/**
 * One rank of the collectives test: rank r contributes known values, and
 * prints what came back as one JSON line (`rank`, `size`, `sum`, `sum64`, `sumInto`,
 * `inPlace`, `onHeap`, `gathered`, `broadcast`, `library`).
 *
 * @module
 */
import { Mpi } from "../../../lib/dist/mpi.ts";
import { detectLauncher } from "../../../lib/dist/launcher.ts";

const env = Deno.env.toObject();
const mpi = Mpi.init({ env, launcher: detectLauncher(env)?.launcher });
const r = mpi.rank;
const sum = mpi.allreduceSum(new Float32Array([r + 1, 10 * (r + 1), 0.25]));
const sum64 = mpi.allreduceSum(new Float64Array([1e-17 * (r + 1), r]));
const into = new Float32Array(2);
const sumInto = mpi.allreduceSum(new Float32Array([r, 1]), into) === into ? [...into] : [];
const own = new Float32Array([r + 1, 2 * r]);
const inPlace = mpi.allreduceSum(own, own) === own ? [...own] : [];
// In place on a view of WebAssembly memory (as the wasm backend's heap), values 2 and 3 of it.
const heap = new Float32Array(new WebAssembly.Memory({ initial: 1 }).buffer, 0, 6);
heap.set([r, 5], 2);
mpi.allreduceSum(heap.subarray(2, 4), heap.subarray(2, 4));
const gathered = mpi.allgather(new Int32Array([r, -r, 7]));
const message = new Uint8Array(3);
if (r === 0) message.set([4, 5, 6]);
mpi.broadcast(message, 0);
mpi.barrier();
console.log(JSON.stringify({
  rank: r,
  size: mpi.size,
  sum: [...sum],
  sum64: [...sum64],
  sumInto,
  inPlace,
  onHeap: [...heap],
  gathered: [...gathered],
  broadcast: [...message],
  library: mpi.library,
}));
mpi.finalize();
