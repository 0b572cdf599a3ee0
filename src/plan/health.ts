/**
 * Which pools may be planned on at a moment: a pool is excluded while it or
 * its provider is failing, statically (`health: failing`) or during an
 * incident. Pure: pools, providers and incidents in, exclusions out.
 */
import { InfeasibleError } from '../core/errors.ts';
import type { Incident, Pool, Provider } from '../core/model.ts';

/** Why a pool is excluded now, in user terms. */
export type Exclusions = ReadonlyMap<string, string>;

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

/** Pools excluded at `timeSeconds`, each with the reason (first one found: static pool health, provider health, then incidents in order). */
export function exclusionsAt(pools: readonly Pool[], providers: readonly Provider[], incidents: readonly Incident[], timeSeconds: number): Exclusions {
  const out = new Map<string, string>();
  const providerHealth = new Map(providers.map((p) => [p.name, p.health]));
  for (const pool of pools) {
    if (pool.health === 'failing') out.set(pool.name, `pool "${pool.name}" is failing`);
    else if (providerHealth.get(pool.provider) === 'failing') out.set(pool.name, `provider "${pool.provider}" is failing`);
  }
  for (const incident of incidents) {
    if (timeSeconds < incident.startSeconds || timeSeconds >= incident.endSeconds) continue;
    const what = incident.pool !== undefined ? `pool "${incident.pool}"` : `provider "${incident.provider}"`;
    const reason = `${what} failing from ${iso(incident.startSeconds)} to ${iso(incident.endSeconds)}${incident.description ? ` (${incident.description})` : ''}`;
    for (const pool of pools) {
      if (out.has(pool.name)) continue;
      if (incident.pool === pool.name || (incident.pool === undefined && incident.provider === pool.provider)) out.set(pool.name, reason);
    }
  }
  return out;
}

/** Times (epoch seconds) at which the set of excluded pools may change: incident starts and ends, sorted. */
export function healthChangeTimes(incidents: readonly Incident[]): number[] {
  return [...new Set(incidents.flatMap((i) => [i.startSeconds, i.endSeconds]))].sort((a, b) => a - b);
}

/** A stable text of an exclusion set, for cache keys. */
export function exclusionKey(excluded: Exclusions): string {
  return [...excluded.keys()].sort().join(',');
}

/**
 * The pools a plan may use: those not excluded. Throws `InfeasibleError`
 * naming every excluded pool and why when none is left.
 */
export function healthyPools(pools: readonly Pool[], excluded: Exclusions): Pool[] {
  const left = pools.filter((p) => !excluded.has(p.name));
  if (left.length === 0 && pools.length > 0) {
    throw new InfeasibleError('every pool is excluded from plans', pools.map((p) => `pool "${p.name}": ${excluded.get(p.name)}`));
  }
  return left;
}
