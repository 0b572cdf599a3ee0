import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The service's Prometheus metrics, on a registry of its own (no global state). */
export class ServiceMetrics {
  readonly registry = new Registry();
  /** Seconds per loop stage (forecast, size, allocate, plan, act) and for the whole cycle. */
  readonly loopStageSeconds: Histogram<'stage'>;
  readonly loopCycles: Counter<'mode' | 'status'>;
  /** Mean absolute percentage error of the latest forecast's median against the samples observed since, by workload. */
  readonly forecastError: Gauge<'workload'>;
  readonly actions: Counter<'kind' | 'status'>;
  /** Samples received, by source (push-json, push-csv, prometheus) and outcome (accepted, duplicate). */
  readonly ingestSamples: Counter<'source' | 'outcome'>;
  readonly httpSeconds: Histogram<'method' | 'route' | 'status'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'headroom_process_' });
    this.loopStageSeconds = new Histogram({
      name: 'headroom_loop_stage_duration_seconds',
      help: 'Duration of each stage of a control-loop cycle',
      labelNames: ['stage'],
      buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 1, 2, 5, 10, 30, 60],
      registers: [this.registry],
    });
    this.loopCycles = new Counter({ name: 'headroom_loop_cycles_total', help: 'Control-loop cycles by mode and outcome', labelNames: ['mode', 'status'], registers: [this.registry] });
    this.forecastError = new Gauge({ name: 'headroom_forecast_mape', help: 'Mean absolute percentage error of the latest forecast median against observed demand', labelNames: ['workload'], registers: [this.registry] });
    this.actions = new Counter({ name: 'headroom_actions_total', help: 'Actions executed by kind and final status', labelNames: ['kind', 'status'], registers: [this.registry] });
    this.ingestSamples = new Counter({ name: 'headroom_ingest_samples_total', help: 'Samples received by source and outcome', labelNames: ['source', 'outcome'], registers: [this.registry] });
    this.httpSeconds = new Histogram({
      name: 'headroom_http_request_duration_seconds',
      help: 'HTTP request durations',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers: [this.registry],
    });
  }

  countIngest(source: string, accepted: number, duplicates: number): void {
    if (accepted) this.ingestSamples.inc({ source, outcome: 'accepted' }, accepted);
    if (duplicates) this.ingestSamples.inc({ source, outcome: 'duplicate' }, duplicates);
  }
}
