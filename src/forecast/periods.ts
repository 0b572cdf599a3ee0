/** Seasonal periods in steps, derived from the step length of a series. */

export const DAY_SECONDS = 86_400;
export const WEEK_SECONDS = 7 * DAY_SECONDS;

/** `periodSeconds / stepSeconds` when that is a whole number of at least 2 steps, else undefined. */
export function periodSteps(stepSeconds: number, periodSeconds: number): number | undefined {
  const steps = periodSeconds / stepSeconds;
  return Number.isInteger(steps) && steps >= 2 ? steps : undefined;
}

/**
 * The daily and weekly periods (in steps) that a history of `lengthSteps` holds
 * at least `minCycles` full cycles of, shortest first.
 */
export function seasonalPeriods(stepSeconds: number, lengthSteps: number, minCycles = 2): number[] {
  const periods: number[] = [];
  for (const seconds of [DAY_SECONDS, WEEK_SECONDS]) {
    const steps = periodSteps(stepSeconds, seconds);
    if (steps !== undefined && lengthSteps >= minCycles * steps) periods.push(steps);
  }
  return periods;
}
