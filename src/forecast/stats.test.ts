import { describe, expect, it } from 'vitest';
import { fillGaps, laggedMae, normalQuantile, sortedQuantile } from './stats.ts';

describe('normalQuantile', () => {
  it.each([
    [0.975, 1.959964],
    [0.95, 1.644854],
    [0.5, 0],
    [0.9, 1.281552],
    [0.99, 2.326348],
    [0.001, -3.090232],
    [0.025, -1.959964],
  ])('z_%f = %f (standard normal table)', (p, z) => {
    expect(normalQuantile(p)).toBeCloseTo(z, 6);
  });

  it('is odd around 0.5 and rejects probabilities outside [0, 1]', () => {
    expect(normalQuantile(0.2)).toBeCloseTo(-normalQuantile(0.8), 12);
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(() => normalQuantile(1.5)).toThrow(RangeError);
  });
});

describe('sortedQuantile (type 7)', () => {
  const sorted = [-3, -2, -1, 0, 2, 3, 4, 4];
  it.each([
    [0, -3],
    [0.1, -2.3], // position 0.7 between -3 and -2
    [0.5, 1], // position 3.5 between 0 and 2
    [0.9, 4],
    [1, 4],
  ])('p=%f gives %f', (p, q) => {
    expect(sortedQuantile(sorted, p)).toBeCloseTo(q, 12);
  });
});

describe('fillGaps and laggedMae', () => {
  it('interpolates inner gaps and holds the ends', () => {
    expect(fillGaps([NaN, 2, NaN, NaN, 8, NaN])).toEqual([2, 2, 4, 6, 8, 8]);
  });
  it('averages |x_t - x_{t-lag}|', () => {
    // lag 2: |3-1|, |2-2|, |7-3| = 2, 0, 4 -> mean 2
    expect(laggedMae([1, 2, 3, 2, 7], 2)).toBe(2);
  });
});
