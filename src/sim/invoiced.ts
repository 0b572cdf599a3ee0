import type { PolicyResult, SimulationResult } from './types.ts';

/** The policy whose invoices are shown and exported at top level: predictive, else the first policy run. */
export function invoicedPolicy(result: SimulationResult): PolicyResult | undefined {
  return result.policies.find((p) => p.metrics.name === 'predictive') ?? result.policies[0];
}
