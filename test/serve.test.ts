/**
 * `headroom serve` as a real process: the CLI client commands against it,
 * graceful shutdown on SIGTERM, and crash safety: SIGKILL during ingest and
 * during a loop cycle, restart on the same data directory, then count samples
 * and check the action log.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.ts';
import { api, spawnServer, type ServerProcess } from './support/serveProcess.ts';
import { startPostgres } from './support/servers.ts';
import { tempDir } from './helpers.ts';

const TOKEN = 'hr_test_bootstrap_token_0123456789abcdefghijklmnop';
const env = { HEADROOM_BOOTSTRAP_TOKEN: TOKEN };
let dir: string;
const running: ServerProcess[] = [];

beforeAll(() => {
  dir = tempDir('serve');
});
afterAll(() => {
  for (const s of running) if (s.child.exitCode === null) s.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function start(dataDir: string, extraEnv: Record<string, string> = {}, args: string[] = []): Promise<ServerProcess> {
  const s = await spawnServer(['--data-dir', dataDir, '--no-schedule', ...args], { ...env, ...extraEnv });
  running.push(s);
  return s;
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((stdout += String(c)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((stderr += String(c)), true));
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

const desired = (n: number) => `
pools:
  - { name: general, cpuMillicores: 4000, memoryMiB: 16384, costPerHour: 0.192, provisioningDelaySeconds: 0 }
workloads:
${Array.from({ length: n }, (_, i) => `  - { name: svc${i}, serviceTimeSeconds: 0.05, cpuMillicores: 500, memoryMiB: 512, slo: { maxUtilization: 0.7 }, minInstances: 2 }`).join('\n')}
tenants:
  - { name: search }
policies:
  predictive: { model: seasonal-naive }
  loop: { stepSeconds: 5m }
`;

describe('headroom serve', () => {
  it('serves the CLI client commands and stops gracefully on SIGTERM', async () => {
    const data = join(dir, 'cli');
    const s = await start(data);
    const file = join(dir, 'desired.yaml');
    writeFileSync(file, desired(2));
    const flags = ['--url', s.url, '--token', TOKEN];
    const first = await cli(['apply', '-f', file, ...flags]);
    expect(first).toMatchObject({ code: 0 });
    expect(first.stdout).toContain('workload/svc0: created (version 1)');
    const second = await cli(['apply', '-f', file, ...flags]);
    expect(second.stdout).toContain('no change');
    // A bad file: the service's error, mapped to the file's line.
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'pools:\n  - name: p\n    cpuMillicores: lots\n    memoryMiB: 1\n    costPerHour: 1\n');
    const rejected = await cli(['apply', '-f', bad, ...flags]);
    expect(rejected.code).toBe(2);
    expect(rejected.stderr).toContain('line 3: pools[0].cpuMillicores: "lots" is not a number with a unit; accepted units: cores, vCPU, m, millicores');

    // Two days of 5-minute samples, then a forecast and a dry-run plan.
    const now = Math.floor(Date.now() / 1000 / 300) * 300;
    const samples = Array.from({ length: 576 }, (_, i) => ({ workload: 'svc0', timeSeconds: now - (576 - i) * 300, value: 50 + 30 * Math.sin((2 * Math.PI * i) / 288) }));
    expect((await api(s.url, TOKEN, 'POST', '/v1/samples', { samples })).body).toEqual({ accepted: 576, duplicates: 0 });
    // A tenant's capacity request, granted at once (the pool is empty up to its quota): the plan holds its two nodes.
    const submitted = await cli(['request', 'submit', '--tenant', 'search', '--cpu', '8 cores', '--memory', '32 GiB', '--duration', '1h', ...flags]);
    expect(submitted.stdout).toMatch(/request (\d+) .*granted/);
    const requestId = /request (\d+)/.exec(submitted.stdout)![1];
    const plan = await cli(['plan', '--dry-run', ...flags]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/plan \d+ \(dry-run\)/);
    expect(plan.stdout).toContain(`request ${requestId} (tenant search): 8000m CPU, 32768 MiB held as 2 pieces in general 2\n`);
    expect(plan.stdout).toContain('svc0:');
    expect(plan.stdout).toContain('scaleNodes general: 0 ->');
    // The SLO's price per workload: utilization at the sized demand, what one more instance (an eighth of a $0.192 node) buys, and half the risk.
    expect(plan.stdout).toMatch(/\n {4}SLO utilization ≤ 70% at [\d.]+ rps: [\d.]+% with \d+ instances; \d+ would give [\d.]+% \(\+0\.024\/h\); half the risk \(p97\.5 peak [\d.]+ rps\) needs \d+ \(\+[\d.]+\/h\)\n/);
    const forecast = await cli(['forecast', 'svc0', ...flags]);
    expect(forecast.stdout).toContain('(seasonal-naive)');
    expect(forecast.stdout).toMatch(/p5\s+p50\s+p95/);
    const status = await cli(['status', ...flags]);
    expect(status.stdout).toContain('svc0: 576 samples');
    expect(status.stdout).toMatch(/last cycle: #\d+ dry-run succeeded/);
    expect((await cli(['status', '--url', s.url, '--token', 'hr_nope'])).stderr).toContain('401');

    s.child.kill('SIGTERM');
    expect(await s.exited).toEqual({ code: 0, signal: null });
    expect(s.output()).toContain('headroom stopped');
    expect(s.output()).not.toContain(TOKEN);
  });

  it('loses and duplicates no accepted sample when killed during ingest', async () => {
    const data = join(dir, 'ingest');
    let s = await start(data);
    await api(s.url, TOKEN, 'POST', '/v1/apply', { workloads: [{ name: 'w', serviceTimeSeconds: 0.05, cpuMillicores: 500, memoryMiB: 512, slo: { maxUtilization: 0.7 } }] });
    const batch = (b: number) => ({ samples: Array.from({ length: 1000 }, (_, i) => ({ workload: 'w', timeSeconds: b * 1000 + i, value: i })) });
    const acked = new Set<number>();
    let next = 0;
    // Four concurrent writers; SIGKILL once 30 batches are acknowledged.
    const writer = async () => {
      for (;;) {
        const b = next++;
        try {
          const r = await api(s.url, TOKEN, 'POST', '/v1/samples', batch(b));
          if (r.status === 200) acked.add(b);
          if (acked.size >= 30 && s.child.exitCode === null) s.child.kill('SIGKILL');
        } catch {
          return; // the server is gone
        }
      }
    };
    await Promise.all([writer(), writer(), writer(), writer()]);
    expect((await s.exited).signal).toBe('SIGKILL');
    const sent = next;

    s = await start(data);
    const counted = (await api(s.url, TOKEN, 'GET', '/v1/status')).body.series[0].samples as number;
    // Every acknowledged batch is there, whole; a batch in flight at the kill is there whole or not at all.
    expect(counted % 1000).toBe(0);
    expect(counted).toBeGreaterThanOrEqual(acked.size * 1000);
    expect(counted).toBeLessThanOrEqual(sent * 1000);
    for (const b of acked) {
      const r = await api(s.url, TOKEN, 'GET', `/v1/workloads/w/series?fromSeconds=${b * 1000}&toSeconds=${b * 1000 + 1000}`);
      expect(r.body.samples).toHaveLength(1000);
    }
    // Retrying every batch (as a client without an answer would) adds exactly the missing ones.
    let accepted = 0;
    for (let b = 0; b < sent; b++) accepted += (await api(s.url, TOKEN, 'POST', '/v1/samples', batch(b))).body.accepted;
    expect(accepted).toBe(sent * 1000 - counted);
    expect((await api(s.url, TOKEN, 'GET', '/v1/status')).body.series[0].samples).toBe(sent * 1000);
    s.child.kill('SIGTERM');
    await s.exited;
  });

  it('loses and duplicates no action when killed during a loop cycle, and resumes it', async () => {
    const data = join(dir, 'loop');
    // 300 ms per action, like a cloud API, so the kill lands mid-plan.
    let s = await start(data, { HEADROOM_SIMULATOR_LATENCY_MS: '300' });
    const file = join(dir, 'loop.yaml');
    writeFileSync(file, desired(8));
    expect((await cli(['apply', '-f', file, '--url', s.url, '--token', TOKEN])).code).toBe(0);
    void api(s.url, TOKEN, 'POST', '/v1/loop/run', { mode: 'act' }).catch(() => undefined);
    let before: { action: { id: string }; status: string }[] = [];
    for (let i = 0; i < 400; i++) {
      before = (await api(s.url, TOKEN, 'GET', '/v1/actions')).body.actions;
      if (before.filter((r) => r.status === 'succeeded').length >= 3) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    s.child.kill('SIGKILL');
    expect((await s.exited).signal).toBe('SIGKILL');
    const doneBefore = before.filter((r) => r.status === 'succeeded').length;
    expect(doneBefore).toBeGreaterThanOrEqual(3);

    s = await start(data, { HEADROOM_SIMULATOR_LATENCY_MS: '0' });
    const plan = (await api(s.url, TOKEN, 'GET', '/v1/plans?limit=1')).body.plans[0];
    expect(plan.actions.length).toBe(9); // one node scale-up, eight workloads
    expect(doneBefore).toBeLessThan(plan.actions.length);
    const after = (await api(s.url, TOKEN, 'GET', '/v1/actions')).body.actions as { action: { id: string }; status: string; attempts: number }[];
    // Recovery finished the plan: every action once in the log, all succeeded; those done before the kill were not sent again.
    expect(after.map((r) => r.action.id)).toEqual(plan.actions.map((a: { id: string }) => a.id));
    expect(after.every((r) => r.status === 'succeeded')).toBe(true);
    for (const r of after.slice(0, doneBefore)) expect(r.attempts).toBe(1);
    const cycles = (await api(s.url, TOKEN, 'GET', '/v1/cycles')).body.cycles;
    expect(cycles[0]).toMatchObject({ status: 'interrupted', mode: 'act' });
    // The loop resumes: the next cycle finds the cluster at the target.
    const next = (await api(s.url, TOKEN, 'POST', '/v1/loop/run', { mode: 'act' })).body;
    expect(next).toMatchObject({ status: 'succeeded', summary: { actions: { planned: 0 } } });
    s.child.kill('SIGTERM');
    expect((await s.exited).code).toBe(0);
  });

  it('runs on PostgreSQL with --database, and keeps its data across restarts', async () => {
    const pg = await startPostgres();
    try {
      const url = pg.createDatabase('serve');
      let s = await start(join(dir, 'unused'), {}, ['--database', url]);
      await api(s.url, TOKEN, 'POST', '/v1/apply', { workloads: [{ name: 'w', serviceTimeSeconds: 0.05, cpuMillicores: 500, memoryMiB: 512, slo: { maxUtilization: 0.7 } }] });
      const samples = Array.from({ length: 10 }, (_, i) => ({ workload: 'w', timeSeconds: 1000 + i, value: i }));
      expect((await api(s.url, TOKEN, 'POST', '/v1/samples', { samples })).body).toEqual({ accepted: 10, duplicates: 0 });
      s.child.kill('SIGKILL');
      await s.exited;
      s = await start(join(dir, 'unused'), {}, ['--database', url]);
      const status = (await api(s.url, TOKEN, 'GET', '/v1/status')).body;
      expect(status).toMatchObject({ store: 'postgres', workloads: ['w'], series: [{ workload: 'w', samples: 10 }] });
      expect((await api(s.url, TOKEN, 'POST', '/v1/samples', { samples })).body).toEqual({ accepted: 0, duplicates: 10 });
      s.child.kill('SIGTERM');
      expect((await s.exited).code).toBe(0);
    } finally {
      await pg.stop();
    }
  });
});
