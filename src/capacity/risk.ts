/**
 * Risk level: the forecast quantile a workload is sized at. A higher quantile
 * buys fewer SLO misses with more capacity. Chosen per workload, or per
 * priority through a scenario-level table, resolved once when a scenario loads.
 */
import type { SizingQuantileSource } from '../core/model.ts';

/** Quantile used when neither the workload nor a priority rule sets one. */
export const DEFAULT_SIZING_QUANTILE = 0.95;

/** One row of the priority table: workloads with priority ≥ minPriority are sized at `quantile`. */
export interface RiskQuantileRule {
  readonly minPriority: number;
  readonly quantile: number;
}

export interface ResolvedRisk {
  readonly quantile: number;
  readonly source: SizingQuantileSource;
}

/**
 * The workload's own `sizingQuantile` when set; otherwise the rule with the
 * highest `minPriority` at or below the workload's priority; otherwise
 * DEFAULT_SIZING_QUANTILE (also for priorities below every rule).
 */
export function resolveSizingQuantile(
  workload: { readonly sizingQuantile?: number; readonly priority: number },
  rules: readonly RiskQuantileRule[] = [],
): ResolvedRisk {
  if (workload.sizingQuantile !== undefined) return { quantile: workload.sizingQuantile, source: 'workload' };
  let best: RiskQuantileRule | undefined;
  for (const rule of rules) {
    if (rule.minPriority <= workload.priority && (best === undefined || rule.minPriority > best.minPriority)) best = rule;
  }
  return best ? { quantile: best.quantile, source: 'priority' } : { quantile: DEFAULT_SIZING_QUANTILE, source: 'default' };
}
