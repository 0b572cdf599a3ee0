import { describe, expect, it } from 'vitest';
import type { Allocation } from '../core/plan.ts';
import type { ObservedState } from '../drivers/driver.ts';
import { diffAllocation } from './diff.ts';
import { reconcileActions } from './reconcile.ts';

const opts = { decidedAtSeconds: 0, idPrefix: 't', reason: 'test' };
const alloc = (nodesByPool: Record<string, number>, instances: Record<string, Record<string, number>>): Allocation => ({
  nodesByPool,
  instances,
  costPerHour: 0,
  shortfall: {},
});

describe('diffAllocation', () => {
  it('orders add nodes, add instances, remove instances, remove nodes', () => {
    const actions = diffAllocation(
      { nodesByPool: { a: 2, b: 0 }, instances: { w: { a: 3 } } },
      alloc({ a: 0, b: 1 }, { w: { b: 3 } }),
      opts,
    );
    expect(actions.map((a) => [a.phase, a.kind, 'pool' in a ? a.pool : ''])).toEqual([
      [0, 'scaleNodes', 'b'],
      [1, 'scaleWorkload', 'b'],
      [2, 'scaleWorkload', 'a'],
      [3, 'scaleNodes', 'a'],
    ]);
    expect(new Set(actions.map((a) => a.id)).size).toBe(4);
  });

  it('is empty when the target is what is there', () => {
    expect(diffAllocation({ nodesByPool: { a: 1 }, instances: { w: { a: 2 } } }, alloc({ a: 1 }, { w: { a: 2 } }), opts)).toEqual([]);
  });
});

describe('reconcileActions (make before break)', () => {
  const moving: ObservedState = {
    timeSeconds: 0,
    readyNodesByPool: { a: 2, b: 0 },
    pendingNodesByPool: { a: 0, b: 0 },
    runningInstances: { w: { a: 3 } },
    desiredInstances: { w: { a: 3 } },
  };
  const target = alloc({ a: 0, b: 1 }, { w: { b: 3 } });

  it('adds the new capacity but keeps the old instances and nodes while the new nodes boot', () => {
    const step = reconcileActions(moving, target, opts);
    expect(step.actions.map((a) => [a.kind, a.phase])).toEqual([
      ['scaleNodes', 0],
      ['scaleWorkload', 1],
    ]);
    expect(step.waiting).toEqual(['w']);
  });

  it('removes the old ones once the replacements run', () => {
    const after: ObservedState = {
      ...moving,
      readyNodesByPool: { a: 2, b: 1 },
      runningInstances: { w: { a: 3, b: 3 } },
      desiredInstances: { w: { a: 3, b: 3 } },
    };
    const step = reconcileActions(after, target, opts);
    expect(step.waiting).toEqual([]);
    expect(step.actions.map((a) => [a.kind, a.phase])).toEqual([
      ['scaleWorkload', 2],
      ['scaleNodes', 3],
    ]);
  });

  it('does not hold back a pure scale-down', () => {
    const step = reconcileActions(moving, alloc({ a: 1, b: 0 }, { w: { a: 1 } }), opts);
    expect(step.actions.map((a) => a.kind)).toEqual(['scaleWorkload', 'scaleNodes']);
  });

  it('does not wait when no capacity for the replacements is on its way', () => {
    // Target pool b already has its (full) node and nothing pending: waiting cannot help.
    const stuck: ObservedState = { ...moving, readyNodesByPool: { a: 2, b: 1 }, desiredInstances: { w: { a: 3, b: 3 } } };
    const step = reconcileActions(stuck, alloc({ a: 0, b: 1 }, { w: { b: 3 } }), opts);
    expect(step.waiting).toEqual([]);
    expect(step.actions.some((a) => a.kind === 'scaleWorkload' && a.toInstances === 0)).toBe(true);
  });

  it('removes anyway when forced (grace expired)', () => {
    const step = reconcileActions(moving, target, { ...opts, forceRemovals: true });
    expect(step.actions.map((a) => a.phase)).toEqual([0, 1, 2, 3]);
  });
});
