import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../core/errors.ts';
import { thrown } from '../../test/helpers.ts';
import { parseCpuMillicores, parseMemoryMiB, parseNetworkMbps, type Quantity } from './units.ts';
import { validateScenario } from './load.ts';

describe('CPU normalisation to millicores', () => {
  // [input, in a millicores field, in a plain CPU (cores) field]
  const cases: [Quantity, number | 'reject', number][] = [
    [4, 4, 4000],
    ['4', 'reject', 4000],
    ['4 cores', 4000, 4000],
    ['1 core', 1000, 1000],
    ['4 vCPU', 4000, 4000],
    ['4vcpu', 4000, 4000],
    ['2 CPUs', 2000, 2000],
    ['0.5 cpu', 500, 500],
    ['500m', 500, 500],
    ['4000 millicores', 4000, 4000],
    ['1 millicore', 1, 1],
    ['250 millicpu', 250, 250],
    ['1.5e1 cores', 15000, 15000],
    ['.25 cores', 250, 250],
    ['  8 vCPU  ', 8000, 8000],
    ['0m', 0, 0],
  ];
  it.each(cases)('%j -> %j millicores (millicores field) / %j (cores field)', (input, asMilli, asCores) => {
    if (asMilli === 'reject') expect(thrown(() => parseCpuMillicores(input, 'f')).message).toMatch(/no unit and is ambiguous/);
    else expect(parseCpuMillicores(input, 'f')).toBeCloseTo(asMilli, 9);
    expect(parseCpuMillicores(input, 'f', 'cores')).toBeCloseTo(asCores, 9);
  });
});

describe('memory normalisation to MiB', () => {
  const cases: [Quantity, number][] = [
    [2048, 2048],
    ['2048', 2048],
    ['1048576 B', 1],
    ['1 B', 1 / 1048576],
    ['1000 KB', 1e6 / 1048576],
    ['1 MB', 1e6 / 1048576],
    ['1 GB', 1e9 / 1048576],
    ['1 TB', 1e12 / 1048576],
    ['1024 KiB', 1],
    ['512 MiB', 512],
    ['16 GiB', 16384],
    ['16Gi', 16384],
    ['1 TiB', 1048576],
    ['1Ti', 1048576],
    ['2G', 2e9 / 1048576],
    ['64 gib', 65536],
    ['1.5 GiB', 1536],
  ];
  it.each(cases)('%j -> %d MiB', (input, mib) => {
    expect(parseMemoryMiB(input, 'f')).toBeCloseTo(mib, 9);
  });
});

describe('bandwidth normalisation to Mbit/s', () => {
  const cases: [Quantity, number][] = [
    [100, 100],
    ['1000000 bit/s', 1],
    ['1 bps', 1e-6],
    ['500 kbit/s', 0.5],
    ['500 Kbps', 0.5],
    ['100 Mbit/s', 100],
    ['100 Mbps', 100],
    ['10 Gbit/s', 10000],
    ['25 Gbps', 25000],
    ['2.5 gbps', 2500],
  ];
  it.each(cases)('%j -> %d Mbit/s', (input, mbps) => {
    expect(parseNetworkMbps(input, 'f')).toBeCloseTo(mbps, 9);
  });
});

describe('rejects', () => {
  const cases: [string, () => number, RegExp][] = [
    ['memory in gigabits', () => parseMemoryMiB('4 Gb', 'pools[0].memoryMiB'), /"4 Gb" has unknown unit "Gb".*KiB, MiB, GiB, TiB/],
    ['millibytes (lower-case m is not mega)', () => parseMemoryMiB('4m', 'pools[0].memoryMiB'), /unknown unit "m"/],
    ['CPU in GHz', () => parseCpuMillicores('3 GHz', 'workloads[1].cpuMillicores'), /unknown unit "GHz".*cores, vCPU, m, millicores/],
    ['bandwidth in bytes', () => parseNetworkMbps('1 GB/s', 'pools[0].networkMbps'), /unknown unit "GB\/s".*Mbit\/s, Gbit\/s/],
    ['negative', () => parseMemoryMiB('-1 GiB', 'f'), /"-1 GiB" is negative/],
    ['negative number', () => parseMemoryMiB(-5, 'f'), /"-5" is negative/],
    ['no number', () => parseCpuMillicores('cores', 'f'), /"cores" is not a number with a unit/],
    ['two numbers', () => parseCpuMillicores('4 4 cores', 'f'), /not a number with a unit/],
    ['empty', () => parseMemoryMiB('', 'f'), /not a number with a unit/],
    ['infinite', () => parseMemoryMiB(Infinity, 'f'), /not a finite number/],
    ['NaN', () => parseNetworkMbps(Number.NaN, 'f'), /not a finite number/],
  ];
  it.each(cases)('%s', (_label, fn, message) => {
    const e = thrown(fn);
    expect(e).toBeInstanceOf(InvalidInputError);
    expect(e.message).toMatch(message);
  });

  it('names the field in the error', () => {
    expect(thrown(() => parseMemoryMiB('4 Gb', 'pools[0].memoryMiB')).message).toMatch(/^pools\[0\]\.memoryMiB: /);
  });
});

describe('quantities in a scenario', () => {
  const base = {
    name: 's',
    workloads: [{ name: 'w', demand: { inline: { stepSeconds: 60, values: [1, 2] } }, serviceTimeSeconds: 0.1, cpuMillicores: '500m', memoryMiB: '1 GiB', networkMbps: '200 Mbps', slo: { maxUtilization: 0.7 } }],
    pools: [{ name: 'p', cpuMillicores: '4 vCPU', memoryMiB: '16 GiB', networkMbps: '10 Gbit/s', costPerHour: 0.2 }],
  };

  it('accepts strings with units where numbers were accepted, normalised to canonical units', () => {
    const file = validateScenario(base, 's.yaml');
    expect(file.workloads[0]).toMatchObject({ cpuMillicores: 500, memoryMiB: 1024, networkMbps: 200 });
    expect(file.pools[0]).toMatchObject({ cpuMillicores: 4000, memoryMiB: 16384, networkMbps: 10000 });
  });

  it('keeps numbers meaning the canonical unit', () => {
    const file = validateScenario({ ...base, pools: [{ name: 'p', cpuMillicores: 4000, memoryMiB: 16384, costPerHour: 0.2 }] }, 's.yaml');
    expect(file.pools[0]).toMatchObject({ cpuMillicores: 4000, memoryMiB: 16384 });
    expect(file.pools[0].networkMbps).toBeUndefined();
  });

  it('rejects an unknown unit naming the file, field, value and accepted units', () => {
    const e = thrown(() => validateScenario({ ...base, pools: [{ ...base.pools[0], memoryMiB: '16 Gb' }] }, 's.yaml'));
    expect(e).toBeInstanceOf(InvalidInputError);
    expect(e.message).toMatch(/s\.yaml: [\s\S]*pools\[0\]\.memoryMiB: "16 Gb" has unknown unit "Gb"; accepted units: B, KB, MB, GB, TB, KiB, MiB, GiB, TiB/);
  });

  it('rejects zero capacity', () => {
    expect(thrown(() => validateScenario({ ...base, pools: [{ ...base.pools[0], cpuMillicores: '0 cores' }] }, 's.yaml')).message).toMatch(/pools\[0\]\.cpuMillicores: must be more than 0/);
  });
});
