import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Real PostgreSQL and Prometheus servers for integration tests, started from
 * the Debian packages on free loopback ports and removed afterwards. A missing
 * binary is a test failure with the command that installs it, never a skip.
 */

export const PG_BIN = process.env.HEADROOM_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function requireBinary(path: string, pkg: string): void {
  if (!existsSync(path)) {
    throw new Error(`${path} not found: this integration test needs the Debian package "${pkg}" (apt-get update && apt-get install -y ${pkg}; .ci/run does this)`);
  }
}

export interface RunningPostgres {
  readonly url: string;
  /** The server's data directory (its postmaster.pid names the postmaster process). */
  readonly dataDir: string;
  /** A fresh, empty database on this server; returns its URL. */
  createDatabase(name: string): string;
  stop(): Promise<void>;
}

/** initdb into a temp dir as the `postgres` user (PostgreSQL refuses root), then start it on a loopback port. */
export async function startPostgres(options: { fsync?: boolean } = {}): Promise<RunningPostgres> {
  requireBinary(join(PG_BIN, 'initdb'), 'postgresql');
  const dir = mkdtempSync(join(tmpdir(), 'headroom-pg-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chownSync(dir, Number(spawnSync('id', ['-u', 'postgres']).stdout.toString().trim()), Number(spawnSync('id', ['-g', 'postgres']).stdout.toString().trim()));
  const as = (cmd: string, args: string[]) => (asRoot ? spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8' }) : spawnSync(cmd, args, { encoding: 'utf8' }));
  const data = join(dir, 'data');
  const init = as(join(PG_BIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'headroom', '--no-sync']);
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=${options.fsync === false || options.fsync === undefined ? 'off' : 'on'} -c max_connections=200`;
  const start = as(join(PG_BIN, 'pg_ctl'), ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', 'start']);
  if (start.status !== 0) throw new Error(`pg_ctl start failed: ${start.stderr}${start.stdout}`);
  const psql = (sql: string) => {
    const r = as(join(PG_BIN, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'headroom', '-d', 'postgres', '-c', sql]);
    if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
  };
  psql('CREATE DATABASE headroom');
  return {
    url: `postgres://headroom@127.0.0.1:${port}/headroom`,
    dataDir: data,
    createDatabase(name: string) {
      psql(`CREATE DATABASE "${name}"`);
      return `postgres://headroom@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      as(join(PG_BIN, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RunningPrometheus {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Backfill `openMetrics` (OpenMetrics text ending in `# EOF`) into TSDB blocks
 * with promtool, then start Prometheus on them with a retention long enough
 * for old traces (the NAB traces are from 2014-2015).
 */
export async function startPrometheus(openMetrics: string): Promise<RunningPrometheus> {
  const prometheus = process.env.HEADROOM_PROMETHEUS_BIN ?? '/usr/bin/prometheus';
  const promtool = process.env.HEADROOM_PROMTOOL_BIN ?? '/usr/bin/promtool';
  requireBinary(prometheus, 'prometheus');
  requireBinary(promtool, 'prometheus');
  const dir = mkdtempSync(join(tmpdir(), 'headroom-prom-'));
  const input = join(dir, 'history.om');
  writeFileSync(input, openMetrics);
  const tsdb = join(dir, 'tsdb');
  const blocks = spawnSync(promtool, ['tsdb', 'create-blocks-from', 'openmetrics', '--max-block-duration=8760h', input, tsdb], { encoding: 'utf8' });
  if (blocks.status !== 0) throw new Error(`promtool create-blocks-from failed: ${blocks.stderr}`);
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, 'global:\n  scrape_interval: 1h\nscrape_configs: []\n');
  const port = await freePort();
  const child: ChildProcess = spawn(prometheus, [`--config.file=${config}`, `--storage.tsdb.path=${tsdb}`, '--storage.tsdb.retention.time=100y', `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}): ${stderr}`);
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`prometheus not ready after 60 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
