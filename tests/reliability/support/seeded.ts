/**
 * Seeded randomness for the reliability suite: every run prints its seed,
 * and the same seed replays the same requests (RELIABILITY_SEED).
 */

/** A small, fast, seeded generator (mulberry32): numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Helpers over one generator. */
export class Dice {
  constructor(readonly next: () => number) {}
  static seeded(seed: number): Dice {
    return new Dice(seededRandom(seed));
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  hex(n: number): string {
    let s = "";
    for (let i = 0; i < n; i++) s += "0123456789abcdef"[this.int(0, 15)];
    return s;
  }
  sid(prefix: string): string {
    return prefix + this.hex(32);
  }
}

/** A number from the environment, or the default (the default test command's size). */
export function envInt(name: string, fallback: number): number {
  const raw = Deno.env.get(name);
  return raw && /^\d+$/.test(raw) ? Number(raw) : fallback;
}

/** The run's base seed: RELIABILITY_SEED, else a fixed one so the default run is reproducible. */
export const baseSeed = (fallback: number) => envInt("RELIABILITY_SEED", fallback);

/** Runs `work` over `items` with at most `limit` in flight. */
export async function inParallel<T>(
  items: T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
