import { InvalidInputError } from '../core/errors.ts';
import type { BudgetAmount, MaintenanceChange, MaintenanceSettings, MigrationServiceSettings } from '../core/migration.ts';
import type { Pool, ScenarioGraph, Workload } from '../core/model.ts';
import type { MaintenanceFile } from './schema.ts';

/** What the checks need to know about the rest of the scenario. */
export interface MaintenanceContext {
  readonly pools: readonly Pool[];
  readonly workloads: readonly Workload[];
  readonly graph?: ScenarioGraph;
  /** First step of the grid, first evaluated step (after warm-up), and the end of the grid (epoch seconds). */
  readonly gridStartSeconds: number;
  readonly evalStartSeconds: number;
  readonly gridEndSeconds: number;
}

function amount(v: number | string): BudgetAmount {
  return typeof v === 'number' ? { instances: v } : { percent: Number(v.slice(0, -1)) };
}

const isZero = (a: BudgetAmount) => ('instances' in a ? a.instances === 0 : a.percent === 0);

function hours(seconds: number): string {
  return `${Number((seconds / 3600).toFixed(2))} h`;
}

/**
 * Check the `maintenance:` section against the scenario and turn it into
 * domain settings. Errors name the key and the problem: an unknown pool, zone,
 * provider or service; a window longer than the span of candidate starts or
 * running past the traces; a target pool the change takes down; a budget that
 * allows no move (maxUnavailable and maxSurge both 0, or a stateful service
 * that cannot run its copy beside the original).
 */
export function resolveMaintenance(file: MaintenanceFile, ctx: MaintenanceContext, where: string): MaintenanceSettings {
  const at = (key: string) => `${where}: maintenance.${key}`;
  const poolNames = ctx.pools.map((p) => p.name);
  const knownPool = (name: string, key: string) => {
    if (!poolNames.includes(name)) throw new InvalidInputError(at(key), `unknown pool "${name}" (pools: ${poolNames.join(', ')})`);
  };

  const c = file.change;
  const named = (['pool', 'zone', 'provider'] as const).filter((k) => c[k] !== undefined);
  if (named.length !== 1) throw new InvalidInputError(at('change'), `name exactly one of pool, zone or provider that the change affects${named.length ? ` (got ${named.join(' and ')})` : ''}`);
  const scope = named[0];
  const target = c[scope]!;
  const affected = ctx.pools.filter((p) => (scope === 'pool' ? p.name : scope === 'zone' ? p.zone : p.provider) === target).map((p) => p.name);
  if (affected.length === 0) {
    const known = [...new Set(ctx.pools.map((p) => (scope === 'pool' ? p.name : scope === 'zone' ? p.zone : p.provider)))];
    throw new InvalidInputError(at(`change.${scope}`), `unknown ${scope} "${target}" (${scope}s with pools: ${known.join(', ')})`);
  }
  if (c.kind === 'decommission' && c.duration !== undefined) throw new InvalidInputError(at('change.duration'), 'a decommission lasts to the end of the horizon: leave out duration');
  if (c.kind !== 'decommission' && c.duration === undefined) throw new InvalidInputError(at('change.duration'), `a ${c.kind} needs a duration (e.g. "4h")`);
  if (file.returnAfter && (c.kind === 'decommission' || c.kind === 'priceChange')) throw new InvalidInputError(at('returnAfter'), `a ${c.kind} has nothing to return to`);
  if (c.kind === 'priceChange' && c.priceFactor === undefined) throw new InvalidInputError(at('change.priceFactor'), 'a price change needs priceFactor (e.g. 1.5 for +50%)');
  if (c.kind !== 'priceChange' && c.priceFactor !== undefined) throw new InvalidInputError(at('change.priceFactor'), `only a priceChange takes priceFactor, not a ${c.kind}`);
  const change: MaintenanceChange = {
    kind: c.kind,
    scope,
    name: target,
    pools: affected,
    ...(c.duration !== undefined ? { durationSeconds: c.duration } : {}),
    ...(c.priceFactor !== undefined ? { priceFactor: c.priceFactor } : {}),
  };

  const cand = file.candidates;
  const fromSeconds = cand.from ?? ctx.evalStartSeconds;
  if (fromSeconds <= ctx.gridStartSeconds) {
    throw new InvalidInputError(at('candidates.from'), `${new Date(fromSeconds * 1000).toISOString()} leaves no history to forecast from: the traces start at ${new Date(ctx.gridStartSeconds * 1000).toISOString()}`);
  }
  const duration = change.durationSeconds ?? 0;
  if (duration > cand.within) throw new InvalidInputError(at('change.duration'), `the window (${hours(duration)}) is longer than the span of candidate starts (candidates.within = ${hours(cand.within)})`);
  if (cand.every > cand.within) throw new InvalidInputError(at('candidates.every'), `${hours(cand.every)} is longer than candidates.within (${hours(cand.within)}): there would be one candidate`);
  if (fromSeconds + cand.within > ctx.gridEndSeconds) {
    throw new InvalidInputError(
      at('candidates.within'),
      `candidates run to ${new Date((fromSeconds + cand.within) * 1000).toISOString()}, past the end of the traces (${new Date(ctx.gridEndSeconds * 1000).toISOString()}): shorten within or move from earlier`,
    );
  }

  const initialPool = file.initialPool ?? affected[0];
  knownPool(initialPool, 'initialPool');
  const workloadNames = ctx.workloads.map((w) => w.name);
  const knownService = (name: string, key: string) => {
    if (!workloadNames.includes(name)) throw new InvalidInputError(at(key), `unknown service "${name}" (services: ${workloadNames.join(', ')})`);
  };
  for (const [service, pool] of Object.entries(file.initialPools)) {
    knownService(service, `initialPools.${service}`);
    knownPool(pool, `initialPools.${service}`);
  }

  const up = ctx.pools.filter((p) => !affected.includes(p.name));
  let targetPools: string[];
  if (file.targetPools) {
    file.targetPools.forEach((p, i) => {
      knownPool(p, `targetPools[${i}]`);
      if (affected.includes(p) && c.kind !== 'priceChange') throw new InvalidInputError(at(`targetPools[${i}]`), `pool "${p}" is one the change takes down`);
    });
    targetPools = [...file.targetPools];
  } else {
    const sourceProviders = new Set(ctx.pools.filter((p) => affected.includes(p.name)).map((p) => p.provider));
    const perVcpu = (p: Pool) => p.costPerHour / (p.nodeType.capacity.cpuMillicores / 1000);
    targetPools = [...up].sort((a, b) => Number(!sourceProviders.has(a.provider)) - Number(!sourceProviders.has(b.provider)) || perVcpu(a) - perVcpu(b)).map((p) => p.name);
  }
  if (targetPools.length === 0 && c.kind !== 'priceChange') throw new InvalidInputError(at('change'), `the change takes down every pool (${affected.join(', ')}): there is nowhere to move to`);

  const defaults = { maxUnavailable: amount(file.budget.maxUnavailable ?? '25%'), maxSurge: amount(file.budget.maxSurge ?? '25%') };
  for (const key of Object.keys(file.services)) knownService(key, `services.${key}`);
  const statefulInGraph = new Map((ctx.graph?.services ?? []).filter((s) => s.stateful).map((s) => [s.name, s.stateful!]));
  const services: Record<string, MigrationServiceSettings> = {};
  for (const w of ctx.workloads) {
    const own = file.services[w.name] ?? {};
    const budget = {
      maxUnavailable: own.maxUnavailable !== undefined ? amount(own.maxUnavailable) : defaults.maxUnavailable,
      maxSurge: own.maxSurge !== undefined ? amount(own.maxSurge) : defaults.maxSurge,
    };
    const stateful = own.stateful ?? statefulInGraph.has(w.name);
    const key = file.services[w.name] ? `services.${w.name}` : 'budget';
    if (isZero(budget.maxUnavailable) && isZero(budget.maxSurge)) throw new InvalidInputError(at(key), `service "${w.name}": maxUnavailable and maxSurge are both 0, so no instance could ever move`);
    if (stateful && isZero(budget.maxSurge)) throw new InvalidInputError(at(key), `service "${w.name}" is stateful: it moves by copy then cutover, which runs the copy beside the original, so maxSurge must be at least 1`);
    services[w.name] = { budget, stateful, dataMiB: own.dataMiB ?? file.defaultDataMiB };
  }

  return {
    change,
    fromSeconds,
    everySeconds: cand.every,
    withinSeconds: cand.within,
    initialPool,
    initialPools: { ...file.initialPools },
    targetPools,
    gate: { minSloAttainment: file.gate.minSloAttainment, soakSeconds: file.gate.soak },
    services,
    returnAfter: file.returnAfter ?? (c.kind === 'maintenance' || c.kind === 'outage'),
    copyBandwidthMbps: file.copyBandwidthMbps,
    cutoverPauseSeconds: file.cutoverPause,
    network: { ...file.network },
  };
}
