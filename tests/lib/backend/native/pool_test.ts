import assert from "node:assert/strict";
import { builtNative } from "./_built.ts";
import { hashProducts } from "./_products.ts";

const kernels = await builtNative("pool_test", { blas: true });

Deno.test({
  name:
    "the native pool gives every caller its own results when a worker and the main thread use it at once",
  ignore: !kernels,
  async fn() {
    const rounds = 60;
    // Each caller alone first: the hashes to expect.
    const want = [2, 3].map((seed) => hashProducts(kernels!, seed, rounds));
    const mineWant = hashProducts(kernels!, 1, 5);
    const workers = [2, 3].map(() =>
      new Worker(new URL("./_products_worker.ts", import.meta.url), { type: "module" })
    );
    try {
      let pending = workers.length;
      const answers = workers.map((w, i) => {
        const answer = new Promise<number | null>((resolve, reject) => {
          w.onmessage = (e) => resolve(e.data);
          w.onerror = (e) => reject(e);
        }).finally(() => pending--);
        w.postMessage({ seed: i + 2, rounds });
        return answer;
      });
      // Meanwhile, on this thread, until both have answered (at least once).
      let mine = 0;
      do {
        assert.equal(hashProducts(kernels!, 1, 5), mineWant);
        mine++;
        await new Promise((resolve) => setTimeout(resolve, 0));
      } while (pending > 0);
      assert.deepEqual(await Promise.all(answers), want);
      assert.ok(mine > 1, `the main thread's products ran ${mine} time(s) while the workers ran`);
    } finally {
      workers.forEach((w) => w.terminate());
    }
  },
});

Deno.test({
  name:
    "the native pool's threads claim a job's ranges as they come: while the caller is held in one, the worker runs all the others",
  ignore: !kernels,
  fn() {
    const was = kernels!.threads();
    kernels!.setThreads(2);
    try {
      // A caller that finds the pool taken (another test module of this process holding it)
      // runs every range itself: try again.
      let runs = new Int32Array(8), byCaller = runs.length;
      for (let attempt = 0; attempt < 5 && byCaller === runs.length; attempt++) {
        runs = new Int32Array(8);
        byCaller = kernels!.poolProbe(runs);
      }
      assert.deepEqual(Array.from(runs), new Array(8).fill(1), "every range runs exactly once");
      // A fixed split would leave 4 of the 8 ranges to the caller.
      assert.ok(byCaller <= 1, `the caller ran ${byCaller} of 8 ranges`);
    } finally {
      kernels!.setThreads(was);
    }
  },
});
