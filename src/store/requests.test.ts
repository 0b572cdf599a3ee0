import { describe, expect, it } from 'vitest';
import { storeLocations } from '../../test/support/stores.ts';
import { RequestThrottledError, type NewCapacityRequest, type SubmitLimits } from '../core/requests.ts';
import { queuePositions } from '../queue/decide.ts';
import { openStore } from './open.ts';
import type { Store } from './store.ts';

/**
 * The durable request queue under concurrent writers, on SQLite and on a real
 * PostgreSQL 15 server (Debian package `postgresql`, loopback port): the
 * queue lock makes idempotency and throttles exact, and a decision writes
 * only changes whose starting status still holds.
 */

const where = storeLocations('reqstore');

const engines: [string, () => Promise<Store>][] = [
  ['sqlite', () => openStore({ dataDir: where.sqliteDir() })],
  ['postgres', () => openStore({ databaseUrl: where.postgresUrl() })],
];

const limits: SubmitLimits = { submitsPerSecond: 1, burst: 4, maxQueued: 100, fallbackRetryAfterSeconds: 60 };
const request = (extra: Partial<NewCapacityRequest> = {}): NewCapacityRequest => ({ tenant: 't', cpuMillicores: 100, memoryMiB: 10, priority: 0, bodyHash: 'h', ...extra });

describe.each(engines)('request store on %s', (_engine, open) => {
  it('creates one request for one idempotency key however many submits race', async () => {
    const store = await open();
    const results = await Promise.all(Array.from({ length: 10 }, () => store.requests.submit(request({ idempotencyKey: 'same' }), limits, 5)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.request.id)).size).toBe(1);
    expect(await store.requests.list()).toHaveLength(1);
    await store.close();
  });

  it('lets exactly the burst through when submits race, and stores nothing of the throttled ones', async () => {
    const store = await open();
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => store.requests.submit(request({ bodyHash: `h${i}` }), limits, 5)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason);
    expect(refused).toHaveLength(6);
    for (const e of refused) expect(e).toBeInstanceOf(RequestThrottledError);
    expect(await store.requests.list()).toHaveLength(4);
    // One second later: one token back.
    await store.requests.submit(request(), limits, 6);
    await expect(store.requests.submit(request(), limits, 6)).rejects.toThrow('retry after 1 s');
    await store.close();
  });

  it('writes a decision only where the status it started from still holds; a decision that throws writes nothing', async () => {
    const store = await open();
    const a = (await store.requests.submit(request(), limits, 1)).request;
    const b = (await store.requests.submit(request({ durationSeconds: 30 }), limits, 1)).request;
    await store.requests.cancel(a.id, 2, 'cancelled');
    // A decision made from a stale view (a still queued) cannot grant it.
    const applied = await store.requests.decide(() => [
      { id: a.id, from: 'queued', to: 'granted', reason: 'stale' },
      { id: b.id, from: 'queued', to: 'granted', reason: 'fits' },
    ], 3);
    expect(applied.map((c) => c.id)).toEqual([b.id]);
    expect(await store.requests.get(a.id)).toMatchObject({ status: 'cancelled', finishedAtSeconds: 2 });
    expect(await store.requests.get(b.id)).toMatchObject({ status: 'granted', grantedAtSeconds: 3, endsAtSeconds: 33, reason: 'fits' });
    // The release of b is written, then the next change fails while being read: the transaction rolls the release back.
    const failing = { id: b.id, from: 'granted' as const, reason: 'x', get to(): 'released' { throw new Error('boom'); } };
    await expect(store.requests.decide(() => [{ id: b.id, from: 'granted', to: 'released', reason: 'ended' }, failing], 4)).rejects.toThrow('boom');
    expect(await store.requests.get(b.id)).toMatchObject({ status: 'granted', reason: 'fits' });
    expect((await store.requests.open()).map((r) => r.id)).toEqual([b.id]);
    await store.close();
  });

  it('counts a queued request\'s position in SQL exactly as the queue order ranks it', async () => {
    const store = await open();
    const big = { ...limits, burst: 1000, maxQueued: 1000 };
    // Few distinct values, so every tie-break (priority, deadline, none, submit time, id) is exercised.
    let seed = 7;
    const rand = (k: number) => ((seed = (seed * 16807) % 2147483647) % k);
    for (let i = 0; i < 60; i++) {
      const deadline = rand(3);
      await store.requests.submit(request({ priority: rand(3), ...(deadline ? { deadlineSeconds: 100 * deadline } : {}), bodyHash: `b${i}` }), big, rand(4));
    }
    const all = await store.requests.open();
    await store.requests.cancel(all[5].id, 9, 'cancelled');
    const queued = (await store.requests.open()).filter((r) => r.status === 'queued');
    const want = queuePositions(queued);
    for (const r of queued) expect(await store.requests.position(r)).toBe(want.get(r.id));
    await store.close();
  });
});
