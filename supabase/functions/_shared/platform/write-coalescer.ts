/**
 * Group commit for writes nobody waits on (Twilio's status callbacks): while
 * one batch is being written, the writes that arrive queue up, and when it is
 * done they go together as the next batch: one round trip and one commit for
 * all of them. Nothing waits for a batch to fill: a write that finds nothing
 * in flight goes at once, alone, so a quiet isolate adds no latency; under
 * load, batches grow by themselves to what arrived during one write.
 *
 * Each write's promise settles with its own outcome, after its batch has
 * committed (or failed): a callback is answered 2xx only once its own row is
 * stored, never because a batch was accepted.
 */

/** What one write in a batch came to: its result, or the error it alone failed with. */
export type WriteOutcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

/** Writes a batch; returns one outcome per item, in order. A throw fails every item of it. */
export type BatchWriter<T, R> = (items: T[]) => Promise<WriteOutcome<R>[]>;

interface Pending<T, R> {
  item: T;
  resolve(value: R): void;
  reject(error: unknown): void;
}

export class WriteCoalescer<T, R> {
  #queue: Pending<T, R>[] = [];
  #writing = false;

  /**
   * @param write writes one batch (see BatchWriter)
   * @param maxBatch the most items in one batch: bounds one transaction's
   *   locks and the statement's size
   */
  constructor(private readonly write: BatchWriter<T, R>, private readonly maxBatch = 32) {
    if (!(maxBatch >= 1)) throw new RangeError("maxBatch must be at least 1");
  }

  /** Queues one write; settles once its batch is written. */
  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (!this.#writing) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.maxBatch);
        let outcomes: WriteOutcome<R>[];
        try {
          outcomes = await this.write(batch.map((p) => p.item));
          if (outcomes.length !== batch.length) {
            throw new Error(
              `batch writer gave ${outcomes.length} outcomes for ${batch.length} items`,
            );
          }
        } catch (error) {
          outcomes = batch.map(() => ({ ok: false, error }));
        }
        batch.forEach((p, i) => {
          const outcome = outcomes[i];
          if (outcome.ok) p.resolve(outcome.value);
          else p.reject(outcome.error);
        });
      }
    } finally {
      this.#writing = false;
    }
  }
}
