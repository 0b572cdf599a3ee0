/**
 * Request-queue decision speed.
 *
 * 1. The pure decision (src/queue/decide.ts) over 1,000, 10,000 and 50,000
 *    queued requests from 100 tenants (weights 1–3, ten with guaranteed
 *    minimums), priorities 0–4, half with deadlines, sizes log-normal around
 *    1 core and 2 GiB; capacity covers about a third of what is asked, so
 *    fair share and the guarantees are busy. Median of 11 runs after 3
 *    untimed warm-up runs.
 * 2. The same 10,000 requests through the durable queue on SQLite
 *    (RequestQueue.process: config reads, the decision, and every grant and
 *    waiting reason written in one transaction), first and second decision.
 *
 * "Requests decided per second" counts every queued request the decision
 * settles (granted, or given its waiting reason) per second of decision time.
 *
 * Usage: npx tsx bench/queue.ts [--json FILE]   (default bench/results/queue.json)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { CapacityRequest } from '../src/core/requests.ts';
import { decideQueue, type TenantShare } from '../src/queue/decide.ts';
import { RequestQueue } from '../src/queue/service.ts';
import { openStore } from '../src/store/open.ts';
import { table } from '../src/cli/format.ts';
import { mulberry32 } from '../src/forecast/random.ts';

const root = resolve(import.meta.dirname, '..');
const jsonArg = process.argv.indexOf('--json');
const jsonPath = jsonArg >= 0 ? resolve(process.argv[jsonArg + 1]) : resolve(root, 'bench/results/queue.json');

const TENANTS = 100;
function workload(count: number, seed: number) {
  const rand = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const tenants = new Map<string, TenantShare>();
  for (let t = 0; t < TENANTS; t++) {
    tenants.set(`t${t}`, { weight: 1 + (t % 3), guaranteed: t < 10 ? { cpuMillicores: 4000, memoryMiB: 8192 } : { cpuMillicores: 0, memoryMiB: 0 } });
  }
  const requests: CapacityRequest[] = [];
  let askedCpu = 0;
  let askedMem = 0;
  for (let i = 0; i < count; i++) {
    const cpuMillicores = Math.max(100, Math.round(1000 * Math.exp(0.8 * normal())));
    const memoryMiB = Math.max(128, Math.round(2048 * Math.exp(0.8 * normal())));
    askedCpu += cpuMillicores;
    askedMem += memoryMiB;
    requests.push({
      id: i + 1,
      tenant: `t${Math.floor(rand() * TENANTS)}`,
      cpuMillicores,
      memoryMiB,
      priority: Math.floor(rand() * 5),
      submittedAtSeconds: i,
      ...(rand() < 0.5 ? { deadlineSeconds: count + 3600 + Math.floor(rand() * 86400) } : {}),
      status: 'queued',
    });
  }
  const capacity = { cpuMillicores: Math.round(askedCpu / 3), memoryMiB: Math.round(askedMem / 3) };
  return { tenants, requests, capacity };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// 1. Pure decisions. A warm-up on the 10,000-request queue first, so V8 has optimised the decision before any size is timed.
{
  const w = workload(10_000, 1);
  for (let run = 0; run < 10; run++) decideQueue({ nowSeconds: 0, capacity: { capacity: w.capacity, ceiling: w.capacity, planned: { cpuMillicores: 0, memoryMiB: 0 } }, tenants: w.tenants, requests: w.requests });
}
const pure: { queued: number; tenants: number; grants: number; medianSeconds: number; requestsDecidedPerSecond: number }[] = [];
for (const count of [1_000, 10_000, 50_000]) {
  const { tenants, requests, capacity } = workload(count, count);
  const times: number[] = [];
  let grants = 0;
  // Three untimed runs first: the first calls run in V8's interpreter and baseline tiers.
  for (let run = 0; run < 14; run++) {
    const t0 = performance.now();
    const d = decideQueue({ nowSeconds: count, capacity: { capacity, ceiling: capacity, planned: { cpuMillicores: 0, memoryMiB: 0 } }, tenants, requests });
    if (run >= 3) times.push((performance.now() - t0) / 1000);
    grants = d.grantedIds.length;
  }
  const s = median(times);
  pure.push({ queued: count, tenants: TENANTS, grants, medianSeconds: s, requestsDecidedPerSecond: count / s });
}

// 2. Through the durable queue on SQLite.
const dir = mkdtempSync(join(tmpdir(), 'headroom-bench-queue-'));
const store = await openStore({ dataDir: dir });
const count = 10_000;
const { tenants, requests, capacity } = workload(count, count);
const clock = { now: count };
const nodes = 100;
await store.applyConfig(
  [
    ...[...tenants].map(([name, t]) => ({ kind: 'tenant' as const, name, document: { name, weight: t.weight, guaranteed: t.guaranteed, throttle: { submitsPerMinute: 1e6, burst: 1e6, maxQueued: 1e6 } } })),
    // One pool whose quota is the same third of what is asked.
    { kind: 'pool' as const, name: 'p', document: { name: 'p', provider: 'default', zone: 'default', nodeType: 'node', cpuMillicores: capacity.cpuMillicores / nodes, memoryMiB: capacity.memoryMiB / nodes, costPerHour: 1, provisioningDelaySeconds: 0, minNodes: 0, maxNodes: nodes, tags: [] } },
  ],
  0,
);
const limits = { submitsPerSecond: 1e6, burst: 1e6, maxQueued: 1e6, fallbackRetryAfterSeconds: 60 };
let t0 = performance.now();
for (const r of requests) {
  await store.requests.submit({ tenant: r.tenant, cpuMillicores: r.cpuMillicores, memoryMiB: r.memoryMiB, priority: r.priority, ...(r.deadlineSeconds ? { deadlineSeconds: r.deadlineSeconds } : {}), bodyHash: String(r.id) }, limits, r.submittedAtSeconds);
}
const submitSeconds = (performance.now() - t0) / 1000;
const queue = new RequestQueue({ store, now: () => clock.now });
t0 = performance.now();
const first = await queue.process();
const firstSeconds = (performance.now() - t0) / 1000;
clock.now += 1;
t0 = performance.now();
const second = await queue.process();
const secondSeconds = (performance.now() - t0) / 1000;
await store.close();
rmSync(dir, { recursive: true, force: true });
const sqlite = {
  queued: count,
  submitsPerSecond: count / submitSeconds,
  firstDecisionSeconds: firstSeconds,
  firstDecisionGrants: first.transitions.filter((t) => t.to === 'granted').length,
  secondDecisionSeconds: secondSeconds,
  secondDecisionGrants: second.transitions.filter((t) => t.to === 'granted').length,
  requestsDecidedPerSecond: count / secondSeconds,
};

const fmt = (x: number, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
console.log('Pure decision (decideQueue), 100 tenants, capacity a third of what is asked, median of 11 runs after 3 warm-up runs\n');
console.log(table(['queued', 'grants', 'seconds', 'requests decided/s'], pure.map((p) => [fmt(p.queued), fmt(p.grants), p.medianSeconds.toFixed(4), fmt(p.requestsDecidedPerSecond)])));
console.log('\nDurable queue on SQLite (RequestQueue.process, one transaction per decision)\n');
console.log(
  table(
    ['queued', 'submits/s (one transaction each)', 'first decision s', 'grants', 'next decision s', 'requests decided/s'],
    [[fmt(sqlite.queued), fmt(sqlite.submitsPerSecond), sqlite.firstDecisionSeconds.toFixed(3), fmt(sqlite.firstDecisionGrants), sqlite.secondDecisionSeconds.toFixed(3), fmt(sqlite.requestsDecidedPerSecond)]],
  ),
);
mkdirSync(dirname(jsonPath), { recursive: true });
writeFileSync(jsonPath, JSON.stringify({ pure, sqlite }, null, 2) + '\n');
console.log(`\nwrote ${jsonPath}`);
