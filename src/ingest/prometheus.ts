import { InvalidInputError } from '../core/errors.ts';
import type { Sample } from './csv.ts';

/** Where pulled metrics come from: a range query returning one series. */
export interface MetricsSource {
  readonly name: string;
  /**
   * Values of `query` at from, from + step, … up to `toSeconds` (inclusive), as
   * one series; steps without a value are absent. A query that returns more
   * than one series is an error (aggregate it, e.g. with `sum(…)`).
   */
  fetchRange(query: string, fromSeconds: number, toSeconds: number, stepSeconds: number): Promise<Sample[]>;
}

/** A failure talking to the source; `retryable` when a later pull may succeed (network, 5xx). */
export class MetricsSourceError extends Error {
  override readonly name = 'MetricsSourceError';
  constructor(message: string, readonly retryable: boolean) {
    super(message);
  }
}

/** Prometheus refuses range queries of more than 11,000 points; stay below. */
export const MAX_POINTS_PER_QUERY = 10_000;

interface PromResponse {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; values?: [number, string][] }[] };
}

/** The Prometheus HTTP API (`/api/v1/query_range`). */
export class PrometheusSource implements MetricsSource {
  readonly name = 'prometheus';
  private readonly baseUrl: string;

  constructor(baseUrl: string, private readonly options: { timeoutMs?: number; headers?: Record<string, string> } = {}) {
    if (!/^https?:\/\//.test(baseUrl)) throw new InvalidInputError('prometheus URL', `expected http:// or https://, got "${baseUrl}"`);
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  async fetchRange(query: string, fromSeconds: number, toSeconds: number, stepSeconds: number): Promise<Sample[]> {
    if (!(stepSeconds > 0)) throw new InvalidInputError('stepSeconds', `must be positive, got ${stepSeconds}`);
    const out: Sample[] = [];
    for (let start = fromSeconds; start <= toSeconds; start += MAX_POINTS_PER_QUERY * stepSeconds) {
      const end = Math.min(toSeconds, start + (MAX_POINTS_PER_QUERY - 1) * stepSeconds);
      out.push(...(await this.rangeOnce(query, start, end, stepSeconds)));
    }
    return out;
  }

  private async rangeOnce(query: string, start: number, end: number, step: number): Promise<Sample[]> {
    const body = new URLSearchParams({ query, start: String(start), end: String(end), step: String(step) });
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}/api/v1/query_range`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...this.options.headers },
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (e) {
      throw new MetricsSourceError(`prometheus at ${this.baseUrl} unreachable: ${e instanceof Error ? e.message : String(e)}`, true);
    }
    let json: PromResponse;
    try {
      json = (await res.json()) as PromResponse;
    } catch {
      throw new MetricsSourceError(`prometheus answered ${res.status} without JSON`, res.status >= 500);
    }
    if (json.status !== 'success' || !json.data) {
      throw new MetricsSourceError(`prometheus rejected query "${query}": ${json.errorType ?? res.status}: ${json.error ?? 'no detail'}`, res.status >= 500);
    }
    if (json.data.resultType !== 'matrix') throw new MetricsSourceError(`query "${query}" gave a ${json.data.resultType}, expected a range vector`, false);
    const series = json.data.result;
    if (series.length > 1) {
      const labels = series.slice(0, 3).map((s) => JSON.stringify(s.metric)).join(', ');
      throw new MetricsSourceError(`query "${query}" returned ${series.length} series (${labels}…); aggregate it to one, e.g. sum(...)`, false);
    }
    const samples: Sample[] = [];
    for (const [t, v] of series[0]?.values ?? []) {
      const value = Number(v);
      // NaN and ±Inf (e.g. a rate over no data) are not demand; skip them.
      if (Number.isFinite(value)) samples.push({ timeSeconds: t, value: Math.max(0, value) });
    }
    return samples;
  }
}
