import type { ServiceWorkload } from '../config/serviceSchema.ts';
import type { Store } from '../store/store.ts';
import type { MetricsSource } from './prometheus.ts';

export interface PullOptions {
  readonly store: Store;
  readonly source: MetricsSource;
  readonly workloads: readonly ServiceWorkload[];
  /** Epoch seconds now. */
  readonly nowSeconds: number;
  /**
   * Steps to stay behind now, so a value is read once its inputs (late
   * scrapes, rate windows) have settled; default 2.
   */
  readonly settleSteps?: number;
  /** Most steps read per workload per pull (the rest waits for the next pull); default 10,000. */
  readonly maxStepsPerPull?: number;
}

export interface PullResult {
  readonly workload: string;
  readonly fromSeconds: number;
  readonly toSeconds: number;
  readonly accepted: number;
  readonly duplicates: number;
  readonly error?: string;
}

/**
 * One pull of every workload that has a Prometheus query: read from its
 * high-water mark (or `backfillSeconds` ago, the first time) up to now minus
 * the settle time, on the workload's step grid, and store the samples and the
 * new mark in one transaction. A restart resumes at the mark; a crash before
 * the commit re-reads the same window, and the idempotent store drops what it
 * already has. A failing workload does not stop the others.
 */
export async function pullOnce(options: PullOptions): Promise<PullResult[]> {
  const out: PullResult[] = [];
  const settle = options.settleSteps ?? 2;
  const maxSteps = options.maxStepsPerPull ?? 10_000;
  for (const w of options.workloads) {
    const prom = w.metrics?.prometheus;
    if (!prom) continue;
    const step = prom.stepSeconds;
    const mark = await options.store.highWaterMark(options.source.name, w.name);
    const from = mark ?? Math.ceil((options.nowSeconds - prom.backfillSeconds) / step) * step;
    const lastReady = Math.floor(options.nowSeconds / step) * step - settle * step;
    const to = Math.min(lastReady, from + (maxSteps - 1) * step);
    if (to < from) {
      out.push({ workload: w.name, fromSeconds: from, toSeconds: to, accepted: 0, duplicates: 0 });
      continue;
    }
    try {
      const samples = await options.source.fetchRange(prom.query, from, to, step);
      const r = await options.store.insertSamples(
        samples.map((s) => ({ workload: w.name, timeSeconds: s.timeSeconds, value: s.value })),
        { source: options.source.name, workload: w.name, seconds: to + step },
      );
      out.push({ workload: w.name, fromSeconds: from, toSeconds: to, ...r });
    } catch (e) {
      out.push({ workload: w.name, fromSeconds: from, toSeconds: to, accepted: 0, duplicates: 0, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return out;
}
