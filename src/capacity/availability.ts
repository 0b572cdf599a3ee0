/**
 * Availability through redundancy: how many instances beyond the N an SLO
 * needs, and how to spread them over failure domains (zones or providers), so
 * that N stay up through instance failures and the loss of a whole domain.
 *
 * Failure model (the usual one for k-out-of-n systems, e.g. Trivedi,
 * "Probability and Statistics with Reliability, Queuing, and Computer Science
 * Applications", 2nd ed., §3.5): each instance is down with probability
 * p_i and each domain with probability p_d, all independently; a domain that
 * is down takes all its instances with it. "Available" means at least N
 * instances are up. Probabilities are handled as unavailabilities (1 − A),
 * which stay precise when A is 0.99999….
 */
import { InfeasibleError, InvalidInputError } from '../core/errors.ts';
import type { AvailabilityRequirement, FailureDomain, Pool, Resources, SpreadRequirement } from '../core/model.ts';
import { fitsIn } from './resources.ts';

/** ln(k!) for k = 0..length−1, extended on demand. */
let lnFactorials = new Float64Array([0, 0]);

function lnFactorial(k: number): number {
  if (k >= lnFactorials.length) {
    const grown = new Float64Array(Math.max(k + 1, 2 * lnFactorials.length));
    grown.set(lnFactorials);
    for (let j = lnFactorials.length; j < grown.length; j++) grown[j] = grown[j - 1] + Math.log(j);
    lnFactorials = grown;
  }
  return lnFactorials[k];
}

/**
 * P(fewer than `needed` of `instances` are up) when each is down independently
 * with probability `failureProbability`: the binomial tail
 * Σ_{f > instances − needed} C(n, f) p^f (1 − p)^(n − f), summed in log space
 * from its first term until the terms stop mattering (1e-17 of the sum).
 */
export function shortfallProbability(instances: number, needed: number, failureProbability: number): number {
  const n = instances;
  const p = failureProbability;
  if (!(Number.isInteger(n) && n >= 0 && Number.isInteger(needed))) throw new InvalidInputError('shortfallProbability', `needs integer counts, got ${instances} and ${needed}`);
  if (!(p >= 0 && p <= 1)) throw new InvalidInputError('shortfallProbability', `failure probability must be in [0, 1], got ${failureProbability}`);
  if (needed <= 0) return 0;
  if (needed > n) return 1;
  if (p === 0) return 0;
  if (p === 1) return 1;
  const lnP = Math.log(p);
  const lnQ = Math.log1p(-p);
  const mode = Math.floor((n + 1) * p);
  let sum = 0;
  for (let f = n - needed + 1; f <= n; f++) {
    const term = Math.exp(lnFactorial(n) - lnFactorial(f) - lnFactorial(n - f) + f * lnP + (n - f) * lnQ);
    sum += term;
    if (f > mode && term <= sum * 1e-17) break;
  }
  return Math.min(1, sum);
}

/** Failure probabilities: per instance, and per domain (0 when domains never fail). */
export interface FailureModel {
  readonly instanceFailureProbability: number;
  readonly domainFailureProbability: number;
}

/**
 * Unavailability of a placement: P(fewer than `needed` instances are up) when
 * domain d holds `instancesPerDomain[d]` instances. Conditioning on which
 * domains survive, the surviving instances are binomial; rather than summing
 * over all 2^Z surviving subsets, a dynamic programme over domains builds the
 * distribution of the instance count in surviving domains (O(Z · total)).
 */
export function placementUnavailability(instancesPerDomain: readonly number[], needed: number, model: FailureModel): number {
  const pd = model.domainFailureProbability;
  if (!(pd >= 0 && pd <= 1)) throw new InvalidInputError('placementUnavailability', `domain failure probability must be in [0, 1], got ${pd}`);
  let survivingCount = new Map<number, number>([[0, 1]]);
  for (const count of instancesPerDomain) {
    if (!(Number.isInteger(count) && count >= 0)) throw new InvalidInputError('placementUnavailability', `instance counts must be integers ≥ 0, got ${count}`);
    const next = new Map<number, number>();
    for (const [total, prob] of survivingCount) {
      if (pd > 0) next.set(total, (next.get(total) ?? 0) + prob * pd);
      if (pd < 1) next.set(total + count, (next.get(total + count) ?? 0) + prob * (1 - pd));
    }
    survivingCount = next;
  }
  let unavailability = 0;
  for (const [total, prob] of survivingCount) unavailability += prob * shortfallProbability(total, needed, model.instanceFailureProbability);
  return Math.min(1, unavailability);
}

/** Availability (P(at least `needed` up)) of a placement; see placementUnavailability. */
export function placementAvailability(instancesPerDomain: readonly number[], needed: number, model: FailureModel): number {
  return 1 - placementUnavailability(instancesPerDomain, needed, model);
}

/**
 * Fewest instances over `domains` domains such that losing any one leaves at
 * least `surviving`: the balanced placement loses at most ⌈T/Z⌉, and
 * T − ⌈T/Z⌉ ≥ S first holds at T = S + ⌈S/(Z − 1)⌉.
 */
export function minimalSpreadInstances(surviving: number, domains: number): number {
  if (surviving <= 0) return 0;
  if (domains < 2) return Infinity;
  return surviving + Math.ceil(surviving / (domains - 1));
}

/**
 * Instances when every domain holds the same count ⌈S/(Z − 1)⌉ (what "one per
 * zone, in whole rounds" placement gives): ⌈S/(Z − 1)⌉·Z. Equals
 * minimalSpreadInstances when Z − 1 divides S, and exceeds it otherwise.
 */
export function equalSpreadInstances(surviving: number, domains: number): number {
  if (surviving <= 0) return 0;
  if (domains < 2) return Infinity;
  return Math.ceil(surviving / (domains - 1)) * domains;
}

/** `total` instances over `domains` domains as evenly as possible, largest first. */
export function balancedPlacement(total: number, domains: number): number[] {
  const base = Math.floor(total / domains);
  const extra = total - base * domains;
  return Array.from({ length: domains }, (_, d) => base + (d < extra ? 1 : 0));
}

/** What set the instance count, from least to most demanding. */
export type AvailabilityBinding = 'slo' | 'spare' | 'spread' | 'target';

export interface AvailabilityInput {
  /** N: instances the SLO needs at the sized demand. */
  readonly neededInstances: number;
  readonly requirement: AvailabilityRequirement;
  /** Names of the failure domains of kind `requirement.survive` the workload can use (see failureDomains). */
  readonly domains: readonly string[];
  /** Search limit: a total above it is reported as not feasible. */
  readonly maxInstances?: number;
  /** Workload name, for messages. */
  readonly name?: string;
}

export interface AvailabilitySizing {
  readonly neededInstances: number;
  /** Total instances to run (clamped to maxInstances when not feasible). */
  readonly instances: number;
  /** False when the requirement needs more than maxInstances. */
  readonly feasible: boolean;
  /** For the allocator: after losing any one domain, at least this many remain. */
  readonly spread?: SpreadRequirement;
  /** The balanced placement over the domains (largest first), when spread. */
  readonly perDomain?: readonly number[];
  readonly binding: AvailabilityBinding;
  /**
   * Availability every placement meeting `spread` (or, without spread, every
   * placement) achieves: a lower bound that counts two or more domains down
   * as a failure. Absent without failure probabilities.
   */
  readonly guaranteedAvailability?: number;
  /** Exact availability of `perDomain` (or of all instances in one domain without spread). */
  readonly balancedAvailability?: number;
}

const DEFAULT_MAX_INSTANCES = 100_000;

function describeDomain(domain: FailureDomain): string {
  return domain === 'zone' ? 'zone' : 'provider';
}

/**
 * Instances and spread for an availability requirement on top of N = the
 * SLO's instances:
 * - spareInstances k: N + k;
 * - survive D: after losing any one domain of kind D, N + k remain
 *   (S = N + k surviving, T = S + ⌈S/(Z − 1)⌉ in total; needs Z ≥ 2 domains);
 * - target A: the fewest instances whose guaranteed availability is ≥ A.
 *   Without `survive`: P(Bin(T, 1 − p_i) ≥ N) ≥ A. With `survive`, for any
 *   placement that keeps ≥ S after any one domain loss:
 *   A ≥ (1 − p_d)^Z · P(Bin(T) ≥ N) + Z p_d (1 − p_d)^(Z−1) · P(Bin(S) ≥ N),
 *   counting two or more domains down as unavailable; S grows until it holds.
 * Throws InfeasibleError when no count can meet the requirement (one domain
 * to survive the loss of; a target above the chance that at most one domain
 * is down), InvalidInputError for malformed input.
 */
export function sizeForAvailability(input: AvailabilityInput): AvailabilitySizing {
  const { neededInstances: needed, requirement: req, domains } = input;
  const who = `workload '${input.name ?? '?'}'`;
  const where = `${who} availability`;
  const maxInstances = input.maxInstances ?? DEFAULT_MAX_INSTANCES;
  validate(input, where);
  const spare = req.spareInstances ?? 0;
  const pi = req.instanceFailureProbability ?? 0;
  const pd = req.domainFailureProbability ?? 0;
  const hasModel = req.instanceFailureProbability !== undefined || req.domainFailureProbability !== undefined;
  const base = needed + spare;
  const allowed = req.target === undefined ? undefined : 1 - req.target;

  if (needed === 0) return { neededInstances: 0, instances: 0, feasible: true, binding: 'slo', ...(hasModel ? { guaranteedAvailability: 1, balancedAvailability: 1 } : {}) };

  if (req.survive === undefined) {
    const unavailable = (total: number) => shortfallProbability(total, needed, pi);
    let total = base;
    let binding: AvailabilityBinding = spare > 0 ? 'spare' : 'slo';
    if (allowed !== undefined && unavailable(total) > allowed) {
      total = smallestPassing(total, maxInstances, (t) => unavailable(t) <= allowed);
      binding = 'target';
    }
    const feasible = total <= maxInstances;
    const instances = Math.min(total, maxInstances);
    return {
      neededInstances: needed,
      instances,
      feasible,
      binding,
      ...(hasModel ? { guaranteedAvailability: 1 - unavailable(instances), balancedAvailability: 1 - unavailable(instances) } : {}),
    };
  }

  const domain = req.survive;
  const z = domains.length;
  if (z < 2) {
    throw new InfeasibleError(`${who} cannot survive the loss of a ${describeDomain(domain)}`, [
      z === 0
        ? `no pool it may use names a ${describeDomain(domain)}`
        : `every pool it may use is in ${describeDomain(domain)} '${domains[0]}'; surviving its loss needs pools in at least two ${describeDomain(domain)}s`,
    ]);
  }
  // P(two or more of Z domains down) = P(fewer than Z − 1 up): no placement meant to survive one loss survives that.
  const twoDown = shortfallProbability(z, z - 1, pd);
  const allUp = Math.exp(z * Math.log1p(-pd));
  const oneDown = z * pd * Math.exp((z - 1) * Math.log1p(-pd));
  // Every placement of `total` that keeps `surviving` after any one domain loss.
  const boundFor = (total: number, surviving: number) => twoDown + allUp * shortfallProbability(total, needed, pi) + oneDown * shortfallProbability(surviving, needed, pi);
  const guaranteedUnavailability = (surviving: number) => boundFor(minimalSpreadInstances(surviving, z), surviving);
  if (allowed !== undefined && twoDown > allowed) {
    throw new InfeasibleError(`${who} cannot reach availability ${req.target}`, [
      `two of its ${z} ${describeDomain(domain)}s (${domains.join(', ')}) are down at once with probability ${twoDown.toPrecision(3)}, ` +
        `more than the ${allowed.toPrecision(3)} the target allows; sizing survives the loss of one ${describeDomain(domain)}: lower the target or add ${describeDomain(domain)}s`,
    ]);
  }
  let surviving = base;
  let binding: AvailabilityBinding = 'spread';
  if (allowed !== undefined && guaranteedUnavailability(surviving) > allowed) {
    surviving = smallestPassing(surviving, maxInstances, (s) => guaranteedUnavailability(s) <= allowed);
    binding = 'target';
  }
  const total = minimalSpreadInstances(surviving, z);
  const feasible = total <= maxInstances;
  const instances = Math.min(total, maxInstances);
  const perDomain = balancedPlacement(instances, z);
  const keeps = feasible ? surviving : instances - perDomain[0];
  const model = { instanceFailureProbability: pi, domainFailureProbability: pd };
  return {
    neededInstances: needed,
    instances,
    feasible,
    spread: { domain, survivingInstances: keeps },
    perDomain,
    binding,
    ...(hasModel ? { guaranteedAvailability: 1 - boundFor(instances, keeps), balancedAvailability: placementAvailability(perDomain, needed, model) } : {}),
  };
}

/**
 * Smallest value v ≥ start (start fails) for which `passes(v)` holds, for a
 * monotone `passes`; gallops (+1, +2, +4, …) then bisects. Returns limit + 1
 * when nothing up to `limit` passes.
 */
function smallestPassing(start: number, limit: number, passes: (v: number) => boolean): number {
  let low = start;
  let step = 1;
  let high = start + step;
  while (!passes(high)) {
    if (high > limit) return limit + 1;
    low = high;
    step *= 2;
    high = low + step;
  }
  while (high - low > 1) {
    const mid = low + Math.floor((high - low) / 2);
    if (passes(mid)) high = mid;
    else low = mid;
  }
  return high;
}

function validate(input: AvailabilityInput, where: string): void {
  const req = input.requirement;
  if (!(Number.isInteger(input.neededInstances) && input.neededInstances >= 0)) throw new InvalidInputError(where, `needed instances must be an integer ≥ 0, got ${input.neededInstances}`);
  if (req.spareInstances !== undefined && !(Number.isInteger(req.spareInstances) && req.spareInstances >= 0)) {
    throw new InvalidInputError(`${where}.spareInstances`, `must be an integer ≥ 0, got ${req.spareInstances}`);
  }
  for (const key of ['instanceFailureProbability', 'domainFailureProbability'] as const) {
    const p = req[key];
    if (p !== undefined && !(p >= 0 && p < 1)) throw new InvalidInputError(`${where}.${key}`, `must be in [0, 1), got ${p}`);
  }
  if (req.target !== undefined) {
    if (!(req.target > 0 && req.target < 1)) throw new InvalidInputError(`${where}.target`, `must be in (0, 1), got ${req.target}`);
    if (req.instanceFailureProbability === undefined && req.domainFailureProbability === undefined) {
      throw new InvalidInputError(`${where}.target`, 'needs instanceFailureProbability and/or domainFailureProbability to compute an availability');
    }
  }
  if (req.domainFailureProbability !== undefined && req.survive === undefined) {
    throw new InvalidInputError(`${where}.domainFailureProbability`, 'needs survive: zone or provider (the failure domain it is the probability of)');
  }
}

/**
 * The distinct failure domains among the pools a workload may use (all its
 * tags offered, one instance fits a node): zones as "provider/zone" (zone names
 * repeat across providers), or providers. Sorted.
 */
export function failureDomains(workload: { readonly tags: readonly string[]; readonly perInstance: Resources }, pools: readonly Pool[], domain: FailureDomain): string[] {
  const names = new Set<string>();
  for (const p of pools) {
    if (!workload.tags.every((t) => p.tags.includes(t)) || !fitsIn(workload.perInstance, p.nodeType.capacity)) continue;
    names.add(domainOf(p, domain));
  }
  return [...names].sort();
}

/** The failure domain a pool belongs to: "provider/zone" or the provider. */
export function domainOf(pool: Pick<Pool, 'provider' | 'zone'>, domain: FailureDomain): string {
  return domain === 'zone' ? `${pool.provider}/${pool.zone}` : pool.provider;
}

/**
 * Instances per failure domain of an allocation's placement of one workload
 * (`instancesByPool`: pool → instances), as counts in domain-name order.
 * Throws InvalidInputError for a pool it does not know.
 */
export function instancesByDomain(instancesByPool: Readonly<Record<string, number>>, pools: readonly Pool[], domain: FailureDomain): { readonly domains: string[]; readonly counts: number[] } {
  const poolByName = new Map(pools.map((p) => [p.name, p]));
  const byDomain = new Map<string, number>();
  for (const [poolName, n] of Object.entries(instancesByPool)) {
    const pool = poolByName.get(poolName);
    if (!pool) throw new InvalidInputError('instancesByDomain', `placement names unknown pool '${poolName}'`);
    const key = domainOf(pool, domain);
    byDomain.set(key, (byDomain.get(key) ?? 0) + n);
  }
  const domains = [...byDomain.keys()].sort();
  return { domains, counts: domains.map((d) => byDomain.get(d) as number) };
}

export interface PlacementCheck {
  /** Instances left after losing the worst single domain (all of them when `survive` is not set). */
  readonly survivingWorstLoss: number;
  /** Whether the placement keeps `spread.survivingInstances` after any one domain loss. */
  readonly meetsSpread: boolean;
  /** Exact availability of the placement (absent without failure probabilities). */
  readonly availability?: number;
  /** Whether it meets the target (absent without a target). */
  readonly meetsTarget?: boolean;
}

/**
 * How an allocated placement of one workload fares against its availability
 * requirement: what survives the worst domain loss, and its exact availability
 * (at least `neededInstances` up) under the requirement's failure probabilities.
 */
export function checkPlacement(
  instancesByPool: Readonly<Record<string, number>>,
  pools: readonly Pool[],
  neededInstances: number,
  requirement: AvailabilityRequirement,
  spread?: SpreadRequirement,
): PlacementCheck {
  const domain = spread?.domain ?? requirement.survive ?? 'zone';
  const { counts } = instancesByDomain(instancesByPool, pools, domain);
  const total = counts.reduce((a, b) => a + b, 0);
  const survivingWorstLoss = spread || requirement.survive ? total - Math.max(0, ...counts) : total;
  const hasModel = requirement.instanceFailureProbability !== undefined || requirement.domainFailureProbability !== undefined;
  const availability = hasModel
    ? placementAvailability(counts, neededInstances, { instanceFailureProbability: requirement.instanceFailureProbability ?? 0, domainFailureProbability: requirement.domainFailureProbability ?? 0 })
    : undefined;
  return {
    survivingWorstLoss,
    meetsSpread: survivingWorstLoss >= (spread?.survivingInstances ?? 0),
    ...(availability !== undefined ? { availability } : {}),
    ...(requirement.target !== undefined && availability !== undefined ? { meetsTarget: availability >= requirement.target } : {}),
  };
}
