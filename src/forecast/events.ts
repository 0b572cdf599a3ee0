/**
 * Known events (holidays, planned campaigns) as multiplicative regressors around
 * any forecaster: `withEvents(model)`.
 *
 * At fit time, with the calendar `input.events`:
 * 1. Every past occurrence (an event whose window starts inside the history, after
 *    `minHistorySteps`) gets a counterfactual: the base model fitted on the history
 *    before the occurrence (earlier occurrences already replaced by their own
 *    counterfactuals) forecasts through it. No value after the occurrence's start
 *    is used for its counterfactual.
 * 2. Effects: a regression of the log ratio actual / counterfactual on the event
 *    indicators (the share of each step an event name covers), without intercept,
 *    by least squares: log(y_t / ŷ_t) = Σ_k β_k·x_{k,t} + ε_t, multiplier_k = exp(β_k).
 *    Occurrences of one name share one effect; overlapping events multiply. A name
 *    with no usable past occurrence takes its `expectedMultiplier`, else 1.
 * 3. The base model is fitted on the history with every past occurrence replaced by
 *    its counterfactual: event periods are excluded from the base fit.
 * At predict time the base forecast is multiplied, step by step, by the product of
 * the active events' multipliers (a step partly covered by an event with multiplier m
 * and coverage f gets 1 + f·(m − 1)); mean and every quantile are scaled alike, so
 * the quantiles stay ordered. The uncertainty of an estimated effect is not added.
 */
import type { FitInput, FittedForecaster, Forecaster, KnownEvent, QuantileForecast } from '../core/forecast.ts';
import { endSeconds, type Series } from '../core/series.ts';
import { InvalidInputError } from '../core/errors.ts';
import { solveSpd } from './linalg.ts';
import { fillGaps } from './stats.ts';

export interface EventOptions {
  /** Fewest history steps before an occurrence for its counterfactual fit; default two days in steps (at least 48). */
  readonly minHistorySteps?: number;
  /** Most past occurrences given a counterfactual fit (the latest ones); default 50. */
  readonly maxOccurrenceFits?: number;
}

/** The effect used for one event name, and where it came from. */
export interface EventEffect {
  readonly name: string;
  readonly multiplier: number;
  /** 'history': estimated from past occurrences; 'expected': the calendar's expectedMultiplier; 'none': 1. */
  readonly source: 'history' | 'expected' | 'none';
  /** Past occurrences the estimate used. */
  readonly occurrences: number;
}

/** A fitted event-aware model: the base fit plus the effects it applies. */
export interface FittedWithEvents extends FittedForecaster {
  readonly effects: readonly EventEffect[];
}

/** Check a calendar: names present, end after start, positive multipliers. */
export function validateEvents(events: readonly KnownEvent[]): void {
  events.forEach((e, i) => {
    const where = `events[${i}]`;
    if (!e.name) throw new InvalidInputError(where, 'an event needs a name');
    if (!(Number.isFinite(e.startSeconds) && Number.isFinite(e.endSeconds) && e.endSeconds > e.startSeconds)) {
      throw new InvalidInputError(`${where} (${e.name})`, `end (${e.endSeconds}) must be after start (${e.startSeconds})`);
    }
    if (e.expectedMultiplier !== undefined && !(e.expectedMultiplier > 0)) {
      throw new InvalidInputError(`${where} (${e.name})`, `expectedMultiplier must be > 0, got ${e.expectedMultiplier}`);
    }
  });
}

/** Share of [from, to) covered by [start, end). */
function coverage(from: number, to: number, e: KnownEvent): number {
  return Math.max(0, Math.min(to, e.endSeconds) - Math.max(from, e.startSeconds)) / (to - from);
}

/** Indicator matrix: x[t][k] = share of step t (of a grid) covered by events named names[k]. */
function indicators(startSeconds: number, stepSeconds: number, steps: number, events: readonly KnownEvent[], names: readonly string[]): number[][] {
  const index = new Map(names.map((n, k) => [n, k]));
  const x = Array.from({ length: steps }, () => new Array<number>(names.length).fill(0));
  for (const e of events) {
    const k = index.get(e.name)!;
    const first = Math.max(0, Math.floor((e.startSeconds - startSeconds) / stepSeconds));
    const last = Math.min(steps - 1, Math.ceil((e.endSeconds - startSeconds) / stepSeconds) - 1);
    for (let t = first; t <= last; t++) {
      const from = startSeconds + t * stepSeconds;
      x[t][k] = Math.min(1, x[t][k] + coverage(from, from + stepSeconds, e));
    }
  }
  return x;
}

/** Multiply every value of a forecast at step h by factor(h) (> 0, so quantiles keep their order). */
export function scaleForecast(forecast: QuantileForecast, factor: (step: number) => number, model = forecast.model): QuantileForecast {
  const scale = (values: readonly number[]) => values.map((v, h) => v * factor(h));
  return { ...forecast, model, mean: scale(forecast.mean), quantiles: forecast.quantiles.map((q) => ({ level: q.level, values: scale(q.values) })) };
}

export function withEvents(inner: Forecaster, options: EventOptions = {}): Forecaster {
  const name = `${inner.name}+events`;
  return {
    name,
    fit(input: FitInput): FittedWithEvents {
      const events = input.events ?? [];
      validateEvents(events);
      const { history } = input;
      const n = history.values.length;
      const step = history.stepSeconds;
      const names = [...new Set(events.map((e) => e.name))];
      if (names.length === 0) {
        const fitted = inner.fit(input);
        return { effects: [], predict: (h, levels) => fitted.predict(h, levels) };
      }
      const minHistory = options.minHistorySteps ?? Math.max(48, Math.round((2 * 86_400) / step));
      const y = fillGaps(history.values);
      const x = indicators(history.startSeconds, step, n, events, names);

      // 1. Counterfactuals of past occurrences, oldest first (latest maxOccurrenceFits only).
      const past = events
        .map((e) => ({ e, first: Math.floor((e.startSeconds - history.startSeconds) / step), last: Math.ceil((e.endSeconds - history.startSeconds) / step) }))
        .filter((o) => o.first >= minHistory && o.first < n)
        .sort((a, b) => a.first - b.first)
        .slice(-(options.maxOccurrenceFits ?? 50));
      const adjusted = y.slice();
      const counterfactual = new Array<number>(n).fill(NaN);
      const used = new Map<string, number>();
      for (const o of past) {
        const last = Math.min(n, o.last);
        const before: Series = { startSeconds: history.startSeconds, stepSeconds: step, values: adjusted.slice(0, o.first) };
        const forecast = inner.fit({ history: before }).predict(last - o.first, [0.5]).mean;
        for (let t = o.first; t < last; t++) {
          // Overlapping occurrences: keep the counterfactual of the earliest one.
          if (Number.isNaN(counterfactual[t])) counterfactual[t] = forecast[t - o.first];
        }
        for (let t = o.first; t < last; t++) adjusted[t] = counterfactual[t];
        used.set(o.e.name, (used.get(o.e.name) ?? 0) + 1);
      }

      // 2. Log-ratio regression on the indicators of the steps that have a counterfactual.
      const rows: number[][] = [];
      const targets: number[] = [];
      for (let t = 0; t < n; t++) {
        if (Number.isNaN(counterfactual[t]) || !(y[t] > 0) || !(counterfactual[t] > 0) || !Number.isFinite(history.values[t])) continue;
        rows.push(x[t]);
        targets.push(Math.log(y[t] / counterfactual[t]));
      }
      const estimable = names.map((_, k) => rows.some((r) => r[k] > 0));
      const cols = names.map((_, k) => k).filter((k) => estimable[k]);
      const beta = new Map<number, number>();
      if (cols.length > 0) {
        const xtx = cols.map((a) => cols.map((b) => rows.reduce((s, r) => s + r[a] * r[b], 0)));
        const xty = cols.map((a) => [rows.reduce((s, r, i) => s + r[a] * targets[i], 0)]);
        const solution = solveSpd(xtx, xty, 'events: effect regression (two event names always active together?)');
        cols.forEach((k, i) => beta.set(k, solution[i][0]));
      }
      const effects: EventEffect[] = names.map((eventName, k) => {
        if (beta.has(k)) return { name: eventName, multiplier: Math.exp(beta.get(k)!), source: 'history', occurrences: used.get(eventName) ?? 0 };
        const expected = [...events].reverse().find((e) => e.name === eventName && e.expectedMultiplier !== undefined)?.expectedMultiplier;
        return expected !== undefined
          ? { name: eventName, multiplier: expected, source: 'expected', occurrences: 0 }
          : { name: eventName, multiplier: 1, source: 'none', occurrences: 0 };
      });
      const multiplier = new Map(effects.map((e) => [e.name, e.multiplier]));

      // 3. The base fit without event periods.
      const fitted = inner.fit({ ...input, history: { ...history, values: adjusted } });
      const start = endSeconds(history);
      return {
        effects,
        predict(horizonSteps, levels) {
          const base = fitted.predict(horizonSteps, levels);
          const future = indicators(start, step, horizonSteps, events, names);
          const factor = (h: number) => future[h].reduce((p, share, k) => p * (1 + share * (multiplier.get(names[k])! - 1)), 1);
          return scaleForecast(base, factor, `${base.model}+events`);
        },
      };
    },
  };
}

/** A calendar entry as written in a scenario: optionally recurring every year on the same UTC date and time. */
export interface CalendarEvent extends KnownEvent {
  readonly recurrence?: 'yearly';
}

/** Add `years` calendar years to an epoch time (UTC), keeping month, day and time of day. */
function addYears(seconds: number, years: number): number {
  const d = new Date(seconds * 1000);
  d.setUTCFullYear(d.getUTCFullYear() + years);
  return d.getTime() / 1000;
}

/**
 * Concrete occurrences of a calendar over [fromSeconds, toSeconds): one-off events as
 * they are, yearly ones repeated on the same UTC date in every year that overlaps.
 */
export function expandEvents(calendar: readonly CalendarEvent[], fromSeconds: number, toSeconds: number): KnownEvent[] {
  const out: KnownEvent[] = [];
  for (const e of calendar) {
    const base: KnownEvent = { name: e.name, startSeconds: e.startSeconds, endSeconds: e.endSeconds, ...(e.expectedMultiplier !== undefined ? { expectedMultiplier: e.expectedMultiplier } : {}) };
    if (e.recurrence !== 'yearly') {
      out.push(base);
      continue;
    }
    const firstYear = new Date(fromSeconds * 1000).getUTCFullYear() - new Date(e.startSeconds * 1000).getUTCFullYear() - 1;
    const lastYear = new Date(toSeconds * 1000).getUTCFullYear() - new Date(e.startSeconds * 1000).getUTCFullYear() + 1;
    for (let k = firstYear; k <= lastYear; k++) {
      const startSeconds = addYears(e.startSeconds, k);
      const endSeconds = addYears(e.endSeconds, k);
      if (endSeconds > fromSeconds && startSeconds < toSeconds) out.push({ ...base, startSeconds, endSeconds });
    }
  }
  return out.sort((a, b) => a.startSeconds - b.startSeconds);
}
