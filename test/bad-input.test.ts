/**
 * Bad input through the CLI, as a user meets it: each case exits with code 2,
 * prints one `headroom: error:` message that names the problem and where it is,
 * and no stack trace.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { main } from '../src/cli/main.ts';
import { tempDir } from './helpers.ts';

const demoYaml = readFileSync(resolve(import.meta.dirname, '../examples/demo.yaml'), 'utf8');
const dataDir = resolve(import.meta.dirname, '../data/nab');

let dir: string;
let stderr: string;
beforeEach(() => {
  dir = tempDir('bad');
  stderr = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});
afterEach(() => vi.restoreAllMocks());

/** The demo scenario, edited, written into the temp dir (CSV paths made absolute). */
function scenario(edit: (yaml: string) => string): string {
  const file = join(dir, 'scenario.yaml');
  writeFileSync(file, edit(demoYaml.replaceAll('../data/nab/', `${dataDir}/`)));
  return file;
}

function csv(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

async function fails(argv: string[], ...expected: RegExp[]): Promise<void> {
  const code = await main(argv);
  expect(code).toBe(2);
  expect(stderr).toMatch(/^headroom: error: /);
  expect(stderr).not.toMatch(/\n\s+at /);
  for (const e of expected) expect(stderr).toMatch(e);
}

describe('bad input', () => {
  it('a missing scenario file', async () => {
    await fails(['simulate', join(dir, 'nope.yaml')], /nope\.yaml: scenario file not found/);
  });

  it('a missing trace file named in the scenario', async () => {
    await fails(['simulate', scenario((y) => y.replace('nyc_taxi.csv', 'missing.csv'))], /missing\.csv/, /not found/);
  });

  it('an unknown key, with where it is', async () => {
    await fails(['simulate', scenario((y) => y.replace('    cpuMillicores: 1000\n', '    cpuMilicores: 1000\n'))], /cpuMilicores/, /workloads/);
  });

  it('malformed YAML, with its line', async () => {
    await fails(['simulate', scenario((y) => y.replace('name: demo', 'name: [demo'))], /malformed YAML/, /scenario\.yaml:\d+/);
  });

  it('NaN demand in a trace, with file and line', async () => {
    const file = csv('nan.csv', 'timestamp,value\n2024-01-01 00:00:00,5\n2024-01-01 00:05:00,NaN\n2024-01-01 00:10:00,7\n');
    await fails(['simulate', '--trace', file], /nan\.csv:3/, /not a finite number/);
  });

  it('negative demand in a trace, with file and line', async () => {
    const file = csv('neg.csv', 'timestamp,value\n2024-01-01 00:00:00,5\n2024-01-01 00:05:00,6\n2024-01-01 00:10:00,-7\n');
    await fails(['simulate', '--trace', file], /neg\.csv:4/, /cannot be negative/);
  });

  it('an unknown column, listing the columns there are', async () => {
    const file = csv('cols.csv', 'time,requests\n2024-01-01 00:00:00,5\n2024-01-01 00:05:00,6\n');
    await fails(['simulate', '--trace', file], /cols\.csv/, /no column named "timestamp"/, /"time", "requests"/);
  });

  it('an SLO no instance count can meet', async () => {
    // p99 of an exponential service time of mean 0.02 s is 0.092 s: a 0.05 s target is impossible.
    await fails(['simulate', scenario((y) => y.replace('latencySeconds: 0.15, percentile: 0.99', 'latencySeconds: 0.05, percentile: 0.99'))], /booking-api/, /below/);
  });

  it('an instance larger than every node', async () => {
    await fails(['simulate', scenario((y) => y.replace('    memoryMiB: 2048\n', '    memoryMiB: 65536\n'))], /booking-api/, /cannot be served|no node|larger/);
  });

  it('an unknown policy', async () => {
    await fails(['demo', '--policies', 'static,bogus'], /unknown policy "bogus"/);
  });

  it('a scenario and --trace together', async () => {
    await fails(['simulate', 'a.yaml', '--trace', 'b.csv'], /not both/);
  });
});
