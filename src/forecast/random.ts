/** Seeded randomness for models that need it (deterministic: a seed gives the same stream). */

/** Uniform numbers in [0, 1) from a 32-bit linear congruential generator (Numerical Recipes constants). */
export function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}
