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
 *
 * Break-even (`breakEvenNodes`, optional in the signal): a reserved node is
 * paid at the committed price every hour; without it the same capacity is
 * paid on demand only while used. So the j-th reserved node pays iff its
 * expected utilisation over the look-ahead is at least
 * committedCostPerHour / costPerHour. The review never raises above the
 * number of nodes that pay, and releases (with the same hold time) when that
 * number stays below the reservation; see `breakEvenNodes` for the derivation.
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
  readonly recentUpper: readonly { readonly timeSeconds: number; readonly upperNodes: number; readonly breakEvenNodes?: number }[];
}

/** One review's view of an account's forecast, in node-equivalents. */
export interface ReservationSignal {
  readonly timeSeconds: number;
  /** Peak over the horizon of the forecast interval's upper bound. */
  readonly upperNodes: number;
  /** Peak over the horizon of the predicted (median) demand. */
  readonly predictedNodes: number;
  /** Nodes whose reservation pays over the look-ahead (`breakEvenNodes`); absent: no break-even rule. */
  readonly breakEvenNodes?: number;
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

/**
 * One review of one account's reservation (see the module comment). With a
 * break-even count B in the signal: a raise goes to min(⌈U / targetShare⌉, B)
 * (never below minNodes), and the release clock also runs while B < R; a
 * release then goes to min(what the window's upper bounds need, the largest B
 * of the window), so a reservation is cut for not paying only after B has
 * stayed below it for `releaseAfterSeconds`, and by no more than the window's
 * break-even counts allow (hysteresis on B as on the upper bound).
 */
export function reviewReservation(state: ReservationState, signal: ReservationSignal, rule: ReservationRule): ReservationDecision {
  const r = state.reservedNodes;
  const { timeSeconds: now, upperNodes: u, predictedNodes: p, breakEvenNodes: b } = signal;
  if (!(u >= 0 && p >= 0)) throw new InvalidInputError('reservation review', `forecast figures must be 0 or more, got upper ${u}, predicted ${p}`);
  if (b !== undefined && !(Number.isInteger(b) && b >= 0)) throw new InvalidInputError('reservation review', `break-even nodes must be a whole number 0 or more, got ${b}`);
  const cap = b === undefined ? Infinity : Math.max(rule.minNodes, b);
  if (u > rule.raiseShare * r) {
    const need = nodesFor(u, rule);
    const to = Math.min(need, cap);
    if (to > r) {
      return {
        state: initialReservationState(to),
        change: {
          fromNodes: r,
          toNodes: to,
          reason: 'raise',
          detail: `upper bound ${fmt(u)} nodes > ${pct(rule.raiseShare)} of ${r}${to < need ? `; ${need} wanted, ${to} pay for themselves` : ''}`,
        },
      };
    }
  }
  const lowDemand = p < rule.releaseShare * r;
  const notPaying = cap < r;
  if (!lowDemand && !notPaying) return { state: initialReservationState(r) };
  const since = state.underSinceSeconds ?? now;
  // Upper bounds (and break-even counts) of the last releaseAfterSeconds and the current ones decide how far a release may go.
  const recentUpper = [
    ...state.recentUpper.filter((x) => x.timeSeconds >= now - rule.releaseAfterSeconds),
    { timeSeconds: now, upperNodes: u, ...(b === undefined ? {} : { breakEvenNodes: b }) },
  ];
  const held = { reservedNodes: r, underSinceSeconds: since, recentUpper };
  if (now - since < rule.releaseAfterSeconds) return { state: held };
  const peak = Math.max(...recentUpper.map((x) => x.upperNodes));
  const need = nodesFor(peak, rule);
  const paying = b === undefined ? Infinity : Math.max(rule.minNodes, ...recentUpper.map((x) => x.breakEvenNodes ?? Infinity));
  const to = Math.min(need, paying);
  if (to >= r) return { state: held };
  const hours = fmt((now - since) / 3600);
  return {
    state: initialReservationState(to),
    change: {
      fromNodes: r,
      toNodes: to,
      reason: 'release',
      detail:
        paying < need
          ? `only ${to} of ${r} nodes pay for themselves for ${hours} h (expected use below the committed / on-demand price ratio)`
          : `predicted ${fmt(p)} nodes < ${pct(rule.releaseShare)} of ${r} for ${hours} h; upper bound peak ${fmt(peak)} fits ${to} at ${pct(rule.targetShare)}`,
    },
  };
}

/**
 * How many reserved nodes pay for themselves: the largest k such that the
 * k-th node's expected utilisation over the look-ahead is at least
 * `threshold` (the pool's committedCostPerHour / costPerHour, times 1 + a
 * margin). `demandSamples` are equally likely values of the account's node
 * demand (node-equivalents) over the look-ahead: every horizon step at every
 * level of an equal-probability grid of its forecast distribution.
 *
 * Derivation. Reserving the k-th node costs c per hour whatever happens; it
 * saves the on-demand price o for the part of the node the demand fills, i.e.
 * for clamp(D − (k − 1), 0, 1) of it when demand is D node-equivalents. Over
 * the look-ahead the expected saving per hour is o · u_k with
 *   u_k = E_t E[clamp(D_t − (k − 1), 0, 1)] = ∫_{k−1}^{k} P(D > x) dx,
 * the area of the demand's duration curve (the samples sorted, highest
 * first, against the share of time) between heights k − 1 and k. The node
 * pays iff o · u_k ≥ c, i.e. u_k ≥ c / o. u_k does not increase with k, so the
 * nodes that pay are 1..K. When demand fills whole nodes (D integer) u_k is
 * the share of time the k-th node is busy, P(D ≥ k), and K = ⌊Q(1 − c/o)⌋,
 * the (1 − c/o)-quantile of the duration curve: a node busy 40% of the time
 * at a price ratio of 0.6 is not reserved, one busy 70% of the time is.
 *
 * Conservative by construction: the pool runs whole nodes, so summed over
 * accounts at least Σ_a min(D_a, K_a) of the reserved nodes is in use, and
 * reserving the K_a the rule allows is expected to save at least
 * (o · u_k − c) ≥ 0 per node (forecast permitting).
 */
export function breakEvenNodes(demandSamples: readonly number[], threshold: number): number {
  if (!(threshold > 0)) throw new InvalidInputError('break-even', `the price ratio threshold must be more than 0, got ${threshold}`);
  for (const d of demandSamples) if (!(d >= 0)) throw new InvalidInputError('break-even', `node demand samples must be 0 or more, got ${d}`);
  if (demandSamples.length === 0 || threshold > 1) return 0;
  const n = demandSamples.length;
  let k = 0;
  for (;;) {
    const next = k + 1;
    let area = 0;
    for (const d of demandSamples) area += Math.min(1, Math.max(0, d - k));
    // The small slack keeps a node exactly at the threshold (0.6 of the time at a 0.6 ratio) reserved despite float sums.
    if (area / n < threshold - 1e-9) return k;
    k = next;
  }
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
