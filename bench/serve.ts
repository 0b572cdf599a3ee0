/**
 * `npm run bench:serve [-- --json FILE] [--seconds N] [--engine sqlite|postgres] [--cpu-prof DIR]`
 *
 * Sustained ingest into `headroom serve` (a real server process on loopback;
 * JSON batches of 1,000 samples from 4 concurrent writers) with SQLite and
 * with PostgreSQL 15 (a real server started here, fsync ON, as in
 * production), then read latency at 100 concurrent clients (forecast, recent
 * series, status, action log, latest plan, in rotation). Prints a table and
 * writes JSON (default bench/results/serve.json). On PostgreSQL the table also
 * shows the database server's own CPU per read (it shares the same cores).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { openStore } from '../src/store/open.ts';
import { startPostgres } from '../test/support/servers.ts';
import { spawnServer, type ServerProcess } from '../test/support/serveProcess.ts';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const jsonPath = resolve(flag('--json') ?? 'bench/results/serve.json');
const seconds = Number(flag('--seconds') ?? 10);
/** `--cpu-prof DIR`: the server processes write V8 CPU profiles there (node --cpu-prof), to see where per-request CPU goes. */
const cpuProfDir = flag('--cpu-prof');
/** `--engine sqlite|postgres`: run one engine only (for quick comparisons while working); prints its row and writes no JSON. */
const onlyEngine = flag('--engine');
if (onlyEngine !== undefined && onlyEngine !== 'sqlite' && onlyEngine !== 'postgres') throw new Error('bench: --engine is sqlite or postgres');
const TOKEN = 'hr_bench_bootstrap_token_0123456789abcdefghijklmnop';
const BATCH = 1000;
const WRITERS = 4;
const READERS = 100;

// node:http with keep-alive connections: the client must cost less than the server it measures (undici's fetch costs several ms per request on a loaded machine).
const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });

const origins = new Map<string, URL>();
function request(url: string, method: string, path: string, body?: string): Promise<{ status: number; text: string }> {
  // The server's origin is parsed once (the client's CPU counts against the same 2 cores as the server's).
  let u = origins.get(url);
  if (!u) origins.set(url, (u = new URL(url)));
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, path, method, agent, headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
const post = (url: string, path: string, body: string) => request(url, 'POST', path, body);

/** CPU seconds (user + system) a process has used, from /proc (Linux); the machine may be shared, so wall-clock rates alone mislead. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * CPU seconds used by a PostgreSQL server: the postmaster, its live children
 * (backends, WAL writer, checkpointer…) and, through the postmaster's
 * cutime/cstime, the children that have exited and been reaped. It shares the
 * same cores as headroom serve, so a read's cost on PostgreSQL is both.
 */
function postgresCpuSeconds(dataDir: string): number {
  const postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const fields = (pid: string | number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const own = fields(postmaster);
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const f = fields(pid);
      if (Number(f[1]) === postmaster) ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // the process ended while we looked
    }
  }
  return ticks / 100;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

async function ingest(url: string): Promise<{ samplesPerSecond: number; batches: number }> {
  let next = 0;
  let done = 0;
  // Distinct times in every batch, so every sample is new; four workloads.
  const body = (b: number) => {
    const parts: string[] = [];
    for (let i = 0; i < BATCH; i++) parts.push(`{"workload":"w${b % 4}","timeSeconds":${1_600_000_000 + b * BATCH + i},"value":${(i % 100) + 0.5}}`);
    return `{"samples":[${parts.join(',')}]}`;
  };
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      while (performance.now() < end) {
        const b = next++;
        const r = await post(url, '/v1/samples', body(b));
        const j = JSON.parse(r.text) as { accepted: number };
        if (r.status !== 200 || j.accepted !== BATCH) throw new Error(`bench: batch ${b} answered ${r.status} ${JSON.stringify(j)}`);
        done++;
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  return { samplesPerSecond: (done * BATCH) / elapsed, batches: done };
}

async function reads(url: string): Promise<{ p50Ms: number; p99Ms: number; requestsPerSecond: number; requests: number; p99ByPath: Record<string, number>; clientCpuMsPerRead: number }> {
  // Something to read: two days of 5-minute samples of workload r up to now, then a dry-run cycle makes a forecast and a plan.
  const now = Math.floor(Date.now() / 1000 / 300) * 300;
  const recent = { samples: Array.from({ length: 576 }, (_, i) => ({ workload: 'r', timeSeconds: now - (576 - i) * 300, value: 50 + 30 * Math.sin((2 * Math.PI * i) / 288) })) };
  if ((await post(url, '/v1/samples', JSON.stringify(recent))).status !== 200) throw new Error('bench: could not push the recent series');
  const cycle = await post(url, '/v1/loop/run', JSON.stringify({ mode: 'dry-run' }));
  if (cycle.status !== 200) throw new Error(`bench: dry-run cycle failed: ${cycle.text}`);
  // The series read returns 300 samples of w1 (batch 101 went to w1, b % 4): earlier runs asked for a range of w0's times and read nothing.
  const paths = ['/v1/workloads/r/forecast', `/v1/workloads/w1/series?fromSeconds=${1_600_000_000 + 101_000}&toSeconds=${1_600_000_000 + 101_300}`, '/v1/status', '/v1/actions?limit=50', '/v1/plans?limit=1'];
  const series = JSON.parse((await request(url, 'GET', paths[1])).text) as { samples?: unknown[] };
  if (series.samples?.length !== 300) throw new Error(`bench: the series read returned ${series.samples?.length} samples, expected 300`);
  // Warm-up (not measured): open the 100 connections and let the server's JIT settle for 2 s.
  const warmEnd = performance.now() + 2000;
  await Promise.all(Array.from({ length: READERS }, async (_, c) => {
    for (let i = c; performance.now() < warmEnd; i++) await request(url, 'GET', paths[i % paths.length]);
  }));
  const latencies: number[] = [];
  const client0 = process.cpuUsage();
  const byPath = new Map<string, number[]>();
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let k = 0;
  await Promise.all(
    Array.from({ length: READERS }, async () => {
      while (performance.now() < end) {
        const path = paths[k++ % paths.length];
        const s = performance.now();
        const r = await request(url, 'GET', path);
        if (r.status !== 200) throw new Error(`bench: GET ${path} answered ${r.status}`);
        const ms = performance.now() - s;
        latencies.push(ms);
        const key = path.split('?')[0];
        if (!byPath.has(key)) byPath.set(key, []);
        byPath.get(key)!.push(ms);
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  const clientCpu = process.cpuUsage(client0);
  const clientCpuMsPerRead = (clientCpu.user + clientCpu.system) / 1000 / latencies.length;
  latencies.sort((a, b) => a - b);
  const p99ByPath = Object.fromEntries([...byPath].map(([k, v]) => [k, Number(percentile(v.sort((a, b) => a - b), 0.99).toFixed(1))]));
  return { p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99), requestsPerSecond: latencies.length / elapsed, requests: latencies.length, p99ByPath, clientCpuMsPerRead };
}

async function storeDirect(databaseUrl: string | undefined, dataDir: string): Promise<number> {
  const store = await openStore({ dataDir, databaseUrl });
  const batches = Array.from({ length: 200 }, (_, b) => Array.from({ length: BATCH }, (_, i) => ({ workload: 'direct', timeSeconds: b * BATCH + i, value: i })));
  const t0 = performance.now();
  for (const b of batches) await store.insertSamples(b);
  const rate = (batches.length * BATCH) / ((performance.now() - t0) / 1000);
  await store.close();
  return rate;
}

async function configure(url: string): Promise<void> {
  const workloads = ['w0', 'w1', 'w2', 'w3', 'r'].map((name) => ({ name, serviceTimeSeconds: 0.05, cpuMillicores: 500, memoryMiB: 512, slo: { maxUtilization: 0.7 } }));
  const r = await post(url, '/v1/apply', JSON.stringify({ workloads, pools: [{ name: 'general', cpuMillicores: 4000, memoryMiB: 16384, costPerHour: 0.192 }], policies: { predictive: { model: 'seasonal-naive' }, loop: { stepSeconds: '5m', historySeconds: '3d' } } }));
  if (r.status !== 200) throw new Error(`bench: apply failed: ${r.text}`);
}

async function runEngine(
  name: string,
  serverArgs: string[],
  databaseCpuSeconds?: () => number,
): Promise<{ ingest: Awaited<ReturnType<typeof ingest>>; reads: Awaited<ReturnType<typeof reads>>; cpuUsPerSample: number; cpuMsPerRead: number; databaseCpuMsPerRead?: number }> {
  process.stderr.write(`bench: ${name}: starting headroom serve\n`);
  const s: ServerProcess = await spawnServer([...serverArgs, '--no-schedule', '--log-level', 'warn'], { HEADROOM_BOOTSTRAP_TOKEN: TOKEN }, cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(cpuProfDir)}`] : []);
  try {
    await configure(s.url);
    process.stderr.write(`bench: ${name}: ingest for ${seconds} s\n`);
    const pid = s.child.pid!;
    let c0 = cpuSeconds(pid);
    const i = await ingest(s.url);
    const cpuUsPerSample = ((cpuSeconds(pid) - c0) * 1e6) / (i.batches * BATCH);
    process.stderr.write(`bench: ${name}: reads for ${seconds} s at ${READERS} clients\n`);
    c0 = cpuSeconds(pid);
    const d0 = databaseCpuSeconds?.();
    const r = await reads(s.url);
    const cpuMsPerRead = ((cpuSeconds(pid) - c0) * 1e3) / r.requests;
    const databaseCpuMsPerRead = d0 === undefined ? undefined : ((databaseCpuSeconds!() - d0) * 1e3) / r.requests;
    return { ingest: i, reads: r, cpuUsPerSample, cpuMsPerRead, databaseCpuMsPerRead };
  } finally {
    agent.destroy();
    s.child.kill('SIGTERM');
    await s.exited;
  }
}

const cpus = (await import('node:os')).cpus().length;
const tmp = mkdtempSync(join(tmpdir(), 'headroom-bench-'));
const pg = await startPostgres({ fsync: true });
try {
  type EngineResult = Awaited<ReturnType<typeof runEngine>>;
  const header = ['store', 'ingest samples/s (HTTP)', 'ingest samples/s (store)', 'server CPU µs/sample', 'read p50 ms', 'read p99 ms', 'reads/s', 'server CPU ms/read', 'database CPU ms/read', 'client CPU ms/read'];
  const fmt = (name: string, e: EngineResult, direct: number | undefined) => [
    name,
    Math.round(e.ingest.samplesPerSecond).toLocaleString('en-US'),
    direct === undefined ? '-' : Math.round(direct).toLocaleString('en-US'),
    e.cpuUsPerSample.toFixed(2),
    e.reads.p50Ms.toFixed(1),
    e.reads.p99Ms.toFixed(1),
    Math.round(e.reads.requestsPerSecond).toLocaleString('en-US'),
    e.cpuMsPerRead.toFixed(2),
    // SQLite runs inside the server process: its CPU is in the server's column.
    e.databaseCpuMsPerRead === undefined ? '(in server)' : e.databaseCpuMsPerRead.toFixed(2),
    e.reads.clientCpuMsPerRead.toFixed(2),
  ];
  const print = (rows: string[][]) => {
    const table = [header, ...rows];
    const widths = header.map((_, c) => Math.max(...table.map((r) => String(r[c]).length)));
    const line = (r: readonly (string | number)[]) => r.map((v, c) => (c === 0 ? String(v).padEnd(widths[c]) : String(v).padStart(widths[c]))).join('  ');
    process.stdout.write(`\nheadroom serve on loopback: ${WRITERS} writers x batches of ${BATCH} samples (JSON), then ${READERS} concurrent readers after a 2 s warm-up; ${seconds} s each; PostgreSQL 15 with fsync on, SQLite WAL synchronous=NORMAL; ${cpus} CPUs, 1-minute load average ${loadavg()[0].toFixed(1)} at the end\n\n`);
    process.stdout.write(`${line(table[0])}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${table.slice(1).map(line).join('\n')}\n\n`);
  };
  const runPostgres = () => runEngine('postgres', ['--database', pg.createDatabase('bench')], () => postgresCpuSeconds(pg.dataDir));
  if (onlyEngine) {
    const e = onlyEngine === 'sqlite' ? await runEngine('sqlite', ['--data-dir', join(tmp, 'sqlite')]) : await runPostgres();
    print([fmt(onlyEngine, e, undefined)]);
    process.stdout.write('one engine only (--engine): no JSON written\n');
  } else {
    const sqlite = await runEngine('sqlite', ['--data-dir', join(tmp, 'sqlite')]);
    const postgres = await runPostgres();
    const sqliteDirect = await storeDirect(undefined, join(tmp, 'direct'));
    const postgresDirect = await storeDirect(pg.createDatabase('direct'), tmp);
    print([fmt('sqlite', sqlite, sqliteDirect), fmt('postgres', postgres, postgresDirect)]);
    const load = loadavg()[0];
    const result = {
      sqliteSamplesPerSecond: Math.round(sqlite.ingest.samplesPerSecond),
      postgresSamplesPerSecond: Math.round(postgres.ingest.samplesPerSecond),
      readP99Ms: Number(sqlite.reads.p99Ms.toFixed(2)),
      postgresReadP99Ms: Number(postgres.reads.p99Ms.toFixed(2)),
      sqliteStoreSamplesPerSecond: Math.round(sqliteDirect),
      postgresStoreSamplesPerSecond: Math.round(postgresDirect),
      readP50Ms: Number(sqlite.reads.p50Ms.toFixed(2)),
      sqliteReadP99MsByPath: sqlite.reads.p99ByPath,
      postgresReadP99MsByPath: postgres.reads.p99ByPath,
      readRequestsPerSecond: Math.round(sqlite.reads.requestsPerSecond),
      sqliteServerCpuMicrosecondsPerSample: Number(sqlite.cpuUsPerSample.toFixed(3)),
      sqliteServerCpuMillisecondsPerRead: Number(sqlite.cpuMsPerRead.toFixed(3)),
      sqliteClientCpuMillisecondsPerRead: Number(sqlite.reads.clientCpuMsPerRead.toFixed(3)),
      postgresServerCpuMillisecondsPerRead: Number(postgres.cpuMsPerRead.toFixed(3)),
      postgresDatabaseCpuMillisecondsPerRead: Number(postgres.databaseCpuMsPerRead!.toFixed(3)),
      postgresServerCpuMicrosecondsPerSample: Number(postgres.cpuUsPerSample.toFixed(3)),
      loadAverage1m: Number(load.toFixed(2)),
      cpus,
      settings: { secondsPerPhase: seconds, batchSize: BATCH, writers: WRITERS, readers: READERS, postgresFsync: true, sqliteSynchronous: 'NORMAL', logLevel: 'warn' },
    };
    mkdirSync(dirname(jsonPath), { recursive: true });
    writeFileSync(jsonPath, JSON.stringify(result, null, 2) + '\n');
    process.stdout.write(`wrote ${jsonPath}\n`);
  }
} finally {
  await pg.stop();
  rmSync(tmp, { recursive: true, force: true });
}
