/** Kubernetes quantities → cpuMillicores and memoryMiB, as a table worked out by hand. */
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../core/errors.ts';
import { thrown } from '../../test/helpers.ts';
import { cpuMillicores, memoryMiB, parseQuantity } from './kubeQuantity.ts';

describe('CPU', () => {
  it.each([
    ['100m', 100],
    ['70m', 70],
    ['1', 1000],
    [1, 1000],
    ['0.5', 500],
    [0.25, 250],
    ['.1', 100],
    ['2', 2000],
    ['1500m', 1500],
    ['1e0', 1000],
    ['5e-1', 500],
    ['0.0001', 1], // Kubernetes rounds up to whole millicores
    ['250000u', 250],
    ['100000000n', 100],
  ] as const)('%s → %d millicores', (q, want) => {
    expect(cpuMillicores(q, 'cpu')).toBe(want);
  });
});

describe('memory', () => {
  it.each([
    ['64Mi', 64],
    ['200Mi', 200],
    ['1Gi', 1024],
    ['0.5Gi', 512],
    ['1024Ki', 1],
    ['1Ti', 1024 * 1024],
    ['128M', 128e6 / 2 ** 20],
    ['1G', 1e9 / 2 ** 20],
    ['1k', 1000 / 2 ** 20],
    ['1048576', 1],
    [1048576, 1],
    ['1e6', 1e6 / 2 ** 20],
    ['2E6', 2e6 / 2 ** 20],
  ] as const)('%s → %d MiB', (q, want) => {
    expect(memoryMiB(q, 'memory')).toBeCloseTo(want, 12);
  });
});

describe('bad quantities name the value, the unit and where', () => {
  it.each([
    ['64MB', 'unknown unit "MB"'],
    ['1 Gi', 'unknown unit " Gi"'],
    ['2 cores', 'unknown unit " cores"'],
    ['1gi', 'unknown unit "gi"'],
    ['Mi', 'is not a Kubernetes quantity'],
    ['', 'is not a Kubernetes quantity'],
    ['1e', 'unknown unit "e"'],
  ])('%j', (q, problem) => {
    const e = thrown(() => parseQuantity(q, 'manifests.yaml:12: Deployment web container server resources.requests.memory'));
    expect(e).toBeInstanceOf(InvalidInputError);
    expect(e.message).toContain('manifests.yaml:12: Deployment web container server resources.requests.memory: ');
    expect(e.message).toContain(problem);
  });

  it('memory in millibytes is taken for the typo it always is', () => {
    expect(thrown(() => memoryMiB('128m', 'mem')).message).toBe('mem: memory "128m" is in millibytes; did you mean "128Mi" (mebibytes) or "128M" (megabytes)?');
  });

  it('negative amounts are refused', () => {
    expect(thrown(() => cpuMillicores('-100m', 'cpu')).message).toBe('cpu: CPU "-100m" is negative');
    expect(thrown(() => memoryMiB('-1Gi', 'mem')).message).toBe('mem: memory "-1Gi" is negative');
  });
});
