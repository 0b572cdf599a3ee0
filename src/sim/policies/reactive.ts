import { instanceCapacityRps, type Workload } from '../../core/model.ts';
import type { Allocation } from '../../core/plan.ts';
import type { SimulatorDriver } from '../../drivers/simulator.ts';
import { HPA_DEFAULTS, INITIAL_HPA_STATE, hpaConfig, hpaStep, type HpaConfig, type HpaState } from '../hpa.ts';
import { Reconciler, removalGraceSeconds } from './apply.ts';
import type { PolicyContext, ReplayPolicy, Tick } from './policy.ts';

/** Kubernetes cluster-autoscaler default: a node must be unneeded this long before it is removed. */
export const SCALE_DOWN_UNNEEDED_SECONDS = 600;

export interface ReactiveOptions {
  /** Whether the SLO holds for `instances` of `workload` at `demandRps` (the shared queueing model). */
  readonly holds: (workload: Workload, instances: number, demandRps: number) => boolean;
}

/**
 * The HPA utilization target a careful user would set: the highest whole
 * percentage at which, if scaling were instant, the SLO would hold at every
 * demand level of the warm-up history, even when the HPA sits at the edge of
 * its tolerance band (utilization up to target × (1 + tolerance)).
 */
export function carefulTargetUtilization(
  workload: Workload,
  history: readonly number[],
  holds: ReactiveOptions['holds'],
  tolerance = HPA_DEFAULTS.tolerance,
): number {
  const cap = instanceCapacityRps(workload.service);
  const levels = [...new Set(history.filter((d) => d > 0))];
  const ok = (percent: number): boolean => {
    const tau = (percent / 100) * (1 + tolerance);
    for (const d of levels) {
      const n = Math.min(workload.maxInstances, Math.max(workload.minInstances, Math.ceil(d / (cap * tau) - 1e-9)));
      // Beyond maxInstances no target helps; the SLO is judged where the HPA can act.
      if (n === workload.maxInstances && d / (n * cap) > tau) continue;
      if (!holds(workload, n, d)) return false;
    }
    return true;
  };
  // Holding the SLO gets easier as the target falls; bisect on whole percents.
  let lo = 1;
  let hi = 100;
  if (!ok(lo)) return 0.01;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (ok(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo / 100;
}

/**
 * Reactive autoscaling as teams run it on Kubernetes: one HPA per workload on
 * CPU utilization (the documented algorithm with its defaults: 15 s sync,
 * tolerance 0.1, 300 s scale-down stabilization, default rate policies),
 * with its target set as a careful user would, plus a cluster autoscaler that
 * adds nodes as soon as desired instances don't fit on the nodes there are
 * (least-cost node mix, from the same MIP as every policy) and removes a node
 * only after it has been unneeded for 10 minutes. It sees only the demand of
 * the current step, through utilization.
 */
export function reactivePolicy(ctx: PolicyContext, options: ReactiveOptions): ReplayPolicy {
  const { scenario } = ctx;
  const configs = new Map<string, HpaConfig>();
  const states = new Map<string, HpaState>();
  for (const w of scenario.workloads) {
    const history = w.demand.values.slice(0, ctx.evalStartIndex);
    configs.set(
      w.name,
      hpaConfig({
        minReplicas: Math.max(1, w.minInstances),
        maxReplicas: Math.max(1, w.maxInstances),
        targetUtilization:
          w.slo.kind === 'utilization'
            ? Math.floor((w.slo.maxUtilization / (1 + HPA_DEFAULTS.tolerance)) * 100) / 100
            : carefulTargetUtilization(w, history, options.holds),
        syncPeriodSeconds: scenario.simulation.tickSeconds,
      }),
    );
    states.set(w.name, INITIAL_HPA_STATE);
  }
  /** Recent node targets, to remove nodes only after they have been unneeded for a while. */
  const recentTargets: { timeSeconds: number; nodesByPool: Readonly<Record<string, number>> }[] = [];
  let reconciler: Reconciler | undefined;

  return {
    name: 'reactive',
    async initialAllocation(): Promise<Allocation> {
      // Steady state of each HPA for the last demand before the evaluated span.
      const targets: Record<string, number> = {};
      for (const w of scenario.workloads) {
        const c = configs.get(w.name)!;
        const d = w.demand.values[ctx.evalStartIndex - 1] ?? 0;
        const n = Math.ceil(d / (instanceCapacityRps(w.service) * c.targetUtilization) - 1e-9);
        targets[w.name] = Math.min(c.maxReplicas, Math.max(c.minReplicas, n));
      }
      return ctx.allocator.allocate(targets);
    },
    async onTick(tick: Tick, driver: SimulatorDriver): Promise<void> {
      const desired: Record<string, number> = {};
      for (const w of scenario.workloads) {
        const ready = driver.runningTotal(w.name);
        const demand = w.demand.values[tick.stepIndex];
        const cap = ready * instanceCapacityRps(w.service);
        // CPU usage relative to request, capped at 100%: limits equal requests (Guaranteed QoS).
        const utilization = cap > 0 ? Math.min(1, demand / cap) : 1;
        const r = hpaStep(
          states.get(w.name)!,
          { timeSeconds: tick.timeSeconds, currentReplicas: driver.desiredTotal(w.name), readyReplicas: ready, averageUtilization: utilization },
          configs.get(w.name)!,
        );
        states.set(w.name, r.state);
        desired[w.name] = r.desiredReplicas;
      }
      const target = await ctx.allocator.allocate(desired, driver.observeSync().desiredInstances);
      recentTargets.push({ timeSeconds: tick.timeSeconds, nodesByPool: target.nodesByPool });
      while (recentTargets.length && recentTargets[0].timeSeconds <= tick.timeSeconds - SCALE_DOWN_UNNEEDED_SECONDS) recentTargets.shift();
      // Nodes: up at once; down only to the most any target of the last 10 minutes needed.
      const current = driver.nodeCounts();
      const nodesByPool: Record<string, number> = {};
      for (const p of scenario.pools) {
        const want = target.nodesByPool[p.name] ?? 0;
        const have = current[p.name] ?? 0;
        // A pool the allocation left out entirely is excluded from plans (failing): its nodes go at once.
        if (want >= have || !(p.name in target.nodesByPool)) nodesByPool[p.name] = want;
        else nodesByPool[p.name] = Math.min(have, Math.max(want, ...recentTargets.map((t) => t.nodesByPool[p.name] ?? 0)));
      }
      reconciler ??= new Reconciler(driver, 'reactive', removalGraceSeconds(scenario.pools));
      reconciler.setTarget({ ...target, nodesByPool }, 'hpa + cluster autoscaler');
      reconciler.tick();
    },
    notes: () => [
      `reactive: Kubernetes HPA per workload (targets ${[...configs].map(([n, c]) => `${n} ${Math.round(c.targetUtilization * 100)}%`).join(', ')}: the highest at which the SLO holds with instant scaling) + cluster autoscaler (10 min scale-down delay)`,
    ],
  };
}
