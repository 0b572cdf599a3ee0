import type { BillingPeriod } from '../core/billing.ts';
import { InvalidInputError } from '../core/errors.ts';

/**
 * One billing period and the part of it the metered span covers. A period the
 * span covers only in part (a replay that starts or ends mid-month) is billed
 * pro rata: its tier boundaries, commitment and cap are scaled by `share`.
 */
export interface PeriodWindow {
  /** Epoch seconds. */
  readonly startSeconds: number;
  readonly endSeconds: number;
  readonly coveredStartSeconds: number;
  readonly coveredEndSeconds: number;
  /** Covered share of the period, (0, 1]. */
  readonly share: number;
}

function monthStart(seconds: number, addMonths = 0): number {
  const d = new Date(seconds * 1000);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + addMonths, 1) / 1000;
}

/** The periods of `period` that overlap the span [startSeconds, endSeconds), in order. */
export function periodsOver(period: BillingPeriod, startSeconds: number, endSeconds: number): PeriodWindow[] {
  if (!(endSeconds > startSeconds)) throw new InvalidInputError('billing span', `ends (${endSeconds}) at or before it starts (${startSeconds})`);
  const window = (start: number, end: number): PeriodWindow => {
    const cs = Math.max(start, startSeconds);
    const ce = Math.min(end, endSeconds);
    return { startSeconds: start, endSeconds: end, coveredStartSeconds: cs, coveredEndSeconds: ce, share: (ce - cs) / (end - start) };
  };
  if (period.kind === 'replay') return [window(startSeconds, endSeconds)];
  const out: PeriodWindow[] = [];
  if (period.kind === 'month') {
    for (let s = monthStart(startSeconds); s < endSeconds; s = monthStart(s, 1)) out.push(window(s, monthStart(s, 1)));
    return out;
  }
  const len = period.seconds;
  for (let s = Math.floor(startSeconds / len) * len; s < endSeconds; s += len) out.push(window(s, s + len));
  return out;
}

/** Index of the window that holds time `t` (windows in order, contiguous), or -1. */
export function windowIndexOf(windows: readonly PeriodWindow[], t: number): number {
  for (let i = 0; i < windows.length; i++) if (t >= windows[i].startSeconds && t < windows[i].endSeconds) return i;
  return -1;
}
