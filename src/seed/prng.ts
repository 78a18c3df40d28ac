/**
 * A small, fast, seedable PRNG (sfc32, 128-bit state) and the few distributions the demo data
 * needs. Pure: the same seed gives the same sequence on every machine.
 */
export type Rng = () => number; // uniform in [0, 1)

/** Hash any seed (number or string) and extra parts into four 32-bit words (xmur3-style). */
export function seedWords(...parts: Array<string | number>): [number, number, number, number] {
  const text = parts.map(String).join('\u0000');
  let h = 1779033703 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 3432918353);
    h = (h << 13) | (h >>> 19);
  }
  const next = (): number => {
    h = Math.imul(h ^ (h >>> 16), 2246822507);
    h = Math.imul(h ^ (h >>> 13), 3266489909);
    h ^= h >>> 16;
    return h >>> 0;
  };
  return [next(), next(), next(), next()];
}

/** sfc32 seeded from the hashed parts; also exposes raw 32-bit draws for id bits. */
export function createRng(...parts: Array<string | number>): Rng & { u32(): number } {
  let [a, b, c, d] = seedWords(...parts);
  const u32 = (): number => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) u32(); // warm up
  const rng = (() => u32() / 4294967296) as Rng & { u32(): number };
  rng.u32 = u32;
  return rng;
}

/** Integer in [lo, hi] inclusive. */
export function int(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!;
}

export function chance(rng: Rng, p: number): boolean {
  return rng() < p;
}

/** Exponential with the given mean. */
export function exponential(rng: Rng, mean: number): number {
  return -Math.log(1 - rng()) * mean;
}

/** Standard normal (Box-Muller, one value per call; simple over fast). */
export function normal(rng: Rng): number {
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export function logNormal(rng: Rng, mu: number, sigma: number): number {
  return Math.exp(mu + sigma * normal(rng));
}

/** Pareto (heavy tail) with minimum xm and shape alpha. */
export function pareto(rng: Rng, xm: number, alpha: number): number {
  return xm / Math.pow(1 - rng(), 1 / alpha);
}

/**
 * An index in [0, n) drawn with P(i) roughly proportional to 1/(i+1) (Zipf, s=1), in O(1):
 * the continuous log-uniform inverse CDF.
 */
export function zipfIndex(rng: Rng, n: number): number {
  if (n <= 1) return 0;
  const i = Math.floor(Math.exp(rng() * Math.log(n + 1))) - 1;
  return i < 0 ? 0 : i >= n ? n - 1 : i;
}
