import { basename, dirname, resolve } from 'node:path';
import { InfeasibleError, InvalidInputError } from '../core/errors.ts';
import { assignRange, checkPoolRanges, neededAddresses, parseRange } from '../plan/network.ts';
import type { Account, DependencyEdge, Incident, NetworkSettings, Pool, Provider, Resources, Scenario, ScenarioEvent, Workload } from '../core/model.ts';
import { expandEvents } from '../forecast/events.ts';
import type { Series } from '../core/series.ts';
import { readSamplesCsv, parseTimestamp, type Sample } from '../ingest/csv.ts';
import { medianStepSeconds, toGrid } from '../ingest/resample.ts';
import { expandGraph } from './graphScenario.ts';
import { resolveMaintenance } from './maintenance.ts';
import { toPool, toWorkload } from './domain.ts';
import { type YamlFile, readYamlFile, validateAgainst } from './yamlFile.ts';
import { buildReservations } from './reservations.ts';
import { scenarioSchema, type AgreementFile, type ScenarioFile, type WorkloadFile } from './schema.ts';
import type { Agreement, BillingSettings } from '../core/billing.ts';


/**
 * Validate a parsed scenario object. Errors name the file, the line (when
 * known) and the path of the offending field.
 */
export function validateScenario(raw: unknown, where: string, lineOf?: YamlFile['lineOf']): ScenarioFile {
  return validateAgainst(scenarioSchema, raw, where, 'scenario', lineOf);
}

/** Read a YAML scenario file, validate it and load every demand trace it names. */
export function loadScenarioFile(path: string): Scenario {
  const { raw, lineOf } = readYamlFile(path, 'scenario file');
  const file = validateScenario(raw, path, lineOf);
  return buildScenario(file, dirname(resolve(path)), path);
}

interface LoadedTrace {
  readonly workload: WorkloadFile;
  readonly samples: Sample[];
  readonly sourceStepSeconds: number;
}

function loadTrace(w: WorkloadFile, index: number, baseDir: string, where: string): LoadedTrace {
  const d = w.demand;
  let samples: Sample[];
  if ('csv' in d) {
    const csvPath = resolve(baseDir, d.csv);
    samples = readSamplesCsv(csvPath, { timestampColumn: d.timestampColumn, valueColumn: d.valueColumn });
  } else {
    const start = d.inline.start === undefined ? 0 : parseTimestamp(d.inline.start);
    if (!Number.isFinite(start)) throw new InvalidInputError(`${where}: workloads[${index}].demand.inline.start`, `"${d.inline.start}" is not a timestamp`);
    samples = d.inline.values.map((value, i) => ({ timeSeconds: start + i * d.inline.stepSeconds, value }));
  }
  const sourceStepSeconds = medianStepSeconds(samples);
  // Convert to requests per second once, here at the boundary.
  const perSample = d.unit === 'requestsPerStep' ? 1 / sourceStepSeconds : 1;
  samples = samples.map((s) => ({ timeSeconds: s.timeSeconds, value: s.value * perSample * d.scale }));
  return { workload: w, samples, sourceStepSeconds };
}

/** Turn a validated scenario file into the domain model, loading traces onto one grid. */
export function buildScenario(file: ScenarioFile, baseDir: string, where = file.name): Scenario {
  const dup = (kind: string, names: string[]) => {
    const seen = new Set<string>();
    for (const n of names) {
      if (seen.has(n)) throw new InvalidInputError(where, `two ${kind} are named "${n}"`);
      seen.add(n);
    }
  };
  dup('workloads', file.workloads.map((w) => w.name));
  dup('pools', file.pools.map((p) => p.name));
  dup('providers', file.providers.map((p) => p.name));
  dup('accounts', file.accounts.map((a) => a.name));

  const providerNames = new Set(file.providers.map((p) => p.name));
  file.pools.forEach((p, i) => {
    if (file.providers.length > 0 && !providerNames.has(p.provider)) {
      throw new InvalidInputError(`${where}: pools[${i}].provider`, `pool "${p.name}" names provider "${p.provider}", which is not in providers (${[...providerNames].join(', ')})`);
    }
  });
  const accountNames = new Set(file.accounts.map((a) => a.name));
  file.workloads.forEach((w, i) => {
    if (w.account !== undefined && !accountNames.has(w.account)) {
      throw new InvalidInputError(`${where}: workloads[${i}].account`, `workload "${w.name}" names account "${w.account}", which is not in accounts`);
    }
  });
  const workloadNames = new Set(file.workloads.map((w) => w.name));
  // With a graph, edges may name services that get their workloads from the graph; it checks them itself.
  if (!file.graph) file.dependencies.forEach((e, i) => {
    for (const end of [e.from, e.to]) {
      if (!workloadNames.has(end)) throw new InvalidInputError(`${where}: dependencies[${i}]`, `edge ${e.from} -> ${e.to} names unknown workload "${end}"`);
    }
  });

  const sim = file.simulation;
  const step = sim.stepSeconds;
  if (sim.decisionIntervalSeconds % step !== 0) throw new InvalidInputError(`${where}: simulation.decisionIntervalSeconds`, `must be a multiple of stepSeconds (${step})`);
  if (step % sim.tickSeconds !== 0) throw new InvalidInputError(`${where}: simulation.tickSeconds`, `must divide stepSeconds (${step})`);

  const traces = file.workloads.map((w, i) => loadTrace(w, i, baseDir, where));
  // Align traces: each shifted so its first sample is at the common start, or kept at absolute time.
  const floorToStep = (t: number) => Math.floor(t / step) * step;
  const gridStart = sim.align === 'start' ? floorToStep(traces[0].samples[0].timeSeconds) : floorToStep(Math.max(...traces.map((t) => t.samples[0].timeSeconds)));
  const shifted = traces.map((t) => {
    const shift = sim.align === 'start' ? gridStart - floorToStep(t.samples[0].timeSeconds) : 0;
    return shift === 0 ? t.samples : t.samples.map((s) => ({ timeSeconds: s.timeSeconds + shift, value: s.value }));
  });
  // A trace covers up to its last sample plus one of its own steps.
  const gridEnd = Math.min(...shifted.map((s, i) => s[s.length - 1].timeSeconds + traces[i].sourceStepSeconds));
  const totalSteps = Math.floor((gridEnd - gridStart) / step);
  const warmupSteps = Math.round(sim.warmupSeconds / step);
  if (totalSteps <= warmupSteps) {
    throw new InvalidInputError(`${where}: simulation.warmupSeconds`, `the traces cover ${((totalSteps * step) / 86400).toFixed(2)} days together, not more than the warm-up of ${(sim.warmupSeconds / 86400).toFixed(2)} days`);
  }
  const availableEvalSteps = totalSteps - warmupSteps;
  const evalSteps = sim.durationSeconds === undefined ? availableEvalSteps : Math.round(sim.durationSeconds / step);
  if (evalSteps > availableEvalSteps) {
    throw new InvalidInputError(`${where}: simulation.durationSeconds`, `asks for ${evalSteps} steps after warm-up but the traces cover only ${availableEvalSteps}`);
  }
  const steps = warmupSteps + evalSteps;

  const workloads: Workload[] = file.workloads.map((w, i) => {
    const demand: Series = toGrid(shifted[i], gridStart, step, steps);
    return toWorkload(w, demand, file.riskQuantiles);
  });
  const providers: Provider[] = file.providers.map((p) => ({
    name: p.name,
    kind: p.kind,
    ...(p.health ? { health: p.health } : {}),
    ...(p.rates ? { rates: p.rates } : {}),
  }));
  const providerByName = new Map(providers.map((p) => [p.name, p]));
  const pools: Pool[] = file.pools.map((p, i) => toPool(p, providerByName.get(p.provider)?.rates, `${where}: pools[${i}].costPerHour`));
  const network = file.network ? planNetwork(file.network, pools, where) : undefined;
  if (!file.network) {
    const i = file.pools.findIndex((p) => p.network?.cidr !== undefined);
    if (i >= 0) throw new InvalidInputError(`${where}: pools[${i}].network.cidr`, `pool "${file.pools[i].name}" declares an address range; declare the address plan it belongs to (network.parentCidr) so ranges can be checked for overlap`);
  }
  const incidents: Incident[] = (file.incidents ?? []).map((e, i) => {
    const at = `${where}: incidents[${i}]`;
    if (e.provider !== undefined && !providerByName.has(e.provider)) throw new InvalidInputError(`${at}.provider`, `incident names provider "${e.provider}", which is not in providers`);
    if (e.pool !== undefined && !pools.some((p) => p.name === e.pool)) throw new InvalidInputError(`${at}.pool`, `incident names pool "${e.pool}", which is not in pools`);
    return {
      ...(e.provider !== undefined ? { provider: e.provider } : {}),
      ...(e.pool !== undefined ? { pool: e.pool } : {}),
      startSeconds: e.start,
      endSeconds: e.start + e.duration,
      ...(e.description ? { description: e.description } : {}),
    };
  });
  const billing: BillingSettings = { currency: file.billing?.currency ?? 'USD', onDemandPeriod: file.billing?.period ?? { kind: 'replay' } };
  const agreements = file.agreements ? buildAgreements(file.agreements, pools, billing, where) : undefined;
  const accounts: Account[] = file.accounts.map((a) => ({ ...a }));
  const dependencies: DependencyEdge[] = file.dependencies.map((e) => ({ ...e }));
  (file.events ?? []).forEach((e, i) => {
    for (const w of e.workloads ?? []) {
      if (!workloadNames.has(w)) throw new InvalidInputError(`${where}: events[${i}].workloads`, `event "${e.name}" names unknown workload "${w}"`);
    }
  });
  // Yearly events are expanded over the grid plus one forecast horizon and a day.
  const events: ScenarioEvent[] = (file.events ?? []).flatMap((e) =>
    expandEvents(
      [{ name: e.name, startSeconds: e.start, endSeconds: e.end, expectedMultiplier: e.multiplier, recurrence: e.recurrence }],
      gridStart,
      gridStart + steps * step + sim.horizonSeconds + 86_400,
    ).map((k) => ({ ...k, ...(e.workloads ? { workloads: e.workloads } : {}) })),
  );
  // With a graph, every service of it gets its demand by propagation from the entry workloads' traces.
  const expanded = file.graph ? expandGraph(file, file.graph, workloads, baseDir, where) : undefined;
  const maintenance = file.maintenance
    ? resolveMaintenance(
        file.maintenance,
        { pools, workloads: expanded?.workloads ?? workloads, graph: expanded?.graph, gridStartSeconds: gridStart, evalStartSeconds: gridStart + warmupSteps * step, gridEndSeconds: gridStart + steps * step },
        where,
      )
    : undefined;
  return {
    name: file.name,
    description: file.description,
    baseDir,
    workloads: expanded?.workloads ?? workloads,
    pools,
    providers,
    accounts,
    dependencies: expanded?.dependencies ?? dependencies,
    simulation: {
      stepSeconds: step,
      warmupSeconds: warmupSteps * step,
      durationSeconds: evalSteps * step,
      horizonSeconds: sim.horizonSeconds,
      decisionIntervalSeconds: sim.decisionIntervalSeconds,
      tickSeconds: sim.tickSeconds,
    },
    predictive: file.policies.predictive,
    startSeconds: gridStart,
    ...(events.length > 0 ? { events } : {}),
    ...(expanded ? { graph: expanded.graph } : {}),
    ...(agreements ? { agreements } : {}),
    ...(file.billing || agreements ? { billing } : {}),
    ...(file.reservations
      ? { reservations: buildReservations(file.reservations, { pools, agreements, accounts, workloads: expanded?.workloads ?? workloads, decisionIntervalSeconds: sim.decisionIntervalSeconds }, where) }
      : {}),
    ...(maintenance ? { maintenance } : {}),
    ...(incidents.length > 0 ? { incidents } : {}),
    ...(file.poolLifecycle ? { poolLifecycle: { ...file.poolLifecycle } } : {}),
    ...(network ? { network } : {}),
  };
}

/**
 * Check the address plan: declared ranges inside the parent, not overlapping,
 * large enough; existing pools without a range get one now (in file order);
 * candidates without one get theirs when created, so here it is only checked
 * that all of them could be created at once without exhausting the parent.
 * Mutates `pools` to carry the assigned ranges of existing pools.
 */
function planNetwork(settings: NetworkSettings, pools: Pool[], where: string): NetworkSettings {
  const parent = parseRange(settings.parentCidr, `${where}: network.parentCidr`);
  const podsOf = (p: Pool) => p.network?.podsPerNode ?? settings.podsPerNode;
  const declared = pools.flatMap((p, i) =>
    p.network?.cidr ? [{ pool: p.name, range: parseRange(p.network.cidr, `${where}: pools[${i}].network.cidr`), maxNodes: p.maxNodes, podsPerNode: podsOf(p) }] : [],
  );
  checkPoolRanges(parent, declared, `${where}: network`);
  const taken = declared.map((d) => ({ pool: d.pool, range: d.range }));
  pools.forEach((p, i) => {
    if (p.network?.cidr) return;
    let range;
    try {
      range = assignRange(parent, taken, neededAddresses(p.maxNodes, podsOf(p)), p.name);
    } catch (e) {
      if (e instanceof InfeasibleError) throw new InvalidInputError(`${where}: pools[${i}].network`, e.message);
      throw e;
    }
    taken.push({ pool: p.name, range });
    if (!p.candidate) pools[i] = { ...p, network: { ...p.network, cidr: range.cidr } };
  });
  return { ...settings };
}

/**
 * Agreements in domain form, cross-checked against the pools: each names a
 * provider that has pools, covers only that provider's pools, and no pool is
 * covered twice (its usage would be billed twice). One currency throughout:
 * the replay's cost is one sum, and headroom does no currency conversion.
 */
function buildAgreements(files: readonly AgreementFile[], pools: readonly Pool[], billing: BillingSettings, where: string): Agreement[] {
  const coveredBy = new Map<string, string>();
  const names = new Set<string>();
  return files.map((a, i) => {
    const at = `${where}: agreements[${i}]`;
    if (names.has(a.name)) throw new InvalidInputError(at, `two agreements are named "${a.name}"`);
    names.add(a.name);
    const own = pools.filter((p) => p.provider === a.provider);
    if (own.length === 0) throw new InvalidInputError(`${at}.provider`, `agreement "${a.name}" names provider "${a.provider}", which has no pools`);
    const covered = a.pools ?? own.map((p) => p.name);
    for (const name of covered) {
      const pool = pools.find((p) => p.name === name);
      if (!pool) throw new InvalidInputError(`${at}.pools`, `agreement "${a.name}" names pool "${name}", which is not in pools`);
      if (pool.provider !== a.provider) throw new InvalidInputError(`${at}.pools`, `pool "${name}" belongs to provider "${pool.provider}", not "${a.provider}"`);
      const earlier = coveredBy.get(name);
      if (earlier) throw new InvalidInputError(`${at}.pools`, `pool "${name}" is already covered by agreement "${earlier}"`);
      coveredBy.set(name, a.name);
    }
    const currency = a.currency ?? billing.currency;
    if (currency !== billing.currency) throw new InvalidInputError(`${at}.currency`, `agreement "${a.name}" is in ${currency} but the scenario bills in ${billing.currency} (billing.currency); headroom does not convert currencies`);
    const firstRate = (r: keyof typeof a.rates) => a.rates[r]?.[0]?.rate ?? 0;
    const c = a.commitment;
    const cap = a.cap;
    return {
      name: a.name,
      provider: a.provider,
      ...(a.pools ? { pools: a.pools } : {}),
      currency,
      period: a.period,
      rates: Object.fromEntries(Object.entries(a.rates).filter(([, v]) => v !== undefined)),
      ...(c ? { commitment: 'minSpend' in c ? { kind: 'spend' as const, minSpend: c.minSpend } : { kind: 'units' as const, resource: c.resource, minUnits: c.minUnits, shortfallRate: c.shortfallRate ?? firstRate(c.resource) } } : {}),
      ...(cap ? { cap: 'maxSpend' in cap ? { kind: 'spend' as const, maxSpend: cap.maxSpend, overageMultiplier: cap.overageMultiplier } : { kind: 'units' as const, resource: cap.resource, maxUnits: cap.maxUnits, ...(cap.overageRate === undefined ? {} : { overageRate: cap.overageRate }) } } : {}),
      alertShare: a.alertShare,
    };
  });
}

/** Name a workload after a trace file: "nyc_taxi.csv" -> "nyc_taxi". */
export function workloadNameFromPath(path: string): string {
  const stem = basename(path).replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9._-]/g, '_');
  return /^[A-Za-z0-9]/.test(stem) ? stem : `w${stem}`;
}
