import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { instancesForDemand, sloMeasureAt, sloText } from '../capacity/sizing.ts';
import { quantileAt, type QuantileForecast } from '../core/forecast.ts';
import type { Workload } from '../core/model.ts';
import type { Allocation } from '../core/plan.ts';
import type { AllocationResult } from '../optimize/allocate.ts';
import type { Series } from '../core/series.ts';
import type { Driver, ObservedState } from '../drivers/driver.ts';
import { executeActions, type RetryPolicy } from '../drivers/executor.ts';
import { seasonalNaive } from '../forecast/index.ts';
import { toGrid } from '../ingest/resample.ts';
import { nodeShare } from '../optimize/horizon.ts';
import { exclusionsAt, healthyPools } from '../plan/health.ts';
import { reconcileActions } from '../plan/reconcile.ts';
import { grantDemands, isGrantName, type GrantDemand } from '../queue/grants.ts';
import type { ServiceMetrics } from '../api/metrics.ts';
import type { LoopRunner } from '../api/server.ts';
import type { ServiceWorkload } from '../config/serviceSchema.ts';
import type { LoopCycle, LoopMode, Store } from '../store/store.ts';
import { type LoopCompute, inThreadCompute } from './compute.ts';
import { loadServiceConfig, toWorkload, type ServiceConfig } from './config.ts';
import type { DriverFactory } from './drivers.ts';

export interface LoopOptions {
  readonly store: Store;
  readonly metrics: ServiceMetrics;
  readonly driverFactory: DriverFactory;
  /** Epoch seconds (injected: tests and replays run on their own clock). */
  readonly now: () => number;
  /** Waits between driver retries (seconds). */
  readonly sleep?: (seconds: number) => Promise<void>;
  readonly retry?: RetryPolicy;
  readonly logger?: Logger;
  /** Where forecasts are fitted and the allocation solved (default: this thread; `headroom serve`: a worker thread, see compute.ts). */
  readonly compute?: LoopCompute;
}

/** Why a workload gets the instances it gets, in the user's terms. */
export interface WorkloadExplanation {
  readonly historySamples: number;
  readonly model?: string;
  readonly forecastId?: number;
  readonly sizingQuantile: number;
  /** Highest forecast demand at the sizing quantile over the look-ahead (decision interval + slowest provisioning). */
  readonly peakForecastRps?: number;
  readonly lastObservedRps?: number;
  readonly forecastInstances?: number;
  readonly observedInstances?: number;
  readonly currentInstances: number;
  readonly neededInstances: number;
  readonly allocatedInstances: number;
  readonly placement: Readonly<Record<string, number>>;
  readonly shortfall: number;
  readonly reason: string;
  /** What the SLO costs at the margin (absent while there is no forecast). */
  readonly sloPrice?: SloPrice;
}

/**
 * The price of one more unit of SLO, in the SLO's own terms: what the needed
 * instances achieve at the demand they were sized for, what one instance
 * more would achieve and cost, and what sizing at half the risk (the
 * forecast quantile 1 − (1 − q)/2: p95 → p97.5) would add.
 */
export interface SloPrice {
  /** The SLO in words, e.g. "p95 latency ≤ 200 ms". */
  readonly slo: string;
  /** The highest demand the decision sized for: the forecast peak at the sizing quantile, or the last observation when higher. */
  readonly demandRps: number;
  /** At that demand, the SLO's measure with the needed instances and with one more: latency at the SLO's percentile in seconds, or utilization. */
  readonly achieved: number;
  readonly achievedWithOneMore: number;
  /** One more instance per hour: its share of a node in the cheapest pool the workload was placed in (absent when it was placed nowhere). */
  readonly oneMoreInstanceCostPerHour?: number;
  /** Sizing at half the risk: that quantile's forecast peak over the same look-ahead, the instances it needs, and what they would add per hour. */
  readonly halfTheRisk?: { readonly quantile: number; readonly peakRps: number; readonly instances: number; readonly extraCostPerHour?: number };
}

/** Half the risk of under-provisioning: the forecast quantile 1 − (1 − q)/2. */
export const halfTheRisk = (quantile: number): number => 1 - (1 - quantile) / 2;

interface WorkloadDecision {
  readonly explanation: WorkloadExplanation;
  readonly needed: number;
}

const sum = (r: Readonly<Record<string, number>> | undefined) => Object.values(r ?? {}).reduce((a, b) => a + b, 0);

/**
 * The control loop: forecast → size → allocate → plan → act, one cycle at a
 * time (a cycle asked for while another runs waits for it). Every cycle is
 * recorded before it starts and finished with its summary, so a crash leaves
 * it `running`; `recover()` marks such cycles interrupted and completes the
 * plan an interrupted `act` cycle had begun (the action log skips what
 * already succeeded; the driver is idempotent per action id).
 */
export class ControlLoop implements LoopRunner {
  private tail: Promise<unknown> = Promise.resolve();
  private driver: { key: string; driver: Driver } | undefined;

  private readonly compute: LoopCompute;

  constructor(private readonly options: LoopOptions) {
    this.compute = options.compute ?? inThreadCompute();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async driverFor(cfg: ServiceConfig): Promise<Driver> {
    if (this.driver?.key !== cfg.key) {
      const driver = await this.options.driverFactory({ pools: cfg.pools, workloads: cfg.workloads.map((w) => toWorkload(w)), log: this.options.store.actions, now: this.options.now });
      this.driver = { key: cfg.key, driver };
    }
    return this.driver.driver;
  }

  /** After a restart: mark cycles the dead process left running as interrupted and finish their plans. */
  recover(): Promise<{ interrupted: number; resumedActions: number }> {
    return this.serial(async () => {
      const { store } = this.options;
      const interrupted = await store.interruptRunningCycles(this.options.now());
      let resumedActions = 0;
      for (const c of interrupted) {
        if (c.mode !== 'act') continue;
        const plan = await store.planOfCycle(c.id);
        if (!plan || plan.actions.length === 0) continue;
        const driver = await this.driverFor(await loadServiceConfig(store));
        const out = await executeActions(plan.actions, driver, store.actions, { now: this.options.now, sleep: this.sleep, retry: this.options.retry });
        resumedActions += plan.actions.length;
        this.options.logger?.info({ cycle: c.id, plan: plan.id, actions: plan.actions.length, ok: out.ok }, 'resumed the plan of an interrupted cycle');
      }
      return { interrupted: interrupted.length, resumedActions };
    });
  }

  private readonly sleep = (seconds: number) => (this.options.sleep ? this.options.sleep(seconds) : new Promise<void>((r) => setTimeout(r, seconds * 1000)));

  /** Resolves once no cycle is running or queued. */
  async drain(): Promise<void> {
    await this.tail;
  }

  runCycle(mode?: LoopMode): Promise<LoopCycle> {
    return this.serial(() => this.cycle(mode));
  }

  private async cycle(requestedMode?: LoopMode): Promise<LoopCycle> {
    const { store, metrics, now } = this.options;
    const cfg = await loadServiceConfig(store);
    const mode = requestedMode ?? cfg.loop.mode;
    const t0 = now();
    const id = await store.startCycle(mode, t0);
    const durations: Record<string, number> = {};
    const stage = async <T>(name: string, fn: () => Promise<T> | T): Promise<T> => {
      const s = performance.now();
      try {
        return await fn();
      } finally {
        durations[name] = (performance.now() - s) / 1000;
        metrics.loopStageSeconds.observe({ stage: name }, durations[name]);
      }
    };
    const summary: Record<string, unknown> = { inputs: { workloads: cfg.workloads.length, pools: cfg.pools.length, configKey: cfg.key }, durationsSeconds: durations };
    try {
      if (cfg.workloads.length === 0) throw new Error('no workloads are configured (headroom apply -f FILE.yaml)');
      const step = cfg.loop.stepSeconds;
      const end = Math.floor(t0 / step) * step;
      const maxDelay = Math.max(0, ...cfg.pools.map((p) => p.provisioningDelaySeconds));
      const lookahead = Math.max(1, Math.ceil((cfg.loop.intervalSeconds + maxDelay) / step));
      const horizonSteps = Math.max(lookahead, Math.round(cfg.loop.horizonSeconds / step));

      // 1. Forecast each workload from its stored history on the loop's grid.
      const forecasts = await stage('forecast', () => this.forecastAll(cfg, id, end, step, horizonSteps));
      summary.inputs = { ...(summary.inputs as object), samples: Object.fromEntries(forecasts.map((f) => [f.workload.name, f.historySamples])) };
      summary.forecastIds = Object.fromEntries(forecasts.filter((f) => f.id !== undefined).map((f) => [f.workload.name, f.id]));
      const notes = forecasts.flatMap((f) => (f.note ? [`${f.workload.name}: ${f.note}`] : []));
      summary.notes = notes;
      if (mode === 'forecast-only') return await this.finish(id, mode, 'succeeded', summary, durations, t0);
      if (cfg.pools.length === 0) throw new Error('no pools are configured (headroom apply -f FILE.yaml)');

      // Pools marked failing are left out of the plan, so their workloads move elsewhere this cycle.
      const excluded = exclusionsAt(cfg.pools, [], [], t0);
      const usablePools = healthyPools(cfg.pools, excluded);
      if (excluded.size > 0) summary.excludedPools = Object.fromEntries(excluded);
      const driver = await this.driverFor(cfg);
      const observed = await driver.observe();
      // 2. Size: instances each workload needs over the look-ahead.
      const decisions = await stage('size', () => forecasts.map((f) => this.size(f, observed, lookahead)));
      // Capacity the request queue granted is held too, so its nodes are there when the tenant comes.
      const grants = grantDemands(await store.requests.open(), usablePools, (name) => cfg.workloads.find((w) => w.name === name)?.tags, t0);
      // 3. Allocate: the least-cost node mix and placement (MIP).
      const allocated = await stage('allocate', () =>
        this.compute.allocate({
          workloads: [
            ...cfg.workloads.map((w, i) => ({
              name: w.name,
              perInstance: { cpuMillicores: w.cpuMillicores, memoryMiB: w.memoryMiB },
              instances: decisions[i].needed,
              minInstances: Math.min(w.minInstances, decisions[i].needed),
              priority: w.priority,
              tags: w.tags,
            })),
            ...grants.map((g) => ({ name: g.name, perInstance: g.perChunk, instances: g.chunks, minInstances: 0, priority: g.priority, tags: g.tags })),
          ],
          pools: usablePools,
          current: { nodesByPool: {}, instances: observed.desiredInstances, costPerHour: 0, shortfall: {} },
          options: { migrationCostPerInstance: 0.01 * Math.min(1, ...cfg.pools.map((p) => p.costPerHour).filter((c) => c > 0)) },
        }),
      );
      // The grants' pieces are capacity to hold, not instances to run: the nodes keep them, the driver never sees them.
      const target = withoutGrants(allocated);
      // 4. Plan: make-before-break actions from what the driver observes to the target.
      const { actions, waiting } = await stage('plan', () => reconcileActions(observed, target, { decidedAtSeconds: t0, idPrefix: `cycle-${id}`, reason: 'forecast' }));
      const explanation = { ...this.explain(cfg, forecasts, decisions, observed, target, waiting), grants: grantsHeld(grants, allocated) };
      const planId = await store.insertPlan({ cycleId: id, mode, decidedAtSeconds: t0, target: { nodesByPool: target.nodesByPool, instances: target.instances, costPerHour: target.costPerHour, shortfall: target.shortfall }, actions, explanation });
      summary.planId = planId;
      summary.actions = { planned: actions.length };
      // 5. Act (unless dry-run): each action logged before it is sent.
      if (mode === 'act' && actions.length > 0) {
        const out = await stage('act', () => executeActions(actions, driver, store.actions, { now, sleep: this.sleep, retry: this.options.retry }));
        for (const r of out.records) metrics.actions.inc({ kind: r.action.kind, status: r.status });
        summary.actions = { planned: actions.length, succeeded: out.records.filter((r) => r.status === 'succeeded').length, failed: out.failed ? 1 : 0, notSent: actions.length - out.records.length };
        if (!out.ok) return await this.finish(id, mode, 'failed', summary, durations, t0, `action ${out.failed?.action.id} failed: ${out.failed?.error}`);
      }
      return await this.finish(id, mode, 'succeeded', summary, durations, t0);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.options.logger?.error({ cycle: id, err: message }, 'loop cycle failed');
      return this.finish(id, mode, 'failed', summary, durations, t0, message);
    }
  }

  private async finish(id: number, mode: LoopMode, status: 'succeeded' | 'failed', summary: Record<string, unknown>, durations: Record<string, number>, t0: number, error?: string): Promise<LoopCycle> {
    const at = this.options.now();
    durations.total = Object.entries(durations).reduce((a, [k, v]) => (k === 'total' ? a : a + v), 0);
    this.options.metrics.loopStageSeconds.observe({ stage: 'cycle' }, durations.total);
    this.options.metrics.loopCycles.inc({ mode, status });
    await this.options.store.finishCycle(id, { status, atSeconds: at, summary, error });
    this.options.logger?.info({ cycle: id, mode, status, error, durationSeconds: durations.total, startedAtSeconds: t0 }, 'loop cycle finished');
    return (await this.options.store.getCycle(id))!;
  }

  private async forecastAll(cfg: ServiceConfig, cycleId: number, end: number, step: number, horizonSteps: number) {
    const { store, now } = this.options;
    // Every workload's history first, then every fit at once (the compute spreads them over its threads), then the store in workload order.
    const histories = [];
    for (const w of cfg.workloads) {
      const samples = await store.readSamples(w.name, end - cfg.loop.historySeconds, end);
      if (samples.length < 2) {
        histories.push({ workload: w, historySamples: samples.length });
        continue;
      }
      const gridStart = Math.floor(samples[0].timeSeconds / step) * step;
      const series = toGrid(samples, gridStart, step, Math.round((end - gridStart) / step));
      const core = toWorkload(w, series);
      // The sizing quantile, and half its risk for the SLO price in the plan's explanation.
      const levels = [...new Set([0.05, 0.5, core.sizingQuantile, halfTheRisk(core.sizingQuantile), 0.95])].sort((a, b) => a - b);
      histories.push({ workload: w, historySamples: samples.length, series, core, levels });
    }
    const fits = await Promise.all(histories.map((h) => (h.series && h.levels ? this.fit(cfg.predictive.model, h.series, horizonSteps, h.levels) : undefined)));
    const out: { workload: ServiceWorkload; core: Workload; series?: Series; forecast?: QuantileForecast; id?: number; historySamples: number; note?: string }[] = [];
    for (const [i, h] of histories.entries()) {
      const w = h.workload;
      if (!h.series || !h.core) {
        out.push({ workload: w, core: toWorkload(w), historySamples: h.historySamples, note: `${h.historySamples} samples in the history window; no forecast (holding the current instances)` });
        continue;
      }
      const { forecast, note } = fits[i]!;
      if (!forecast) {
        out.push({ workload: w, core: h.core, series: h.series, historySamples: h.historySamples, note });
        continue;
      }
      const previous = await store.latestForecast(w.name);
      if (previous) {
        const mape = forecastMape(previous.forecast, h.series);
        if (mape !== undefined) this.options.metrics.forecastError.set({ workload: w.name }, mape);
      }
      const id = await store.insertForecast(w.name, forecast, now(), cycleId);
      out.push({ workload: w, core: h.core, series: h.series, forecast, id, historySamples: h.historySamples, note });
    }
    return out;
  }

  /** The policy's model on one history; seasonal naive when it fails (a short history), and why. */
  private async fit(model: string, series: Series, horizonSteps: number, levels: readonly number[]): Promise<{ forecast?: QuantileForecast; note?: string }> {
    try {
      return { forecast: await this.compute.forecast({ model, history: series, horizonSteps, levels }) };
    } catch (e) {
      const note = `${model} failed (${e instanceof Error ? e.message : String(e)}); used seasonal-naive`;
      try {
        return { forecast: seasonalNaive().fit({ history: series }).predict(horizonSteps, levels), note };
      } catch (e2) {
        return { note: `no forecast: ${e2 instanceof Error ? e2.message : String(e2)}` };
      }
    }
  }

  private size(f: { workload: ServiceWorkload; core: Workload; series?: Series; forecast?: QuantileForecast; historySamples: number; id?: number }, observed: ObservedState, lookahead: number): WorkloadDecision {
    const w = f.workload;
    const core = f.core;
    const current = sum(observed.desiredInstances[w.name]);
    const base = { historySamples: f.historySamples, sizingQuantile: core.sizingQuantile, currentInstances: current, forecastId: f.id, model: f.forecast?.model };
    if (!f.forecast || !f.series) {
      const needed = Math.min(w.maxInstances, Math.max(current, w.minInstances));
      return { needed, explanation: { ...base, neededInstances: needed, allocatedInstances: 0, placement: {}, shortfall: 0, reason: 'no forecast yet: holding the current instances (at least minInstances)' } };
    }
    let peak = 0;
    let forecastInstances = 0;
    let stricterPeak = 0;
    let stricterInstances = 0;
    const stricter = halfTheRisk(core.sizingQuantile);
    for (let k = 0; k < Math.min(lookahead, f.forecast.mean.length); k++) {
      const q = quantileAt(f.forecast, core.sizingQuantile, k);
      peak = Math.max(peak, q);
      forecastInstances = Math.max(forecastInstances, instancesForDemand(core, q).instances);
      const qs = quantileAt(f.forecast, stricter, k);
      stricterPeak = Math.max(stricterPeak, qs);
      stricterInstances = Math.max(stricterInstances, instancesForDemand(core, qs).instances);
    }
    const values = f.series.values;
    const lastObserved = values[values.length - 1];
    const observedInstances = instancesForDemand(core, lastObserved).instances;
    let needed = Math.max(forecastInstances, observedInstances);
    let reason =
      needed === forecastInstances
        ? `the p${Math.round(core.sizingQuantile * 100)} forecast peaks at ${peak.toFixed(2)} rps in the next ${lookahead} steps: ${forecastInstances} instances hold the SLO`
        : `observed demand (${lastObserved.toFixed(2)} rps) is above the forecast: ${observedInstances} instances`;
    if (!w.scaleInFromForecast && needed < current) {
      // Scale in only as far as demand observed over the recent look-ahead window allows.
      const recentPeak = Math.max(...values.slice(-lookahead));
      const floor = Math.min(current, instancesForDemand(core, recentPeak).instances);
      if (floor > needed) {
        needed = floor;
        reason = `scale-in from forecasts is off: holding ${floor} instances for the recent observed peak of ${recentPeak.toFixed(2)} rps`;
      }
    }
    const demandRps = Math.max(peak, lastObserved);
    const sloPrice: SloPrice = {
      slo: sloText(core.slo),
      demandRps,
      achieved: sloMeasureAt(core, needed, demandRps),
      achievedWithOneMore: sloMeasureAt(core, needed + 1, demandRps),
      halfTheRisk: { quantile: stricter, peakRps: stricterPeak, instances: Math.max(needed, stricterInstances) },
    };
    return { needed, explanation: { ...base, peakForecastRps: peak, lastObservedRps: lastObserved, forecastInstances, observedInstances, neededInstances: needed, allocatedInstances: 0, placement: {}, shortfall: 0, reason, sloPrice } };
  }

  private explain(cfg: ServiceConfig, forecasts: { workload: ServiceWorkload; core: Workload; note?: string }[], decisions: WorkloadDecision[], observed: ObservedState, target: Allocation & { shortfallPenalty?: unknown }, waiting: string[]) {
    const nodes = (pool: string) => (observed.readyNodesByPool[pool] ?? 0) + (observed.pendingNodesByPool[pool] ?? 0);
    const costBefore = cfg.pools.reduce((c, p) => c + nodes(p.name) * p.costPerHour, 0);
    return {
      workloads: Object.fromEntries(
        forecasts.map((f, i) => {
          const placement = target.instances[f.workload.name] ?? {};
          const explanation = decisions[i].explanation;
          return [
            f.workload.name,
            {
              ...explanation,
              allocatedInstances: sum(placement),
              placement,
              shortfall: target.shortfall[f.workload.name] ?? 0,
              ...(f.note ? { note: f.note } : {}),
              ...(explanation.sloPrice ? { sloPrice: priceSlo(explanation.sloPrice, explanation.neededInstances, f.core, placement, cfg.pools) } : {}),
            },
          ];
        }),
      ),
      pools: Object.fromEntries(cfg.pools.map((p) => [p.name, { fromNodes: nodes(p.name), toNodes: target.nodesByPool[p.name] ?? 0, costPerHour: p.costPerHour }])),
      costPerHourBefore: costBefore,
      costPerHourAfter: target.costPerHour,
      waitingForReplacements: waiting,
    };
  }
}

/** The allocation's workloads only: grants' pieces taken out of the placement, the shortfall and its prices (nodes and cost stay). */
function withoutGrants(a: AllocationResult): AllocationResult {
  const keep = <V>(r: Readonly<Record<string, V>>) => Object.fromEntries(Object.entries(r).filter(([name]) => !isGrantName(name)));
  return { ...a, instances: keep(a.instances), shortfall: keep(a.shortfall), shortfallPenalty: keep(a.shortfallPenalty) };
}

/** What each grant in force holds: its pieces per pool, and those no pool could take this cycle. */
export interface GrantHeld {
  readonly tenant: string;
  readonly cpuMillicores: number;
  readonly memoryMiB: number;
  readonly pieces: number;
  readonly placement: Readonly<Record<string, number>>;
  readonly shortPieces: number;
}

function grantsHeld(grants: readonly GrantDemand[], a: Allocation): Record<string, GrantHeld> {
  return Object.fromEntries(
    grants.map((g) => [
      g.id,
      {
        tenant: g.tenant,
        cpuMillicores: g.amounts.cpuMillicores,
        memoryMiB: g.amounts.memoryMiB,
        pieces: g.chunks,
        placement: a.instances[g.name] ?? {},
        shortPieces: a.shortfall[g.name] ?? 0,
      },
    ]),
  );
}

/** The SLO price with its costs: one more instance in the cheapest pool the workload was placed in, and half the risk's extra instances at that price. */
function priceSlo(price: SloPrice, needed: number, workload: Workload, placement: Readonly<Record<string, number>>, pools: ServiceConfig['pools']): SloPrice {
  const perInstance = pools.filter((p) => (placement[p.name] ?? 0) > 0).map((p) => nodeShare(p, workload.perInstance) * p.costPerHour);
  if (perInstance.length === 0) return price;
  const oneMore = Math.min(...perInstance);
  const risk = price.halfTheRisk;
  return { ...price, oneMoreInstanceCostPerHour: oneMore, ...(risk ? { halfTheRisk: { ...risk, extraCostPerHour: (risk.instances - needed) * oneMore } } : {}) };
}

/**
 * Mean absolute percentage error (in %) of a forecast's median against the
 * observed grid values at the same times, over steps with non-zero demand.
 */
export function forecastMape(forecast: QuantileForecast, observed: Series): number | undefined {
  let total = 0;
  let n = 0;
  for (let k = 0; k < forecast.mean.length; k++) {
    const t = forecast.startSeconds + k * forecast.stepSeconds;
    const i = Math.round((t - observed.startSeconds) / observed.stepSeconds);
    if (i < 0 || i >= observed.values.length || observed.stepSeconds !== forecast.stepSeconds) continue;
    const actual = observed.values[i];
    if (!(actual > 0)) continue;
    total += Math.abs(quantileAt(forecast, 0.5, k) - actual) / actual;
    n++;
  }
  return n ? (100 * total) / n : undefined;
}
