/**
 * Reservations in the replay: a wrapper around a policy that, at every review
 * (a multiple of the decision interval), reads the forecasts the policy just
 * decided on, turns them into each account's demand in the reservation pools
 * (node-equivalents), reviews each account's reservation (raise / release with
 * hysteresis), splits it across zones, shares the pools' reservable capacity
 * by priority above guaranteed minimums, and sets the simulator's reserved
 * nodes, which change the bill (not the cluster).
 *
 * The forecast's distribution over zones: the share of each workload's
 * instances that the policy's placement has in each reservation pool now (the
 * allocator decides where demand lands; the forecast says how much). An
 * account's demand in the pools at horizon step k and level q is
 *   Σ_w instancesFor(w, q-quantile of w's demand at k) × Σ_p share_{w,p} × nodeShare(w)
 * (a monotone map of each workload's quantile, so for a one-workload account
 * it is exactly that quantile of its node demand; for several workloads it
 * adds quantiles, i.e. treats them as comonotone, the conservative end).
 */
import { quantileAt, type QuantileForecast } from '../core/forecast.ts';
import type { Scenario, Workload } from '../core/model.ts';
import type { ReservationChange, ReservationSettings } from '../core/reservations.ts';
import type { UsageRecord } from '../billing/meter.ts';
import { nodeShare } from '../config/reservations.ts';
import { reconcile, summingMatrix, type HierarchyNode } from '../forecast/hierarchy.ts';
import { breakEvenNodes, initialReservationState, resizeAcrossZones, reviewReservation, shareUnderContention, splitAcrossZones, type ReservationState } from '../optimize/reservations.ts';
import type { SimulatorDriver } from '../drivers/simulator.ts';
import type { LatestForecasts, PolicyContext, ReplayPolicy, Tick } from './policies/policy.ts';
import { BAND_LEVELS } from './policies/predictive.ts';
import type { AccountReservationSummary, GroupForecastPoint, ReservationReport } from './types.ts';

const LEVELS = [BAND_LEVELS.lower, 0.5, BAND_LEVELS.upper] as const;

/**
 * Levels at which an account's node demand is taken for the break-even rule: the midpoints of ten
 * equally likely bands (0.05, 0.15, ..., 0.95), so each value stands for a tenth of the distribution.
 * The forecasts carry quantiles at 0.05, 0.5, the sizing quantile and 0.95; levels between are
 * interpolated (`quantileAt`), which is all the distribution the forecasters give.
 */
export const BREAK_EVEN_LEVELS = Array.from({ length: 10 }, (_, i) => Math.round((0.05 + i * 0.1) * 100) / 100);

/** Joint samples per step when a group's quantiles are reconciled from its members. */
const GROUP_SAMPLES = 1000;

/** An account's demand forecast in node-equivalents of the reservation pools, and where it lands. */
export interface AccountNodeForecast {
  readonly forecast: QuantileForecast;
  /** Peak over the horizon of the upper level and of the median. */
  readonly upperNodes: number;
  readonly predictedNodes: number;
  /** Pool -> node-equivalents at the upper bound's peak step (the zone distribution). */
  readonly byPool: Readonly<Record<string, number>>;
  /**
   * Equally likely values of the node demand over the horizon (every step at every `BREAK_EVEN_LEVELS`
   * level; workloads added level by level): the duration curve the break-even rule reads.
   */
  readonly demandSamples: readonly number[];
}

/**
 * Each account's node forecast (see the module comment). `placement` is
 * workload -> pool -> instances now; `instancesFor` sizes one workload at a demand.
 */
export function accountNodeForecasts(args: {
  readonly scenario: Scenario;
  readonly settings: ReservationSettings;
  readonly forecasts: LatestForecasts;
  readonly placement: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly instancesFor: (w: Workload, demandRps: number) => number;
}): Record<string, AccountNodeForecast> {
  const { scenario, settings, forecasts, placement, instancesFor } = args;
  const pools = settings.pools.map((n) => scenario.pools.find((p) => p.name === n)!);
  const node = pools[0].nodeType.capacity;
  const out: Record<string, AccountNodeForecast> = {};
  for (const account of scenario.accounts) {
    const members = scenario.workloads.filter((w) => w.account === account.name && forecasts.byWorkload.has(w.name));
    const first = members.length ? forecasts.byWorkload.get(members[0].name)! : undefined;
    const steps = first?.mean.length ?? 0;
    const mean = new Array<number>(steps).fill(0);
    const paths = LEVELS.map(() => new Array<number>(steps).fill(0));
    const byPoolAt: Record<string, number[]> = Object.fromEntries(pools.map((p) => [p.name, new Array<number>(steps).fill(0)]));
    const samples = new Array<number>(steps * BREAK_EVEN_LEVELS.length).fill(0);
    for (const w of members) {
      const fc = forecasts.byWorkload.get(w.name)!;
      const placed = placement[w.name] ?? {};
      const total = Object.values(placed).reduce((s, x) => s + x, 0);
      if (total === 0) continue;
      const share = nodeShare(w.perInstance, node);
      const inPool = pools.map((p) => ((placed[p.name] ?? 0) / total) * share);
      const perInstance = inPool.reduce((s, x) => s + x, 0);
      if (perInstance === 0) continue;
      for (let k = 0; k < steps; k++) {
        mean[k] += instancesFor(w, Math.max(0, fc.mean[k])) * perInstance;
        LEVELS.forEach((level, l) => (paths[l][k] += instancesFor(w, Math.max(0, quantileAt(fc, level, k))) * perInstance));
        const upperInstances = instancesFor(w, Math.max(0, quantileAt(fc, BAND_LEVELS.upper, k)));
        pools.forEach((p, i) => (byPoolAt[p.name][k] += upperInstances * inPool[i]));
        BREAK_EVEN_LEVELS.forEach((level, l) => (samples[k * BREAK_EVEN_LEVELS.length + l] += instancesFor(w, Math.max(0, quantileAt(fc, level, k))) * perInstance));
      }
    }
    const upper = paths[LEVELS.length - 1];
    let peak = 0;
    for (let k = 1; k < steps; k++) if (upper[k] > upper[peak]) peak = k;
    out[account.name] = {
      forecast: {
        model: `${account.name} nodes`,
        startSeconds: first?.startSeconds ?? 0,
        stepSeconds: first?.stepSeconds ?? scenario.simulation.stepSeconds,
        mean,
        quantiles: LEVELS.map((level, l) => ({ level, values: paths[l] })),
      },
      upperNodes: steps ? Math.max(...upper) : 0,
      predictedNodes: steps ? Math.max(...paths[1]) : 0,
      byPool: Object.fromEntries(pools.map((p) => [p.name, steps ? byPoolAt[p.name][peak] : 0])),
      demandSamples: samples,
    };
  }
  return out;
}

/**
 * Groups' forecasts from their members' (bottom-up reconciliation with joint
 * samples under independence between members: a group's upper bound is the
 * quantile of the members' summed demand, not the sum of their quantiles).
 * Peaks are taken over the steps where a member's upper bound, the summed
 * upper bound or the summed mean peaks (the group's peak lies at one of them
 * unless members' spreads change sharply between steps).
 */
export function groupNodeForecasts(
  groups: ReadonlyMap<string, readonly string[]>,
  members: Readonly<Record<string, QuantileForecast>>,
  seed = 1,
): Record<string, { upperNodes: number; predictedNodes: number; summedUpperNodes: number }> {
  const out: Record<string, { upperNodes: number; predictedNodes: number; summedUpperNodes: number }> = {};
  for (const [group, names] of groups) {
    const fcs = names.map((n) => members[n]).filter((f): f is QuantileForecast => f !== undefined && f.mean.length > 0);
    if (fcs.length === 0) continue;
    const steps = Math.min(...fcs.map((f) => f.mean.length));
    const levelPath = (f: QuantileForecast, level: number) => f.quantiles.find((q) => q.level === level)!.values;
    const summed = Array.from({ length: steps }, (_, k) => fcs.reduce((s, f) => s + levelPath(f, BAND_LEVELS.upper)[k], 0));
    if (fcs.length === 1) {
      out[group] = { upperNodes: Math.max(...levelPath(fcs[0], BAND_LEVELS.upper)), predictedNodes: Math.max(...levelPath(fcs[0], 0.5)), summedUpperNodes: Math.max(...summed) };
      continue;
    }
    // Sampling every step of the horizon costs seconds per replayed week; the group's peak is
    // looked for where it can be: at the steps where a member's upper bound, or their sum, peaks.
    const argmax = (v: readonly number[]) => v.reduce((best, x, k) => (x > v[best] ? k : best), 0);
    const at = [...new Set([argmax(summed), ...fcs.map((f) => argmax(levelPath(f, BAND_LEVELS.upper))), argmax(fcs.map((f) => f.mean).reduce((a, m) => a.map((x, k) => x + m[k])))])].sort((a, b) => a - b);
    const pick = (f: QuantileForecast): QuantileForecast => ({ ...f, mean: at.map((k) => f.mean[k]), quantiles: f.quantiles.map((q) => ({ level: q.level, values: at.map((k) => q.values[k]) })) });
    const named = names.filter((n) => members[n] && members[n].mean.length > 0);
    const tree: HierarchyNode = { name: `group:${group}`, children: named.map((n) => ({ name: n })) };
    // The group's own base forecast is not used by bottom-up reconciliation; the comonotone sum stands in for it.
    const base: Record<string, QuantileForecast> = Object.fromEntries(named.map((n) => [n, pick(members[n])]));
    const picked = named.map((n) => base[n]);
    base[tree.name] = {
      ...picked[0],
      mean: at.map((_, i) => picked.reduce((s, f) => s + f.mean[i], 0)),
      quantiles: picked[0].quantiles.map((q) => ({ level: q.level, values: at.map((_, i) => picked.reduce((s, f) => s + levelPath(f, q.level)[i], 0)) })),
    };
    const rec = reconcile(summingMatrix(tree), base, { method: 'bottom-up', dependence: 'independent', samples: GROUP_SAMPLES, seed })[tree.name];
    out[group] = { upperNodes: Math.max(0, ...levelPath(rec, BAND_LEVELS.upper)), predictedNodes: Math.max(0, ...levelPath(rec, 0.5)), summedUpperNodes: Math.max(...summed) };
  }
  return out;
}

/** Reserved vs used per account over [startSeconds, endSeconds), from the changes and the metered usage. */
export function reservationSummary(
  scenario: Scenario,
  changes: readonly ReservationChange[],
  usage: readonly UsageRecord[],
  span: { startSeconds: number; endSeconds: number },
): AccountReservationSummary[] {
  const pools = new Set(scenario.reservations?.pools ?? []);
  const price = new Map(scenario.pools.map((p) => [p.name, p.committedCostPerHour ?? 0]));
  return scenario.accounts.map((a) => {
    let reservedNodeHours = 0;
    let reservedCost = 0;
    const mine = changes.filter((c) => c.account === a.name);
    for (const pool of pools) {
      const steps = mine.filter((c) => c.pool === pool);
      steps.forEach((c, i) => {
        const until = i + 1 < steps.length ? steps[i + 1].timeSeconds : span.endSeconds;
        const h = (c.toNodes * (Math.min(until, span.endSeconds) - Math.max(c.timeSeconds, span.startSeconds))) / 3600;
        reservedNodeHours += h;
        reservedCost += h * price.get(pool)!;
      });
    }
    const usedNodeHours = usage.filter((r) => r.account === a.name && pools.has(r.pool)).reduce((s, r) => s + r.nodeHours, 0);
    return { account: a.name, ...(a.group ? { group: a.group } : {}), reservedNodeHours, usedNodeHours, reservedCost, changes: mine.length };
  });
}

const fmt = (x: number) => x.toFixed(2);

/**
 * Wrap a policy so it reviews reservations every `reviewIntervalSeconds`
 * (after the policy's own decision at that tick). Policies that expose no
 * forecasts (`latestForecasts`) are returned unchanged.
 */
export function withReservations(inner: ReplayPolicy, ctx: PolicyContext): ReplayPolicy {
  const { scenario } = ctx;
  const settings = scenario.reservations;
  if (!settings || !inner.latestForecasts) return inner;
  const step = scenario.simulation.stepSeconds;
  const reviewEverySteps = Math.max(1, Math.round(settings.reviewIntervalSeconds / step));
  const pools = settings.pools.map((n) => scenario.pools.find((p) => p.name === n)!);
  const states = new Map<string, ReservationState>();
  /** account -> pool -> nodes wanted (the review's total split across zones). */
  const wanted = new Map<string, Record<string, number>>();
  /** account -> pool -> nodes granted (after contention). */
  const granted = new Map<string, Record<string, number>>();
  const changes: ReservationChange[] = [];
  const groups: GroupForecastPoint[] = [];
  const groupMembers = new Map<string, string[]>();
  for (const a of scenario.accounts) if (a.group) groupMembers.set(a.group, [...(groupMembers.get(a.group) ?? []), a.name]);
  const rules = new Map(
    scenario.accounts.map((a) => [
      a.name,
      { raiseShare: settings.raiseShare, releaseShare: settings.releaseShare, releaseAfterSeconds: settings.releaseAfterSeconds, targetShare: settings.targetShare, minNodes: settings.accounts[a.name]?.minNodes ?? 0 },
    ]),
  );

  // A reserved node pays when its expected use reaches committed / on-demand; an account's nodes may land in
  // any of the pools, so the dearest ratio of them is the bar (a node that pays there pays in every zone).
  const breakEvenThreshold = settings.breakEven
    ? Math.max(...pools.map((p) => p.committedCostPerHour! / p.costPerHour)) * (1 + settings.breakEven.margin)
    : undefined;

  // A raised reservation is held at least releaseAfterSeconds (a release needs that long of not paying), longer
  // than the forecast horizon may be. The break-even rule reads the forecast for the horizon and, for the rest of
  // the hold period, the account's observed use of the pools over as long a span just before now (persistence:
  // a burst that began an hour ago is expected to last as it has lasted, not the whole hold period).
  const node = pools[0].nodeType.capacity;
  const shareOf = new Map(scenario.workloads.map((w) => [w.name, nodeShare(w.perInstance, node)]));
  const accountOf = new Map(scenario.workloads.map((w) => [w.name, w.account]));
  const poolNames = new Set(settings.pools);
  /** Per account, node-equivalents running in the reservation pools at each step so far (newest last). */
  const observed = new Map<string, number[]>(scenario.accounts.map((a) => [a.name, []]));
  const observe = (driver: SimulatorDriver): void => {
    const used = new Map<string, number>();
    for (const [w, byPool] of Object.entries(driver.observeSync().runningInstances)) {
      const a = accountOf.get(w);
      if (a === undefined) continue;
      for (const [p, n] of Object.entries(byPool)) if (poolNames.has(p)) used.set(a, (used.get(a) ?? 0) + n * shareOf.get(w)!);
    }
    for (const [a, series] of observed) series.push(used.get(a) ?? 0);
  };

  const review = (tick: Tick, driver: SimulatorDriver): void => {
    const latest = inner.latestForecasts!();
    if (!latest) return;
    const now = tick.timeSeconds;
    const fcs = accountNodeForecasts({ scenario, settings, forecasts: latest, placement: driver.observeSync().desiredInstances, instancesFor: ctx.sizer.instancesFor });
    const why = new Map<string, { reason: ReservationChange['reason']; detail: string }>();
    for (const a of scenario.accounts) {
      const f = fcs[a.name];
      const zones = pools.map((p) => ({ pool: p.name, demandShare: f.byPool[p.name] ?? 0, committedCostPerHour: p.committedCostPerHour! }));
      let state = states.get(a.name);
      if (!state) {
        const initial = settings.accounts[a.name]?.initialNodes ?? 0;
        state = initialReservationState(initial);
        wanted.set(a.name, splitAcrossZones(initial, zones));
        if (initial > 0) why.set(a.name, { reason: 'initial', detail: `initial reservation of ${initial} nodes` });
      }
      let b: number | undefined;
      if (breakEvenThreshold !== undefined) {
        const horizonSteps = f.demandSamples.length / BREAK_EVEN_LEVELS.length;
        const pastSteps = Math.max(0, Math.round(settings.releaseAfterSeconds / step) - horizonSteps);
        // Each observed step counts as much as a forecast step (a forecast step carries one sample per level).
        const past = pastSteps > 0 ? (observed.get(a.name) ?? []).slice(-pastSteps).flatMap((x) => BREAK_EVEN_LEVELS.map(() => x)) : [];
        b = breakEvenNodes([...past, ...f.demandSamples], breakEvenThreshold);
      }
      const d = reviewReservation(state, { timeSeconds: now, upperNodes: f.upperNodes, predictedNodes: f.predictedNodes, ...(b === undefined ? {} : { breakEvenNodes: b }) }, rules.get(a.name)!);
      states.set(a.name, d.state);
      if (d.change) {
        wanted.set(a.name, resizeAcrossZones(wanted.get(a.name)!, d.change.toNodes, zones));
        why.set(a.name, { reason: d.change.reason, detail: d.change.detail });
      }
    }
    const reserved: Record<string, number> = {};
    for (const p of pools) {
      const claims = scenario.accounts.map((a) => {
        const total = settings.accounts[a.name]?.guaranteedNodes ?? 0;
        const w = wanted.get(a.name)!;
        // The guarantee follows the reservation's zone split (all of it where the account reserves alone).
        const guaranteedHere = splitAcrossZones(total, pools.map((q) => ({ pool: q.name, demandShare: w[q.name] ?? 0, committedCostPerHour: q.committedCostPerHour! })))[p.name];
        return { account: a.name, priority: a.priority, requestedNodes: w[p.name] ?? 0, guaranteedNodes: guaranteedHere };
      });
      const grants = shareUnderContention(settings.maxReservedNodesByPool[p.name], claims, `reservations in pool ${p.name}`);
      reserved[p.name] = 0;
      for (const c of claims) {
        const before = granted.get(c.account)?.[p.name] ?? 0;
        const after = grants[c.account];
        reserved[p.name] += after;
        if (after === before) continue;
        const own = why.get(c.account);
        const short = after < c.requestedNodes;
        const reason: ReservationChange['reason'] = short && (!own || after < before) ? 'contention' : own ? own.reason : 'restored';
        const detail = short
          ? `${c.requestedNodes} wanted, ${after} granted: ${settings.maxReservedNodesByPool[p.name]} reservable in ${p.name}, shared by priority (${c.priority}) above guaranteed minimums`
          : own
            ? own.detail
            : `${after} granted as capacity freed up in ${p.name}`;
        changes.push({ timeSeconds: now, account: c.account, pool: p.name, zone: p.zone, fromNodes: before, toNodes: after, reason, detail });
        granted.set(c.account, { ...(granted.get(c.account) ?? {}), [p.name]: after });
      }
    }
    driver.setReservedNodes(reserved);
    if (groupMembers.size > 0) {
      const g = groupNodeForecasts(groupMembers, Object.fromEntries(Object.entries(fcs).map(([n, f]) => [n, f.forecast])), tick.stepIndex);
      for (const [group, names] of groupMembers) {
        if (!g[group]) continue;
        const held = names.reduce((s, n) => s + Object.values(granted.get(n) ?? {}).reduce((x, y) => x + y, 0), 0);
        groups.push({ timeSeconds: now, group, ...g[group], reservedNodes: held });
      }
    }
  };

  return {
    ...inner,
    name: inner.name,
    initialAllocation: () => inner.initialAllocation(),
    async onTick(tick: Tick, driver: SimulatorDriver): Promise<void> {
      await inner.onTick(tick, driver);
      if (tick.tickInStep === 0 && breakEvenThreshold !== undefined) observe(driver);
      const sinceStart = tick.stepIndex - ctx.evalStartIndex;
      if (tick.tickInStep === 0 && sinceStart % reviewEverySteps === 0) review(tick, driver);
    },
    reservations: (): ReservationReport => ({ changes, accounts: [], groups, upperLevel: BAND_LEVELS.upper }),
    notes: () => [
      ...(inner.notes?.() ?? []),
      `reservations: reviewed every ${fmt(settings.reviewIntervalSeconds / 3600)} h in ${settings.pools.join(', ')}; raised when the ${Math.round(BAND_LEVELS.upper * 100)}% upper bound passes ${Math.round(settings.raiseShare * 100)}% of the reservation, released when predicted demand stays under ${Math.round(settings.releaseShare * 100)}% for ${fmt(settings.releaseAfterSeconds / 3600)} h; after a change the upper bound fills ${Math.round(settings.targetShare * 100)}%${breakEvenThreshold === undefined ? '' : `; only nodes whose expected use over the ${fmt(Math.max(settings.releaseAfterSeconds, 0) / 3600)} h hold (the forecast, then the use observed just before) reaches ${Math.round(breakEvenThreshold * 1000) / 10}% (committed / on-demand price${settings.breakEven!.margin ? ` + ${Math.round(settings.breakEven!.margin * 100)}% margin` : ''}) are reserved`}`,
    ],
  };
}
