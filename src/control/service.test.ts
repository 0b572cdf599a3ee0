import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../api/logger.ts';
import { startService, type RunningService } from './service.ts';
import { tempDir } from '../../test/helpers.ts';

/**
 * The request queue inside `headroom serve` (in process, on a free port): a
 * loop cycle is followed by a queue decision against the plan it made, and
 * the queue's timer expires requests whose deadline passed without any call.
 */

const TOKEN = 'hr_service_test_token_0123456789abcdefghijklmnopq';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
let service: RunningService | undefined;
let dir: string | undefined;

afterEach(async () => {
  await service?.close();
  service = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`${service!.url}${path}`, { method, headers: auth, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('request queue in the service', () => {
  it('decides after every loop cycle, against the capacity the plan leaves', async () => {
    dir = tempDir('svc');
    const clock = { now: 1_700_000_000 };
    service = await startService({ dataDir: dir, port: 0, schedule: false, bootstrapToken: TOKEN, logger: createLogger({ level: 'silent' }), now: () => clock.now, queueIntervalSeconds: 3600 });
    await call('POST', '/v1/apply', { tenants: [{ name: 't' }] });
    // No pool yet: the request waits.
    const r = await call('POST', '/v1/requests', { tenant: 't', cpuMillicores: 3000, memoryMiB: 1024 });
    expect(r.json).toMatchObject({ status: 'queued', reason: 'no pools are configured' });
    // One 4-core node at most; a workload that keeps 2 instances of 500m: the cycle's plan takes 1 core.
    await call('POST', '/v1/apply', {
      pools: [{ name: 'p', cpuMillicores: 4000, memoryMiB: 16384, costPerHour: 0.1, maxNodes: 1, provisioningDelaySeconds: 0 }],
      workloads: [{ name: 'w', serviceTimeSeconds: 0.05, cpuMillicores: 500, memoryMiB: 512, slo: { maxUtilization: 0.7 }, minInstances: 2 }],
      policies: { loop: { mode: 'dry-run' } },
    });
    const samples = Array.from({ length: 24 }, (_, i) => ({ workload: 'w', timeSeconds: clock.now - (24 - i) * 300, value: 1 }));
    expect((await call('POST', '/v1/samples', { samples })).status).toBe(200);
    expect((await call('GET', `/v1/requests/${r.json.id}`)).json.status).toBe('queued');
    const cycle = await call('POST', '/v1/loop/run', {});
    expect(cycle.json.status).toBe('succeeded');
    // 4000m at quota − 1000m planned for w = 3000m free: granted by the decision that follows the cycle.
    expect((await call('GET', '/v1/queue')).json).toMatchObject({ capacity: { cpuMillicores: 4000 }, planned: { cpuMillicores: 1000, memoryMiB: 1024 }, free: { cpuMillicores: 0 } });
    expect((await call('GET', `/v1/requests/${r.json.id}`)).json).toMatchObject({ status: 'granted' });
  });

  it('expires a request on the queue timer once its deadline passes', async () => {
    dir = tempDir('svc');
    const clock = { now: 1_700_000_000 };
    service = await startService({ dataDir: dir, port: 0, schedule: false, bootstrapToken: TOKEN, logger: createLogger({ level: 'silent' }), now: () => clock.now, queueIntervalSeconds: 0.05 });
    await call('POST', '/v1/apply', { tenants: [{ name: 't' }] });
    const r = await call('POST', '/v1/requests', { tenant: 't', cpuMillicores: 1000, maxWaitSeconds: 60 });
    expect(r.json.status).toBe('queued');
    clock.now += 61;
    let status = '';
    for (let i = 0; i < 100 && status !== 'expired'; i++) {
      await new Promise((res) => setTimeout(res, 50));
      status = String((await call('GET', `/v1/requests/${r.json.id}`)).json.status);
    }
    expect(status).toBe('expired');
  });
});
