/**
 * Executing a move through the simulator driver with `executePhases`: it
 * completes with nothing left in the maintained pool during the window; a
 * failed gate, an injected fault or a driver error rolls it back in reverse
 * order to the initial placement exactly; and a crash between two actions,
 * with the action log in SQLite, resumes without sending any action twice.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryActionLog, type ActionLog, type ActionLogUpdate } from '../core/actionLog.ts';
import type { Placement } from '../core/migration.ts';
import type { Workload } from '../core/model.ts';
import type { Action } from '../core/plan.ts';
import type { Driver } from '../drivers/driver.ts';
import { SqliteDb } from '../store/db.ts';
import { SqlStore } from '../store/sqlStore.ts';
import { executeMigration, initialSimulator, type ExecuteMigrationInput } from './execute.ts';
import { placementEquals } from './placement.ts';
import { buildMigrationPlan, buildReturnPlan, graphLevels } from './plan.ts';
import { pool, settings, workload } from './testFixtures.ts';
import { tempDir } from '../../test/helpers.ts';

const STEP = 300;
/** 100 req/s for a day at every service: each instance serves 100 req/s at full load, 70 under the SLO, so 2 instances are needed. */
const withDemand = (w: Workload): Workload => ({ ...w, demand: { startSeconds: 0, stepSeconds: STEP, values: new Array(288).fill(100) } });
const ws = [withDemand(workload('web')), withDemand(workload('api')), withDemand(workload('cache', { maxInstances: 1, slo: { kind: 'utilization', maxUtilization: 1 }, service: { serviceTimeSeconds: 0.001, concurrency: 1 } }))];
const pools = [pool('a', 'z1'), pool('b', 'z2')];
const initial: Placement = { web: { a: 3 }, api: { a: 4 }, cache: { a: 1 } };
const st = settings(['web', 'api', 'cache'], { budget: { maxUnavailable: { instances: 0 }, maxSurge: { instances: 2 } }, perService: { cache: { stateful: true, dataMiB: 100 } }, soakSeconds: 300 });
const order = ['web', 'api', 'cache'];
const plan = buildMigrationPlan({
  workloads: ws,
  pools,
  order,
  levels: graphLevels(order, [{ from: 'web', to: 'api' }, { from: 'api', to: 'cache' }]),
  settings: st,
  initial,
  initialNodes: { a: 2, b: 0 },
  finalInstances: { web: 3, api: 4, cache: 1 },
  decidedAtSeconds: 0,
  idPrefix: 'exec',
});
const planStart = 3600;
const windowStart = planStart + plan.leadSeconds;

function input(extra: Partial<ExecuteMigrationInput> = {}): ExecuteMigrationInput {
  return { workloads: ws, pools, settings: st, plan, planStartSeconds: planStart, windowStartSeconds: windowStart, windowEndSeconds: windowStart + 4 * 3600, log: new MemoryActionLog(), ...extra };
}

describe('executeMigration', () => {
  it('completes: every action applied once, nothing in the maintained pool during the window, capacity above demand at every step', async () => {
    const sim = initialSimulator(input());
    expect(sim.placement()).toEqual(initial);
    const run = await executeMigration(input({ simulator: sim }));
    expect(run.status).toBe('completed');
    expect(sim.placement()).toEqual(plan.final);
    expect(run.log.filter((e) => e.kind === 'rollback')).toEqual([]);
    expect(run.log.map((e) => e.id)).toEqual(plan.phases.flatMap((p) => p.actions.map((a) => a.id)));
    expect(run.gates.every((g) => g.ok)).toBe(true);
    expect(run.finalPlacement).toEqual(plan.final);
    const inWindow = run.steps.filter((s) => s.timeSeconds >= windowStart && s.timeSeconds < windowStart + 4 * 3600);
    expect(inWindow.length).toBe(3 * 48);
    for (const s of inWindow) expect(s.location.a ?? 0).toBe(0);
    for (const s of run.steps) expect(s.capacityRps).toBeGreaterThanOrEqual(s.demandRps);
    // A start logs the pool it joins, a stop the pool it leaves.
    const first = run.log.find((e) => e.service === 'web')!;
    expect(first).toMatchObject({ kind: 'apply', from: null, to: 'b', instances: 2 });
  });

  it.each([1, 2, 4])('an injected failure at phase %i rolls back in reverse order to the initial placement', async (failAt) => {
    const run = await executeMigration(input({ injectFailurePhase: failAt }));
    expect(run.status).toBe('rolledBack');
    expect(run.failedPhase).toBe(failAt);
    expect(run.reason).toContain(`injected failure at phase ${failAt}`);
    expect(run.postponed).toContain('postponed');
    const applied = run.log.filter((e) => e.kind === 'apply');
    const undone = run.log.filter((e) => e.kind === 'rollback');
    expect(applied.map((e) => e.id)).toEqual(plan.phases.filter((p) => p.number <= failAt).flatMap((p) => p.actions.map((a) => a.id)));
    // Each undo reverses the apply at the mirrored position: same service, from and to swapped, same count.
    expect(undone.map((e) => e.id)).toEqual([...applied].reverse().map((e) => `${e.id}/rollback`));
    undone.forEach((u, i) => {
      const a = applied[applied.length - 1 - i];
      expect({ service: u.service, from: u.from, to: u.to, instances: u.instances, pool: u.pool, fromNodes: u.fromNodes, toNodes: u.toNodes }).toEqual({
        service: a.service,
        from: a.to,
        to: a.from,
        instances: a.instances,
        pool: a.pool,
        fromNodes: a.toNodes,
        toNodes: a.fromNodes,
      });
    });
    expect(placementEquals(run.finalPlacement, initial)).toBe(true);
    // The change was postponed: the pool stayed up and kept its instances through the window.
    const inWindow = run.steps.filter((s) => s.timeSeconds >= windowStart && s.timeSeconds < windowStart + 4 * 3600);
    for (const s of inWindow) expect(s.location.a).toBe(initial[s.service].a);
  });

  it('a driver error rolls back what was applied', async () => {
    const failing = plan.phases[2].actions[0].id;
    const wrapDriver = (d: Driver): Driver => ({
      name: 'faulty',
      observe: () => d.observe(),
      apply: async (a: Action) => (a.id === failing ? { ok: false, error: 'node pool API refused the request', retryable: false } : d.apply(a)),
    });
    const run = await executeMigration(input({ wrapDriver }));
    expect(run.status).toBe('rolledBack');
    expect(run.reason).toContain('node pool API refused the request');
    expect(placementEquals(run.finalPlacement, initial)).toBe(true);
  });

  it('a gate fails when the demand outruns the instances (SLO attainment below the bound)', async () => {
    // Demand doubles at the plan's start: 3 web instances serve 210 req/s under the SLO, not 400.
    const spike = ws.map((w) => (w.name === 'web' ? { ...w, demand: { ...w.demand, values: w.demand.values.map((v, i) => (i >= planStart / STEP ? 400 : v)) } } : w));
    const run = await executeMigration(input({ workloads: spike }));
    expect(run.status).toBe('rolledBack');
    expect(run.failedPhase).toBe(1);
    expect(run.reason).toMatch(/SLO attainment below 0.99 over the soak: web/);
  });
});

describe('the move back after the window', () => {
  const returnPlan = buildReturnPlan(plan, { workloads: ws, pools, order, levels: graphLevels(order, [{ from: 'web', to: 'api' }, { from: 'api', to: 'cache' }]), settings: st, decidedAtSeconds: 0, idPrefix: 'exec/return' });
  const windowEnd = windowStart + 4 * 3600;

  it('runs after the window and ends where the services started', async () => {
    const run = await executeMigration(input({ returnPlan }));
    expect(run.status).toBe('completed');
    expect(run.returnStatus).toBe('completed');
    expect(placementEquals(run.finalPlacement, initial)).toBe(true);
    for (const s of run.steps.filter((x) => x.timeSeconds >= windowStart && x.timeSeconds < windowEnd)) expect(s.location.a ?? 0).toBe(0);
    const backIds = returnPlan.phases.flatMap((p) => p.actions.map((a) => a.id));
    expect(run.log.slice(-backIds.length).map((e) => e.id)).toEqual(backIds);
    for (const s of run.steps) expect(s.capacityRps).toBeGreaterThanOrEqual(s.demandRps);
  });

  it('a failed gate in the move back rolls the return back: the services stay at the target, running', async () => {
    const failAt = returnPlan.phases[1].number;
    const run = await executeMigration(input({ returnPlan, injectFailurePhase: failAt }));
    expect(run.status).toBe('completed');
    expect(run.returnStatus).toBe('rolledBack');
    expect(run.returnReason).toContain(`injected failure at phase ${failAt}`);
    expect(run.finalPlacement).toEqual(plan.final);
    const last = run.steps.slice(-3);
    for (const s of last) expect(s.capacityRps).toBeGreaterThanOrEqual(s.demandRps);
  });
});

/** An action log that dies once, at a chosen call, as a process killed there would. */
class CrashingLog implements ActionLog {
  constructor(private readonly inner: ActionLog, public crashAt?: (call: string) => boolean) {}
  private check(call: string) {
    if (this.crashAt?.(call)) {
      this.crashAt = undefined;
      throw new Error(`crash at ${call}`);
    }
  }
  async begin(action: Action, atSeconds: number, undoes?: string) {
    this.check(`begin ${action.id}`);
    return this.inner.begin(action, atSeconds, undoes);
  }
  async update(id: string, change: ActionLogUpdate) {
    this.check(`${change.status} ${id}`);
    return this.inner.update(id, change);
  }
  get(id: string) {
    return this.inner.get(id);
  }
  list(filter?: Parameters<ActionLog['list']>[0]) {
    return this.inner.list(filter);
  }
}

describe('durable progress in SQLite', () => {
  const ids = plan.phases.flatMap((p) => p.actions.map((a) => a.id));
  it.each([
    ['between two actions (the next not yet logged)', `begin ${ids[3]}`],
    ['after sending, before the result was written', `succeeded ${ids[5]}`],
  ])('a crash %s resumes on a reopened store without sending any action twice', async (_label, crashCall) => {
    const path = join(tempDir('migrate'), 'headroom.db');
    const sim = initialSimulator(input());
    let db = new SqliteDb(path);
    let store = await SqlStore.open(db);
    await expect(executeMigration(input({ simulator: sim, log: new CrashingLog(store.actions, (c) => c === crashCall) }))).rejects.toThrow(`crash at ${crashCall}`);
    await db.close();

    db = new SqliteDb(path);
    store = await SqlStore.open(db);
    const run = await executeMigration(input({ simulator: sim, log: store.actions }));
    await db.close();
    expect(run.status).toBe('completed');
    // The simulator saw every action id exactly once, in plan order (a repeated id would appear twice).
    const sent = sim.log.map((r) => r.action.id).filter((id) => id.startsWith('exec/'));
    expect(sent).toEqual(ids);
    expect(run.log.map((e) => e.status)).toEqual(ids.map(() => 'succeeded'));
    expect(run.finalPlacement).toEqual(plan.final);
  });
});
