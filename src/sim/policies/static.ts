import type { Allocation } from '../../core/plan.ts';
import type { PolicyContext, ReplayPolicy } from './policy.ts';

/**
 * Static provisioning at the historical peak: sized once, for the highest
 * demand seen in the warm-up history, and never changed. It sees only the
 * warm-up history, as a team sizing a fixed fleet would.
 */
export function staticPolicy(ctx: PolicyContext): ReplayPolicy {
  return {
    name: 'static',
    async initialAllocation(): Promise<Allocation> {
      const targets: Record<string, number> = {};
      for (const w of ctx.scenario.workloads) {
        let peak = 0;
        for (let i = 0; i < ctx.evalStartIndex; i++) peak = Math.max(peak, w.demand.values[i]);
        targets[w.name] = ctx.sizer.instancesFor(w, peak);
      }
      return ctx.allocator.allocate(targets);
    },
    async onTick(): Promise<void> {},
    notes: () => ['static: sized for the peak demand of the warm-up history, never changed'],
  };
}
