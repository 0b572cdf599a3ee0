import { quantileAt, type QuantileForecast } from '../../core/forecast.ts';
import type { Allocation } from '../../core/plan.ts';
import type { SimulatorDriver } from '../../drivers/simulator.ts';
import type { OnlineForecaster } from '../../forecast/online.ts';
import type { ForecastBand } from '../types.ts';
import { Reconciler, removalGraceSeconds } from './apply.ts';
import type { LatestForecasts, PolicyContext, ReplayPolicy, Tick } from './policy.ts';

/** Quantile levels of the band drawn in reports. */
export const BAND_LEVELS = { lower: 0.05, upper: 0.95 } as const;

export interface PredictiveOptions {
  /** One online forecaster per workload (it sees only values before the decision's step). */
  readonly forecasterFor: (workload: string) => OnlineForecaster;
  /**
   * Steps the allocation plans over at each decision when the allocator plans
   * windows (default 6, capped by the forecast horizon): step t holds the
   * requirement a decision at t would hold. Step 0 is enacted.
   */
  readonly windowSteps?: number;
}

/**
 * Headroom's policy. At each decision time it forecasts every workload's
 * demand over the horizon from history only, sizes each future step at the
 * workload's risk quantile, and holds the largest requirement until its next
 * decision's capacity can be ready (decision interval + provisioning delay),
 * so capacity arrives before load does. Between decisions a guard watches the
 * demand observed in the current step and scales up at once if it exceeds
 * what was planned (the forecast missed), as a reactive autoscaler would.
 */
export function predictivePolicy(ctx: PolicyContext, options: PredictiveOptions): ReplayPolicy {
  const { scenario } = ctx;
  const sim = scenario.simulation;
  const step = sim.stepSeconds;
  const maxDelaySeconds = Math.max(...scenario.pools.map((p) => p.provisioningDelaySeconds));
  const decisionEverySteps = Math.max(1, Math.round(sim.decisionIntervalSeconds / step));
  const lookaheadSteps = Math.max(1, Math.ceil((sim.decisionIntervalSeconds + maxDelaySeconds) / step));
  const horizonSteps = Math.max(lookaheadSteps, Math.round(sim.horizonSeconds / step));
  const windowSteps = Math.max(1, Math.min(options.windowSteps ?? 6, horizonSteps - lookaheadSteps + 1));
  let targets: Record<string, number> = {};
  /** Requirements per step of the planning window; window[0] is `targets` before any guard raise. */
  let window: Record<string, number>[] = [];
  let reconciler: Reconciler | undefined;
  let latest: LatestForecasts | undefined;

  const bandLower = new Map<string, number[]>();
  const bandMedian = new Map<string, number[]>();
  const bandUpper = new Map<string, number[]>();
  for (const w of scenario.workloads) {
    bandLower.set(w.name, new Array(ctx.evalSteps).fill(NaN));
    bandMedian.set(w.name, new Array(ctx.evalSteps).fill(NaN));
    bandUpper.set(w.name, new Array(ctx.evalSteps).fill(NaN));
  }

  const decide = (stepIndex: number): Record<string, number>[] => {
    const out: Record<string, number>[] = Array.from({ length: windowSteps }, () => ({}));
    const byWorkload = new Map<string, QuantileForecast>();
    latest = { stepIndex, byWorkload };
    for (const w of scenario.workloads) {
      const levels = [...new Set([BAND_LEVELS.lower, 0.5, w.sizingQuantile, BAND_LEVELS.upper])].sort((a, b) => a - b);
      const fc: QuantileForecast = options.forecasterFor(w.name).forecastAt(w.demand, stepIndex, horizonSteps, levels);
      byWorkload.set(w.name, fc);
      const sized = Array.from({ length: windowSteps + lookaheadSteps - 1 }, (_, k) => ctx.sizer.instancesFor(w, quantileAt(fc, w.sizingQuantile, k)));
      for (let t = 0; t < windowSteps; t++) {
        let need = 0;
        for (let k = t; k < t + lookaheadSteps; k++) need = Math.max(need, sized[k]);
        out[t][w.name] = need;
      }
      for (let k = 0; k < decisionEverySteps; k++) {
        const e = stepIndex - ctx.evalStartIndex + k;
        if (e < 0 || e >= ctx.evalSteps) continue;
        bandLower.get(w.name)![e] = quantileAt(fc, BAND_LEVELS.lower, k);
        bandMedian.get(w.name)![e] = quantileAt(fc, 0.5, k);
        bandUpper.get(w.name)![e] = quantileAt(fc, BAND_LEVELS.upper, k);
      }
    }
    return out;
  };

  const enact = async (driver: SimulatorDriver | undefined, reason: string): Promise<Allocation> => {
    const current = driver?.observeSync().desiredInstances;
    const nodes = driver?.nodeCounts();
    const target = ctx.allocator.allocateWindow
      ? await ctx.allocator.allocateWindow([targets, ...window.slice(1)], current, nodes)
      : await ctx.allocator.allocate(targets, current);
    if (driver) {
      reconciler ??= new Reconciler(driver, 'predictive', removalGraceSeconds(scenario.pools));
      reconciler.setTarget(target, reason);
    }
    return target;
  };

  return {
    name: 'predictive',
    async initialAllocation(): Promise<Allocation> {
      window = decide(ctx.evalStartIndex);
      targets = { ...window[0] };
      return enact(undefined, 'initial forecast');
    },
    async onTick(tick: Tick, driver: SimulatorDriver): Promise<void> {
      const sinceStart = tick.stepIndex - ctx.evalStartIndex;
      if (tick.tickInStep === 0 && sinceStart % decisionEverySteps === 0) {
        if (sinceStart > 0) {
          window = decide(tick.stepIndex);
          targets = { ...window[0] };
          await enact(driver, 'forecast');
        }
        reconciler?.tick();
        return;
      }
      if (tick.tickInStep === 0) {
        reconciler?.tick();
        return;
      }
      // Guard: after the first tick of a step its demand is observed (metrics since the step began).
      let raised = false;
      for (const w of scenario.workloads) {
        const observedNeed = ctx.sizer.instancesFor(w, w.demand.values[tick.stepIndex]);
        if (observedNeed > (targets[w.name] ?? 0)) {
          targets[w.name] = observedNeed;
          raised = true;
        }
      }
      if (raised) await enact(driver, 'observed demand above plan');
      reconciler?.tick();
    },
    latestForecasts: () => latest,
    forecastBands(): Record<string, ForecastBand> {
      const times = Array.from({ length: ctx.evalSteps }, (_, i) => scenario.startSeconds + (ctx.evalStartIndex + i) * step);
      return Object.fromEntries(
        scenario.workloads.map((w) => [
          w.name,
          {
            timeSeconds: times,
            lower: bandLower.get(w.name)!,
            median: bandMedian.get(w.name)!,
            upper: bandUpper.get(w.name)!,
            lowerLevel: BAND_LEVELS.lower,
            upperLevel: BAND_LEVELS.upper,
          },
        ]),
      );
    },
    notes: () => [
      `predictive: forecasts ${Math.round((horizonSteps * step) / 60)} min ahead every ${Math.round(sim.decisionIntervalSeconds / 60)} min, sizes each workload at its risk quantile, holds the peak of the next ${lookaheadSteps} steps (decision interval + provisioning delay), ${ctx.allocator.allocateWindow ? `places it with the multi-step engine over a ${windowSteps}-step window (enacting step 0), ` : ''}scales up at once if observed demand exceeds the plan`,
    ],
  };
}
