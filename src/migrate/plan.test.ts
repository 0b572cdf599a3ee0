/**
 * Phased plans: a hand-computed plan, and property checks over several
 * hand-made graphs and budgets: disruption budgets and surge never exceeded,
 * the targets' capacity never exceeded, callers leave before their callees,
 * stateful services copy then cut over, every phase's rollback is its actions
 * inverted in reverse, and undoing every phase restores the placement exactly.
 */
import { describe, expect, it } from 'vitest';
import type { BudgetAmount, Placement } from '../core/migration.ts';
import type { Pool, Workload } from '../core/model.ts';
import { inverse } from '../core/plan.ts';
import { rollbackId } from '../drivers/executor.ts';
import { applyToPlacement, countIn, placementEquals } from './placement.ts';
import { budgetInstances, buildMigrationPlan, buildReturnPlan, checkPlan, graphLevels, type MigrationPlan } from './plan.ts';
import { pool, settings, workload } from './testFixtures.ts';

function plan(
  services: Workload[],
  edges: { from: string; to: string }[],
  initial: Placement,
  options: { budget?: { maxUnavailable: BudgetAmount; maxSurge: BudgetAmount }; stateful?: string[]; pools?: Pool[]; final?: Record<string, number>; targets?: string[]; initialNodes?: Record<string, number> } = {},
): MigrationPlan {
  const order = services.map((w) => w.name);
  const st = settings(order, { budget: options.budget, targets: options.targets, perService: Object.fromEntries((options.stateful ?? []).map((s) => [s, { stateful: true, dataMiB: 800 }])) });
  return buildMigrationPlan({
    workloads: services,
    pools: options.pools ?? [pool('a', 'z1'), pool('b', 'z2')],
    order,
    levels: graphLevels(order, edges),
    settings: st,
    initial,
    initialNodes: options.initialNodes ?? { a: 10, b: 0 },
    finalInstances: options.final ?? Object.fromEntries(order.map((s) => [s, Object.values(initial[s] ?? {}).reduce((a, b) => a + b, 0)])),
    decidedAtSeconds: 0,
    idPrefix: 't',
  });
}

describe('buildMigrationPlan: a hand-computed plan', () => {
  // fe → api → db; 25% surge, 0 unavailable (rounded: fe 4 → 1, api 6 → 2, db 1 → 1); db stateful with 800 MiB at 800 Mbit/s = 8 s.
  const ws = [workload('fe'), workload('api'), workload('db', { maxInstances: 1 })];
  const p = plan(ws, [{ from: 'fe', to: 'api' }, { from: 'api', to: 'db' }], { fe: { a: 4 }, api: { a: 6 }, db: { a: 1 } }, {
    budget: { maxUnavailable: { instances: 0 }, maxSurge: { percent: 25 } },
    stateful: ['db'],
    final: { fe: 4, api: 5, db: 1 },
    initialNodes: { a: 2, b: 0 },
  });

  it('adds capacity, moves callers first in batches of maxSurge, copies then cuts over, releases the source', () => {
    expect(p.phases.map((x) => x.description)).toEqual([
      'add nodes to b (0 → 2)', // (4 + 5 + 1) × 500m = 5 vCPU → 2 nodes of 4
      'start 1 fe in b',
      'stop 1 fe in a',
      'start 1 fe in b',
      'stop 1 fe in a',
      'start 1 fe in b',
      'stop 1 fe in a',
      'start 1 fe in b',
      'stop 1 fe in a',
      'start 2 api in b',
      'stop 2 api in a',
      'start 2 api in b',
      'stop 2 api in a',
      'start 1 api in b', // 5 wanted at the target: the last start is 1…
      'stop 2 api in a', // …and every one left at the source stops (6 → 5 in all)
      'copy db to b (800 MiB at 800 Mbit/s: 8.0 s)',
      'cut db over (stop in a; 30 s pause)',
      'release nodes of a (2 → 0)',
    ]);
    // Lead: 120 s provisioning + 18 soaks of 300 s + 8 s copy + 30 s pause.
    expect(p.leadSeconds).toBe(120 + 18 * 300 + 8 + 30);
    expect(p.final).toEqual({ api: { b: 5 }, db: { b: 1 }, fe: { b: 4 } });
    expect(p.finalNodes).toEqual({ a: 0, b: 2 });
    expect(p.limits).toEqual({ fe: { maxUnavailable: 0, maxSurge: 1 }, api: { maxUnavailable: 0, maxSurge: 2 }, db: { maxUnavailable: 0, maxSurge: 1 } });
    expect(checkPlan(p, ws, [pool('a', 'z1'), pool('b', 'z2')], ['a'])).toEqual([]);
  });

  it('each phase carries the exact undo: its actions inverted, in reverse, under the executor\'s rollback ids', () => {
    for (const phase of p.phases) {
      expect(phase.rollback).toEqual([...phase.actions].reverse().map((a) => inverse(a, rollbackId(a.id))));
      for (const a of phase.actions) expect(a.phase).toBe(phase.number);
    }
  });
});

describe('buildReturnPlan', () => {
  it('moves back exactly what was moved, by the same rules, numbering on from the move', () => {
    const ws = [workload('fe'), workload('api'), workload('db', { maxInstances: 1 }), workload('stay')];
    const order = ['fe', 'api', 'db', 'stay'];
    const edges = [{ from: 'fe', to: 'api' }, { from: 'api', to: 'db' }];
    const pools = [pool('a', 'z1'), pool('b', 'z2')];
    const st = settings(order, { perService: { db: { stateful: true, dataMiB: 800 } } });
    const initial = { fe: { a: 4 }, api: { a: 6 }, db: { a: 1 }, stay: { b: 3 } };
    const common = { workloads: ws, pools, order, levels: graphLevels(order, edges), settings: st, decidedAtSeconds: 0, idPrefix: 'm' };
    const move = buildMigrationPlan({ ...common, initial, initialNodes: { a: 2, b: 1 }, finalInstances: { fe: 4, api: 6, db: 1, stay: 3 } });
    const back = buildReturnPlan(move, { ...common, idPrefix: 'm/return' });
    expect(back.phases[0].number).toBe(move.phases.length + 1);
    expect(back.final).toEqual(initial); // "stay" never moved and is not touched
    expect(back.phases.flatMap((p) => p.actions).some((a) => 'workload' in a && a.workload === 'stay')).toBe(false);
    expect(checkPlan(back, ws, pools, ['b']).filter((v) => !v.problem.startsWith('stay still has'))).toEqual([]);
    // Capacity back at a first (11 × 500m → 2 nodes); b (14 × 500m = 7 vCPU on 2 nodes) is released down to the node "stay" needs.
    expect(back.phases[0].description).toBe('add nodes to a (0 → 2)');
    expect(back.phases[back.phases.length - 1].description).toBe('release nodes of b (2 → 1)');
    // Callers first again, and the stateful db copies before its cutover.
    expect(back.phases[1].description).toBe('start 1 fe in a');
    expect(back.phases.findIndex((p) => p.description.startsWith('copy db to a'))).toBe(back.phases.findIndex((p) => p.cutovers.includes('db')) - 1);
  });
});

describe('budgetInstances', () => {
  it.each([
    [{ percent: 25 }, 4, 'up', 1],
    [{ percent: 25 }, 5, 'up', 2],
    [{ percent: 25 }, 5, 'down', 1],
    [{ percent: 25 }, 3, 'down', 0],
    [{ percent: 100 }, 7, 'down', 7],
    [{ instances: 3 }, 100, 'up', 3],
  ] as const)('%j of %i rounded %s is %i', (amount, n, round, expected) => {
    expect(budgetInstances(amount, n, round)).toBe(expected);
  });
});

/** Hand-made graphs: a chain, a diamond, a fan-out with a stateful leaf, services already split across pools. */
const graphs: { name: string; services: Workload[]; edges: { from: string; to: string }[]; initial: Placement; stateful?: string[] }[] = [
  { name: 'chain', services: [workload('a1'), workload('a2'), workload('a3')], edges: [{ from: 'a1', to: 'a2' }, { from: 'a2', to: 'a3' }], initial: { a1: { a: 7 }, a2: { a: 3 }, a3: { a: 12 } } },
  {
    name: 'diamond',
    services: [workload('top'), workload('left'), workload('right'), workload('bottom', { cpu: 250, mem: 2048 })],
    edges: [{ from: 'top', to: 'left' }, { from: 'top', to: 'right' }, { from: 'left', to: 'bottom' }, { from: 'right', to: 'bottom' }],
    initial: { top: { a: 5 }, left: { a: 2 }, right: { a: 9 }, bottom: { a: 4 } },
  },
  {
    name: 'fan-out with a stateful store',
    services: [workload('gw'), workload('s1'), workload('s2'), workload('s3'), workload('store', { maxInstances: 1, mem: 4096 })],
    edges: [{ from: 'gw', to: 's1' }, { from: 'gw', to: 's2' }, { from: 'gw', to: 's3' }, { from: 's1', to: 'store' }, { from: 's3', to: 'store' }],
    initial: { gw: { a: 6 }, s1: { a: 1 }, s2: { a: 8 }, s3: { a: 3 }, store: { a: 1 } },
    stateful: ['store'],
  },
  {
    name: 'already spread over two zones',
    services: [workload('x'), workload('y')],
    edges: [{ from: 'x', to: 'y' }],
    initial: { x: { a: 4, b: 4 }, y: { a: 10, b: 1 } },
  },
];

const budgets: { maxUnavailable: BudgetAmount; maxSurge: BudgetAmount }[] = [
  { maxUnavailable: { instances: 0 }, maxSurge: { instances: 1 } },
  { maxUnavailable: { instances: 1 }, maxSurge: { instances: 0 } },
  { maxUnavailable: { percent: 25 }, maxSurge: { percent: 25 } },
  { maxUnavailable: { instances: 2 }, maxSurge: { percent: 50 } },
  { maxUnavailable: { percent: 10 }, maxSurge: { instances: 3 } },
];

describe('plans over hand-made graphs and budgets', () => {
  for (const g of graphs) {
    for (const budget of budgets) {
      for (const finalShift of [0, -1, 2]) {
        if (g.stateful && 'instances' in budget.maxSurge && budget.maxSurge.instances === 0) continue; // refused by the config (tested there)
        const label = `${g.name}, budget ${JSON.stringify(budget)}, final ${finalShift >= 0 ? '+' : ''}${finalShift}`;
        it(label, () => {
          const total = (s: string) => Object.values(g.initial[s] ?? {}).reduce((a, b) => a + b, 0);
          const final = Object.fromEntries(g.services.map((w) => [w.name, g.stateful?.includes(w.name) ? 1 : Math.max(1, total(w.name) + finalShift)]));
          const pools = [pool('a', 'z1'), pool('b', 'z2', { maxNodes: 50 })];
          const p = plan(g.services, g.edges, g.initial, { budget, stateful: g.stateful, final, pools, initialNodes: { a: 10, b: 2 } });
          // Budgets, surge, capacity, state matching, nothing left in the maintained pool.
          expect(checkPlan(p, g.services, pools, ['a'])).toEqual([]);
          // The final placement holds the sized counts.
          for (const w of g.services) expect(Object.values(p.final[w.name] ?? {}).reduce((a, b) => a + b, 0)).toBe(final[w.name]);
          // Callers first: whenever a callee has left the maintained pool, none of its callers is still there.
          for (const phase of p.phases) {
            for (const e of g.edges) {
              if (countIn(phase.placementAfter, e.from, ['a']) > 0) expect(countIn(phase.placementAfter, e.to, ['a']), `${e.from} → ${e.to} after phase ${phase.number}`).toBeGreaterThan(0);
            }
          }
          // Stateful: one copy phase before its cutover phase, never stopped before its copy runs.
          for (const s of g.stateful ?? []) {
            const copy = p.phases.findIndex((x) => x.description.startsWith(`copy ${s}`));
            const cut = p.phases.findIndex((x) => x.cutovers.includes(s));
            expect(copy).toBeGreaterThanOrEqual(0);
            expect(cut).toBe(copy + 1);
          }
          // Rolling every phase back, newest first, restores the initial placement exactly.
          let placement: Placement = p.final;
          for (const phase of [...p.phases].reverse()) for (const a of phase.rollback) placement = applyToPlacement(placement, a);
          expect(placementEquals(placement, g.initial)).toBe(true);
          // And from any phase: undoing phases k..1 from phase k's placement.
          for (let k = 0; k < p.phases.length; k++) {
            let at: Placement = p.phases[k].placementAfter;
            for (let j = k; j >= 0; j--) for (const a of p.phases[j].rollback) at = applyToPlacement(at, a);
            expect(placementEquals(at, g.initial)).toBe(true);
          }
        });
      }
    }
  }

  it('checkPlan catches a plan that breaks its surge limit', () => {
    const ws = [workload('s')];
    const p = plan(ws, [], { s: { a: 4 } }, { budget: { maxUnavailable: { instances: 0 }, maxSurge: { instances: 1 } } });
    const cheat = { ...p, limits: { s: { maxUnavailable: 0, maxSurge: 0 } } };
    expect(checkPlan(cheat, ws, [pool('a', 'z1'), pool('b', 'z2')], ['a']).some((v) => v.problem.includes('above 4 + maxSurge 0'))).toBe(true);
  });

  it('reports instances that do not fit the target quota as unplaced', () => {
    const ws = [workload('big', { cpu: 2000 })];
    const p = plan(ws, [], { big: { a: 6 } }, { pools: [pool('a', 'z1'), pool('b', 'z2', { maxNodes: 2 })], initialNodes: { a: 3, b: 0 } });
    // 2 nodes × 4000m hold 4 instances of 2000m.
    expect(p.unplaced).toEqual({ big: 2 });
    expect(p.final).toEqual({ big: { b: 4 } });
  });
});
