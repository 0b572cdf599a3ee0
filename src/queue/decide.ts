import type { CapacityRequest, RequestChange, ResourceAmounts } from '../core/requests.ts';
import { add, formatAmounts, positivePart, sub, within, ZERO, type QueueCapacity } from './capacity.ts';

/**
 * The queue's decision, a pure function: open requests + capacity + tenants
 * + the time → grants, releases, expiries, rejections and what each waiting
 * request waits for.
 *
 * Order of a queue (`compareQueued`): priority, higher first; then deadline,
 * earliest first (no deadline last); then submit time, earliest first; then
 * id, lowest first (ids grow with submits, so the last tie-break is arrival
 * order and the order is total).
 *
 * One decision, in this order:
 *  1. Grants whose duration has ended are released; queued requests past
 *     their deadline expire; requests of a tenant no longer configured, or
 *     larger than every pool together at quota, are rejected.
 *  2. Guaranteed minimums: each tenant's requests, in queue order, are granted
 *     while the tenant's granted total stays within its `guaranteed` amounts
 *     and they fit the free capacity, before any other grant.
 *  3. Priority classes, highest first. Within a class, capacity is shared by
 *     weighted Dominant Resource Fairness (Ghodsi, Zaharia, Hindman,
 *     Konwinski, Shenker and Stoica, "Dominant Resource Fairness: Fair
 *     Allocation of Multiple Resource Types", NSDI 2011): a tenant's dominant
 *     share is max over CPU and memory of (granted / capacity), divided by its
 *     weight (the paper's weighted DRF with one weight for all resources);
 *     progressive filling repeatedly grants the next request of the tenant
 *     with the lowest weighted dominant share (ties: the queue order of their
 *     next requests). Unlike the paper's Algorithm 1, which stops at the first
 *     task that does not fit, a tenant whose next request does not fit stops
 *     and the others go on (work-conserving).
 *  Every grant beyond a guarantee must leave free, in both resources, what
 *  all tenants' unused guaranteed minimums add up to, so a guarantee holds
 *  without taking back grants. A tenant's requests are granted strictly in
 *  its queue order: once one waits, the tenant's later requests wait behind
 *  it (across priority classes too). Requests of different tenants do pass a
 *  waiting one (a big request does not idle capacity that smaller ones of
 *  other tenants can use); its deadline bounds how long it waits.
 */

export interface TenantShare {
  /** Weight in weighted DRF (> 0). */
  readonly weight: number;
  /** Minimum the queue keeps available for this tenant. */
  readonly guaranteed: ResourceAmounts;
}

export interface QueueInput {
  readonly nowSeconds: number;
  readonly capacity: QueueCapacity;
  readonly tenants: ReadonlyMap<string, TenantShare>;
  /** Open requests (queued and granted). */
  readonly requests: readonly CapacityRequest[];
}

export interface QueueDecision {
  /** Status changes, and new waiting reasons of queued requests (`to === from`). */
  readonly changes: readonly RequestChange[];
  readonly grantedIds: readonly number[];
  /** Free capacity after the decision: capacity − planned − granted (may be negative when the plan grew). */
  readonly free: ResourceAmounts;
  /** Part of `free` held for unused guaranteed minimums. */
  readonly heldForGuarantees: ResourceAmounts;
}

/** The queue order: priority desc, deadline asc (none last), submit time asc, id asc. */
export function compareQueued(a: CapacityRequest, b: CapacityRequest): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  const da = a.deadlineSeconds ?? Infinity;
  const db = b.deadlineSeconds ?? Infinity;
  if (da !== db) return da < db ? -1 : 1;
  if (a.submittedAtSeconds !== b.submittedAtSeconds) return a.submittedAtSeconds - b.submittedAtSeconds;
  return a.id - b.id;
}

/** 1-based position of each queued request in the queue order. */
export function queuePositions(requests: readonly CapacityRequest[]): Map<number, number> {
  const queued = requests.filter((r) => r.status === 'queued').sort(compareQueued);
  return new Map(queued.map((r, i) => [r.id, i + 1]));
}

const iso = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');

export function decideQueue(input: QueueInput): QueueDecision {
  const { nowSeconds: now, capacity: cap, tenants } = input;
  const changes: RequestChange[] = [];
  const grantedIds: number[] = [];
  const granted = new Map<string, ResourceAmounts>();
  const grantedOf = (t: string) => granted.get(t) ?? ZERO;

  // 1. Releases, expiries, rejections.
  const queued: CapacityRequest[] = [];
  for (const r of input.requests) {
    if (r.status === 'granted') {
      if (r.endsAtSeconds !== undefined && now >= r.endsAtSeconds) {
        changes.push({ id: r.id, from: 'granted', to: 'released', reason: `its duration of ${r.durationSeconds} s ended at ${iso(r.endsAtSeconds)}` });
      } else {
        granted.set(r.tenant, add(grantedOf(r.tenant), r));
      }
    } else if (r.status === 'queued') {
      if (r.deadlineSeconds !== undefined && now > r.deadlineSeconds) {
        changes.push({ id: r.id, from: 'queued', to: 'expired', reason: `not granted by its deadline ${iso(r.deadlineSeconds)}` });
      } else if (!tenants.has(r.tenant)) {
        changes.push({ id: r.id, from: 'queued', to: 'rejected', reason: `tenant "${r.tenant}" is no longer configured` });
      } else if ((cap.ceiling.cpuMillicores > 0 || cap.ceiling.memoryMiB > 0) && !within(r, cap.ceiling)) {
        changes.push({ id: r.id, from: 'queued', to: 'rejected', reason: `asks for ${formatAmounts(r)}, more than all pools together hold at their quotas (${formatAmounts(cap.ceiling)})` });
      } else {
        queued.push(r);
      }
    }
  }

  let free = sub(sub(cap.capacity, cap.planned), [...granted.values()].reduce(add, ZERO));
  const guaranteeOf = (t: string) => tenants.get(t)?.guaranteed ?? ZERO;
  const reserveOf = (t: string, g = grantedOf(t)) => positivePart(sub(guaranteeOf(t), g));
  let held = [...tenants.keys()].map((t) => reserveOf(t)).reduce(add, ZERO);

  const grant = (r: CapacityRequest, reason: string) => {
    const before = reserveOf(r.tenant);
    const g = add(grantedOf(r.tenant), r);
    granted.set(r.tenant, g);
    held = add(sub(held, before), reserveOf(r.tenant, g));
    free = sub(free, r);
    grantedIds.push(r.id);
    changes.push({ id: r.id, from: 'queued', to: 'granted', reason });
  };
  /** A grant beyond a guarantee keeps every unused guaranteed minimum (this tenant's remaining one included) free. */
  const canGrant = (r: CapacityRequest): boolean => {
    const g = add(grantedOf(r.tenant), r);
    const heldAfter = add(sub(held, reserveOf(r.tenant)), reserveOf(r.tenant, g));
    return within(heldAfter, sub(free, r));
  };

  queued.sort(compareQueued);
  const byTenant = new Map<string, CapacityRequest[]>();
  for (const r of queued) {
    let list = byTenant.get(r.tenant);
    if (!list) byTenant.set(r.tenant, (list = []));
    list.push(r);
  }
  const next = new Map<string, number>([...byTenant.keys()].map((t) => [t, 0]));
  const head = (t: string) => byTenant.get(t)![next.get(t)!];
  const blocked = new Map<string, string>();
  const waitReason = (r: CapacityRequest, heldForOthers: ResourceAmounts) => {
    if (cap.capacity.cpuMillicores === 0 && cap.capacity.memoryMiB === 0) return cap.ceiling.cpuMillicores === 0 && cap.ceiling.memoryMiB === 0 ? 'no pools are configured' : 'no healthy pool: every pool or its provider is failing';
    const heldText = heldForOthers.cpuMillicores > 0 || heldForOthers.memoryMiB > 0 ? `, of which ${formatAmounts(heldForOthers)} is held for guaranteed minimums` : '';
    return `waiting for capacity: needs ${formatAmounts(r)}; free ${formatAmounts(positivePart(free))}${heldText}`;
  };
  // Tenants in the queue order of their first requests, so ties among them break the same way everywhere.
  const tenantOrder = [...byTenant.keys()].sort((a, b) => compareQueued(byTenant.get(a)![0], byTenant.get(b)![0]));

  // 2. Guaranteed minimums, in each tenant's queue order.
  for (const t of tenantOrder) {
    const list = byTenant.get(t)!;
    const guarantee = guaranteeOf(t);
    while (next.get(t)! < list.length) {
      const r = list[next.get(t)!];
      if (!within(add(grantedOf(t), r), guarantee)) break;
      if (!within(r, free)) {
        blocked.set(t, `within the tenant's guaranteed minimum (${formatAmounts(guarantee)}) but ${waitReason(r, ZERO)}`);
        break;
      }
      grant(r, `within the tenant's guaranteed minimum (${formatAmounts(guarantee)})`);
      next.set(t, next.get(t)! + 1);
    }
  }

  // 3. Priority classes, highest first; weighted DRF within each.
  const share = (t: string) => {
    const g = grantedOf(t);
    const c = cap.capacity;
    const s = Math.max(c.cpuMillicores > 0 ? g.cpuMillicores / c.cpuMillicores : 0, c.memoryMiB > 0 ? g.memoryMiB / c.memoryMiB : 0);
    return s / (tenants.get(t)?.weight ?? 1);
  };
  const classes = [...new Set(queued.map((r) => r.priority))].sort((a, b) => b - a);
  for (const p of classes) {
    const contenders = tenantOrder.filter((t) => !blocked.has(t) && next.get(t)! < byTenant.get(t)!.length && head(t).priority === p);
    while (contenders.length > 0) {
      let best = 0;
      let bestShare = share(contenders[0]);
      for (let i = 1; i < contenders.length; i++) {
        const s = share(contenders[i]);
        if (s < bestShare - 1e-12 || (Math.abs(s - bestShare) <= 1e-12 && compareQueued(head(contenders[i]), head(contenders[best])) < 0)) {
          best = i;
          bestShare = s;
        }
      }
      const t = contenders[best];
      const r = head(t);
      if (canGrant(r)) {
        grant(r, `priority ${p}; fair share: the tenant's weighted dominant share was ${(bestShare * 100).toFixed(1)}%, the lowest among tenants waiting at this priority`);
        next.set(t, next.get(t)! + 1);
        if (next.get(t)! < byTenant.get(t)!.length && head(t).priority === p) continue;
      } else {
        blocked.set(t, waitReason(r, sub(held, reserveOf(t))));
      }
      contenders.splice(best, 1);
    }
  }

  // What each request still queued waits for (written only when it changed).
  for (const [t, list] of byTenant) {
    const first = next.get(t)!;
    for (let i = first; i < list.length; i++) {
      const r = list[i];
      const reason = i === first ? (blocked.get(t) ?? waitReason(r, held)) : `behind request ${list[first].id} of the same tenant (a tenant's requests are granted in queue order)`;
      if (reason !== r.reason) changes.push({ id: r.id, from: 'queued', to: 'queued', reason });
    }
  }
  return { changes, grantedIds, free, heldForGuarantees: held };
}
