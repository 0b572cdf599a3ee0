import type { Allocation } from '../../core/plan.ts';
import type { SimulatorDriver } from '../../drivers/simulator.ts';
import { Reconciler, removalGraceSeconds } from './apply.ts';
import type { PolicyContext, ReplayPolicy, Tick } from './policy.ts';

/**
 * The oracle knows every future demand exactly. For each step it holds the
 * least-cost allocation for that step's actual demand, and asks for nodes
 * exactly one provisioning delay before the step that needs them, releasing
 * them as soon as no step within reach needs them: the lower bound on cost at
 * full SLO (up to node granularity).
 */
export function oraclePolicy(ctx: PolicyContext): ReplayPolicy {
  const { scenario } = ctx;
  const step = scenario.simulation.stepSeconds;
  const tickSeconds = scenario.simulation.tickSeconds;
  const perStep: Allocation[] = [];
  let reconciler: Reconciler | undefined;

  const allocationAt = async (stepIndex: number): Promise<Allocation> => {
    const i = stepIndex - ctx.evalStartIndex;
    const last = ctx.evalSteps - 1;
    const k = Math.max(0, Math.min(last, i));
    // Each step's allocation is priced against the previous step's placement, so instances stay put.
    for (let j = perStep.length; j <= k; j++) {
      const targets: Record<string, number> = {};
      for (const w of scenario.workloads) targets[w.name] = ctx.sizer.instancesFor(w, w.demand.values[ctx.evalStartIndex + j]);
      perStep[j] = await ctx.allocator.allocate(targets, perStep[j - 1]?.instances);
    }
    return perStep[k];
  };

  return {
    name: 'oracle',
    initialAllocation: () => allocationAt(ctx.evalStartIndex),
    async onTick(tick: Tick, driver: SimulatorDriver): Promise<void> {
      const now = await allocationAt(tick.stepIndex);
      // Nodes: the most any step starting within (now, now + delay] needs, per pool.
      const nodesByPool: Record<string, number> = { ...now.nodesByPool };
      for (const pool of scenario.pools) {
        // Order at the last tick from which the nodes are still ready in time:
        // a step starting before the next tick + delay must be ordered now.
        const reach = tick.timeSeconds + tickSeconds + pool.provisioningDelaySeconds;
        for (let s = tick.stepIndex + 1; scenario.startSeconds + s * step < reach && s < ctx.evalStartIndex + ctx.evalSteps; s++) {
          const a = await allocationAt(s);
          nodesByPool[pool.name] = Math.max(nodesByPool[pool.name] ?? 0, a.nodesByPool[pool.name] ?? 0);
        }
      }
      reconciler ??= new Reconciler(driver, 'oracle', removalGraceSeconds(scenario.pools));
      reconciler.setTarget({ ...now, nodesByPool }, 'exact future demand');
      reconciler.tick();
    },
    notes: () => ['oracle: knows future demand exactly; requests nodes one provisioning delay ahead of need'],
  };
}
