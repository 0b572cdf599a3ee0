import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { storeLocations } from '../../test/support/stores.ts';
import { main } from '../cli/main.ts';
import { RequestQueue } from '../queue/service.ts';
import { openStore, type OpenStoreOptions } from '../store/open.ts';
import type { Store } from '../store/store.ts';
import { bootstrapAdminToken, issueToken } from './auth.ts';
import { ServiceMetrics } from './metrics.ts';
import { buildApi } from './server.ts';

/**
 * The capacity-request API end to end, on the embedded SQLite store and on a
 * real PostgreSQL 15 server started for this file (Debian package
 * `postgresql`, loopback port): submit, fate, list, cancel, idempotency,
 * throttles (429 + Retry-After), deadlines, restarts, bad input.
 *
 * Capacity: one pool of 4-core, 16 GiB nodes with a quota of 3 nodes, so the
 * queue can grant 12000m CPU and 49152 MiB; workload `api` is 500m, 512 MiB
 * per instance.
 */

const pool = { name: 'general', cpuMillicores: 4000, memoryMiB: 16384, costPerHour: 0.192, maxNodes: 3 };
const workload = { name: 'api', serviceTimeSeconds: 0.05, cpuMillicores: 500, memoryMiB: 512, slo: { maxUtilization: 0.7 } };
const tenants = [
  // 6 submits a minute (one token per 10 s), bursts of 3.
  { name: 'alpha', throttle: { submitsPerMinute: 6, burst: 3, maxQueued: 2 } },
  { name: 'beta', weight: 2, maxPriority: 5 },
  { name: 'gold', guaranteed: { cpuMillicores: '2 cores', memoryMiB: '2 GiB' } },
];

const where = storeLocations('requests');

interface Harness {
  store: Store;
  app: FastifyInstance;
  queue: RequestQueue;
  metrics: ServiceMetrics;
  clock: { now: number };
  operator: string;
  viewer: string;
  target: OpenStoreOptions;
}

async function start(target: OpenStoreOptions, clock = { now: 1000 }, tokens?: { operator: string; viewer: string }): Promise<Harness> {
  const store = await openStore(target);
  const metrics = new ServiceMetrics();
  const now = () => clock.now;
  const queue = new RequestQueue({ store, now, registry: metrics.registry });
  const app = await buildApi({ store, metrics, queue, now });
  if (!tokens) {
    await bootstrapAdminToken(store, 1);
    tokens = { operator: (await issueToken(store, 'ops', 'operator', 1)).secret, viewer: (await issueToken(store, 'dash', 'viewer', 1)).secret };
    const applied = await app.inject({ method: 'POST', url: '/v1/apply', headers: auth(tokens.operator), payload: { pools: [pool], workloads: [workload], tenants } });
    expect(applied.statusCode).toBe(200);
  }
  return { store, app, queue, metrics, clock, ...tokens, target };
}
async function stop(h: Harness) {
  await h.app.close();
  await h.store.close();
}

const auth = (t: string) => ({ authorization: `Bearer ${t}` });
const submit = (h: Harness, payload: Record<string, unknown>, headers: Record<string, string> = {}) => h.app.inject({ method: 'POST', url: '/v1/requests', headers: { ...auth(h.operator), ...headers }, payload });
const get = (h: Harness, url: string) => h.app.inject({ method: 'GET', url, headers: auth(h.viewer) });

const engines: [string, () => OpenStoreOptions][] = [
  ['sqlite', () => ({ dataDir: where.sqliteDir() })],
  ['postgres', () => ({ databaseUrl: where.postgresUrl() })],
];

describe.each(engines)('capacity requests on %s', (_engine, target) => {
  let h: Harness;
  afterEach(async () => {
    if (h) await stop(h).catch(() => undefined);
  });

  it('submits, grants what fits at once, queues the rest with its position, lists, and cancels', async () => {
    h = await start(target());
    // 4 instances of api: 2000m, 2048 MiB; fits, granted on submit.
    const first = await submit(h, { tenant: 'beta', workload: 'api', instances: 4 });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ id: 1, tenant: 'beta', workload: 'api', instances: 4, cpuMillicores: 2000, memoryMiB: 2048, status: 'granted', submittedAtSeconds: 1000, grantedAtSeconds: 1000 });
    // 11 cores do not fit next to beta's 2 (and gold's guaranteed 2 is held back): queued, first in line.
    const big = await submit(h, { tenant: 'alpha', cpuMillicores: '11 cores', memoryMiB: 1024, priority: 1 });
    expect(big.statusCode).toBe(201);
    expect(big.json()).toMatchObject({ id: 2, status: 'queued', position: 1, cpuMillicores: 11000 });
    expect(big.json().reason).toBe('waiting for capacity: needs 11000m CPU, 1024 MiB; free 10000m CPU, 47104 MiB, of which 2000m CPU, 2048 MiB is held for guaranteed minimums');
    // A smaller request of another tenant at priority 0 passes it; a tenant's own order would not.
    const small = await submit(h, { tenant: 'beta', cpuMillicores: 1000, memoryMiB: 512 });
    expect(small.json()).toMatchObject({ id: 3, status: 'granted' });

    const one = await get(h, '/v1/requests/2');
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ id: 2, status: 'queued', position: 1 });
    expect((await get(h, '/v1/requests?status=queued')).json().requests.map((r: { id: number }) => r.id)).toEqual([2]);
    expect((await get(h, '/v1/requests?tenant=beta')).json().requests.map((r: { id: number }) => r.id)).toEqual([3, 1]);
    expect((await get(h, '/v1/requests?status=granted,queued&limit=2')).json().requests).toHaveLength(2);
    expect((await get(h, '/v1/requests/99')).statusCode).toBe(404);
    const badStatus = await get(h, '/v1/requests?status=done');
    expect(badStatus.statusCode).toBe(400);
    expect(badStatus.json().issues[0].where).toBe('querystring.status');
    expect((await get(h, '/v1/queue')).json()).toEqual({
      capacity: { cpuMillicores: 12000, memoryMiB: 49152 },
      ceiling: { cpuMillicores: 12000, memoryMiB: 49152 },
      planned: { cpuMillicores: 0, memoryMiB: 0 },
      granted: { cpuMillicores: 3000, memoryMiB: 2560 },
      free: { cpuMillicores: 9000, memoryMiB: 46592 },
      heldForGuarantees: { cpuMillicores: 2000, memoryMiB: 2048 },
      queuedRequests: 1,
      grantedRequests: 2,
    });

    // Cancelling beta's 4 instances frees 2 cores: 12 − 1 − 2 (gold) = 9 < 11, still waiting; cancelling the 1 core too: 10 < 11 still.
    const cancelled = await h.app.inject({ method: 'DELETE', url: '/v1/requests/1', headers: auth(h.operator) });
    expect(cancelled.json()).toMatchObject({ id: 1, status: 'cancelled', reason: 'cancelled; its grant was released', finishedAtSeconds: 1000 });
    expect((await get(h, '/v1/requests/2')).json().status).toBe('queued');
    // Gold's guarantee shrinks to nothing once gold holds it: a request within it is granted before alpha's higher priority.
    expect((await submit(h, { tenant: 'gold', cpuMillicores: 2000, memoryMiB: 2048 })).json()).toMatchObject({ status: 'granted', reason: "within the tenant's guaranteed minimum (2000m CPU, 2048 MiB)" });
    h.clock.now = 1010;
    const viaPost = await h.app.inject({ method: 'POST', url: '/v1/requests/3/cancel', headers: auth(h.operator), payload: { reason: 'done with it' } });
    expect(viaPost.json()).toMatchObject({ status: 'cancelled', reason: 'cancelled: done with it; its grant was released', finishedAtSeconds: 1010 });
    // 12 − 2 (gold) = 10 free: alpha's 11 cores still wait. Cancelling gold's request frees 2 more, but they stay held
    // for gold's unused guarantee (12 − 11 = 1 < 2); a bigger quota grants it on the next decision.
    await h.app.inject({ method: 'DELETE', url: '/v1/requests/4', headers: auth(h.operator) });
    expect((await get(h, '/v1/requests/2')).json()).toMatchObject({ status: 'queued', reason: 'waiting for capacity: needs 11000m CPU, 1024 MiB; free 12000m CPU, 49152 MiB, of which 2000m CPU, 2048 MiB is held for guaranteed minimums' });
    await h.app.inject({ method: 'PUT', url: '/v1/pools/general', headers: auth(h.operator), payload: { ...pool, maxNodes: 4 } });
    expect((await h.queue.process()).transitions).toEqual([{ id: 2, from: 'queued', to: 'granted', reason: 'priority 1; fair share: the tenant\'s weighted dominant share was 0.0%, the lowest among tenants waiting at this priority' }]);
    expect((await get(h, '/v1/requests/2')).json()).toMatchObject({ status: 'granted', grantedAtSeconds: 1010 });
    const again = await h.app.inject({ method: 'DELETE', url: '/v1/requests/1', headers: auth(h.operator) });
    expect(again.statusCode).toBe(409);
    expect(again.json().message).toBe('request 1 is already cancelled (cancelled; its grant was released)');

    // Roles: a viewer reads but cannot submit or cancel.
    expect((await h.app.inject({ method: 'POST', url: '/v1/requests', headers: auth(h.viewer), payload: { tenant: 'beta', cpuMillicores: 1 } })).statusCode).toBe(403);
    expect((await h.app.inject({ method: 'DELETE', url: '/v1/requests/2', headers: auth(h.viewer) })).statusCode).toBe(403);

    const metrics = (await h.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('headroom_request_grants_total{tenant="beta"} 2');
    expect(metrics).toContain('headroom_request_grants_total{tenant="alpha"} 1');
    expect(metrics).toContain('headroom_requests_queued{tenant="alpha"} 0');
  });

  it('treats the same idempotency key as one request; the key with another body is a conflict', async () => {
    h = await start(target());
    const body = { tenant: 'beta', cpuMillicores: 1000, idempotencyKey: 'k-1' };
    const a = await submit(h, body);
    const b = await submit(h, body);
    expect(a.statusCode).toBe(201);
    expect(b.statusCode).toBe(200);
    expect(b.json().id).toBe(a.json().id);
    const conflict = await submit(h, { ...body, cpuMillicores: 2000 });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().message).toBe('idempotency key "k-1" of tenant "beta" was used for request 1 with a different body');
    // The header works the same way, and the same key of another tenant is another request.
    const viaHeader = await submit(h, { tenant: 'beta', cpuMillicores: 1000 }, { 'idempotency-key': 'k-1' });
    expect(viaHeader.statusCode).toBe(200);
    expect((await submit(h, { tenant: 'alpha', cpuMillicores: 1000, idempotencyKey: 'k-1' })).statusCode).toBe(201);
    expect(await h.store.requests.list()).toHaveLength(2);
  });

  it('throttles a tenant with 429 and Retry-After naming the limit, storing nothing', async () => {
    h = await start(target());
    for (let i = 0; i < 2; i++) expect((await submit(h, { tenant: 'alpha', cpuMillicores: 100 })).statusCode).toBe(201);
    // Burst 3: the third passes, the fourth at the same second is refused; one token per 10 s.
    expect((await submit(h, { tenant: 'alpha', cpuMillicores: 100 })).statusCode).toBe(201);
    const refused = await submit(h, { tenant: 'alpha', cpuMillicores: 100 });
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('10');
    expect(refused.json()).toMatchObject({ error: 'Throttled', limit: 'submitsPerMinute', retryAfterSeconds: 10 });
    expect(refused.json().message).toBe('tenant "alpha" submits faster than its throttle allows (throttle.submitsPerMinute = 6, burst 3); retry after 10 s');
    expect(await h.store.requests.list({ tenant: 'alpha' })).toHaveLength(3);
    // A repeated idempotency key is not a new submit: no token needed.
    h.clock.now = 1004;
    expect((await submit(h, { tenant: 'alpha', cpuMillicores: 100 })).headers['retry-after']).toBe('6');
    h.clock.now = 1010;
    expect((await submit(h, { tenant: 'alpha', cpuMillicores: 100 })).statusCode).toBe(201);

    // maxQueued 2: two requests that cannot be granted yet wait; the third is refused until the earliest deadline frees a slot.
    h.clock.now = 2000;
    expect((await submit(h, { tenant: 'alpha', cpuMillicores: 11000, maxWaitSeconds: 300 })).json().status).toBe('queued');
    expect((await submit(h, { tenant: 'alpha', cpuMillicores: 11000, maxWaitSeconds: '2m' })).json().status).toBe('queued');
    const full = await submit(h, { tenant: 'alpha', cpuMillicores: 11000 });
    expect(full.statusCode).toBe(429);
    expect(full.headers['retry-after']).toBe('120');
    expect(full.json().message).toBe('tenant "alpha" already has 2 requests queued (throttle.maxQueued = 2); retry after 120 s');
    expect(await h.store.requests.list({ tenant: 'alpha' })).toHaveLength(6);
    const metrics = (await h.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('headroom_request_rejections_total{reason="throttled-rate"} 2');
    expect(metrics).toContain('headroom_request_rejections_total{reason="throttled-queue"} 1');
  });

  it('expires a request not granted by its deadline, and releases a grant when its duration ends', async () => {
    h = await start(target());
    const lease = await submit(h, { tenant: 'beta', cpuMillicores: '8 cores', durationSeconds: '1m' });
    expect(lease.json()).toMatchObject({ status: 'granted', endsAtSeconds: 1060 });
    const waits = await submit(h, { tenant: 'alpha', cpuMillicores: '9 cores', maxWaitSeconds: 30 });
    expect(waits.json()).toMatchObject({ status: 'queued', deadlineSeconds: 1030 });
    const patient = await submit(h, { tenant: 'alpha', cpuMillicores: '9 cores', deadline: '1970-01-01T00:30:00Z' });
    expect(patient.json()).toMatchObject({ status: 'queued', deadlineSeconds: 1800 });
    h.clock.now = 1031;
    const r1 = await h.queue.process();
    expect(r1.transitions).toEqual([{ id: 2, from: 'queued', to: 'expired', reason: 'not granted by its deadline 1970-01-01T00:17:10Z' }]);
    expect((await get(h, '/v1/requests/2')).json()).toMatchObject({ status: 'expired', finishedAtSeconds: 1031 });
    expect((await get(h, '/v1/requests/3')).json()).toMatchObject({ status: 'queued', position: 1 });
    h.clock.now = 1060;
    const r2 = await h.queue.process();
    expect(r2.transitions.map((t) => [t.id, t.to])).toEqual([[1, 'released'], [3, 'granted']]);
    const metrics = (await h.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('headroom_request_expirations_total{tenant="alpha"} 1');
  });

  it('keeps the queue across a restart', async () => {
    const t = target();
    h = await start(t);
    await submit(h, { tenant: 'alpha', cpuMillicores: 11000, memoryMiB: 100 });
    await submit(h, { tenant: 'beta', cpuMillicores: 11000, memoryMiB: 100, priority: 3 });
    const tokens = { operator: h.operator, viewer: h.viewer };
    await stop(h);
    h = await start(t, { now: 5000 }, tokens);
    // beta's at priority 3 is first in line. More capacity (a second pool) grants it on the next decision.
    expect((await get(h, '/v1/requests?status=queued')).json().requests.map((r: { id: number; position: number }) => [r.id, r.position])).toEqual([[2, 1], [1, 2]]);
    await h.app.inject({ method: 'PUT', url: '/v1/pools/more', headers: auth(h.operator), payload: { ...pool, name: 'more', maxNodes: 1 } });
    const d = await h.queue.process();
    expect(d.transitions.map((x) => [x.id, x.to])).toEqual([[2, 'granted']]);
    expect((await get(h, '/v1/requests/1')).json()).toMatchObject({ status: 'queued', position: 1 });
  });

  it('refuses bad input with 4xx naming the field, storing nothing', async () => {
    h = await start(target());
    const cases: [Record<string, unknown>, string, string][] = [
      [{ tenant: 'beta', cpuMillicores: -500 }, 'body.cpuMillicores', '"-500" is negative; accepted units: cores, vCPU, m, millicores (a plain number means millicores)'],
      [{ tenant: 'beta', memoryMiB: '0 GiB' }, 'body.memoryMiB', 'must be more than 0, got "0 GiB"'],
      [{ tenant: 'beta', cpuMillicores: 'lots' }, 'body.cpuMillicores', '"lots" is not a number with a unit; accepted units: cores, vCPU, m, millicores (a plain number means millicores)'],
      [{ tenant: 'nobody', cpuMillicores: 500 }, 'body.tenant', 'no tenant named "nobody" is configured (tenants: alpha, beta, gold)'],
      [{ tenant: 'beta', workload: 'nope', instances: 2 }, 'body.workload', 'no workload named "nope" is configured'],
      [{ tenant: 'beta', cpuMillicores: 5, priority: 9 }, 'body.priority', '9 is above tenant "beta"\'s maxPriority (5)'],
      [{ tenant: 'beta', cpuMillicores: 5, priority: 1.5 }, 'body.priority', 'Expected integer, received float'],
      [{ tenant: 'beta', workload: 'api' }, 'body.instances', 'is required with workload'],
      [{ tenant: 'beta', workload: 'api', instances: -2 }, 'body.instances', 'must be at least 1'],
      [{ tenant: 'beta', workload: 'api', instances: 1, cpuMillicores: 5 }, 'body.workload', 'give workload and instances, or cpuMillicores/memoryMiB, not both'],
      [{ tenant: 'beta' }, 'body', 'give workload and instances, or cpuMillicores and/or memoryMiB'],
      [{ tenant: 'beta', cpuMillicores: 5, maxWaitSeconds: 'soon' }, 'body.maxWaitSeconds', '"soon" is not a duration (use seconds or e.g. "90s", "5m", "1h", "7d")'],
      [{ tenant: 'beta', cpuMillicores: 5, deadline: 10 }, 'body.deadline', '1970-01-01T00:00:10.000Z is in the past'],
      [{ tenant: 'beta', cpuMillicores: 5, cpus: 3 }, 'body', 'unknown key "cpus"'],
    ];
    for (const [payload, where, problem] of cases) {
      const r = await submit(h, payload);
      expect(r.statusCode, JSON.stringify(payload)).toBe(400);
      expect(r.json().issues[0], JSON.stringify(payload)).toEqual({ where, problem });
    }
    const oversized = await submit(h, { tenant: 'beta', cpuMillicores: 5, idempotencyKey: 'x'.repeat(70_000) });
    expect(oversized.statusCode).toBe(413);
    expect(oversized.json().message).toBe('request body is larger than the limit of 65536 bytes');
    expect(await h.store.requests.list()).toEqual([]);
    expect((await h.app.inject({ method: 'GET', url: '/metrics' })).body).toContain('headroom_request_rejections_total{reason="invalid"} 4');
  });
});

describe('request CLI and OpenAPI', () => {
  it('lists the request routes and the tenant schema in the OpenAPI document', async () => {
    const h = await start({ dataDir: where.sqliteDir() });
    const doc = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/requests', '/v1/requests/{id}', '/v1/requests/{id}/cancel', '/v1/queue', '/v1/tenants/{name}']));
    expect(JSON.stringify(doc.paths['/v1/requests'].post.requestBody.content['application/json'].schema)).toContain('maxWaitSeconds');
    expect(JSON.stringify(doc.paths['/v1/apply'].post.requestBody.content['application/json'].schema)).toContain('submitsPerMinute');
    await stop(h);
  });

  it('runs `headroom request submit/list/show/cancel` against a listening server', async () => {
    const h = await start({ dataDir: where.sqliteDir() });
    const url = await h.app.listen({ host: '127.0.0.1', port: 0 });
    let stdout = '';
    let stderr = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((stdout += String(c)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((stderr += String(c)), true));
    const cli = (...args: string[]) => main([...args, '--url', url, '--token', h.operator]);
    try {
      expect(await cli('request', 'submit', '--tenant', 'beta', '--workload', 'api', '--instances', '2')).toBe(0);
      expect(stdout).toContain('request 1 (beta): granted (priority 0; fair share');
      stdout = '';
      expect(await cli('request', 'submit', '--tenant', 'alpha', '--cpu', '11 cores', '--max-wait', '10m', '--idempotency-key', 'k')).toBe(0);
      expect(stdout).toBe('request 2 (alpha): queued, position 1 (waiting for capacity: needs 11000m CPU, 0 MiB; free 11000m CPU, 48128 MiB, of which 2000m CPU, 2048 MiB is held for guaranteed minimums)\n');
      stdout = '';
      expect(await cli('request', 'list', '--status', 'queued')).toBe(0);
      expect(stdout.split('\n')[0]).toMatch(/^id\s+tenant\s+status\s+position/);
      expect(stdout).toContain('2   alpha   queued');
      stdout = '';
      expect(await cli('request', 'show', '2')).toBe(0);
      expect(stdout).toContain('deadline:        1970-01-01T00:26:40Z');
      stdout = '';
      expect(await cli('request', 'queue')).toBe(0);
      expect(stdout).toContain('free                      11000         48128');
      expect(stdout).toContain('1 queued, 1 granted');
      stdout = '';
      expect(await cli('request', 'cancel', '2', '--reason', 'not needed')).toBe(0);
      expect(stdout).toBe('request 2 (alpha): cancelled (cancelled: not needed)\n');
      expect(await cli('request', 'submit', '--tenant', 'beta', '--cpu', '-1')).toBe(2);
      expect(stderr).toBe('headroom: error: POST /v1/requests: 400: body.cpuMillicores: "-1" is negative; accepted units: cores, vCPU, m, millicores (a plain number means millicores)\n');
    } finally {
      vi.restoreAllMocks();
      await stop(h);
    }
  });
});
