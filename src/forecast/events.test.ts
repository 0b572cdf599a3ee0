import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KnownEvent } from '../core/forecast.ts';
import type { Series } from '../core/series.ts';
import { InvalidInputError } from '../core/errors.ts';
import { expandEvents, withEvents, type FittedWithEvents } from './events.ts';
import { mstl } from './mstl.ts';
import { sharedDataDir } from './nabData.ts';
import { seasonalNaive } from './seasonalNaive.ts';
import { lcg, readNabSeries } from './testData.ts';

const HOUR = 3600;
const DAY = 86_400;
const START = 1_700_006_400; // a Wednesday 00:00 UTC

describe('withEvents on a hand-made series with a known multiplier', () => {
  // Hourly, 5 weeks: 100 + 20·sin(daily) + uniform noise ±2; the 'promo' days multiply demand by 1.5.
  const random = lcg(21);
  const promoDays = [8, 15, 22, 29]; // day indices in the history
  const length = 35 * 24;
  const promo = (day: number): KnownEvent => ({ name: 'promo', startSeconds: START + day * DAY, endSeconds: START + (day + 1) * DAY });
  const values = Array.from({ length }, (_, t) => {
    const base = 100 + 20 * Math.sin((2 * Math.PI * t) / 24) + 4 * (random() - 0.5);
    return promoDays.includes(Math.floor(t / 24)) ? 1.5 * base : base;
  });
  const history: Series = { startSeconds: START, stepSeconds: HOUR, values };
  const future = promo(36); // the second day after the history ends
  const events = [...promoDays.map(promo), future, { name: 'launch', startSeconds: START + 35 * DAY, endSeconds: START + 35 * DAY + 6 * HOUR, expectedMultiplier: 2 }];

  it('recovers the multiplier from past occurrences and applies it to the future window only', () => {
    const model = withEvents(seasonalNaive());
    const fitted = model.fit({ history, events }) as FittedWithEvents;
    const promoEffect = fitted.effects.find((e) => e.name === 'promo')!;
    expect(promoEffect.source).toBe('history');
    expect(promoEffect.occurrences).toBe(4);
    expect(promoEffect.multiplier).toBeGreaterThan(1.45);
    expect(promoEffect.multiplier).toBeLessThan(1.55);
    // 'launch' never happened before: its expected multiplier is used.
    expect(fitted.effects.find((e) => e.name === 'launch')).toMatchObject({ multiplier: 2, source: 'expected' });

    // The same past calendar without the future events: the same base fit, no scaling.
    const base = model.fit({ history, events: promoDays.map(promo) }).predict(72, [0.1, 0.9]);
    const withCal = fitted.predict(72, [0.1, 0.9]);
    for (let h = 0; h < 72; h++) {
      const expected = h < 6 ? 2 : h >= 24 && h < 48 ? promoEffect.multiplier : 1;
      expect(withCal.mean[h]).toBeCloseTo(base.mean[h] * expected, 6);
      expect(withCal.quantiles[0].values[h]).toBeCloseTo(base.quantiles[0].values[h] * expected, 6);
      expect(withCal.quantiles[1].values[h]).toBeCloseTo(base.quantiles[1].values[h] * expected, 6);
    }
    // Seasonal naive repeats the last (plain) day, so the base mean is the plain day's values.
    expect(base.mean.slice(0, 24)).toEqual(values.slice(length - 24));
    expect(model.name).toBe('seasonal-naive+events');
  });

  it('excludes event periods from the base fit: a promo on the last day does not leak into the next day', () => {
    const lastIsPromo = [...promoDays.slice(0, 3), 34];
    const v = Array.from({ length }, (_, t) => (lastIsPromo.includes(Math.floor(t / 24)) ? 1.5 : 1) * (100 + 20 * Math.sin((2 * Math.PI * t) / 24)));
    const h: Series = { startSeconds: START, stepSeconds: HOUR, values: v };
    const f = withEvents(seasonalNaive()).fit({ history: h, events: lastIsPromo.map(promo) }).predict(24, [0.5]);
    // Without the calendar seasonal naive would repeat the promo day (×1.5).
    for (let t = 0; t < 24; t++) expect(f.mean[t]).toBeCloseTo(100 + 20 * Math.sin((2 * Math.PI * t) / 24), 6);
  });

  it('rejects an event that ends before it starts, naming it', () => {
    const bad = [{ name: 'oops', startSeconds: START + DAY, endSeconds: START }];
    expect(() => withEvents(seasonalNaive()).fit({ history, events: bad })).toThrow(InvalidInputError);
    expect(() => withEvents(seasonalNaive()).fit({ history, events: bad })).toThrow(/events\[0\] \(oops\)/);
  });
});

describe('expandEvents', () => {
  it('repeats a yearly event on the same UTC date in every overlapping year', () => {
    const xmas = { name: 'christmas', startSeconds: Date.UTC(2014, 11, 25) / 1000, endSeconds: Date.UTC(2014, 11, 26) / 1000, recurrence: 'yearly' as const };
    const once = { name: 'launch', startSeconds: Date.UTC(2016, 0, 1) / 1000, endSeconds: Date.UTC(2016, 0, 2) / 1000 };
    const out = expandEvents([xmas, once], Date.UTC(2015, 5, 1) / 1000, Date.UTC(2017, 0, 1) / 1000);
    expect(out.map((e) => [e.name, new Date(e.startSeconds * 1000).toISOString().slice(0, 10)])).toEqual([
      ['christmas', '2015-12-25'],
      ['launch', '2016-01-01'],
      ['christmas', '2016-12-25'],
    ]);
  });
});

const shared = sharedDataDir();
describe.skipIf(!shared)('NYC taxi across Thanksgiving 2014 (NAB realKnownCause)', () => {
  it('an MSTL forecast with the public-holiday calendar beats the same model without it', () => {
    const s = readNabSeries(join(shared!, 'nab', 'realKnownCause', 'nyc_taxi.csv'));
    const day = (d: string) => Date.parse(`${d}T00:00:00Z`) / 1000;
    const holiday = (d: string): KnownEvent => ({ name: 'public-holiday', startSeconds: day(d), endSeconds: day(d) + DAY });
    // US federal holidays in the history (Labor Day, Columbus Day, Veterans Day) and Thanksgiving ahead.
    const calendar = ['2014-09-01', '2014-10-13', '2014-11-11', '2014-11-27'].map(holiday);
    const from = (day('2014-08-18') - s.startSeconds) / s.stepSeconds;
    const origin = (day('2014-11-26') - s.startSeconds) / s.stepSeconds;
    const history: Series = { ...s, startSeconds: s.startSeconds + from * s.stepSeconds, values: s.values.slice(from, origin) };
    const horizon = 3 * 48; // Wednesday to Friday, 30-minute steps
    const actual = s.values.slice(origin, origin + horizon);
    const mae = (f: readonly number[]) => f.reduce((a, v, t) => a + Math.abs(v - actual[t]), 0) / horizon;
    const without = mae(mstl().fit({ history }).predict(horizon, [0.5]).mean);
    const fitted = withEvents(mstl()).fit({ history, events: calendar }) as FittedWithEvents;
    const withCalendar = mae(fitted.predict(horizon, [0.5]).mean);
    // Measured: MAE 5098 without, 3639 with (−29%); the learnt holiday multiplier is 0.85 from 3 holidays.
    expect(withCalendar).toBeLessThan(0.8 * without);
    expect(fitted.effects[0]).toMatchObject({ name: 'public-holiday', source: 'history', occurrences: 3 });
    expect(fitted.effects[0].multiplier).toBeGreaterThan(0.7);
    expect(fitted.effects[0].multiplier).toBeLessThan(0.95);
  });
});
