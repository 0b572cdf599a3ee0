/**
 * Reservations adjusted from forecasts. Pure: state and forecast figures in,
 * new state (and the change, if any) out. Units: whole nodes of a reservable
 * pool for reservations, node-equivalents (fractional) for demand.
 *
 * The rule, per account (see `reviewReservation`):
 * - raise when the forecast's upper bound U (peak over the horizon) passes
 *   `raiseShare` of the reservation R: R' = ⌈U / targetShare⌉;
 * - release when the predicted demand P (median, peak over the horizon) has
 *   stayed under `releaseShare` of R at every review for `releaseAfterSeconds`:
 *   R' = ⌈max U over that span / targetShare⌉, if that is less than R;
 * - otherwise keep R.
 * Hysteresis: a change leaves U at most `targetShare` of R', below
 * `raiseShare`, so the next raise needs genuine growth (U up by
 * raiseShare / targetShare); a release needs a sustained fall and never cuts
 * below what the recent upper bounds need at `targetShare`, so a release
 * cannot be followed by a raise unless the upper bound rises above every
 * value it had during the release window by that same factor.
 */
import { InfeasibleError, InvalidInputError } from '../core/errors.ts';

export interface ReservationRule {
  readonly raiseShare: number;
  readonly releaseShare: number;
  readonly releaseAfterSeconds: number;
  readonly targetShare: number;
  /** Never released below this. */
  readonly minNodes: number;
}

/** What the review knows of one account's reservation between reviews. */
export interface ReservationState {
  readonly reservedNodes: number;
  /** Since when predicted demand has been under releaseShare × reservedNodes (absent: it is not). */
  readonly underSinceSeconds?: number;
  /** Upper bounds seen at reviews since `underSinceSeconds`, oldest first. */
  readonly recentUpper: readonly { readonly timeSeconds: number; readonly upperNodes: number }[];
}

/** One review's view of an account's forecast, in node-equivalents. */
export interface ReservationSignal {
  readonly timeSeconds: number;
  /** Peak over the horizon of the forecast interval's upper bound. */
  readonly upperNodes: number;
  /** Peak over the horizon of the predicted (median) demand. */
  readonly predictedNodes: number;
}

export interface ReservationDecision {
  readonly state: ReservationState;
  readonly change?: { readonly fromNodes: number; readonly toNodes: number; readonly reason: 'raise' | 'release'; readonly detail: string };
}

export const initialReservationState = (reservedNodes: number): ReservationState => ({ reservedNodes, recentUpper: [] });

/** Checks a rule's shares; throws InvalidInputError naming `where`. */
export function checkReservationRule(rule: ReservationRule, where: string): void {
  const inUnit = (x: number) => x > 0 && x <= 1;
  if (!inUnit(rule.raiseShare)) throw new InvalidInputError(`${where}.raiseShare`, `must be in (0, 1], got ${rule.raiseShare}`);
  if (!(rule.releaseShare > 0 && rule.releaseShare < 1)) throw new InvalidInputError(`${where}.releaseShare`, `must be in (0, 1), got ${rule.releaseShare}`);
  if (!(rule.targetShare > 0 && rule.targetShare < rule.raiseShare)) {
    throw new InvalidInputError(`${where}.targetShare`, `must be more than 0 and less than raiseShare (${rule.raiseShare}), got ${rule.targetShare}; otherwise a raise could trigger the next raise`);
  }
  if (!(rule.releaseAfterSeconds >= 0)) throw new InvalidInputError(`${where}.releaseAfterSeconds`, `must be 0 or more, got ${rule.releaseAfterSeconds}`);
  if (!(Number.isInteger(rule.minNodes) && rule.minNodes >= 0)) throw new InvalidInputError(`${where}.minNodes`, `must be a whole number of nodes, got ${rule.minNodes}`);
}

/** Nodes that hold `upperNodes` at `targetShare` (whole nodes, at least `minNodes`). */
export function nodesFor(upperNodes: number, rule: Pick<ReservationRule, 'targetShare' | 'minNodes'>): number {
  // The small slack keeps 8.5 / 0.85 = 10.000000000000002 at 10 nodes.
  return Math.max(rule.minNodes, Math.ceil(upperNodes / rule.targetShare - 1e-9));
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2));
const pct = (x: number) => `${Math.round(x * 100)}%`;

/** One review of one account's reservation (see the module comment). */
export function reviewReservation(state: ReservationState, signal: ReservationSignal, rule: ReservationRule): ReservationDecision {
  const r = state.reservedNodes;
  const { timeSeconds: now, upperNodes: u, predictedNodes: p } = signal;
  if (!(u >= 0 && p >= 0)) throw new InvalidInputError('reservation review', `forecast figures must be 0 or more, got upper ${u}, predicted ${p}`);
  if (u > rule.raiseShare * r) {
    const to = nodesFor(u, rule);
    if (to > r) {
      return {
        state: initialReservationState(to),
        change: { fromNodes: r, toNodes: to, reason: 'raise', detail: `upper bound ${fmt(u)} nodes > ${pct(rule.raiseShare)} of ${r}` },
      };
    }
  }
  if (!(p < rule.releaseShare * r)) return { state: initialReservationState(r) };
  const since = state.underSinceSeconds ?? now;
  // Upper bounds of the last releaseAfterSeconds (and the current one) decide how far a release may go.
  const recentUpper = [...state.recentUpper.filter((x) => x.timeSeconds >= now - rule.releaseAfterSeconds), { timeSeconds: now, upperNodes: u }];
  const held = { reservedNodes: r, underSinceSeconds: since, recentUpper };
  if (now - since < rule.releaseAfterSeconds) return { state: held };
  const peak = Math.max(...recentUpper.map((x) => x.upperNodes));
  const to = nodesFor(peak, rule);
  if (to >= r) return { state: held };
  return {
    state: initialReservationState(to),
    change: {
      fromNodes: r,
      toNodes: to,
      reason: 'release',
      detail: `predicted ${fmt(p)} nodes < ${pct(rule.releaseShare)} of ${r} for ${fmt((now - since) / 3600)} h; upper bound peak ${fmt(peak)} fits ${to} at ${pct(rule.targetShare)}`,
    },
  };
}

/** A zone (pool) a reservation may be placed in. */
export interface ZoneOption {
  readonly pool: string;
  /** The share (any non-negative weight) of the account's forecast demand expected there. */
  readonly demandShare: number;
  readonly committedCostPerHour: number;
}

/**
 * Split `totalNodes` across zones by the forecast's distribution and each
 * zone's committed price: every zone gets the whole nodes of its share
 * (⌊total × share⌋); the nodes left over by rounding go one each to zones
 * with a fractional part, cheapest committed price first (then the larger
 * fraction, then the name). With no demand anywhere, all go to the cheapest zone.
 */
export function splitAcrossZones(totalNodes: number, zones: readonly ZoneOption[]): Record<string, number> {
  if (!(Number.isInteger(totalNodes) && totalNodes >= 0)) throw new InvalidInputError('zone split', `total must be a whole number of nodes, got ${totalNodes}`);
  if (zones.length === 0) throw new InvalidInputError('zone split', 'no zone to place a reservation in');
  for (const z of zones) if (!(z.demandShare >= 0)) throw new InvalidInputError(`zone split: ${z.pool}`, `demand share must be 0 or more, got ${z.demandShare}`);
  const out: Record<string, number> = Object.fromEntries(zones.map((z) => [z.pool, 0]));
  const byCost = (a: ZoneOption, b: ZoneOption) => a.committedCostPerHour - b.committedCostPerHour || a.pool.localeCompare(b.pool);
  const weight = zones.reduce((s, z) => s + z.demandShare, 0);
  if (weight === 0) {
    out[[...zones].sort(byCost)[0].pool] = totalNodes;
    return out;
  }
  const quota = new Map(zones.map((z) => [z.pool, (totalNodes * z.demandShare) / weight]));
  let left = totalNodes;
  for (const z of zones) {
    const whole = Math.floor(quota.get(z.pool)! + 1e-9);
    out[z.pool] = whole;
    left -= whole;
  }
  const frac = (z: ZoneOption) => quota.get(z.pool)! - out[z.pool];
  const order = [...zones].sort((a, b) => (frac(b) > 1e-9 ? 1 : 0) - (frac(a) > 1e-9 ? 1 : 0) || byCost(a, b) || frac(b) - frac(a));
  for (let i = 0; left > 0; i++, left--) out[order[i % order.length].pool]++;
  return out;
}

/**
 * Change a reservation already split across zones to `totalNodes`, moving as
 * little as possible: a raise places only the added nodes (by
 * `splitAcrossZones`); a release takes nodes away one at a time from the zone
 * holding the most above its share of the new total (the split of the new
 * total by demand and cost), the more expensive zone first on ties. Nodes
 * that stay are never moved between zones.
 */
export function resizeAcrossZones(current: Readonly<Record<string, number>>, totalNodes: number, zones: readonly ZoneOption[]): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(zones.map((z) => [z.pool, current[z.pool] ?? 0]));
  const held = Object.values(out).reduce((s, x) => s + x, 0);
  if (totalNodes >= held) {
    const added = splitAcrossZones(totalNodes - held, zones);
    for (const z of zones) out[z.pool] += added[z.pool];
    return out;
  }
  const ideal = splitAcrossZones(totalNodes, zones);
  const cost = new Map(zones.map((z) => [z.pool, z.committedCostPerHour]));
  for (let left = held - totalNodes; left > 0; left--) {
    const from = zones
      .map((z) => z.pool)
      .filter((p) => out[p] > 0)
      .sort((a, b) => out[b] - ideal[b] - (out[a] - ideal[a]) || cost.get(b)! - cost.get(a)! || a.localeCompare(b))[0];
    out[from]--;
  }
  return out;
}

/** One account's claim on a pool's reservable capacity. */
export interface AccountClaim {
  readonly account: string;
  readonly priority: number;
  readonly requestedNodes: number;
  /** Survives any contention (up to what is requested). */
  readonly guaranteedNodes: number;
}

/**
 * Grant claims on `capacityNodes` under contention. Guaranteed minimums
 * first (never cut: if they do not fit, InfeasibleError); then the rest by
 * priority, highest first, each level served in full before the next gets
 * anything, so a higher priority never loses nodes to a lower one. Accounts
 * of one priority share what is left of the capacity in proportion to what
 * they still want (whole nodes by largest remainder, ties by name).
 *
 * The account-level counterpart of `levelPenalties` in contention.ts, which
 * prices workloads' shortfall in the allocation MIP by level: with one
 * resource (nodes of one shape) the lexicographic order it encodes is exactly
 * this greedy, so no solver is needed.
 */
export function shareUnderContention(capacityNodes: number, claims: readonly AccountClaim[], where = 'reservations'): Record<string, number> {
  if (!(Number.isInteger(capacityNodes) && capacityNodes >= 0)) throw new InvalidInputError(where, `capacity must be a whole number of nodes, got ${capacityNodes}`);
  const grant: Record<string, number> = {};
  for (const c of claims) {
    if (!(Number.isInteger(c.requestedNodes) && c.requestedNodes >= 0 && Number.isInteger(c.guaranteedNodes) && c.guaranteedNodes >= 0)) {
      throw new InvalidInputError(`${where}: ${c.account}`, `requested and guaranteed nodes must be whole and 0 or more, got ${c.requestedNodes} and ${c.guaranteedNodes}`);
    }
    grant[c.account] = Math.min(c.requestedNodes, c.guaranteedNodes);
  }
  const guaranteed = Object.values(grant).reduce((s, x) => s + x, 0);
  if (guaranteed > capacityNodes) {
    throw new InfeasibleError(
      `${where}: guaranteed reservations need ${guaranteed} nodes but only ${capacityNodes} may be reserved`,
      claims.filter((c) => grant[c.account] > 0).map((c) => `${c.account}: ${grant[c.account]} guaranteed`),
    );
  }
  let left = capacityNodes - guaranteed;
  const levels = [...new Set(claims.map((c) => c.priority))].sort((a, b) => b - a);
  for (const level of levels) {
    const members = claims.filter((c) => c.priority === level).sort((a, b) => a.account.localeCompare(b.account));
    const want = members.map((c) => c.requestedNodes - grant[c.account]);
    const total = want.reduce((s, x) => s + x, 0);
    if (total <= left) {
      members.forEach((c, i) => (grant[c.account] += want[i]));
      left -= total;
      continue;
    }
    const quotas = want.map((x) => (left * x) / total);
    const whole = quotas.map((q) => Math.floor(q + 1e-9));
    let rest = left - whole.reduce((s, x) => s + x, 0);
    const order = members.map((_, i) => i).sort((i, j) => quotas[j] - whole[j] - (quotas[i] - whole[i]) || i - j);
    for (const i of order) {
      if (rest === 0) break;
      if (whole[i] < want[i]) {
        whole[i]++;
        rest--;
      }
    }
    members.forEach((c, i) => (grant[c.account] += whole[i]));
    left = 0;
  }
  return grant;
}
