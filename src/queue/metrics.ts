import { Counter, Gauge, type Registry } from 'prom-client';

/** Prometheus metrics of the capacity-request queue, on the service's registry. */
export class QueueMetrics {
  /** Requests waiting, by tenant (set after every decision). */
  readonly queued: Gauge<'tenant'>;
  readonly grants: Counter<'tenant'>;
  /** Submits refused (throttled, unknown tenant or workload, idempotency conflict) and requests the queue rejected (too large, tenant removed). */
  readonly rejections: Counter<'reason'>;
  readonly expirations: Counter<'tenant'>;
  /** Free capacity after the last decision (capacity − planned − granted), by resource. */
  readonly free: Gauge<'resource'>;

  constructor(registry: Registry) {
    this.queued = new Gauge({ name: 'headroom_requests_queued', help: 'Capacity requests waiting in the queue, by tenant', labelNames: ['tenant'], registers: [registry] });
    this.grants = new Counter({ name: 'headroom_request_grants_total', help: 'Capacity requests granted, by tenant', labelNames: ['tenant'], registers: [registry] });
    this.rejections = new Counter({ name: 'headroom_request_rejections_total', help: 'Capacity requests refused at submit or rejected by the queue, by reason', labelNames: ['reason'], registers: [registry] });
    this.expirations = new Counter({ name: 'headroom_request_expirations_total', help: 'Queued capacity requests whose deadline passed, by tenant', labelNames: ['tenant'], registers: [registry] });
    this.free = new Gauge({ name: 'headroom_request_free_capacity', help: 'Capacity the queue can still grant after the last decision (cpu in millicores, memory in MiB)', labelNames: ['resource'], registers: [registry] });
  }
}
