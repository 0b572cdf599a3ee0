/**
 * The CLI in-process: `main(argv)` returns the exit code. Usage mistakes and
 * bad input exit 2 with one `headroom: error: ...` line set (no stack trace);
 * a small valid scenario replays and writes its JSON results.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from './main.ts';
import { tempDir } from '../../test/helpers.ts';

let dir: string;
let stderr: string;
let stdout: string;
beforeEach(() => {
  dir = tempDir('cli');
  stderr = '';
  stdout = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
});
afterEach(() => vi.restoreAllMocks());

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/**
 * One workload over 3 days of hourly demand, 20..140 requests/s in a daily
 * triangle (20 + 10·min(h mod 24, 24 − h mod 24)); 2 days of warm-up, 1 evaluated.
 * Sizing (utilization ≤ 0.8, 0.1 s per request): ceil(d / 8) instances, 4 per node.
 */
const HOURLY = Array.from({ length: 72 }, (_, h) => 20 + 10 * Math.min(h % 24, 24 - (h % 24)));
const TINY = `name: tiny-cli
simulation:
  stepSeconds: 1h
  warmupSeconds: 2d
  durationSeconds: 1d
  decisionIntervalSeconds: 1h
  horizonSeconds: 2h
  tickSeconds: 1m
pools:
  - name: small
    cpuMillicores: 4000
    memoryMiB: 16384
    costPerHour: 0.2
    provisioningDelaySeconds: 3m
workloads:
  - name: api
    demand:
      inline:
        stepSeconds: 1h
        values: [${HOURLY.join(', ')}]
    serviceTimeSeconds: 0.1
    cpuMillicores: 1000
    memoryMiB: 1024
    slo: { maxUtilization: 0.8 }
`;

/** Run `main`, expect exit 2 and one clean user-error report; returns stderr. */
async function userError(argv: string[]): Promise<string> {
  const code = await main(argv);
  expect(code, stderr).toBe(2);
  expect(stderr.startsWith('headroom: error: ')).toBe(true);
  expect(stderr).not.toMatch(/^\s+at /m); // no stack frames
  expect(stderr).not.toContain('internal error');
  return stderr;
}

describe('usage mistakes exit 2', () => {
  it.each([
    ['an unknown command', ['bogus'], "error: unknown command 'bogus'"],
    ['an unknown option', ['simulate', 'x.yaml', '--bogus'], "error: unknown option '--bogus'"],
    ['an option missing its value', ['simulate', 'x.yaml', '--json'], "error: option '--json <file>' argument missing"],
  ])('%s', async (_label, argv, message) => {
    expect(await main(argv)).toBe(2);
    expect(stderr).toContain(message);
    expect(stdout).toBe('');
  });

  it('--help exits 0 and lists the commands', async () => {
    expect(await main(['--help'])).toBe(0);
    expect(stdout).toMatch(/simulate \[options\] \[scenario\]/);
    expect(stdout).toMatch(/demo \[options\]/);
  });

  it('simulate with neither a file nor --trace', async () => {
    expect(await userError(['simulate'])).toBe('headroom: error: simulate: give a scenario file or at least one --trace FILE.csv\n');
  });

  it('simulate with both a file and --trace', async () => {
    expect(await userError(['simulate', 'some.yaml', '--trace', 'x.csv'])).toBe('headroom: error: simulate: give a scenario file or --trace, not both\n');
  });

  it('an unknown policy, before any replay', async () => {
    const file = write('tiny.yaml', TINY);
    expect(await userError(['simulate', file, '--policies', 'static,bogus', '-q'])).toBe(
      'headroom: error: --policies: unknown policy "bogus" (expected static, reactive, predictive, oracle)\n',
    );
    expect(stdout).toBe(''); // nothing was replayed
  });
});

describe('bad input exits 2 with the problem and where it is', () => {
  it('a missing scenario file', async () => {
    const path = join(dir, 'nope.yaml');
    expect(await userError(['simulate', path])).toBe(`headroom: error: ${path}: scenario file not found\n`);
  });

  it('--trace with a negative value names the file and line', async () => {
    const csv = write('neg.csv', 'timestamp,value\n2024-01-01 00:00:00,5\n2024-01-01 00:05:00,6\n2024-01-01 00:10:00,-7\n');
    expect(await userError(['simulate', '--trace', csv])).toBe(`headroom: error: ${csv}:4: column "value": demand cannot be negative (-7)\n`);
  });

  it('--trace with a missing file', async () => {
    const csv = join(dir, 'absent.csv');
    expect(await userError(['simulate', '--trace', csv])).toBe(`headroom: error: ${csv}: file not found\n`);
  });

  it('a scenario that cannot be served lists why, still without a stack', async () => {
    // p99 of an exponential service time of mean 0.1 s is 0.461 s; a 0.2 s target is impossible.
    const file = write('slo.yaml', TINY.replace('slo: { maxUtilization: 0.8 }', 'slo: { latencySeconds: 0.2, percentile: 0.99 }'));
    const err = await userError(['simulate', file, '-q']);
    expect(err).toMatch(/^headroom: error: scenario "tiny-cli" cannot be served:\n {2}- workload 'api' slo: p99 latency target 0\.2 s is below/);
  });
});

describe('a successful run', () => {
  it('replays static and oracle, writes JSON, and the oracle costs no more than static', async () => {
    const file = write('tiny.yaml', TINY);
    const out = join(dir, 'results', 'run.json');
    const code = await main(['simulate', file, '--json', out, '--policies', 'static,oracle', '-q']);
    expect(code, stderr).toBe(0);
    expect(stderr).toBe(''); // -q: no progress output
    expect(stdout).toContain('scenario "tiny-cli" (24 steps of 3600 s)');
    expect(existsSync(out)).toBe(true);

    const json = JSON.parse(readFileSync(out, 'utf8')) as {
      scenario: string;
      stepSeconds: number;
      evaluatedSteps: number;
      policies: { name: string; cost: number; nodeHours: number; sloAttainment: number }[];
    };
    expect(json.scenario).toBe('tiny-cli');
    expect(json.stepSeconds).toBe(3600);
    expect(json.evaluatedSteps).toBe(24);
    expect(json.policies.map((p) => p.name)).toEqual(['static', 'oracle']);
    const [stat, oracle] = json.policies;
    for (const p of json.policies) {
      expect(Number.isFinite(p.cost), p.name).toBe(true);
      expect(p.cost, p.name).toBeGreaterThan(0);
    }
    expect(oracle.cost).toBeLessThanOrEqual(stat.cost);

    // Static: warm-up peak 140 req/s -> ceil(140 / 8) = 18 instances -> 5 nodes, for 24 h at $0.20.
    expect(stat.nodeHours).toBe(120);
    expect(stat.cost).toBeCloseTo(24, 9);
    // Oracle: hour by hour ceil(ceil(d / 8) / 4) nodes sums to 72 node-hours over the day
    // (1 + 5 + 2·(1+2+2+2+3+3+3+4+4+4+5)); it cannot do with less.
    expect(oracle.nodeHours).toBeGreaterThanOrEqual(72 - 1e-9);
    expect(oracle.cost).toBeGreaterThanOrEqual(14.4 - 1e-9);
    // Both hold the SLO at every step (ticks of 1 minute, shorter than the 3-minute provisioning delay).
    expect(stat.sloAttainment).toBe(1);
    expect(oracle.sloAttainment).toBe(1);
  });
});
