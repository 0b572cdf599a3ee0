/**
 * What-if: evaluate alternatives against a base input (candidate maintenance
 * windows, a provider outage, price changes, active flags), each solved with
 * the same allocator, and pick the cheapest that holds every SLO: feasible and
 * no workload short of its needed instances at any step. For the others, say
 * which workloads fail and when, or which constraints conflict.
 */
import { InfeasibleError } from '../core/errors.ts';
import type { HorizonInput, MaintenanceWindow } from './horizon.ts';
import { type HorizonOptions, type HorizonResult, optimizeHorizon } from './optimizeHorizon.ts';

export interface PriceChange {
  /** Applies to pools of this provider (all pools when neither is given)… */
  readonly provider?: string;
  /** …or to this one pool. */
  readonly pool?: string;
  /** Multiplies on-demand and reserved prices. */
  readonly factor: number;
}

export interface Alternative {
  readonly name: string;
  /** Extra maintenance windows (e.g. one candidate slot). */
  readonly maintenance?: readonly MaintenanceWindow[];
  /** Every pool of the provider is down in steps [fromStep, toStep). */
  readonly outage?: { readonly provider: string; readonly fromStep: number; readonly toStep: number };
  readonly priceChanges?: readonly PriceChange[];
  /** Flags active in this alternative (e.g. `emergency`), replacing the base's. */
  readonly activeFlags?: readonly string[];
}

export interface SloFailure {
  readonly workload: string;
  /** Steps with fewer instances than needed. */
  readonly steps: readonly number[];
  readonly missingInstanceSteps: number;
}

export interface WhatIfOutcome {
  readonly name: string;
  readonly feasible: boolean;
  /** Spend over the horizon (without shortfall penalties); undefined when infeasible. */
  readonly cost?: number;
  readonly lowerBound?: number;
  /** (objective − lowerBound) / objective of its solve: differences between alternatives smaller than this are within the solver's tolerance. */
  readonly gap?: number;
  readonly holdsSlos: boolean;
  readonly failures: readonly SloFailure[];
  /** Conflicting constraints when infeasible, in user terms. */
  readonly conflicts: readonly string[];
}

export interface WhatIfReport {
  readonly base: WhatIfOutcome;
  readonly alternatives: readonly WhatIfOutcome[];
  /** Cheapest alternative holding every SLO; undefined when none does. */
  readonly best?: string;
}

/** The base input with one alternative applied. */
export function applyAlternative(base: HorizonInput, alt: Alternative): HorizonInput {
  const windows: MaintenanceWindow[] = [...(base.maintenance ?? []), ...(alt.maintenance ?? [])];
  if (alt.outage) {
    const { provider, fromStep, toStep } = alt.outage;
    for (const p of base.pools) if (p.provider === provider) windows.push({ name: `${alt.name}: ${provider} outage`, pool: p.name, fromStep, toStep });
  }
  const pools = base.pools.map((p) => {
    let factor = 1;
    for (const c of alt.priceChanges ?? []) {
      const applies = c.pool !== undefined ? c.pool === p.name : c.provider !== undefined ? c.provider === p.provider : true;
      if (applies) factor *= c.factor;
    }
    if (factor === 1) return p;
    return { ...p, costPerHour: p.costPerHour * factor, ...(p.reservedCostPerHour !== undefined ? { reservedCostPerHour: p.reservedCostPerHour * factor } : {}) };
  });
  return { ...base, pools, maintenance: windows, activeFlags: alt.activeFlags ?? base.activeFlags };
}

function outcome(name: string, result: HorizonResult): WhatIfOutcome {
  const failures: SloFailure[] = [];
  for (const [workload, series] of Object.entries(result.shortfall)) {
    const steps = series.flatMap((s, t) => (s > 0 ? [t] : []));
    if (steps.length) failures.push({ workload, steps, missingInstanceSteps: series.reduce((a, b) => a + b, 0) });
  }
  return { name, feasible: true, cost: result.cost.total, lowerBound: result.lowerBound, gap: result.gap, holdsSlos: failures.length === 0, failures, conflicts: [] };
}

/** Solves one case: its result, or what makes it infeasible. */
async function solve(name: string, input: HorizonInput, options: HorizonOptions): Promise<{ outcome: WhatIfOutcome; result?: HorizonResult }> {
  try {
    const result = await optimizeHorizon(input, options);
    return { outcome: outcome(name, result), result };
  } catch (e) {
    if (e instanceof InfeasibleError) return { outcome: { name, feasible: false, holdsSlos: false, failures: [], conflicts: e.conflicts } };
    throw e;
  }
}

/**
 * Solves the base (or takes `solvedBase`, its result already at hand) and
 * each alternative. The base plan is each alternative's start wherever it
 * still meets every hard constraint (a price change; a window where the base
 * needed no node), so such an alternative is never reported dearer than the
 * base plan priced under it: time-limited solves differ less by chance.
 */
export async function whatIf(base: HorizonInput, alternatives: readonly Alternative[], options: HorizonOptions = {}, solvedBase?: HorizonResult): Promise<WhatIfReport> {
  const solved = solvedBase ? { outcome: outcome('base', solvedBase), result: solvedBase } : await solve('base', base, options);
  const start = solved.result ? { context: solved.result.context, plan: solved.result.plan } : undefined;
  const outcomes: WhatIfOutcome[] = [];
  for (const alt of alternatives) outcomes.push((await solve(alt.name, applyAlternative(base, alt), { ...options, start })).outcome);
  const holding = outcomes.filter((o) => o.holdsSlos).sort((a, b) => (a.cost ?? Infinity) - (b.cost ?? Infinity) || (a.name < b.name ? -1 : 1));
  return { base: solved.outcome, alternatives: outcomes, best: holding[0]?.name };
}
