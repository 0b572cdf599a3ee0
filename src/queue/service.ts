import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { InvalidInputError } from '../core/errors.ts';
import { RequestThrottledError, RequestConflictError, type CapacityRequest, type RequestFilter, type RequestStatus, type ResourceAmounts } from '../core/requests.ts';
import type { SubmitRequestBody, Tenant } from '../config/requestSchema.ts';
import type { ServiceProvider, ServiceWorkload } from '../config/serviceSchema.ts';
import { loadServiceConfig } from '../control/config.ts';
import { canonicalJson, sha256Hex } from '../store/sqlStore.ts';
import type { Store } from '../store/store.ts';
import { add, positivePart, queueCapacity, sub, ZERO, type QueueCapacity } from './capacity.ts';
import { decideQueue, queuePositions, type QueueDecision } from './decide.ts';
import { QueueMetrics } from './metrics.ts';

/** A request as the API shows it: with its place in the queue while queued. */
export type RequestView = CapacityRequest & { readonly position?: number };

export interface QueueOptions {
  readonly store: Store;
  /** Epoch seconds. */
  readonly now: () => number;
  /** Registers the queue's metrics here when given. */
  readonly registry?: Registry;
  readonly logger?: Logger;
}

export interface QueueSummary extends QueueCapacity {
  /** Held by granted requests. */
  readonly granted: ResourceAmounts;
  /** capacity − planned − granted (negative when the plan grew into granted capacity). */
  readonly free: ResourceAmounts;
  /** Part of `free` kept for tenants' unused guaranteed minimums. */
  readonly heldForGuarantees: ResourceAmounts;
  readonly queuedRequests: number;
  readonly grantedRequests: number;
}

export interface ProcessResult {
  readonly atSeconds: number;
  readonly capacity: QueueCapacity;
  readonly free: ResourceAmounts;
  readonly heldForGuarantees: ResourceAmounts;
  /** Status changes written (waiting-reason updates left out). */
  readonly transitions: { readonly id: number; readonly from: RequestStatus; readonly to: RequestStatus; readonly reason: string }[];
}

/**
 * The capacity-request queue of `headroom serve`: validates submits against
 * the configuration (tenants, workloads), stores them with their throttle
 * checks, and runs the pure decision (src/queue/decide.ts) against the
 * capacity of the pools and the latest plan, on submit, on cancel, after
 * each loop cycle and on a short timer (deadlines and durations).
 */
export class RequestQueue {
  readonly metrics?: QueueMetrics;

  constructor(private readonly options: QueueOptions) {
    if (options.registry) this.metrics = new QueueMetrics(options.registry);
  }

  private async tenants(): Promise<Map<string, Tenant>> {
    // Stored documents were validated (and defaulted) by tenantSchema when applied.
    return new Map((await this.options.store.listConfig('tenant')).map((d) => [d.name, d.document as Tenant]));
  }

  /** Validate against the configuration and store; then decide, so a request that fits is granted at once. */
  async submit(body: SubmitRequestBody, idempotencyHeader?: string): Promise<{ request: RequestView; created: boolean }> {
    const { store } = this.options;
    const now = this.options.now();
    try {
      const tenant = (await this.tenants()).get(body.tenant);
      if (!tenant) {
        const names = (await store.listConfig('tenant')).map((d) => d.name);
        throw new InvalidInputError('body.tenant', `no tenant named "${body.tenant}" is configured${names.length ? ` (tenants: ${names.slice(0, 20).join(', ')})` : ' (create one with PUT /v1/tenants/NAME or apply `tenants:`)'}`);
      }
      if (tenant.maxPriority !== undefined && body.priority > tenant.maxPriority) {
        throw new InvalidInputError('body.priority', `${body.priority} is above tenant "${body.tenant}"'s maxPriority (${tenant.maxPriority})`);
      }
      if (idempotencyHeader !== undefined && body.idempotencyKey !== undefined && idempotencyHeader !== body.idempotencyKey) {
        throw new InvalidInputError('headers.idempotency-key', `"${idempotencyHeader}" differs from body.idempotencyKey "${body.idempotencyKey}"`);
      }
      const idempotencyKey = body.idempotencyKey ?? idempotencyHeader;
      let amounts: ResourceAmounts;
      if (body.workload !== undefined) {
        const w = (await store.getConfig('workload', body.workload))?.document as ServiceWorkload | undefined;
        if (!w) throw new InvalidInputError('body.workload', `no workload named "${body.workload}" is configured`);
        amounts = { cpuMillicores: w.cpuMillicores * body.instances!, memoryMiB: w.memoryMiB * body.instances! };
      } else {
        amounts = { cpuMillicores: body.cpuMillicores ?? 0, memoryMiB: body.memoryMiB ?? 0 };
      }
      const deadlineSeconds = body.deadline ?? (body.maxWaitSeconds !== undefined ? now + body.maxWaitSeconds : undefined);
      if (body.deadline !== undefined && body.deadline < now) throw new InvalidInputError('body.deadline', `${new Date(body.deadline * 1000).toISOString()} is in the past`);
      const { idempotencyKey: _k, ...rest } = body;
      const loop = await loadServiceConfig(store);
      const r = await store.requests.submit(
        {
          tenant: body.tenant,
          ...(body.workload !== undefined ? { workload: body.workload, instances: body.instances } : {}),
          ...amounts,
          priority: body.priority,
          ...(deadlineSeconds !== undefined ? { deadlineSeconds } : {}),
          ...(body.durationSeconds !== undefined ? { durationSeconds: body.durationSeconds } : {}),
          ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
          bodyHash: sha256Hex(canonicalJson(rest)),
        },
        {
          submitsPerSecond: tenant.throttle.submitsPerMinute / 60,
          burst: tenant.throttle.burst,
          maxQueued: tenant.throttle.maxQueued,
          fallbackRetryAfterSeconds: Math.max(1, Math.round(loop.loop.intervalSeconds)),
        },
        now,
      );
      // The request is stored; a failing decision is logged and retried by the next one (timer, cycle, submit).
      if (r.created) await this.processLogged();
      return { request: (await this.get(r.request.id))!, created: r.created };
    } catch (e) {
      if (e instanceof RequestThrottledError) this.metrics?.rejections.inc({ reason: e.limit === 'maxQueued' ? 'throttled-queue' : 'throttled-rate' });
      else if (e instanceof RequestConflictError) this.metrics?.rejections.inc({ reason: 'idempotency-conflict' });
      else if (e instanceof InvalidInputError) this.metrics?.rejections.inc({ reason: 'invalid' });
      throw e;
    }
  }

  /** The queue's capacity now: pools at quota (healthy ones), the latest plan's use of them. */
  async capacity(): Promise<QueueCapacity> {
    const { store } = this.options;
    const [cfg, providers, plans] = await Promise.all([loadServiceConfig(store), store.listConfig('provider'), store.listPlans(1)]);
    const failing = new Set(providers.filter((p) => (p.document as ServiceProvider).health === 'failing').map((p) => p.name));
    const sizes = Object.fromEntries(cfg.workloads.map((w) => [w.name, { cpuMillicores: w.cpuMillicores, memoryMiB: w.memoryMiB }]));
    return queueCapacity(cfg.pools, failing, plans[0]?.target.instances ?? {}, sizes);
  }

  /** The queue now: capacity, what the plan and the grants use, what is free and held for guarantees. */
  async summary(): Promise<QueueSummary> {
    const [capacity, tenants, open] = await Promise.all([this.capacity(), this.tenants(), this.options.store.requests.open()]);
    const byTenant = new Map<string, ResourceAmounts>();
    for (const r of open) if (r.status === 'granted') byTenant.set(r.tenant, add(byTenant.get(r.tenant) ?? ZERO, r));
    const granted = [...byTenant.values()].reduce(add, ZERO);
    const held = [...tenants].map(([name, t]) => positivePart(sub(t.guaranteed, byTenant.get(name) ?? ZERO))).reduce(add, ZERO);
    return {
      ...capacity,
      granted: { cpuMillicores: granted.cpuMillicores, memoryMiB: granted.memoryMiB },
      free: sub(sub(capacity.capacity, capacity.planned), granted),
      heldForGuarantees: held,
      queuedRequests: open.filter((r) => r.status === 'queued').length,
      grantedRequests: open.filter((r) => r.status === 'granted').length,
    };
  }

  /** Release ended grants, expire, reject, grant: one decision, written in one transaction. */
  async process(): Promise<ProcessResult> {
    const { store } = this.options;
    const [capacity, tenants] = await Promise.all([this.capacity(), this.tenants()]);
    const shares = new Map([...tenants].map(([n, t]) => [n, { weight: t.weight, guaranteed: t.guaranteed }]));
    const now = this.options.now();
    let decision: QueueDecision | undefined;
    let open: readonly CapacityRequest[] = [];
    const applied = await store.requests.decide((rows) => {
      open = rows;
      decision = decideQueue({ nowSeconds: now, capacity, tenants: shares, requests: rows });
      return decision.changes;
    }, now);
    const transitions = applied.filter((c) => c.to !== c.from);
    const byId = new Map(open.map((r) => [r.id, r]));
    const queued = new Map<string, number>();
    const statusAfter = new Map(open.map((r) => [r.id, r.status]));
    for (const c of transitions) statusAfter.set(c.id, c.to);
    for (const r of open) if (statusAfter.get(r.id) === 'queued') queued.set(r.tenant, (queued.get(r.tenant) ?? 0) + 1);
    const m = this.metrics;
    if (m) {
      for (const c of transitions) {
        const tenant = byId.get(c.id)?.tenant ?? 'unknown';
        if (c.to === 'granted') m.grants.inc({ tenant });
        else if (c.to === 'expired') m.expirations.inc({ tenant });
        else if (c.to === 'rejected') m.rejections.inc({ reason: c.reason.startsWith('tenant') ? 'tenant-removed' : 'too-large' });
      }
      m.queued.reset();
      for (const t of tenants.keys()) m.queued.set({ tenant: t }, queued.get(t) ?? 0);
      m.free.set({ resource: 'cpu' }, decision!.free.cpuMillicores);
      m.free.set({ resource: 'memory' }, decision!.free.memoryMiB);
    }
    if (transitions.length) this.options.logger?.info({ changes: transitions.map((c) => `${c.id}:${c.from}->${c.to}`) }, 'request queue decided');
    return { atSeconds: now, capacity, free: decision!.free, heldForGuarantees: decision!.heldForGuarantees, transitions };
  }

  private async processLogged(): Promise<void> {
    await this.process().catch((e) => this.options.logger?.error({ err: e instanceof Error ? e.message : String(e) }, 'request queue decision failed'));
  }

  private async withPositions(list: readonly CapacityRequest[]): Promise<RequestView[]> {
    if (!list.some((r) => r.status === 'queued')) return [...list];
    const positions = queuePositions(await this.options.store.requests.open());
    return list.map((r) => (positions.has(r.id) ? { ...r, position: positions.get(r.id)! } : r));
  }

  async get(id: number): Promise<RequestView | undefined> {
    const r = await this.options.store.requests.get(id);
    if (!r || r.status !== 'queued') return r;
    return { ...r, position: await this.options.store.requests.position(r) };
  }

  async list(filter: RequestFilter): Promise<RequestView[]> {
    return this.withPositions(await this.options.store.requests.list(filter));
  }

  /** Cancel, then decide (the freed capacity may grant others). */
  async cancel(id: number, reason: string): Promise<RequestView> {
    const r = await this.options.store.requests.cancel(id, this.options.now(), reason);
    if (r.status === 'cancelled') await this.processLogged();
    return (await this.get(id))!;
  }
}
