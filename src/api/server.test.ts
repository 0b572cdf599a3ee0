import { rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../store/open.ts';
import type { Store } from '../store/store.ts';
import { bootstrapAdminToken, issueToken } from './auth.ts';
import { createLogger } from './logger.ts';
import { ServiceMetrics } from './metrics.ts';
import { buildApi, checkSamplesBody, samplesBody } from './server.ts';
import { InvalidInputError } from '../core/errors.ts';
import { tempDir } from '../../test/helpers.ts';

const pool = { name: 'general', cpuMillicores: 4000, memoryMiB: 16384, costPerHour: 0.192 };
const workload = { name: 'api', serviceTimeSeconds: 0.05, cpuMillicores: 500, memoryMiB: 512, slo: { maxUtilization: 0.7 } };

let dir: string;
let store: Store;
let app: FastifyInstance;
let logText: string;
let admin: string;
let operator: string;
let viewer: string;

async function setup(bodyLimitBytes?: number) {
  dir = tempDir('api');
  store = await openStore({ dataDir: dir });
  logText = '';
  const stream = new Writable({ write(chunk, _enc, cb) { logText += chunk.toString(); cb(); } });
  app = await buildApi({ store, metrics: new ServiceMetrics(), logger: createLogger({ stream, level: 'debug' }), bodyLimitBytes, now: () => 1000 });
  admin = (await bootstrapAdminToken(store, 1)).generatedSecret!;
  operator = (await issueToken(store, 'ops', 'operator', 1)).secret;
  viewer = (await issueToken(store, 'dash', 'viewer', 1)).secret;
}

const auth = (t: string) => ({ authorization: `Bearer ${t}` });

describe('HTTP API', () => {
  beforeEach(async () => setup());
  afterEach(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves an OpenAPI document generated from the request schemas', async () => {
    const r = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(r.statusCode).toBe(200);
    const doc = r.json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/apply', '/v1/samples', '/v1/workloads/{name}', '/v1/actions', '/v1/plans/{id}', '/v1/tenants/{name}', '/v1/requests', '/v1/requests/{id}', '/v1/requests/{id}/cancel', '/v1/queue']));
    // The pool schema's fields (from the scenario format) are in the apply body.
    const body = doc.paths['/v1/apply'].post.requestBody.content['application/json'].schema;
    expect(JSON.stringify(body)).toContain('provisioningDelaySeconds');
  });

  it('checks tokens and roles: viewer reads, operator writes, admin manages tokens', async () => {
    expect((await app.inject({ method: 'GET', url: '/v1/pools' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/v1/pools', headers: auth('hr_wrong') })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/v1/pools', headers: auth(viewer) })).statusCode).toBe(200);
    const put = (t: string) => app.inject({ method: 'PUT', url: '/v1/pools/general', headers: auth(t), payload: pool });
    const denied = await put(viewer);
    expect(denied.statusCode).toBe(403);
    expect(denied.json().message).toContain('operator');
    expect((await put(operator)).statusCode).toBe(200);
    expect((await app.inject({ method: 'POST', url: '/v1/tokens', headers: auth(operator), payload: { name: 'x', role: 'viewer' } })).statusCode).toBe(403);
    const created = await app.inject({ method: 'POST', url: '/v1/tokens', headers: auth(admin), payload: { name: 'x', role: 'viewer' } });
    expect(created.statusCode).toBe(201);
    const secret = created.json().token as string;
    expect(secret).toMatch(/^hr_[A-Za-z0-9_-]{43}$/);
    expect((await app.inject({ method: 'GET', url: '/v1/status', headers: auth(secret) })).statusCode).toBe(200);
    // Revoked: refused from then on.
    expect((await app.inject({ method: 'DELETE', url: `/v1/tokens/${created.json().id}`, headers: auth(admin) })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/v1/status', headers: auth(secret) })).statusCode).toBe(401);
    // Only hashes are stored; no secret reached the log.
    for (const s of [admin, operator, viewer, secret]) expect(logText).not.toContain(s);
    expect(logText).toContain('"statusCode":201');
  });

  it('applies a desired state idempotently and reports changes', async () => {
    const state = { workloads: [workload], pools: [pool], policies: { loop: { mode: 'dry-run', intervalSeconds: '1m' } } };
    const first = await app.inject({ method: 'POST', url: '/v1/apply', headers: auth(operator), payload: state });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ changed: 3, unchanged: 0 });
    const second = await app.inject({ method: 'POST', url: '/v1/apply', headers: auth(operator), payload: state });
    expect(second.json()).toMatchObject({ changed: 0, unchanged: 3 });
    const third = await app.inject({ method: 'POST', url: '/v1/apply', headers: auth(operator), payload: { ...state, pools: [{ ...pool, costPerHour: 0.2 }] } });
    expect(third.json().changes).toContainEqual({ kind: 'pool', name: 'general', version: 2, change: 'updated' });
    // Defaults filled in by the scenario schema; durations parsed.
    const got = (await app.inject({ method: 'GET', url: '/v1/pools/general', headers: auth(viewer) })).json();
    expect(got).toMatchObject({ provisioningDelaySeconds: 180, maxNodes: 1000, version: 2 });
    expect((await app.inject({ method: 'GET', url: '/v1/policies', headers: auth(viewer) })).json().loop).toMatchObject({ mode: 'dry-run', intervalSeconds: 60 });
  });

  it('answers malformed input with 400 naming the problem and where, storing nothing', async () => {
    const bad = await app.inject({ method: 'POST', url: '/v1/apply', headers: auth(operator), payload: { pools: [pool, { ...pool, name: 'b', cpuMillicores: 'lots' }], workloads: [workload] } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().issues[0]).toEqual({ where: 'body.pools[1].cpuMillicores', problem: '"lots" is not a number with a unit; accepted units: cores, vCPU, m, millicores (a plain number means millicores)' });
    const unknown = await app.inject({ method: 'POST', url: '/v1/apply', headers: auth(operator), payload: { pools: [{ ...pool, cpus: 3 }] } });
    expect(unknown.json().message).toContain('body.pools[0]: unknown key "cpus"');
    const dup = await app.inject({ method: 'POST', url: '/v1/apply', headers: auth(operator), payload: { pools: [pool, pool] } });
    expect(dup.json().message).toContain('two pools are named "general"');
    const badYamlish = await app.inject({ method: 'POST', url: '/v1/apply', headers: { ...auth(operator), 'content-type': 'application/json' }, payload: '{"pools": [' });
    expect(badYamlish.statusCode).toBe(400);
    const wl = await app.inject({ method: 'PUT', url: '/v1/workloads/api', headers: auth(operator), payload: { ...workload, minInstances: 5, maxInstances: 2 } });
    expect(wl.json().issues[0]).toEqual({ where: 'body.minInstances', problem: 'minInstances (5) is above maxInstances (2)' });
    const mismatch = await app.inject({ method: 'PUT', url: '/v1/pools/other', headers: auth(operator), payload: pool });
    expect(mismatch.json().issues[0].where).toBe('body.name');
    expect(await store.listConfig('pool')).toEqual([]);
    expect(await store.listConfig('workload')).toEqual([]);
  });

  it('ingests JSON and CSV batches idempotently; a bad batch stores nothing', async () => {
    await app.inject({ method: 'POST', url: '/v1/apply', headers: auth(operator), payload: { workloads: [workload] } });
    const samples = [{ workload: 'api', timeSeconds: 600, value: 10 }, { workload: 'api', timeSeconds: 0, value: 5 }];
    expect((await app.inject({ method: 'POST', url: '/v1/samples', headers: auth(operator), payload: { samples } })).json()).toEqual({ accepted: 2, duplicates: 0 });
    expect((await app.inject({ method: 'POST', url: '/v1/samples', headers: auth(operator), payload: { samples } })).json()).toEqual({ accepted: 0, duplicates: 2 });
    const unknown = await app.inject({ method: 'POST', url: '/v1/samples', headers: auth(operator), payload: { samples: [{ workload: 'api', timeSeconds: 1, value: 1 }, { workload: 'nope', timeSeconds: 1, value: 1 }] } });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().issues[0].where).toBe('body.samples[1].workload');
    const negative = await app.inject({ method: 'POST', url: '/v1/samples', headers: auth(operator), payload: { samples: [{ workload: 'api', timeSeconds: 2, value: -1 }] } });
    expect(negative.json().issues[0]).toEqual({ where: 'body.samples[0].value', problem: 'demand cannot be negative' });
    const csv = (text: string) => app.inject({ method: 'POST', url: '/v1/samples/csv?workload=api', headers: { ...auth(operator), 'content-type': 'text/csv' }, payload: text });
    expect((await csv('timestamp,value\n1970-01-01 00:05:00,7\n1970-01-01 00:10:00,10\n')).json()).toEqual({ accepted: 1, duplicates: 1 });
    const badCsv = await csv('timestamp,value\n1970-01-01 00:15:00,7\nyesterday,3\n');
    expect(badCsv.statusCode).toBe(400);
    expect(badCsv.json().message).toContain('body:3');
    expect(await store.countSamples('api')).toBe(3);
    const series = (await app.inject({ method: 'GET', url: '/v1/workloads/api/series?fromSeconds=0&toSeconds=1000', headers: auth(viewer) })).json();
    expect(series.samples).toEqual([{ timeSeconds: 0, value: 5 }, { timeSeconds: 300, value: 7 }, { timeSeconds: 600, value: 10 }]);
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('headroom_ingest_samples_total{source="push-json",outcome="accepted"} 2');
    expect(metrics).toContain('headroom_ingest_samples_total{source="push-csv",outcome="duplicate"} 1');
  });

  it('answers a series read with exactly the JSON of its samples (compiled serializer), awkward numbers included', async () => {
    await app.inject({ method: 'POST', url: '/v1/apply', headers: auth(operator), payload: { workloads: [workload] } });
    const values = [0.1 + 0.2, 1e-7, 123456789.123456789, 5e21, 0, 2 / 3];
    const samples = values.map((value, i) => ({ workload: 'api', timeSeconds: 1_600_000_000.5 + i * 300, value }));
    expect((await app.inject({ method: 'POST', url: '/v1/samples', headers: auth(operator), payload: { samples } })).statusCode).toBe(200);
    const r = await app.inject({ method: 'GET', url: '/v1/workloads/api/series', headers: auth(viewer) });
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.body).toBe(JSON.stringify({ workload: 'api', samples: samples.map(({ timeSeconds, value }) => ({ timeSeconds, value })) }));
  });

  it('answers status with exactly the JSON of the separate store reads it is made of', async () => {
    await app.inject({ method: 'POST', url: '/v1/apply', headers: auth(operator), payload: { workloads: [workload, { ...workload, name: 'batch' }], pools: [pool] } });
    await app.inject({ method: 'DELETE', url: '/v1/workloads/batch', headers: auth(operator) });
    await app.inject({ method: 'POST', url: '/v1/samples', headers: auth(operator), payload: { samples: [{ workload: 'api', timeSeconds: 0.5, value: 0.1 + 0.2 }, { workload: 'api', timeSeconds: 300, value: 2 / 3 }] } });
    const expected = async () =>
      JSON.stringify({
        store: store.dialect,
        workloads: (await store.listConfig('workload')).map((w) => w.name),
        pools: (await store.listConfig('pool')).map((p) => p.name),
        series: await store.seriesSummaries(),
        lastCycle: (await store.listCycles(1))[0] ?? null,
        openActions: (await store.actions.list({ statuses: ['pending', 'sent'] })).length,
      });
    const status = async () => (await app.inject({ method: 'GET', url: '/v1/status', headers: auth(viewer) })).body;
    expect(await status()).toBe(await expected());
    const cycle = await store.startCycle('act', 10);
    await store.finishCycle(cycle, { status: 'failed', atSeconds: 11, summary: { notes: ['a "quoted" note'], durationsSeconds: { total: 0.1 + 0.2 } }, error: 'driver refused' });
    await store.actions.begin({ id: 'a1', kind: 'scaleNodes', decidedAtSeconds: 5, phase: 0, reason: 'r', pool: 'general', fromNodes: 0, toNodes: 1 }, 5);
    await store.actions.begin({ id: 'a2', kind: 'scaleNodes', decidedAtSeconds: 5, phase: 0, reason: 'r', pool: 'general', fromNodes: 1, toNodes: 2 }, 5);
    await store.actions.update('a2', { status: 'succeeded', atSeconds: 6 });
    expect(JSON.parse(await status())).toMatchObject({ workloads: ['api'], pools: ['general'], openActions: 1, lastCycle: { id: cycle, error: 'driver refused' } });
    expect(await status()).toBe(await expected());
  });

  it('reads forecasts, plans and the action log', async () => {
    const fc = { model: 'seasonal-naive', startSeconds: 0, stepSeconds: 300, mean: [1], quantiles: [{ level: 0.5, values: [1] }, { level: 0.95, values: [2] }] };
    await store.insertForecast('api', fc, 5);
    expect((await app.inject({ method: 'GET', url: '/v1/workloads/api/forecast', headers: auth(viewer) })).json().forecast).toEqual(fc);
    expect((await app.inject({ method: 'GET', url: '/v1/workloads/other/forecast', headers: auth(viewer) })).statusCode).toBe(404);
    const id = await store.insertPlan({ mode: 'dry-run', decidedAtSeconds: 5, target: { nodesByPool: {}, instances: {}, costPerHour: 0, shortfall: {} }, actions: [], explanation: { why: 'x' } });
    expect((await app.inject({ method: 'GET', url: `/v1/plans/${id}`, headers: auth(viewer) })).json().explanation).toEqual({ why: 'x' });
    await store.actions.begin({ id: 'a1', kind: 'scaleNodes', decidedAtSeconds: 5, phase: 0, reason: 'r', pool: 'general', fromNodes: 0, toNodes: 1 }, 5);
    expect((await app.inject({ method: 'GET', url: '/v1/actions?status=pending', headers: auth(viewer) })).json().actions).toHaveLength(1);
    const badStatus = await app.inject({ method: 'GET', url: '/v1/actions?status=done', headers: auth(viewer) });
    expect(badStatus.json().issues[0]).toMatchObject({ where: 'querystring.status' });
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({ status: 'ready' });
    expect((await app.inject({ method: 'POST', url: '/v1/loop/run', headers: auth(operator), payload: {} })).statusCode).toBe(503);
  });
});

describe('the fast samples check', () => {
  const ok = { workload: 'api', timeSeconds: 1, value: 2 };
  const cases: [string, unknown, string | null][] = [
    ['a valid batch', { samples: [ok, { ...ok, timeSeconds: 2.5, value: 0 }] }, null],
    ['not an object', [ok], 'body'],
    ['an extra top-level key', { samples: [ok], extra: 1 }, 'body'],
    ['no samples', {}, 'body.samples'],
    ['an empty batch', { samples: [] }, 'body.samples'],
    ['a sample that is a number', { samples: [ok, 3] }, 'body.samples[1]'],
    ['an unknown sample key', { samples: [{ ...ok, host: 'a' }] }, 'body.samples[0]'],
    ['a missing workload', { samples: [{ timeSeconds: 1, value: 1 }] }, 'body.samples[0].workload'],
    ['an empty workload', { samples: [{ ...ok, workload: '' }] }, 'body.samples[0].workload'],
    ['a string time', { samples: [ok, { ...ok, timeSeconds: '2024-01-01' }] }, 'body.samples[1].timeSeconds'],
    ['a negative value', { samples: [{ ...ok, value: -1 }] }, 'body.samples[0].value'],
    ['a null value', { samples: [{ ...ok, value: null }] }, 'body.samples[0].value'],
  ];
  it.each(cases)('agrees with the documented zod schema on %s', (_name, body, where) => {
    const zod = samplesBody.safeParse(body);
    expect(zod.success).toBe(where === null);
    if (where === null) {
      expect(checkSamplesBody(body)).toEqual(zod.data);
      return;
    }
    let err: unknown;
    try {
      checkSamplesBody(body);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).where).toBe(where);
    // zod names the same place (its path, under "body").
    const zodWhere = ['body', ...zod.error!.issues[0].path].reduce<string>((a, p) => (typeof p === 'number' ? `${a}[${p}]` : `${a}.${p}`), '').slice(1);
    expect(zodWhere.startsWith(where) || where.startsWith(zodWhere)).toBe(true);
  });
});

describe('HTTP API body limit', () => {
  it('refuses a body above the limit with 413', async () => {
    await setup(1024);
    const r = await app.inject({ method: 'POST', url: '/v1/apply', headers: auth(operator), payload: { pools: Array.from({ length: 50 }, (_, i) => ({ ...pool, name: `p${i}` })) } });
    expect(r.statusCode).toBe(413);
    expect(r.json().error).toBe('PayloadTooLarge');
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
