import { describe, expect, it } from 'vitest';
import type { CapacityRequest, ResourceAmounts } from '../core/requests.ts';
import type { Pool } from '../core/model.ts';
import { queueCapacity, type QueueCapacity } from './capacity.ts';
import { compareQueued, decideQueue, queuePositions, type TenantShare } from './decide.ts';
import { takeToken } from './throttle.ts';

let nextId = 1;
function req(tenant: string, amounts: ResourceAmounts, extra: Partial<CapacityRequest> = {}): CapacityRequest {
  return { id: nextId++, tenant, priority: 0, submittedAtSeconds: 0, status: 'queued', ...amounts, ...extra };
}
const cpu = (cpuMillicores: number, memoryMiB = 0): ResourceAmounts => ({ cpuMillicores, memoryMiB });
const only = (capacity: ResourceAmounts): QueueCapacity => ({ capacity, ceiling: capacity, planned: { cpuMillicores: 0, memoryMiB: 0 } });
const tenants = (entries: Record<string, Partial<TenantShare>>) =>
  new Map(Object.entries(entries).map(([t, s]) => [t, { weight: s.weight ?? 1, guaranteed: s.guaranteed ?? cpu(0) }]));
const grantedBy = (requests: readonly CapacityRequest[], ids: readonly number[]) => {
  const out: Record<string, number> = {};
  for (const id of ids) {
    const t = requests.find((r) => r.id === id)!.tenant;
    out[t] = (out[t] ?? 0) + 1;
  }
  return out;
};

describe('weighted dominant resource fairness', () => {
  it('reproduces the DRF example of Ghodsi et al. (2011): 9 CPU, 18 GB; A runs <1 CPU, 4 GB> tasks, B <3 CPU, 1 GB> → A 3 tasks, B 2', () => {
    nextId = 1;
    const GB = 1024;
    // Each task is one request; A's ten come first, then B's ten, all at priority 0 with no deadline.
    const requests = [...Array.from({ length: 10 }, () => req('A', cpu(1000, 4 * GB))), ...Array.from({ length: 10 }, () => req('B', cpu(3000, 1 * GB)))];
    const d = decideQueue({ nowSeconds: 0, capacity: only(cpu(9000, 18 * GB)), tenants: tenants({ A: {}, B: {} }), requests });
    expect(grantedBy(requests, d.grantedIds)).toEqual({ A: 3, B: 2 });
    // Progressive filling: A (tie at 0, A's request is first in queue order), B, A, B, A; then both next tasks exceed the 9 CPUs.
    expect(d.grantedIds.map((id) => requests.find((r) => r.id === id)!.tenant)).toEqual(['A', 'B', 'A', 'B', 'A']);
    // Dominant shares equalise at 2/3: A 12 of 18 GB, B 6 of 9 CPUs; 0 CPU and 4 GB stay free.
    expect(d.free).toEqual(cpu(0, 4 * GB));
  });

  it('gives a tenant of weight 2 twice the dominant share of a tenant of weight 1', () => {
    nextId = 1;
    // 12 CPUs; both ask 1 CPU per request. Hand-run progressive filling (A wins ties, its requests are first):
    // (A,B) = (1,0) (1,1) (2,1) (3,1) (3,2) (4,2) (5,2) (5,3) (6,3) (7,3) (7,4) (8,4): 8 and 4.
    const requests = [...Array.from({ length: 10 }, () => req('A', cpu(1000, 512))), ...Array.from({ length: 10 }, () => req('B', cpu(1000, 512)))];
    const d = decideQueue({ nowSeconds: 0, capacity: only(cpu(12000, 12288)), tenants: tenants({ A: { weight: 2 }, B: { weight: 1 } }), requests });
    expect(grantedBy(requests, d.grantedIds)).toEqual({ A: 8, B: 4 });
  });

  it('counts grants already held: a tenant with existing grants waits for one without', () => {
    nextId = 1;
    const held = req('A', cpu(4000, 1024), { status: 'granted', grantedAtSeconds: 0 });
    const a = req('A', cpu(2000, 1024));
    const b = req('B', cpu(2000, 1024), { submittedAtSeconds: 5 });
    const d = decideQueue({ nowSeconds: 10, capacity: only(cpu(8000, 8192)), tenants: tenants({ A: {}, B: {} }), requests: [held, a, b] });
    // 2 CPUs left after A's 4 and B's 2: B (share 0) goes first even though A's request is older; A's then fits exactly.
    expect(d.grantedIds).toEqual([b.id, a.id]);
    expect(d.free).toEqual(cpu(0, 5120));
  });
});

describe('queue order', () => {
  it('orders by priority, then deadline (none last), then submit time, then id', () => {
    nextId = 1;
    const rs = [
      req('t', cpu(1), { id: 1, priority: 0, deadlineSeconds: 100, submittedAtSeconds: 5 }),
      req('t', cpu(1), { id: 2, priority: 0, submittedAtSeconds: 1 }),
      req('t', cpu(1), { id: 3, priority: 5, submittedAtSeconds: 9 }),
      req('t', cpu(1), { id: 4, priority: 0, deadlineSeconds: 50, submittedAtSeconds: 7 }),
      req('t', cpu(1), { id: 5, priority: 0, deadlineSeconds: 100, submittedAtSeconds: 3 }),
      req('t', cpu(1), { id: 6, priority: 0, deadlineSeconds: 100, submittedAtSeconds: 3 }),
      req('t', cpu(1), { id: 7, priority: -1, deadlineSeconds: 1 }),
    ];
    expect([...rs].sort(compareQueued).map((r) => r.id)).toEqual([3, 4, 5, 6, 1, 2, 7]);
    expect([...queuePositions(rs)]).toEqual([[3, 1], [4, 2], [5, 3], [6, 4], [1, 5], [2, 6], [7, 7]]);
  });

  it('grants a higher priority first, whatever the submit order', () => {
    nextId = 1;
    const low = req('a', cpu(2000), { submittedAtSeconds: 1 });
    const high = req('b', cpu(3000), { submittedAtSeconds: 2, priority: 5 });
    const d = decideQueue({ nowSeconds: 3, capacity: only(cpu(4000, 1024)), tenants: tenants({ a: {}, b: {} }), requests: [low, high] });
    expect(d.grantedIds).toEqual([high.id]);
    expect(d.changes.find((c) => c.id === low.id)).toEqual({ id: low.id, from: 'queued', to: 'queued', reason: 'waiting for capacity: needs 2000m CPU, 0 MiB; free 1000m CPU, 1024 MiB' });
  });

  it('grants the earliest deadline first within a priority and a tenant', () => {
    nextId = 1;
    const late = req('a', cpu(3000), { deadlineSeconds: 500 });
    const soon = req('a', cpu(3000), { deadlineSeconds: 200 });
    const d = decideQueue({ nowSeconds: 0, capacity: only(cpu(4000, 1)), tenants: tenants({ a: {} }), requests: [late, soon] });
    expect(d.grantedIds).toEqual([soon.id]);
  });

  it('keeps a tenant\'s own order (its later requests wait behind one that does not fit) but lets other tenants pass', () => {
    nextId = 1;
    const big = req('a', cpu(5000));
    const small = req('a', cpu(500));
    const other = req('b', cpu(500), { submittedAtSeconds: 1 });
    // 4 CPUs now; the pools could hold 10 at quota if healthy, so the big request waits rather than being rejected.
    const d = decideQueue({ nowSeconds: 2, capacity: { ...only(cpu(4000, 1)), ceiling: cpu(10000, 1) }, tenants: tenants({ a: {}, b: {} }), requests: [big, small, other] });
    expect(d.grantedIds).toEqual([other.id]);
    expect(d.changes.find((c) => c.id === small.id)?.reason).toBe(`behind request ${big.id} of the same tenant (a tenant's requests are granted in queue order)`);
  });
});

describe('deadlines, durations, rejections', () => {
  it('expires a queued request after its deadline (granting is still allowed at the deadline itself)', () => {
    nextId = 1;
    const r = req('a', cpu(1000), { deadlineSeconds: 100 });
    const none = only(cpu(0, 0));
    const full = { ...none, ceiling: cpu(8000, 8192) };
    expect(decideQueue({ nowSeconds: 100, capacity: full, tenants: tenants({ a: {} }), requests: [r] }).changes).toEqual([{ id: r.id, from: 'queued', to: 'queued', reason: 'no healthy pool: every pool or its provider is failing' }]);
    expect(decideQueue({ nowSeconds: 100.5, capacity: full, tenants: tenants({ a: {} }), requests: [r] }).changes).toEqual([{ id: r.id, from: 'queued', to: 'expired', reason: 'not granted by its deadline 1970-01-01T00:01:40Z' }]);
    expect(decideQueue({ nowSeconds: 100, capacity: only(cpu(1000, 0)), tenants: tenants({ a: {} }), requests: [r] }).grantedIds).toEqual([r.id]);
  });

  it('releases a grant whose duration ended and hands its capacity to the queue in the same decision', () => {
    nextId = 1;
    const g = req('a', cpu(3000), { status: 'granted', grantedAtSeconds: 0, durationSeconds: 60, endsAtSeconds: 60 });
    const w = req('b', cpu(3000));
    expect(decideQueue({ nowSeconds: 59, capacity: only(cpu(4000, 0)), tenants: tenants({ a: {}, b: {} }), requests: [g, w] }).grantedIds).toEqual([]);
    const d = decideQueue({ nowSeconds: 60, capacity: only(cpu(4000, 0)), tenants: tenants({ a: {}, b: {} }), requests: [g, w] });
    expect(d.changes[0]).toEqual({ id: g.id, from: 'granted', to: 'released', reason: 'its duration of 60 s ended at 1970-01-01T00:01:00Z' });
    expect(d.grantedIds).toEqual([w.id]);
  });

  it('rejects requests of unknown tenants and requests larger than every pool at quota', () => {
    nextId = 1;
    const ghost = req('gone', cpu(1));
    const huge = req('a', cpu(1000, 9000));
    const d = decideQueue({ nowSeconds: 0, capacity: only(cpu(4000, 8192)), tenants: tenants({ a: {} }), requests: [ghost, huge] });
    expect(d.changes).toEqual([
      { id: ghost.id, from: 'queued', to: 'rejected', reason: 'tenant "gone" is no longer configured' },
      { id: huge.id, from: 'queued', to: 'rejected', reason: 'asks for 1000m CPU, 9000 MiB, more than all pools together hold at their quotas (4000m CPU, 8192 MiB)' },
    ]);
  });

  it('waits (does not reject) while no pool is configured', () => {
    nextId = 1;
    const r = req('a', cpu(1000));
    expect(decideQueue({ nowSeconds: 0, capacity: only(cpu(0, 0)), tenants: tenants({ a: {} }), requests: [r] }).changes).toEqual([{ id: r.id, from: 'queued', to: 'queued', reason: 'no pools are configured' }]);
  });

  it('writes a waiting reason only when it changed', () => {
    nextId = 1;
    const r = req('a', cpu(1000), { reason: 'no pools are configured' });
    expect(decideQueue({ nowSeconds: 0, capacity: only(cpu(0, 0)), tenants: tenants({ a: {} }), requests: [r] }).changes).toEqual([]);
  });
});

describe('guaranteed minimums', () => {
  it('holds an unused guarantee back from other tenants', () => {
    nextId = 1;
    const t = tenants({ g: { guaranteed: cpu(4000, 4096) }, b: {} });
    const big = req('b', cpu(8000, 1024));
    const d = decideQueue({ nowSeconds: 0, capacity: only(cpu(10000, 10240)), tenants: t, requests: [big] });
    expect(d.grantedIds).toEqual([]);
    expect(d.heldForGuarantees).toEqual(cpu(4000, 4096));
    expect(d.changes[0].reason).toBe('waiting for capacity: needs 8000m CPU, 1024 MiB; free 10000m CPU, 10240 MiB, of which 4000m CPU, 4096 MiB is held for guaranteed minimums');
    const fits = req('b', cpu(6000, 1024));
    expect(decideQueue({ nowSeconds: 0, capacity: only(cpu(10000, 10240)), tenants: t, requests: [fits] }).grantedIds).toEqual([fits.id]);
  });

  it('grants within a guarantee before higher priorities of other tenants', () => {
    nextId = 1;
    const t = tenants({ g: { guaranteed: cpu(4000, 4096) }, b: {} });
    const b1 = req('b', cpu(6000, 1024), { priority: 10 });
    const b2 = req('b', cpu(6000, 1024), { priority: 10 });
    const g1 = req('g', cpu(4000, 4096), { priority: 0, submittedAtSeconds: 9 });
    const d = decideQueue({ nowSeconds: 10, capacity: only(cpu(10000, 10240)), tenants: t, requests: [b1, b2, g1] });
    expect(d.grantedIds).toEqual([g1.id, b1.id]);
    expect(d.changes.find((c) => c.id === g1.id)?.reason).toBe('within the tenant\'s guaranteed minimum (4000m CPU, 4096 MiB)');
  });

  it('lets a tenant use its own unused guarantee beyond it only while the others\' stay free', () => {
    nextId = 1;
    // g's guarantee is 4 CPUs; it asks 6 (not within the guarantee), h holds a guarantee of 3 of the 10 CPUs.
    const t = tenants({ g: { guaranteed: cpu(4000, 0) }, h: { guaranteed: cpu(3000, 0) } });
    const g6 = req('g', cpu(6000, 0));
    expect(decideQueue({ nowSeconds: 0, capacity: only(cpu(10000, 100)), tenants: t, requests: [g6] }).grantedIds).toEqual([g6.id]);
    const g8 = req('g', cpu(8000, 0));
    expect(decideQueue({ nowSeconds: 0, capacity: only(cpu(10000, 100)), tenants: t, requests: [g8] }).grantedIds).toEqual([]);
  });
});

describe('queue capacity', () => {
  const pool = (name: string, provider: string, cpuMillicores: number, memoryMiB: number, maxNodes: number, health?: 'failing'): Pool => ({
    name, provider, zone: 'z', nodeType: { name: 'n', capacity: { cpuMillicores, memoryMiB } }, costPerHour: 1, provisioningDelaySeconds: 0, minNodes: 0, maxNodes, tags: [], ...(health ? { health } : {}),
  });
  it('counts healthy pools at quota, keeps failing ones in the ceiling, and subtracts the plan', () => {
    const pools = [pool('a', 'own', 4000, 16384, 10), pool('b', 'own', 2000, 4096, 5, 'failing'), pool('c', 'partner', 8000, 32768, 2)];
    const c = queueCapacity(pools, new Set(['partner']), { api: { a: 3, c: 1 }, removed: { a: 9 } }, { api: { cpuMillicores: 500, memoryMiB: 1024 } });
    expect(c).toEqual({ capacity: cpu(40000, 163840), ceiling: cpu(66000, 249856), planned: cpu(2000, 4096) });
  });
});

describe('token bucket', () => {
  // rate 0.5 per second, burst 2.
  const limits = { ratePerSecond: 0.5, burst: 2 };
  it.each([
    ['a new tenant starts full', undefined, 0, { ok: true, tokens: 1 }],
    ['one token left', { tokens: 1, updatedAtSeconds: 0 }, 0, { ok: true, tokens: 0 }],
    ['empty: wait 2 s for one token', { tokens: 0, updatedAtSeconds: 0 }, 0, { ok: false, retryAfterSeconds: 2 }],
    ['half refilled after 1 s: 1 s more', { tokens: 0, updatedAtSeconds: 0 }, 1, { ok: false, retryAfterSeconds: 1 }],
    ['refilled after 2 s', { tokens: 0, updatedAtSeconds: 0 }, 2, { ok: true, tokens: 0 }],
    ['capped at the burst after a long pause', { tokens: 0, updatedAtSeconds: 0 }, 1000, { ok: true, tokens: 1 }],
  ] as const)('%s', (_name, bucket, now, want) => {
    const r = takeToken(bucket, limits, now);
    expect(r.ok).toBe(want.ok);
    if (r.ok && 'tokens' in want) expect(r.bucket.tokens).toBeCloseTo(want.tokens, 9);
    if (!r.ok && 'retryAfterSeconds' in want) expect(r.retryAfterSeconds).toBe(want.retryAfterSeconds);
  });
});
