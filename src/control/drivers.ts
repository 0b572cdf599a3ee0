import type { ActionLog } from '../core/actionLog.ts';
import { InvalidInputError } from '../core/errors.ts';
import type { Pool, Workload } from '../core/model.ts';
import type { Action } from '../core/plan.ts';
import type { ActionResult, Driver, ObservedState } from '../drivers/driver.ts';
import { SimulatorDriver } from '../drivers/simulator.ts';

/** What a driver is built from: the configured pools and workloads, the durable action log, the clock. */
export interface DriverContext {
  readonly pools: readonly Pool[];
  readonly workloads: readonly Workload[];
  readonly log: ActionLog;
  /** Epoch seconds. */
  readonly now: () => number;
}

/** Builds a driver; the loop calls it again when pools or workloads change. */
export type DriverFactory = (ctx: DriverContext) => Promise<Driver>;

/**
 * The simulator as a long-running cluster: its state is derived from the
 * action log (every succeeded action, replayed in order at its recorded
 * time), so it survives a restart as a real cluster would, and an action is
 * never applied twice (the simulator is idempotent per action id).
 */
export async function durableSimulator(ctx: DriverContext, options: { latencyMs?: number } = {}): Promise<Driver> {
  const latencyMs = options.latencyMs ?? 0;
  const done = await ctx.log.list({ statuses: ['succeeded'] });
  const start = Math.min(ctx.now(), ...done.map((r) => r.updatedAtSeconds));
  const sim = new SimulatorDriver(ctx.pools, ctx.workloads, start);
  const pools = new Set(ctx.pools.map((p) => p.name));
  const workloads = new Set(ctx.workloads.map((w) => w.name));
  for (const r of done) {
    const a = r.action;
    // Actions on pools or workloads removed from the configuration since are history only.
    if ('pool' in a && a.pool !== undefined && !pools.has(a.pool)) continue;
    if ('workload' in a && !workloads.has(a.workload)) continue;
    sim.setTime(Math.max(sim.timeSeconds, r.updatedAtSeconds));
    sim.applySync(a);
  }
  const advance = () => sim.setTime(Math.max(sim.timeSeconds, ctx.now()));
  return {
    name: 'simulator',
    async apply(action: Action): Promise<ActionResult> {
      // Optional latency per action, as a cloud or Kubernetes API has (crash tests use it to stop mid-plan).
      if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
      advance();
      return sim.applySync(action);
    },
    async observe(): Promise<ObservedState> {
      advance();
      return sim.observeSync();
    },
  };
}

/**
 * Drivers by name (`headroom serve --driver NAME`). Other drivers
 * (kubernetes, webhook) register here with `registerDriver`.
 */
const registry = new Map<string, DriverFactory>([['simulator', (ctx) => durableSimulator(ctx, { latencyMs: Number(process.env.HEADROOM_SIMULATOR_LATENCY_MS ?? 0) })]]);

export function registerDriver(name: string, factory: DriverFactory): void {
  registry.set(name, factory);
}

export function driverFactory(name: string): DriverFactory {
  const f = registry.get(name);
  if (!f) throw new InvalidInputError('--driver', `unknown driver "${name}" (available: ${[...registry.keys()].join(', ')})`);
  return f;
}

export function driverNames(): string[] {
  return [...registry.keys()];
}
