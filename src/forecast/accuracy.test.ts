import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../core/errors.ts';
import { coverage, mase, msis, owa, seasonalScale, smape } from './accuracy.ts';

// In-sample [1, 2, 3, 5, 4, 6] at m = 2: |3−1|, |5−2|, |4−3|, |6−5| = 2, 3, 1, 1 → scale 7/4.
const insample = [1, 2, 3, 5, 4, 6];

describe('M4 accuracy measures (hand-computed)', () => {
  it('sMAPE in percent', () => {
    // 200·10/210 = 9.5238095, 200·20/380 = 10.5263158 → mean 10.0250627
    expect(smape([100, 200], [110, 180])).toBeCloseTo(10.0250627, 6);
    expect(smape([0, 5], [0, 5])).toBe(0);
  });

  it('MASE against the in-sample seasonal-naive MAE', () => {
    expect(seasonalScale(insample, 2)).toBeCloseTo(1.75, 12);
    // mean |e| = (1 + 2) / 2 = 1.5 → 1.5 / 1.75
    expect(mase(insample, [7, 8], [6, 10], 2)).toBeCloseTo(0.857142857, 8);
  });

  it('MSIS with the 2/α penalty, and coverage', () => {
    const actual = [7, 8, 3];
    const lower = [5, 9, 2];
    const upper = [9, 12, 4];
    // widths 4 + 3 + 2 = 9; step 2 misses below by 1 → 40; (9 + 40) / 3 / 1.75
    expect(msis(insample, actual, lower, upper, 2, 0.05)).toBeCloseTo(49 / 3 / 1.75, 10);
    expect(coverage(actual, lower, upper)).toBeCloseTo(2 / 3, 12);
  });

  it('OWA against Naive2 reproduces the competition figure for seasonal naive', () => {
    // 0.5·(13.912/18.383 + 1.193/2.395) = 0.62745; the competition's table says 0.627.
    expect(owa(13.912, 1.193)).toBeCloseTo(0.62745, 4);
    expect(owa(18.383, 2.395)).toBeCloseTo(1, 12);
  });

  it('rejects mismatched lengths and too-short in-sample data', () => {
    expect(() => smape([1, 2], [1])).toThrow(InvalidInputError);
    expect(() => mase([1, 2], [1], [1], 2)).toThrow(/more than m = 2/);
  });
});
