/** Seeded randomness for models that need it (deterministic: a seed gives the same stream). */

/** Uniform numbers in [0, 1) from a 32-bit linear congruential generator (Numerical Recipes constants). */
export function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

/** Uniform numbers in [0, 1) from Mulberry32 (Tommy Ettinger's 32-bit generator): better low bits than the LCG, for benchmark instances. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
