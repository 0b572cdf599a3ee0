/**
 * What-if windows: for every candidate start of a change, from the forecast,
 * plan the move (src/migrate/plan.ts) so it ends when the window begins, and
 * score it: peak load against the capacity left, simulated SLO attainment
 * through the phases and the window, the extra cost (nodes and traffic that
 * crosses zones or providers), and the latency split edges add. Rank the
 * candidates, say which SLOs fail in each, and pick the best. Pure.
 */
import { attainmentAt, instancesForDemand } from '../capacity/sizing.ts';
import type { MaintenanceSettings, Placement } from '../core/migration.ts';
import type { DependencyEdge, Pool, Workload } from '../core/model.ts';
import type { ServiceForecast } from './demand.ts';
import { buildMigrationPlan, buildReturnPlan, type MigrationPlan } from './plan.ts';
import { countIn, nodesFor, splitEdges, totalOf, usageByPool, type Location } from './placement.ts';

export interface WhatIfInput {
  readonly workloads: readonly Workload[];
  readonly pools: readonly Pool[];
  readonly edges: readonly DependencyEdge[];
  /** Services callers first. */
  readonly order: readonly string[];
  readonly levels: ReadonlyMap<string, number>;
  readonly settings: MaintenanceSettings;
  readonly forecast: ServiceForecast;
}

export interface Candidate {
  readonly startSeconds: number;
  /** End of the window (exclusive). */
  readonly endSeconds: number;
  /** When the plan must start so it ends as the window begins. */
  readonly planStartSeconds: number;
  /** Peak of the forecast (at each service's risk quantile) during the window, summed over services, in requests per second. */
  readonly peakDemandRps: number;
  /** CPU the moved services need through the plan and the window (sized at the span's peak), and what the target pools have left at their quotas (millicores). */
  readonly neededCpuMillicores: number;
  readonly capacityLeftCpuMillicores: number;
  /** Share of forecast requests served within their SLO, through the phases and the window (0..1). */
  readonly sloAttainment: number;
  /** Services whose SLO fails at their risk quantile in some step, with the number of such steps. */
  readonly failingSlos: readonly { readonly service: string; readonly steps: number }[];
  /** Money the change adds against running as before over the same span: nodes plus traffic. */
  readonly cost: number;
  readonly nodeCost: number;
  readonly trafficCost: number;
  /** Traffic that crosses a zone or provider because of the move (GiB, beyond what the initial placement sends). */
  readonly crossZoneGiB: number;
  /** Largest mean latency a split edge adds to a call (milliseconds). */
  readonly maxAddedLatencyMs: number;
  /** Edges the move splits across zones at some point, with the largest share of their calls that cross. */
  readonly splitEdges: readonly { readonly from: string; readonly to: string; readonly maxCrossShare: number }[];
  /** Why the candidate cannot be used (the plan would start before the forecast origin, no room at the target). */
  readonly problems: readonly string[];
  /** Usable and every SLO held. */
  readonly holds: boolean;
  readonly plan: MigrationPlan;
  /** The move back once the window is over (settings.returnAfter); scored with the rest. */
  readonly returnPlan?: MigrationPlan;
}

export interface WhatIfReport {
  /** Ranked: candidates that hold every SLO first, then by cost, attainment, start. */
  readonly candidates: readonly Candidate[];
  readonly chosen?: Candidate;
  /** Why none was chosen, when none holds. */
  readonly reason?: string;
}

/** Sizing at a demand: the SLO's instances (memoized by the sizing module). */
function sized(w: Workload, demandRps: number): number {
  return instancesForDemand(w, demandRps).instances;
}

/** Instances each step of the forecast needs at the service's risk quantile, computed once per forecast and workload. */
const sizedSteps = new WeakMap<ServiceForecast, WeakMap<Workload, number[]>>();
function neededAt(w: Workload, forecast: ServiceForecast): number[] {
  let byWorkload = sizedSteps.get(forecast);
  if (!byWorkload) sizedSteps.set(forecast, (byWorkload = new WeakMap()));
  let out = byWorkload.get(w);
  if (!out) byWorkload.set(w, (out = forecast.quantile.get(w.name)!.map((q) => sized(w, q))));
  return out;
}

/** The largest instance count the forecast needs over [fromSeconds, toSeconds). */
export function requiredOver(w: Workload, forecast: ServiceForecast, fromSeconds: number, toSeconds: number): number {
  const need = neededAt(w, forecast);
  let most = sized(w, 0);
  for (let k = Math.max(0, stepOf(forecast, fromSeconds)); k < Math.min(forecast.steps, Math.ceil((toSeconds - forecast.startSeconds) / forecast.stepSeconds)); k++) most = Math.max(most, need[k]);
  return most;
}

function stepOf(f: ServiceForecast, t: number): number {
  return Math.floor((t - f.startSeconds) / f.stepSeconds);
}

/** The placement before the change for a span: every service sized for the span's peak, in its initial pool; and the nodes that holds. */
export function initialState(input: WhatIfInput, fromSeconds: number, toSeconds: number): { placement: Placement; nodes: Record<string, number>; counts: Record<string, number> } {
  const s = input.settings;
  const counts: Record<string, number> = {};
  const placement: Record<string, Record<string, number>> = {};
  for (const w of input.workloads) {
    counts[w.name] = requiredOver(w, input.forecast, fromSeconds, toSeconds);
    placement[w.name] = { [s.initialPools[w.name] ?? s.initialPool]: counts[w.name] };
  }
  const byName = new Map(input.workloads.map((w) => [w.name, w]));
  const usage = usageByPool(placement, byName);
  const nodes = Object.fromEntries(input.pools.map((p) => [p.name, Math.max(p.minNodes, nodesFor(p, usage.get(p.name)))]));
  return { placement, nodes, counts };
}

/** Plan a move for a window starting at `startSeconds`: the lead time decides the span the initial sizing covers, so iterate until it settles. */
export function planFor(input: WhatIfInput, startSeconds: number, endSeconds: number): { plan: MigrationPlan; planStartSeconds: number; returnPlan?: MigrationPlan } {
  let lead = 0;
  for (let i = 0; ; i++) {
    const from = startSeconds - lead;
    // With a move back, the instances must also hold through it (it mirrors the move, so it takes about as long).
    const init = initialState(input, from, endSeconds + (input.settings.returnAfter ? lead : 0));
    const plan = buildMigrationPlan({
      workloads: input.workloads,
      pools: input.pools,
      order: input.order,
      levels: input.levels,
      settings: input.settings,
      initial: init.placement,
      initialNodes: init.nodes,
      finalInstances: init.counts,
      decidedAtSeconds: input.settings.fromSeconds,
      idPrefix: `migration/${new Date(startSeconds * 1000).toISOString()}`,
    });
    if (plan.leadSeconds <= lead || i >= 5) {
      const returnPlan = input.settings.returnAfter
        ? buildReturnPlan(plan, { workloads: input.workloads, pools: input.pools, order: input.order, levels: input.levels, settings: input.settings, decidedAtSeconds: input.settings.fromSeconds, idPrefix: `migration/${new Date(startSeconds * 1000).toISOString()}/return` })
        : undefined;
      return { plan, planStartSeconds: startSeconds - plan.leadSeconds, ...(returnPlan ? { returnPlan } : {}) };
    }
    lead = plan.leadSeconds;
  }
}

/** Times at which each phase starts, back to back from `planStartSeconds`. */
export function phaseStarts(plan: MigrationPlan, planStartSeconds: number): number[] {
  const out: number[] = [];
  let t = planStartSeconds;
  for (const p of plan.phases) {
    out.push(t);
    t += p.durationSeconds;
  }
  return out;
}

export function evaluateCandidate(input: WhatIfInput, startSeconds: number): Candidate {
  const s = input.settings;
  const f = input.forecast;
  const change = s.change;
  const horizonEnd = s.fromSeconds + s.withinSeconds;
  const endSeconds = change.durationSeconds === undefined ? horizonEnd : startSeconds + change.durationSeconds;
  const moves = change.kind !== 'priceChange';
  const { plan, planStartSeconds, returnPlan } = moves
    ? planFor(input, startSeconds, endSeconds)
    : (() => {
        const init = initialState(input, startSeconds, endSeconds);
        const empty: MigrationPlan = { initial: init.placement, initialNodes: init.nodes, final: init.placement, finalNodes: init.nodes, phases: [], leadSeconds: 0, unplaced: {}, limits: {} };
        return { plan: empty, planStartSeconds: startSeconds, returnPlan: undefined };
      })();
  const problems: string[] = [];
  if (returnPlan) for (const [svc, n] of Object.entries(returnPlan.unplaced)) problems.push(`no room to move ${n} instance(s) of ${svc} back to ${returnPlan.phases.length ? s.change.pools.join(', ') : '-'} (quota)`);
  if (planStartSeconds < s.fromSeconds) problems.push(`the plan needs ${(plan.leadSeconds / 3600).toFixed(2)} h before the window and would start before the forecast origin`);
  for (const [svc, n] of Object.entries(plan.unplaced)) problems.push(`no room for ${n} instance(s) of ${svc} in ${s.targetPools.join(', ')} (quota)`);

  const byName = new Map(input.workloads.map((w) => [w.name, w]));
  const poolByName = new Map(input.pools.map((p) => [p.name, p]));
  const locations = new Map<string, Location>(input.pools.map((p) => [p.name, { zone: p.zone, provider: p.provider }]));
  const starts = phaseStarts(plan, planStartSeconds);
  const backStarts = returnPlan ? phaseStarts(returnPlan, endSeconds) : [];
  const backEnd = endSeconds + (returnPlan?.leadSeconds ?? 0);
  // Placement and nodes in effect at time t in a plan's phases: during a phase, the lower of each service's counts before and after it (stops bite at once, starts take time); nodes as after (billed from the request).
  const inPhases = (p: MigrationPlan, phaseStart: readonly number[], t: number) => {
    for (let i = p.phases.length - 1; i >= 0; i--) {
      if (t < phaseStart[i]) continue;
      const before = i === 0 ? p.initial : p.phases[i - 1].placementAfter;
      const after = p.phases[i].placementAfter;
      const during: Record<string, Record<string, number>> = {};
      for (const svc of new Set([...Object.keys(before), ...Object.keys(after)])) during[svc] = { ...(totalOf(before, svc) <= totalOf(after, svc) ? before[svc] : after[svc]) };
      return { placement: during as Placement, nodes: p.phases[i].nodesAfter, cutovers: p.phases[i].cutovers };
    }
    return { placement: p.initial, nodes: p.initialNodes, cutovers: [] as readonly string[] };
  };
  const stateAt = (t: number): { placement: Placement; nodes: Readonly<Record<string, number>>; cutovers: readonly string[] } => {
    if (returnPlan && t >= endSeconds) return t >= backEnd ? { placement: returnPlan.final, nodes: returnPlan.finalNodes, cutovers: [] } : inPhases(returnPlan, backStarts, t);
    if (t >= startSeconds || plan.phases.length === 0) return { placement: plan.final, nodes: plan.finalNodes, cutovers: [] };
    return inPhases(plan, starts, t);
  };

  const stepHours = f.stepSeconds / 3600;
  let served = 0;
  let offered = 0;
  let nodeCost = 0;
  let trafficCost = 0;
  let crossBytes = 0;
  let maxLatency = 0;
  let peakDemandRps = 0;
  const failing = new Map<string, number>();
  const split = new Map<string, { from: string; to: string; maxCrossShare: number }>();
  const down = new Set(moves ? change.pools : []);
  const priceFactor = (pool: string, inWindow: boolean) => (change.kind === 'priceChange' && inWindow && change.pools.includes(pool) ? change.priceFactor! : 1);
  const firstStep = Math.max(0, stepOf(f, Math.min(planStartSeconds, startSeconds)));
  const lastStep = Math.min(f.steps, Math.ceil((backEnd - f.startSeconds) / f.stepSeconds));
  for (let k = firstStep; k < lastStep; k++) {
    const t = f.startSeconds + k * f.stepSeconds;
    const inWindow = t >= startSeconds && t < endSeconds;
    const state = stateAt(t);
    const demand = new Map(input.workloads.map((w) => [w.name, f.mean.get(w.name)![k]]));
    let total = 0;
    for (const w of input.workloads) {
      // Instances in a pool that is down do not serve.
      const n = totalOf(state.placement, w.name) - (inWindow ? countIn(state.placement, w.name, [...down]) : 0);
      const d = demand.get(w.name)!;
      total += inWindow ? f.quantile.get(w.name)![k] : 0;
      let a = attainmentAt(w, n, d);
      if (state.cutovers.includes(w.name)) a *= Math.max(0, 1 - s.cutoverPauseSeconds / f.stepSeconds);
      served += a * d;
      offered += d;
      // A cutover's stated pause costs attainment (above) but is an accepted disruption, not a failed SLO.
      const holds = n >= neededAt(w, f)[k];
      if (!holds) failing.set(w.name, (failing.get(w.name) ?? 0) + 1);
    }
    peakDemandRps = Math.max(peakDemandRps, total);
    for (const [pool, n] of Object.entries(state.nodes)) {
      const p = poolByName.get(pool)!;
      const was = plan.initialNodes[pool] ?? 0;
      // Against running as before at today's prices (no change at all).
      nodeCost += (n * priceFactor(pool, inWindow) - was) * p.costPerHour * stepHours;
    }
    const now = splitEdges(state.placement, input.edges, demand, locations, s.network);
    const before = splitEdges(plan.initial, input.edges, demand, locations, s.network);
    const cost = (list: typeof now) => list.reduce((a, e) => a + e.costPerHour, 0);
    const bytes = (list: typeof now) => list.reduce((a, e) => a + e.crossBytesPerSecond, 0);
    trafficCost += (cost(now) - cost(before)) * stepHours;
    crossBytes += (bytes(now) - bytes(before)) * f.stepSeconds;
    for (const e of now) {
      maxLatency = Math.max(maxLatency, e.addedLatencySeconds);
      const key = `${e.from}\u0000${e.to}`;
      const prev = split.get(key);
      if (!prev || prev.maxCrossShare < e.crossZoneShare) split.set(key, { from: e.from, to: e.to, maxCrossShare: e.crossZoneShare });
    }
  }

  // Peak need of the moved services against what the targets have left.
  const moved = input.workloads.filter((w) => countIn(plan.initial, w.name, change.pools) > 0);
  const neededCpuMillicores = moved.reduce((a, w) => a + totalOf(plan.initial, w.name) * w.perInstance.cpuMillicores, 0);
  const staying: Record<string, Record<string, number>> = {};
  for (const [svc, pools] of Object.entries(plan.initial)) for (const [pool, n] of Object.entries(pools)) if (!change.pools.includes(pool)) (staying[svc] ??= {})[pool] = n;
  const stayUsage = usageByPool(staying, byName);
  const capacityLeftCpuMillicores = s.targetPools.reduce((a, name) => {
    const p = poolByName.get(name)!;
    return a + p.maxNodes * p.nodeType.capacity.cpuMillicores - (stayUsage.get(name)?.cpuMillicores ?? 0);
  }, 0);

  const failingSlos = [...failing].map(([service, steps]) => ({ service, steps })).sort((a, b) => b.steps - a.steps || a.service.localeCompare(b.service));
  return {
    startSeconds,
    endSeconds,
    planStartSeconds,
    peakDemandRps,
    neededCpuMillicores,
    capacityLeftCpuMillicores,
    sloAttainment: offered > 0 ? served / offered : 1,
    failingSlos,
    cost: nodeCost + trafficCost,
    nodeCost,
    trafficCost,
    crossZoneGiB: crossBytes / 1024 ** 3,
    maxAddedLatencyMs: maxLatency * 1000,
    splitEdges: [...split.values()],
    problems,
    holds: problems.length === 0 && failingSlos.length === 0,
    plan,
    ...(returnPlan ? { returnPlan } : {}),
  };
}

/** Candidate starts: every `everySeconds` from the origin while the window still ends within the span (a decommission: every start within it). */
export function candidateStarts(settings: MaintenanceSettings): number[] {
  const end = settings.fromSeconds + settings.withinSeconds;
  const duration = settings.change.durationSeconds ?? 0;
  const out: number[] = [];
  for (let t = settings.fromSeconds; t + duration <= end && t < end; t += settings.everySeconds) out.push(t);
  return out;
}

/** Holding candidates first, then cheaper, then higher attainment, then earlier. */
export function rankCandidates(list: readonly Candidate[]): Candidate[] {
  return [...list].sort(
    (a, b) => Number(b.holds) - Number(a.holds) || a.cost - b.cost || b.sloAttainment - a.sloAttainment || a.startSeconds - b.startSeconds,
  );
}

export function whatIfWindows(input: WhatIfInput): WhatIfReport {
  const candidates = rankCandidates(candidateStarts(input.settings).map((t) => evaluateCandidate(input, t)));
  const chosen = candidates.find((c) => c.holds);
  if (chosen) return { candidates, chosen };
  const best = candidates[0];
  const why = best ? [...best.problems, ...best.failingSlos.map((f) => `${f.service} misses its SLO in ${f.steps} step(s)`)].join('; ') : 'no candidate start';
  return { candidates, reason: `no candidate holds every SLO; the best (${best ? new Date(best.startSeconds * 1000).toISOString() : '-'}): ${why}` };
}
