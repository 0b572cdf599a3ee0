import { readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceWorkloadSchema } from '../config/serviceSchema.ts';
import { openStore } from '../store/open.ts';
import { startPrometheus, type RunningPrometheus } from '../../test/support/servers.ts';
import { parseSamplesCsv } from './csv.ts';
import { MetricsSourceError, PrometheusSource } from './prometheus.ts';
import { pullOnce } from './pull.ts';
import { startService } from '../control/service.ts';
import { createLogger } from '../api/logger.ts';
import { tempDir } from '../../test/helpers.ts';

/**
 * Against a real Prometheus (Debian package `prometheus`), started for this
 * file with three weeks of real history backfilled by promtool: the NAB NYC
 * taxi trace (passengers per 30 minutes, three weeks from 2014-09-01), as the gauge
 * `nyc_taxi_passengers{workload="taxi"}`, plus a second series to make an
 * unaggregated query ambiguous.
 */

const csvPath = resolve(import.meta.dirname, '../../data/nab/nyc_taxi.csv');
const taxi = parseSamplesCsv(readFileSync(csvPath, 'utf8'), csvPath);
const STEP = 1800;
const QUERY = 'nyc_taxi_passengers{workload="taxi"} / 1800';

let prom: RunningPrometheus;
let dir: string;

beforeAll(async () => {
  const lines = ['# TYPE nyc_taxi_passengers gauge'];
  for (const s of taxi) lines.push(`nyc_taxi_passengers{workload="taxi"} ${s.value} ${s.timeSeconds}`);
  for (const s of taxi.slice(0, 10)) lines.push(`nyc_taxi_passengers{workload="copy"} ${s.value} ${s.timeSeconds}`);
  prom = await startPrometheus(lines.join('\n') + '\n# EOF\n');
  dir = tempDir('pull');
});
afterAll(async () => {
  await prom?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const workload = serviceWorkloadSchema.parse({
  name: 'taxi',
  serviceTimeSeconds: 0.05,
  cpuMillicores: 500,
  memoryMiB: 512,
  slo: { maxUtilization: 0.7 },
  metrics: { prometheus: { query: QUERY, stepSeconds: STEP, backfillSeconds: '2d' } },
});

describe('Prometheus pull', () => {
  it('reads a range as the trace recorded it (rate = passengers / 1800 s)', async () => {
    const source = new PrometheusSource(prom.url);
    const from = taxi[100].timeSeconds;
    const got = await source.fetchRange(QUERY, from, from + 47 * STEP, STEP);
    expect(got).toHaveLength(48);
    got.forEach((s, i) => {
      expect(s.timeSeconds).toBe(taxi[100 + i].timeSeconds);
      expect(s.value).toBeCloseTo(taxi[100 + i].value / 1800, 9);
    });
  });

  it('names an ambiguous or malformed query', async () => {
    const source = new PrometheusSource(prom.url);
    const t = taxi[0].timeSeconds;
    await expect(source.fetchRange('nyc_taxi_passengers', t, t + 5 * STEP, STEP)).rejects.toThrow(/returned 2 series.*sum/);
    const bad = source.fetchRange('sum(rate(', t, t + STEP, STEP);
    await expect(bad).rejects.toThrow(MetricsSourceError);
    await expect(source.fetchRange('sum(rate(', t, t + STEP, STEP)).rejects.toThrow('rejected query "sum(rate("');
    await expect(new PrometheusSource('http://127.0.0.1:1').fetchRange(QUERY, t, t, STEP)).rejects.toThrow('unreachable');
  });

  it('backfills, then resumes from the high-water mark across restarts without duplicates', async () => {
    const source = new PrometheusSource(prom.url);
    const start = taxi[0].timeSeconds;
    let now = start + 3 * 86400;
    let store = await openStore({ dataDir: dir });
    const first = await pullOnce({ store, source, workloads: [workload], nowSeconds: now });
    // Two days back from now, up to two steps before now: 2 * 48 - 2 + 1 points... computed from the grid.
    const from = now - 2 * 86400;
    const to = now - 2 * STEP;
    const expected = taxi.filter((s) => s.timeSeconds >= from && s.timeSeconds <= to);
    expect(first).toEqual([{ workload: 'taxi', fromSeconds: from, toSeconds: to, accepted: expected.length, duplicates: 0 }]);
    expect(await store.highWaterMark('prometheus', 'taxi')).toBe(to + STEP);
    // Nothing new at the same time.
    expect((await pullOnce({ store, source, workloads: [workload], nowSeconds: now }))[0].accepted).toBe(0);
    await store.close();

    // Restart a day later: the new store resumes at the mark.
    now += 86400;
    store = await openStore({ dataDir: dir });
    const second = await pullOnce({ store, source, workloads: [workload], nowSeconds: now });
    expect(second[0]).toMatchObject({ fromSeconds: to + STEP, accepted: 48, duplicates: 0 });
    const stored = await store.readSamples('taxi', 0, Number.MAX_SAFE_INTEGER);
    const want = taxi.filter((s) => s.timeSeconds >= from && s.timeSeconds <= now - 2 * STEP);
    expect(stored.map((s) => s.timeSeconds)).toEqual(want.map((s) => s.timeSeconds));
    expect(stored[10].value).toBeCloseTo(want[10].value / 1800, 9);
    await store.close();
  });

  it('keeps going when one workload fails', async () => {
    const store = await openStore({ dataDir: join(dir, 'b') });
    const broken = { ...workload, name: 'broken', metrics: { prometheus: { ...workload.metrics!.prometheus, query: 'nyc_taxi_passengers' } } };
    const r = await pullOnce({ store, source: new PrometheusSource(prom.url), workloads: [broken, workload], nowSeconds: taxi[0].timeSeconds + 86400 });
    expect(r[0].error).toContain('2 series');
    expect(r[1].accepted).toBeGreaterThan(40);
    expect(await store.highWaterMark('prometheus', 'broken')).toBeUndefined();
    await store.close();
  });

  it('is scheduled by headroom serve (--prometheus), and its loop runs on its own schedule', async () => {
    const start = taxi[0].timeSeconds;
    const now = start + 3 * 86400;
    const service = await startService({
      dataDir: join(dir, 'service'),
      port: 0,
      prometheusUrl: prom.url,
      pullIntervalSeconds: 0.2,
      now: () => now,
      logger: createLogger({ level: 'silent' }),
      bootstrapToken: 'hr_service_test_token_0123456789abcdefghij',
    });
    try {
      await service.store.applyConfig([
        { kind: 'workload', name: 'taxi', document: workload },
        { kind: 'pool', name: 'general', document: { name: 'general', provider: 'default', zone: 'default', nodeType: 'node', cpuMillicores: 4000, memoryMiB: 16384, costPerHour: 0.2, provisioningDelaySeconds: 60, minNodes: 0, maxNodes: 100, tags: [] } },
        { kind: 'policy', name: 'predictive', document: { model: 'seasonal-naive', refitIntervalSeconds: 21600 } },
        { kind: 'policy', name: 'loop', document: { mode: 'dry-run', intervalSeconds: 1, stepSeconds: 1800, horizonSeconds: 3600, historySeconds: 3 * 86400 } },
      ], now);
      const expected = taxi.filter((s) => s.timeSeconds >= now - 2 * 86400 && s.timeSeconds <= now - 2 * STEP).length;
      let cycles: { status: string }[] = [];
      for (let i = 0; i < 300; i++) {
        cycles = await service.store.listCycles(10);
        if ((await service.store.countSamples('taxi')) === expected && cycles.some((c) => c.status === 'succeeded')) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await service.store.countSamples('taxi')).toBe(expected);
      expect(cycles.some((c) => c.status === 'succeeded')).toBe(true);
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      expect(metrics).toContain(`headroom_ingest_samples_total{source="prometheus",outcome="accepted"} ${expected}`);
    } finally {
      await service.close();
    }
  });
});
