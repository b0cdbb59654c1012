import assert from "node:assert/strict";
import { WriteCoalescer } from "../../supabase/functions/_shared/platform/write-coalescer.ts";

/** A writer whose batches the test finishes by hand, recording what each held. */
function manualWriter() {
  const batches: number[][] = [];
  const finishers: Array<() => void> = [];
  const writer = (items: number[]) => {
    batches.push(items);
    return new Promise<{ ok: true; value: number }[]>((resolve) =>
      finishers.push(() => resolve(items.map((i) => ({ ok: true, value: i * 10 }))))
    );
  };
  return { batches, finishers, writer };
}

Deno.test("write coalescer: a write with nothing in flight goes at once, alone", async () => {
  const { batches, finishers, writer } = manualWriter();
  const c = new WriteCoalescer(writer);
  const first = c.submit(1);
  assert.deepEqual(batches, [[1]]);
  finishers[0]();
  assert.equal(await first, 10);
});

Deno.test("write coalescer: writes arriving during a write go together next, each with its own result", async () => {
  const { batches, finishers, writer } = manualWriter();
  const c = new WriteCoalescer(writer, 3);
  const answers = [1, 2, 3, 4, 5, 6].map((i) => c.submit(i));
  assert.deepEqual(batches, [[1]], "the others wait for the first write");
  finishers[0]();
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(batches, [[1], [2, 3, 4]], "then up to maxBatch go together");
  finishers[1]();
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(batches, [[1], [2, 3, 4], [5, 6]]);
  finishers[2]();
  assert.deepEqual(await Promise.all(answers), [10, 20, 30, 40, 50, 60]);
});

Deno.test("write coalescer: nothing resolves before its own batch is written", async () => {
  const { finishers, writer } = manualWriter();
  const c = new WriteCoalescer(writer);
  let settled = false;
  c.submit(1);
  const second = c.submit(2).then(() => settled = true);
  finishers[0]();
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(settled, false, "the first batch's commit does not answer the second");
  finishers[1]();
  await second;
  assert.equal(settled, true);
});

Deno.test("write coalescer: a failed batch fails its own writes only; per-item failures stay per item", async () => {
  let call = 0;
  const c = new WriteCoalescer<number, number>((items) => {
    call++;
    if (call === 1) return Promise.reject(new Error("database down"));
    return Promise.resolve(
      items.map((i) => i === 3 ? { ok: false, error: new Error("bad 3") } : { ok: true, value: i }),
    );
  });
  const results = await Promise.allSettled([1, 2, 3, 4].map((i) => c.submit(i)));
  assert.deepEqual(results.map((r) => r.status), [
    "rejected",
    "fulfilled",
    "rejected",
    "fulfilled",
  ]);
  assert.match(String((results[0] as PromiseRejectedResult).reason), /database down/);
  assert.match(String((results[2] as PromiseRejectedResult).reason), /bad 3/);
  // And it goes on writing after failures.
  assert.equal(await c.submit(5), 5);
});
