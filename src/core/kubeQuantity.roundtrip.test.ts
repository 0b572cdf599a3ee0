import { describe, expect, it } from 'vitest';
import { cpuMillicoresOf, cpuQuantity, memoryMiBOf, memoryQuantity, tryParseQuantity as parseQuantity } from './kubeQuantity.ts';

describe('Kubernetes quantities read back from a cluster, and written to it', () => {
  it.each([
    ['100m', 0.1],
    ['2', 2],
    ['0.5', 0.5],
    ['.5', 0.5],
    ['1e3', 1000],
    ['1E-3', 0.001],
    ['64Mi', 64 * 2 ** 20],
    ['1.5Gi', 1.5 * 2 ** 30],
    ['128M', 128e6],
    ['1k', 1000],
    ['250u', 250e-6],
    ['+3', 3],
  ])('parses %s as %d', (text, value) => {
    expect(parseQuantity(text)).toBeCloseTo(value, 12);
  });

  it.each(['', 'abc', '12 Gi', '1.2.3', 'Mi', '5mi', '1ki', ' 1'])('rejects %j', (text) => {
    expect(parseQuantity(text)).toBeUndefined();
  });

  it.each([
    ['100m', 100],
    ['0.25', 250],
    ['1', 1000],
    ['1.5', 1500],
    ['1u', 1],
  ])('CPU %s is %i millicores (rounded up)', (text, m) => {
    expect(cpuMillicoresOf(text)).toBe(m);
  });

  it.each([
    ['64Mi', 64],
    ['1Gi', 1024],
    ['1048576', 1],
    ['128M', 122.0703125],
  ])('memory %s is %d MiB', (text, mib) => {
    expect(memoryMiBOf(text)).toBe(mib);
  });

  it.each([
    [cpuQuantity(250), '250m'],
    [cpuQuantity(2000), '2'],
    [cpuQuantity(0), '0'],
    [memoryQuantity(96), '96Mi'],
    [memoryQuantity(2048), '2Gi'],
    [memoryQuantity(0), '0Mi'],
    [memoryQuantity(0.5), '524288'],
  ])('formats %s as %s', (got, want) => {
    expect(got).toBe(want);
  });

  it('refuses fractional millicores and negative memory', () => {
    expect(() => cpuQuantity(1.5)).toThrow('CPU must be a whole number of millicores, got 1.5');
    expect(() => memoryQuantity(-1)).toThrow('memory must be 0 MiB or more, got -1');
  });
});
