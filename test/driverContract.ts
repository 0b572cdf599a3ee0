/**
 * The behaviour every Driver must have, checked through the interface only
 * (apply and observe): an action id is carried out at most once, and a
 * permanent failure is reported the same way every time. A driver's test
 * calls `describeDriverContract` with a factory of a fresh driver whose
 * `workload` runs in `pool` with `initialInstances` desired.
 */
import { describe, expect, it } from 'vitest';
import type { Action } from '../src/core/plan.ts';
import type { Driver } from '../src/drivers/driver.ts';

export interface DriverUnderContract {
  readonly driver: Driver;
  readonly workload: string;
  readonly pool: string;
  readonly initialInstances: number;
  /** A second instance of the same driver, as after a restart (same outside state, empty memory). */
  readonly restarted: () => Driver;
  readonly close?: () => Promise<void>;
}

export function describeDriverContract(name: string, make: () => Promise<DriverUnderContract>): void {
  const scale = (id: string, workload: string, pool: string, fromInstances: number, toInstances: number): Action => ({
    id,
    kind: 'scaleWorkload',
    decidedAtSeconds: 0,
    phase: 0,
    reason: 'contract',
    workload,
    pool,
    fromInstances,
    toInstances,
  });

  describe(`Driver contract: ${name}`, () => {
    it('carries out an id at most once: resending an old id after a newer action changes nothing', async () => {
      const t = await make();
      try {
        const n = t.initialInstances;
        const x = scale('contract-x', t.workload, t.pool, n, n + 2);
        const y = scale('contract-y', t.workload, t.pool, n + 2, n + 4);
        expect(await t.driver.apply(x)).toEqual({ ok: true });
        expect((await t.driver.observe()).desiredInstances[t.workload][t.pool]).toBe(n + 2);
        expect(await t.driver.apply(y)).toEqual({ ok: true });
        expect(await t.driver.apply(x)).toEqual({ ok: true });
        expect((await t.driver.observe()).desiredInstances[t.workload][t.pool]).toBe(n + 4);
        expect(await t.restarted().apply(x)).toEqual({ ok: true });
        expect((await t.driver.observe()).desiredInstances[t.workload][t.pool]).toBe(n + 4);
      } finally {
        await t.close?.();
      }
    });

    it('reports a permanent failure (unknown workload) as not retryable, the same way when asked again', async () => {
      const t = await make();
      try {
        const bad = scale('contract-bad', 'no-such-workload', t.pool, 0, 1);
        const first = await t.driver.apply(bad);
        expect(first.ok).toBe(false);
        expect(first.retryable).toBe(false);
        expect(first.error).toContain('no-such-workload');
        expect(await t.driver.apply(bad)).toEqual(first);
      } finally {
        await t.close?.();
      }
    });
  });
}
