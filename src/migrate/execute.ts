/**
 * Execute a migration plan through a Driver with `executePhases`: every
 * action logged before it is sent, each phase followed by its health gate
 * (every service's SLO attainment at or above the bound through the phase's
 * wait and soak, against the demand that actually arrives), and a failed gate,
 * driver error or injected fault rolled back in reverse order to the initial
 * placement, postponing the change. The replay drives the simulator driver's
 * clock: a phase takes its wait plus its soak, and the change takes the
 * affected pools down for its window once the move is complete; after the
 * window, the move back (when planned) runs the same way.
 */
import { attainmentAt } from '../capacity/sizing.ts';
import type { ActionLog } from '../core/actionLog.ts';
import type { MaintenanceSettings, Placement } from '../core/migration.ts';
import type { Pool, Workload } from '../core/model.ts';
import type { Action, ActionRecord } from '../core/plan.ts';
import type { Driver } from '../drivers/driver.ts';
import { executePhases, type PhaseGate, type PhasedOutcome } from '../drivers/executor.ts';
import { SimulatorDriver } from '../drivers/simulator.ts';
import { stepIndex } from './demand.ts';
import type { MigrationPlan } from './plan.ts';
import { normalize, totalOf } from './placement.ts';

/** One line of the executed log, as the JSON output shows it. */
export interface MigrationLogEntry {
  readonly id: string;
  readonly phase: number;
  readonly kind: 'apply' | 'rollback';
  readonly action: Action['kind'];
  readonly status: ActionRecord['status'];
  /** The service whose instances the action starts or stops (null for node actions). */
  readonly service: string | null;
  /** Pool instances leave (a stop), or null. */
  readonly from: string | null;
  /** Pool instances join (a start), or null. */
  readonly to: string | null;
  readonly instances: number;
  /** Node actions: the pool and its node counts. */
  readonly pool?: string;
  readonly fromNodes?: number;
  readonly toNodes?: number;
}

/** One service at one step of the replay. */
export interface MigrationStep {
  readonly time: string;
  readonly timeSeconds: number;
  readonly service: string;
  /** Demand that actually arrived (the trace). */
  readonly demandRps: number;
  /** Requests per second the running instances can serve at full utilization. */
  readonly capacityRps: number;
  /** Running instances by pool. */
  readonly location: Readonly<Record<string, number>>;
}

export interface GateVerdict {
  readonly phase: number;
  readonly ok: boolean;
  /** Lowest attainment each service had over the phase. */
  readonly attainment: Readonly<Record<string, number>>;
  readonly reason?: string;
}

export interface MigrationRun {
  readonly status: PhasedOutcome['status'];
  readonly failedPhase?: number;
  readonly reason?: string;
  /** Set when the change was postponed (the move was rolled back): why. */
  readonly postponed?: string;
  readonly log: readonly MigrationLogEntry[];
  readonly gates: readonly GateVerdict[];
  readonly initialPlacement: Placement;
  readonly finalPlacement: Placement;
  readonly steps: readonly MigrationStep[];
  /** The move back after the window, when there was one to run. */
  readonly returnStatus?: PhasedOutcome['status'];
  readonly returnReason?: string;
}

export interface ExecuteMigrationInput {
  readonly workloads: readonly Workload[];
  readonly pools: readonly Pool[];
  readonly settings: MaintenanceSettings;
  readonly plan: MigrationPlan;
  /** The move back, run once the window is over (when the move completed). */
  readonly returnPlan?: MigrationPlan;
  readonly planStartSeconds: number;
  readonly windowStartSeconds: number;
  readonly windowEndSeconds: number;
  readonly log: ActionLog;
  /** Make this phase's gate fail (a fault drill). */
  readonly injectFailurePhase?: number;
  /** Wrap the simulator driver (tests inject driver faults this way). */
  readonly wrapDriver?: (driver: Driver) => Driver;
  /** Replay this long after the window ends (default one hour). */
  readonly tailSeconds?: number;
  /** The simulator to drive (default: a new one in the plan's initial state); pass one to resume after a crash. */
  readonly simulator?: SimulatorDriver;
}

/** The simulator in the plan's initial state at its start time. */
export function initialSimulator(input: Pick<ExecuteMigrationInput, 'workloads' | 'pools' | 'plan' | 'planStartSeconds'>): SimulatorDriver {
  const instances = Object.fromEntries(Object.entries(input.plan.initial).map(([s, p]) => [s, { ...p }]));
  return new SimulatorDriver(input.pools, input.workloads, input.planStartSeconds, { nodesByPool: { ...input.plan.initialNodes }, instances });
}

export function logEntries(records: readonly ActionRecord[]): MigrationLogEntry[] {
  return records.map((r) => {
    const a = r.action;
    const common = { id: a.id, phase: a.phase, kind: r.undoes ? ('rollback' as const) : ('apply' as const), action: a.kind, status: r.status };
    if (a.kind === 'scaleWorkload') {
      const d = a.toInstances - a.fromInstances;
      return { ...common, service: a.workload, from: d < 0 ? a.pool : null, to: d > 0 ? a.pool : null, instances: Math.abs(d) };
    }
    if (a.kind === 'migrate') return { ...common, service: a.workload, from: a.fromPool, to: a.toPool, instances: a.instances };
    if (a.kind === 'scaleNodes') return { ...common, service: null, from: null, to: null, instances: 0, pool: a.pool, fromNodes: a.fromNodes, toNodes: a.toNodes };
    return { ...common, service: null, from: null, to: null, instances: 0 };
  });
}

export async function executeMigration(input: ExecuteMigrationInput): Promise<MigrationRun> {
  const { settings, plan } = input;
  const sim = input.simulator ?? initialSimulator(input);
  const driver = input.wrapDriver ? input.wrapDriver(sim) : sim;
  const step = input.workloads[0].demand.stepSeconds;
  const steps: MigrationStep[] = [];
  const demandAt = (w: Workload, t: number) => w.demand.values[Math.min(w.demand.values.length - 1, Math.max(0, stepIndex(w, t)))] ?? 0;
  const capacityRps = (w: Workload, n: number) => (n * w.service.concurrency) / w.service.serviceTimeSeconds;
  let nextStep = Math.ceil(sim.timeSeconds / step) * step;
  const record = (t: number) => {
    const running = sim.running();
    for (const w of input.workloads) {
      const location = { ...(running[w.name] ?? {}) };
      steps.push({ time: new Date(t * 1000).toISOString(), timeSeconds: t, service: w.name, demandRps: demandAt(w, t), capacityRps: capacityRps(w, totalOf(running, w.name)), location });
    }
  };
  /** Advance the clock to `t`, recording every step boundary passed; returns each service's lowest attainment at those points and at `t`. */
  const advanceTo = (t: number): Record<string, number> => {
    const worst: Record<string, number> = Object.fromEntries(input.workloads.map((w) => [w.name, 1]));
    const observe = (at: number) => {
      const running = sim.running();
      for (const w of input.workloads) worst[w.name] = Math.min(worst[w.name], attainmentAt(w, totalOf(running, w.name), demandAt(w, at)));
    };
    while (nextStep <= t) {
      sim.setTime(nextStep);
      record(nextStep);
      observe(nextStep);
      nextStep += step;
    }
    sim.setTime(Math.max(sim.timeSeconds, t));
    observe(t);
    return worst;
  };

  const gates: GateVerdict[] = [];
  const gate: PhaseGate = async (phaseNumber) => {
    const phase = [...plan.phases, ...(input.returnPlan?.phases ?? [])].find((p) => p.number === phaseNumber)!;
    // The phase's wait (provisioning, copy, cutover pause) then its soak: the gate judges the soak.
    advanceTo(sim.timeSeconds + phase.waitSeconds);
    const attainment = advanceTo(sim.timeSeconds + settings.gate.soakSeconds);
    const desired = sim.observeSync().desiredInstances;
    const running = sim.running();
    const pending = input.workloads.filter((w) => totalOf(running, w.name) < totalOf(desired, w.name)).map((w) => `${w.name} (${totalOf(running, w.name)} of ${totalOf(desired, w.name)} running)`);
    const low = Object.entries(attainment).filter(([, a]) => a < settings.gate.minSloAttainment);
    let reason: string | undefined;
    if (input.injectFailurePhase === phaseNumber) reason = `injected failure at phase ${phaseNumber}`;
    else if (low.length) reason = `SLO attainment below ${settings.gate.minSloAttainment} over the soak: ${low.map(([s, a]) => `${s} ${(a * 100).toFixed(2)}%`).join(', ')}`;
    else if (pending.length) reason = `instances not running after the soak: ${pending.join(', ')}`;
    gates.push({ phase: phaseNumber, ok: reason === undefined, attainment, ...(reason ? { reason } : {}) });
    return reason ? { ok: false, reason } : { ok: true };
  };

  record(sim.timeSeconds);
  nextStep = Math.floor(sim.timeSeconds / step) * step + step;
  const actions = plan.phases.flatMap((p) => p.actions);
  const outcome = await executePhases(actions, driver, input.log, { now: () => sim.timeSeconds, sleep: async () => {}, gate });

  let postponed: string | undefined;
  if (outcome.status === 'completed') {
    // The change happens: its pools go down for the window (anything left there stops), then come back empty.
    advanceTo(input.windowStartSeconds);
    const down = settings.change.kind === 'priceChange' ? [] : settings.change.pools;
    for (const pool of down) {
      const nodes = sim.nodeCounts()[pool] ?? 0;
      if (nodes > 0) sim.applySync({ id: `change/${pool}/${input.windowStartSeconds}`, kind: 'scaleNodes', pool, fromNodes: nodes, toNodes: 0, decidedAtSeconds: input.windowStartSeconds, phase: 0, reason: `${settings.change.kind} takes ${pool} down` });
    }
  } else {
    postponed = `the ${settings.change.kind} of ${settings.change.pools.join(', ')} is postponed: ${outcome.reason ?? 'the move was rolled back'}`;
  }
  advanceTo(input.windowEndSeconds);
  // The pools are back (empty): move back, behind the same gates; a failed return rolls back to the target, where the services keep running.
  let back: PhasedOutcome | undefined;
  if (outcome.status === 'completed' && input.returnPlan && input.returnPlan.phases.length > 0) {
    back = await executePhases(input.returnPlan.phases.flatMap((p) => p.actions), driver, input.log, { now: () => sim.timeSeconds, sleep: async () => {}, gate });
  }
  advanceTo(Math.max(sim.timeSeconds, input.windowEndSeconds) + (input.tailSeconds ?? 3600));

  return {
    status: outcome.status,
    ...(outcome.failedPhase !== undefined ? { failedPhase: outcome.failedPhase } : {}),
    ...(outcome.reason ? { reason: outcome.reason } : {}),
    ...(postponed ? { postponed } : {}),
    log: logEntries(await input.log.list()),
    gates,
    initialPlacement: plan.initial,
    finalPlacement: normalize(sim.observeSync().desiredInstances),
    steps,
    ...(back ? { returnStatus: back.status, ...(back.reason ? { returnReason: back.reason } : {}) } : {}),
  };
}
