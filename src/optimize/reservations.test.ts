import { describe, expect, it } from 'vitest';
import { InfeasibleError, InvalidInputError } from '../core/errors.ts';
import { seededUniform } from '../forecast/sampling.ts';
import {
  breakEvenNodes,
  checkReservationRule,
  initialReservationState,
  resizeAcrossZones,
  reviewReservation,
  shareUnderContention,
  splitAcrossZones,
  type AccountClaim,
  type ReservationRule,
  type ReservationState,
} from './reservations.ts';

const H = 3600;
const rule: ReservationRule = { raiseShare: 0.9, releaseShare: 0.8, releaseAfterSeconds: 6 * H, targetShare: 0.85, minNodes: 0 };

/** Runs reviews over [hour, upper, predicted] rows from a reservation of `start` nodes; returns the changes. */
function run(start: number, rows: readonly [number, number, number][], r: ReservationRule = rule) {
  let state: ReservationState = initialReservationState(start);
  const changes: { hour: number; from: number; to: number; reason: string }[] = [];
  for (const [hour, upperNodes, predictedNodes] of rows) {
    const d = reviewReservation(state, { timeSeconds: hour * H, upperNodes, predictedNodes }, r);
    state = d.state;
    if (d.change) changes.push({ hour, from: d.change.fromNodes, to: d.change.toNodes, reason: d.change.reason });
  }
  return { changes, final: state.reservedNodes };
}

describe('reviewReservation: raise on the upper bound', () => {
  it.each([
    // [reserved, upper, predicted, expected reservation, why]
    [10, 9, 8.5, 10, 'upper bound exactly 90% of 10 does not pass it'],
    [10, 9.01, 8.5, 11, '9.01 > 9: ⌈9.01 / 0.85⌉ = ⌈10.6⌉ = 11'],
    [0, 0.3, 0.1, 1, 'any demand on no reservation: ⌈0.3 / 0.85⌉ = 1'],
    [0, 0, 0, 0, 'nothing forecast, nothing reserved'],
    [4, 8.5, 8.4, 10, '8.5 / 0.85 = 10 exactly (no float creep to 11)'],
    [20, 19, 17, 23, '19 > 18: ⌈22.35⌉ = 23'],
  ])('reserved %d, upper %d, predicted %d → %d (%s)', (reserved, upper, predicted, expected, _why) => {
    const d = reviewReservation(initialReservationState(reserved), { timeSeconds: 0, upperNodes: upper, predictedNodes: predicted }, rule);
    expect(d.state.reservedNodes).toBe(expected);
    if (expected === reserved) expect(d.change).toBeUndefined();
    else expect(d.change).toMatchObject({ fromNodes: reserved, toNodes: expected, reason: 'raise' });
  });

  it('names the figures that triggered a raise', () => {
    const d = reviewReservation(initialReservationState(10), { timeSeconds: 0, upperNodes: 9.5, predictedNodes: 7 }, rule);
    expect(d.change?.detail).toBe('upper bound 9.50 nodes > 90% of 10');
  });
});

describe('reviewReservation: release under 80% with hysteresis', () => {
  it('releases after predicted demand stayed under 80% for 6 hours, to what the recent upper bounds need', () => {
    // 80% of 10 = 8. Predicted 6, 5, 5 are under it from hour 0; at hour 6 the 6 h have passed.
    // Upper bounds in the window: 6.8, 5.1, 5.1 → peak 6.8 → ⌈6.8 / 0.85⌉ = 8.
    const r = run(10, [
      [0, 6.8, 6],
      [3, 5.1, 5],
      [6, 5.1, 5],
    ]);
    expect(r.changes).toEqual([{ hour: 6, from: 10, to: 8, reason: 'release' }]);
  });

  it('does not release before the hold time', () => {
    const r = run(10, [
      [0, 6.8, 6],
      [3, 5.1, 5],
      [5, 5.1, 5],
    ]);
    expect(r.changes).toEqual([]);
    expect(r.final).toBe(10);
  });

  it('restarts the clock when predicted demand reaches 80% again', () => {
    // Hour 3: predicted 8 is not under 8, so the span under starts again at hour 6 and ends at 12.
    const r = run(10, [
      [0, 6, 5],
      [3, 8.4, 8],
      [6, 6, 5],
      [9, 6, 5],
      [11, 6, 5],
      [12, 6, 5],
    ]);
    // Window of the release at hour 12: hours 6..12, upper 6 → ⌈7.06⌉ = 8.
    expect(r.changes).toEqual([{ hour: 12, from: 10, to: 8, reason: 'release' }]);
  });

  it('does not release when the upper bounds still need the reservation', () => {
    // Predicted 7.9 < 8 throughout, but the upper bound 8.5 needs ⌈8.5 / 0.85⌉ = 10 nodes.
    const r = run(10, [
      [0, 8.5, 7.9],
      [3, 6, 7],
      [6, 5, 7.5],
    ]);
    expect(r.changes).toEqual([]);
  });

  it('forgets upper bounds older than the hold time', () => {
    // At hour 6 the window (hours 0..6) still holds the 8.5 → no release; at hour 9 it holds 6, 5, 4 → ⌈7.06⌉ = 8.
    const r = run(10, [
      [0, 8.5, 7.9],
      [3, 6, 7],
      [6, 5, 7.5],
      [9, 4, 3],
    ]);
    expect(r.changes).toEqual([{ hour: 9, from: 10, to: 8, reason: 'release' }]);
  });

  it('never releases below the minimum', () => {
    const r = run(10, [
      [0, 1, 0.5],
      [6, 1, 0.5],
    ], { ...rule, minNodes: 4 });
    expect(r.changes).toEqual([{ hour: 6, from: 10, to: 4, reason: 'release' }]);
  });

  it('releases at another configured share and hold time', () => {
    // releaseShare 0.5 of 10 = 5: predicted 6 is not under it; 4.9 is, for 2 h.
    const r = run(10, [
      [0, 7, 6],
      [1, 4.2, 4.9],
      [3, 4.2, 4.9],
    ], { ...rule, releaseShare: 0.5, releaseAfterSeconds: 2 * H });
    expect(r.changes).toEqual([{ hour: 3, from: 10, to: 5, reason: 'release' }]);
  });

  it('a flapping series does not flap', () => {
    // Every hour for three days the upper bound alternates 8.9 / 9.2 and the
    // median 8.1 / 7.9 around both thresholds of a 10-node reservation. A
    // rule without hysteresis (raise above 90%, release below 80%, to the
    // current need) would change every hour or two; this one raises once to
    // ⌈9.2 / 0.85⌉ = 11 and stays: 9.2 never passes 90% of 11 (9.9), and a
    // release would need ⌈9.2 / 0.85⌉ = 11 < 11.
    const rows: [number, number, number][] = Array.from({ length: 72 }, (_, h) => (h % 2 === 0 ? [h, 8.9, 8.1] : [h, 9.2, 7.9]));
    const r = run(10, rows);
    expect(r.changes).toEqual([{ hour: 1, from: 10, to: 11, reason: 'raise' }]);
    expect(r.final).toBe(11);
  });

  it('a noisy level series does not flap, where a rule without hysteresis would (seeded)', () => {
    const u = seededUniform(7);
    const rows: [number, number, number][] = Array.from({ length: 24 * 14 }, (_, h) => {
      const p = 8 + 1.5 * (u() - 0.5);
      return [h, p * 1.15, p];
    });
    // Level 8 ± 0.75, upper bound ≤ 10.06. With targetShare 0.8 the first raise
    // leaves 12.5% between the upper bound and the next raise.
    const r = run(10, rows, { ...rule, targetShare: 0.8 });
    expect(r.changes.length).toBeLessThanOrEqual(2);
    for (let i = 1; i < r.changes.length; i++) expect(r.changes[i].hour - r.changes[i - 1].hour).toBeGreaterThanOrEqual(6);
    // The same thresholds without hysteresis (raise above 90% to the need, release below 80% to the need, at once).
    let naive = 10;
    let naiveChanges = 0;
    for (const [, upper, predicted] of rows) {
      const next = upper > 0.9 * naive || predicted < 0.8 * naive ? Math.ceil(upper / 0.9) : naive;
      if (next !== naive) naiveChanges++;
      naive = next;
    }
    expect(naiveChanges).toBeGreaterThan(20);
  });
});

describe('breakEvenNodes: reserve only nodes whose expected use covers committed / on-demand', () => {
  /** `busy` of `n` equally likely samples at `level` node-equivalents, the rest at 0. */
  const busyShare = (busy: number, n: number, level = 1) => [...Array(busy).fill(level), ...Array(n - busy).fill(0)];
  it.each([
    // [samples, threshold, nodes, why]
    [busyShare(4, 10), 0.6, 0, 'a node busy 40% of the time at a price ratio of 0.6 does not pay (0.4 · o < 0.6 · o)'],
    [busyShare(7, 10), 0.6, 1, 'busy 70% of the time it does (0.7 ≥ 0.6)'],
    [busyShare(6, 10), 0.6, 1, 'busy exactly 60%: break-even, reserved'],
    [[2, 2, 2, 1, 1, 1, 1, 0, 0, 0], 0.6, 1, 'node 1 busy 7/10, node 2 busy 3/10: only node 1 pays at 0.6'],
    [[2, 2, 2, 1, 1, 1, 1, 0, 0, 0], 0.25, 2, 'at 0.25 node 2 (3/10) pays too, node 3 (0) does not'],
    [Array(10).fill(0.5), 0.6, 0, 'half a node all the time: node 1 is half used, 0.5 < 0.6'],
    [Array(10).fill(0.5), 0.5, 1, 'half a node all the time at a ratio of 0.5: exactly break-even'],
    [[1.5, 1.5, 0.2, 0.2], 0.6, 1, 'node 1 used (1 + 1 + 0.2 + 0.2) / 4 = 0.6; node 2 (0.5 + 0.5) / 4 = 0.25'],
    [[3.2, 3.2, 3.2, 3.2], 0.6, 3, 'a steady 3.2 nodes: nodes 1-3 full, node 4 used 0.2 of the time'],
    [busyShare(7, 10), 0.6 * 1.2, 0, 'a 20% margin raises the bar to 0.72: 70% busy no longer pays'],
    [[], 0.6, 0, 'no look-ahead, nothing reserved'],
    [[5, 5], 1.2, 0, 'committed dearer than on demand: nothing pays'],
  ])('%j at %d → %d (%s)', (samples, threshold, nodes, _why) => {
    expect(breakEvenNodes(samples, threshold)).toBe(nodes);
  });

  it('rejects a threshold of 0 or less and negative demand, naming them', () => {
    expect(() => breakEvenNodes([1], 0)).toThrow(InvalidInputError);
    expect(() => breakEvenNodes([1], 0)).toThrow('threshold');
    expect(() => breakEvenNodes([1, -0.5], 0.6)).toThrow('-0.5');
  });
});

describe('reviewReservation with a break-even count', () => {
  /** Reviews over [hour, upper, predicted, breakEven] rows. */
  function runB(start: number, rows: readonly [number, number, number, number][], r: ReservationRule = rule) {
    let state: ReservationState = initialReservationState(start);
    const changes: { hour: number; from: number; to: number; reason: string; detail: string }[] = [];
    for (const [hour, upperNodes, predictedNodes, breakEvenNodes] of rows) {
      const d = reviewReservation(state, { timeSeconds: hour * H, upperNodes, predictedNodes, breakEvenNodes }, r);
      state = d.state;
      if (d.change) changes.push({ hour, from: d.change.fromNodes, to: d.change.toNodes, reason: d.change.reason, detail: d.change.detail });
    }
    return { changes, final: state.reservedNodes };
  }

  it.each([
    // [reserved, upper, predicted, break-even, expected, why]
    [0, 3, 2, 1, 1, 'the upper bound wants ⌈3 / 0.85⌉ = 4, only 1 pays'],
    [0, 3, 2, 0, 0, 'no node pays: no raise at all'],
    [0, 3, 2, 9, 4, 'break-even above the need does not raise further'],
    [2, 3, 2, 2, 2, 'capped at what is held already: no change'],
  ])('reserved %d, upper %d, predicted %d, break-even %d → %d (%s)', (reserved, upper, predicted, b, expected, _why) => {
    const d = reviewReservation(initialReservationState(reserved), { timeSeconds: 0, upperNodes: upper, predictedNodes: predicted, breakEvenNodes: b }, rule);
    expect(d.state.reservedNodes).toBe(expected);
    if (expected === reserved) expect(d.change).toBeUndefined();
    else expect(d.change).toMatchObject({ fromNodes: reserved, toNodes: expected, reason: 'raise' });
  });

  it('says when a raise was cut to what pays', () => {
    const d = reviewReservation(initialReservationState(0), { timeSeconds: 0, upperNodes: 3, predictedNodes: 2, breakEvenNodes: 1 }, rule);
    expect(d.change?.detail).toBe('upper bound 3 nodes > 90% of 0; 4 wanted, 1 pay for themselves');
  });

  it('releases nodes that stopped paying only after the hold time, to the most that paid in the window', () => {
    // Demand stays high (predicted 3.5 ≥ 80% of 4), so only the break-even count can release.
    // Break-even 1, 2, 1 from hour 0: at hour 6 the 6 h have passed; the window's largest count is 2.
    const r = runB(4, [
      [0, 3.6, 3.5, 1],
      [3, 3.6, 3.5, 2],
      [5, 3.6, 3.5, 1],
      [6, 3.6, 3.5, 1],
    ]);
    expect(r.changes).toEqual([{ hour: 6, from: 4, to: 2, reason: 'release', detail: 'only 2 of 4 nodes pay for themselves for 6 h (expected use below the committed / on-demand price ratio)' }]);
  });

  it('restarts the clock when the reservation pays again', () => {
    const r = runB(4, [
      [0, 3.6, 3.5, 1],
      [3, 3.6, 3.5, 4],
      [4, 3.6, 3.5, 1],
      [9, 3.6, 3.5, 1],
      [10, 3.6, 3.5, 1],
    ]);
    expect(r.changes).toEqual([expect.objectContaining({ hour: 10, from: 4, to: 1, reason: 'release' })]);
  });

  it('a break-even count flapping between 2 and 3 raises twice and then holds', () => {
    // Upper 5 wants ⌈5 / 0.85⌉ = 6 nodes; the count that pays alternates 2 / 3 every hour for three days.
    // Hour 0 raises to 2, hour 1 to 3; afterwards 2 < 3 starts the release clock, but the window
    // always contains a 3, so a release would go to 3: nothing changes.
    const rows: [number, number, number, number][] = Array.from({ length: 72 }, (_, h) => [h, 5, 4, h % 2 === 0 ? 2 : 3]);
    const r = runB(0, rows);
    expect(r.changes.map(({ hour, from, to, reason }) => ({ hour, from, to, reason }))).toEqual([
      { hour: 0, from: 0, to: 2, reason: 'raise' },
      { hour: 1, from: 2, to: 3, reason: 'raise' },
    ]);
    expect(r.final).toBe(3);
  });

  it('never releases below the minimum, even when nothing pays', () => {
    const r = runB(3, [
      [0, 3, 2.5, 0],
      [6, 3, 2.5, 0],
    ], { ...rule, minNodes: 1 });
    expect(r.changes).toEqual([expect.objectContaining({ hour: 6, from: 3, to: 1, reason: 'release' })]);
  });

  it('rejects a fractional break-even count', () => {
    expect(() => reviewReservation(initialReservationState(1), { timeSeconds: 0, upperNodes: 1, predictedNodes: 1, breakEvenNodes: 1.5 }, rule)).toThrow(InvalidInputError);
  });
});

describe('checkReservationRule', () => {
  it.each([
    [{ raiseShare: 1.2 }, 'raiseShare'],
    [{ releaseShare: 1 }, 'releaseShare'],
    [{ targetShare: 0.9 }, 'targetShare'],
    [{ releaseAfterSeconds: -1 }, 'releaseAfterSeconds'],
    [{ minNodes: 1.5 }, 'minNodes'],
  ])('rejects %o', (patch, field) => {
    expect(() => checkReservationRule({ ...rule, ...patch }, 'reservations')).toThrow(InvalidInputError);
    expect(() => checkReservationRule({ ...rule, ...patch }, 'reservations')).toThrow(`reservations.${field}`);
  });
  it('accepts the defaults', () => expect(() => checkReservationRule(rule, 'reservations')).not.toThrow());
});

describe('splitAcrossZones', () => {
  it.each([
    // total, zones [pool, share, committed cost], expected, why
    [5, [['a', 0.5, 0.12], ['b', 0.3, 0.1], ['c', 0.2, 0.11]], { a: 2, b: 2, c: 1 }, 'quotas 2.5 / 1.5 / 1: one node left, a and b have fractions, b is cheaper'],
    [7, [['a', 2, 0.12], ['b', 1, 0.1]], { a: 4, b: 3 }, 'quotas 4.67 / 2.33: the cheaper zone gets the rounding node despite the smaller fraction'],
    [6, [['a', 2, 0.12], ['b', 1, 0.1]], { a: 4, b: 2 }, 'exact quotas: cost does not move nodes away from demand'],
    [3, [['a', 0, 0.12], ['b', 0, 0.1]], { a: 0, b: 3 }, 'no demand anywhere: all to the cheapest'],
    [0, [['a', 1, 0.12], ['b', 1, 0.1]], { a: 0, b: 0 }, 'nothing to split'],
    [3, [['b', 1, 0.1], ['a', 1, 0.1]], { a: 2, b: 1 }, 'equal fractions and costs: by name'],
    [4, [['a', 1, 0.12], ['b', 0, 0.05]], { a: 4, b: 0 }, 'no demand in the cheap zone: nothing reserved there'],
  ] as const)('%d nodes over %j → %j (%s)', (total, zones, expected, _why) => {
    const got = splitAcrossZones(total, zones.map(([pool, demandShare, committedCostPerHour]) => ({ pool, demandShare, committedCostPerHour })));
    expect(got).toEqual(expected);
    expect(Object.values(got).reduce((s, x) => s + x, 0)).toBe(total);
  });

  it('rejects fractional totals and negative shares', () => {
    expect(() => splitAcrossZones(2.5, [{ pool: 'a', demandShare: 1, committedCostPerHour: 1 }])).toThrow(InvalidInputError);
    expect(() => splitAcrossZones(2, [{ pool: 'a', demandShare: -1, committedCostPerHour: 1 }])).toThrow('zone split: a');
  });
});

describe('resizeAcrossZones', () => {
  const zones = (shares: Record<string, number>) => [
    { pool: 'a', demandShare: shares.a ?? 0, committedCostPerHour: 0.12 },
    { pool: 'b', demandShare: shares.b ?? 0, committedCostPerHour: 0.1 },
  ];
  it.each([
    // current, new total, demand shares, expected, why
    [{ a: 2, b: 0 }, 3, { a: 0, b: 1 }, { a: 2, b: 1 }, 'a raise adds the new node where demand is, keeping the old ones'],
    [{ a: 2, b: 1 }, 1, { a: 0, b: 1 }, { a: 0, b: 1 }, 'a release removes from the zone above its share of the new total'],
    [{ a: 2, b: 2 }, 3, { a: 1, b: 1 }, { a: 1, b: 2 }, 'ideal 1 / 2 (the rounding node to the cheaper b): a gives one up'],
    [{ a: 1, b: 1 }, 1, { a: 0, b: 0 }, { a: 0, b: 1 }, 'no demand: the ideal is all in the cheapest zone, so a goes first'],
    [{ a: 3, b: 0 }, 3, { a: 0, b: 1 }, { a: 3, b: 0 }, 'same total: nothing moves even though demand moved'],
  ] as const)('%j → %d with demand %j → %j (%s)', (current, total, shares, expected, _why) => {
    expect(resizeAcrossZones(current, total, zones(shares))).toEqual(expected);
  });
});

describe('shareUnderContention', () => {
  const claim = (account: string, priority: number, requestedNodes: number, guaranteedNodes: number): AccountClaim => ({ account, priority, requestedNodes, guaranteedNodes });

  it.each([
    // capacity, claims, expected, why
    [10, [claim('A', 100, 6, 1), claim('B', 50, 5, 2), claim('C', 10, 4, 1)], { A: 6, B: 3, C: 1 }, 'guarantees 1+2+1, then A its 5 more, B 1 of 3, C only its guarantee'],
    [20, [claim('A', 100, 6, 1), claim('B', 50, 5, 2), claim('C', 10, 4, 1)], { A: 6, B: 5, C: 4 }, 'no contention: everyone gets what it asks'],
    [5, [claim('X', 10, 4, 0), claim('Y', 10, 2, 0)], { X: 3, Y: 2 }, 'one level: quotas 3.33 / 1.67, the node left to the larger fraction'],
    [4, [claim('A', 100, 1, 3), claim('B', 1, 6, 3)], { A: 1, B: 3 }, 'a guarantee counts only up to the request'],
    [3, [claim('A', 100, 9, 0), claim('B', 1, 3, 3)], { A: 0, B: 3 }, 'a guaranteed minimum survives even a higher priority'],
  ] as const)('capacity %d → %j (%s)', (capacity, claims, expected, _why) => {
    expect(shareUnderContention(capacity, claims)).toEqual(expected);
  });

  it('guarantees that do not fit are infeasible, naming the accounts', () => {
    expect(() => shareUnderContention(3, [claim('A', 1, 5, 2), claim('B', 2, 5, 2)])).toThrow(InfeasibleError);
    expect(() => shareUnderContention(3, [claim('A', 1, 5, 2), claim('B', 2, 5, 2)])).toThrow(/A: 2 guaranteed/);
  });

  it('random claims: minimums always survive, higher priority never loses to lower, capacity holds (seeded)', () => {
    const u = seededUniform(11);
    const int = (n: number) => Math.floor(u() * n);
    for (let trial = 0; trial < 500; trial++) {
      const claims = Array.from({ length: 1 + int(6) }, (_, i) => claim(`acc${i}`, int(4) * 10, int(12), int(3)));
      const guaranteed = claims.reduce((s, c) => s + Math.min(c.requestedNodes, c.guaranteedNodes), 0);
      const capacity = guaranteed + int(20);
      const g = shareUnderContention(capacity, claims);
      expect(Object.values(g).reduce((s, x) => s + x, 0)).toBeLessThanOrEqual(capacity);
      for (const c of claims) {
        expect(g[c.account]).toBeGreaterThanOrEqual(Math.min(c.requestedNodes, c.guaranteedNodes));
        expect(g[c.account]).toBeLessThanOrEqual(c.requestedNodes);
        for (const d of claims) {
          // A lower-priority account above its guarantee while a higher one lacks nodes: higher lost to lower.
          if (c.priority > d.priority && g[d.account] > Math.min(d.requestedNodes, d.guaranteedNodes)) expect(g[c.account]).toBe(c.requestedNodes);
        }
      }
      // Nothing is left idle while someone still wants nodes.
      const total = Object.values(g).reduce((s, x) => s + x, 0);
      if (claims.some((c) => g[c.account] < c.requestedNodes)) expect(total).toBe(capacity);
    }
  });
});
