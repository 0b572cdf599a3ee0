/**
 * The request queue survives `kill -9`: `headroom serve` as a real process is
 * killed while tenants submit (with idempotency keys) and decisions grant;
 * after a restart on the same data directory every acknowledged request is
 * there once, retrying every key (as a client without an answer would) adds
 * exactly the missing ones, and granted capacity never exceeds what the
 * pools hold.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, spawnServer, type ServerProcess } from './support/serveProcess.ts';
import { tempDir } from './helpers.ts';

const TOKEN = 'hr_test_requests_crash_token_0123456789abcdefghij';
let dir: string;
const running: ServerProcess[] = [];

beforeAll(() => {
  dir = tempDir('reqcrash');
});
afterAll(() => {
  for (const s of running) if (s.child.exitCode === null) s.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function start(data: string): Promise<ServerProcess> {
  const s = await spawnServer(['--data-dir', data, '--no-schedule', '--log-level', 'warn'], { HEADROOM_BOOTSTRAP_TOKEN: TOKEN });
  running.push(s);
  return s;
}

// 10 nodes of 4 cores at quota: 40,000m. Each request asks 1,000m, so at most 40 can be granted at once.
const config = {
  pools: [{ name: 'p', cpuMillicores: 4000, memoryMiB: 16384, costPerHour: 0.1, maxNodes: 10 }],
  tenants: Array.from({ length: 4 }, (_, i) => ({ name: `t${i}`, throttle: { submitsPerMinute: 100000, burst: 100000, maxQueued: 100000 } })),
};
const body = (k: number) => ({ tenant: `t${k % 4}`, cpuMillicores: 1000, memoryMiB: 256, priority: k % 3, idempotencyKey: `key-${k}` });

describe('request queue crash safety', () => {
  it('loses and duplicates no acknowledged request when killed during submits', async () => {
    const data = join(dir, 'q');
    let s = await start(data);
    expect((await api(s.url, TOKEN, 'POST', '/v1/apply', config)).status).toBe(200);
    const acked = new Map<number, number>();
    let next = 0;
    // Four concurrent clients; SIGKILL once 40 submits are acknowledged.
    const client = async () => {
      for (;;) {
        const k = next++;
        try {
          const r = await api(s.url, TOKEN, 'POST', '/v1/requests', body(k));
          if (r.status === 201) acked.set(k, r.body.id);
          if (acked.size >= 40 && s.child.exitCode === null) s.child.kill('SIGKILL');
        } catch {
          return; // the server is gone
        }
      }
    };
    await Promise.all([client(), client(), client(), client()]);
    expect((await s.exited).signal).toBe('SIGKILL');
    const sent = next;

    s = await start(data);
    const stored = (await api(s.url, TOKEN, 'GET', '/v1/requests?limit=100000')).body.requests as { id: number; idempotencyKey: string; status: string; cpuMillicores: number }[];
    const byKey = new Map(stored.map((r) => [r.idempotencyKey, r.id]));
    expect(byKey.size).toBe(stored.length);
    for (const [k, id] of acked) expect(byKey.get(`key-${k}`)).toBe(id);
    expect(stored.length).toBeLessThanOrEqual(sent);
    // Retrying every key adds exactly the missing ones, and returns the stored request for the others.
    let created = 0;
    for (let k = 0; k < sent; k++) {
      const r = await api(s.url, TOKEN, 'POST', '/v1/requests', body(k));
      expect([200, 201]).toContain(r.status);
      if (r.status === 201) created++;
      else expect(r.body.id).toBe(byKey.get(`key-${k}`));
    }
    expect(created).toBe(sent - stored.length);
    const all = (await api(s.url, TOKEN, 'GET', '/v1/requests?limit=100000')).body.requests as { status: string; cpuMillicores: number }[];
    expect(all).toHaveLength(sent);
    const grantedCpu = all.filter((r) => r.status === 'granted').reduce((a, r) => a + r.cpuMillicores, 0);
    expect(grantedCpu).toBe(Math.min(40, sent) * 1000);
    expect(all.filter((r) => r.status === 'queued')).toHaveLength(sent - Math.min(40, sent));
    s.child.kill('SIGTERM');
    await s.exited;
  });
});
