/**
 * Metering: what actually ran, turned into usage records per provider, pool,
 * account and clock hour. Pure: intervals in, records out.
 *
 * Attribution to accounts. In each interval a pool bills n nodes (ready or
 * provisioning) of capacity (C cpu, M memory) each. An account's workloads
 * hold the resources their running instances request there: c_a millicores
 * and m_a MiB. Then, over the interval's hours h:
 *   vcpuHours_a = c_a / 1000 · h            (its requested vCPU-hours)
 *   gibHours_a  = m_a / 1024 · h            (its requested GiB-hours)
 *   nodeHours_a = (c_a / (n·C) + m_a / (n·M)) / 2 · n · h
 * i.e. node-hours go by the mean of the account's CPU and memory shares of the
 * billed capacity. What no account holds (idle and provisioning capacity,
 * bin-packing waste) is the `(unallocated)` record, so every pool-hour's
 * records add up to the pool's usage. Workloads without an account count
 * under `(no account)`.
 */

import { InvalidInputError } from '../core/errors.ts';
import type { Pool, Provider, ProviderKind, Workload } from '../core/model.ts';
import type { UsageInterval } from '../core/billing.ts';

export const UNALLOCATED = '(unallocated)';
export const NO_ACCOUNT = '(no account)';

/** Usage of one pool by one account in one clock hour (UTC, [hourStartSeconds, +3600)). */
export interface UsageRecord {
  readonly hourStartSeconds: number;
  readonly provider: string;
  readonly providerKind: ProviderKind;
  readonly pool: string;
  readonly zone: string;
  /** An account name, `(unallocated)` or `(no account)`. */
  readonly account: string;
  readonly nodeHours: number;
  readonly vcpuHours: number;
  readonly gibHours: number;
}

/**
 * Reserved capacity of one pool in one clock hour: node-hours reserved (paid
 * at the committed price whether used or not) and node-hours of billed nodes
 * the reservation covered (min(nodes, reserved) over time); the rest of the
 * pool's node-hours are on demand.
 */
export interface ReservationRecord {
  readonly hourStartSeconds: number;
  readonly pool: string;
  readonly zone: string;
  readonly reservedNodeHours: number;
  readonly coveredNodeHours: number;
}

const HOUR = 3600;

interface Accumulator {
  nodeHours: number;
  vcpuHours: number;
  gibHours: number;
}

/**
 * Accumulates intervals into hourly records. Intervals may arrive in any
 * order and may cross hour boundaries (they are split at each).
 */
export class HourlyMeter {
  /** hourStart -> pool -> account -> usage. */
  private readonly hours = new Map<number, Map<string, Map<string, Accumulator>>>();
  private readonly poolByName: ReadonlyMap<string, Pool>;
  private readonly accountOf: ReadonlyMap<string, string>;
  private readonly workloadByName: ReadonlyMap<string, Workload>;
  private readonly kindOf: ReadonlyMap<string, ProviderKind>;
  /**
   * Consecutive intervals with the same nodes and instances (most 15-second
   * ticks of a replay) are merged before they are split into hours: the
   * records are the same, the work is not.
   */
  private pending: UsageInterval | undefined;
  /** hourStart -> pool -> reserved and covered node-hours. */
  private readonly reservedHours = new Map<number, Map<string, { reserved: number; covered: number }>>();

  constructor(pools: readonly Pool[], workloads: readonly Workload[], providers: readonly Provider[]) {
    this.poolByName = new Map(pools.map((p) => [p.name, p]));
    this.workloadByName = new Map(workloads.map((w) => [w.name, w]));
    this.accountOf = new Map(workloads.map((w) => [w.name, w.account ?? NO_ACCOUNT]));
    this.kindOf = new Map(providers.map((p) => [p.name, p.kind]));
  }

  add(interval: UsageInterval): void {
    if (!(interval.endSeconds >= interval.startSeconds)) throw new InvalidInputError('usage interval', `ends (${interval.endSeconds}) before it starts (${interval.startSeconds})`);
    const p = this.pending;
    if (p && p.endSeconds === interval.startSeconds && sameState(p, interval)) {
      this.pending = { ...p, endSeconds: interval.endSeconds };
      return;
    }
    this.flush();
    this.pending = interval;
  }

  private flush(): void {
    if (this.pending) this.addNow(this.pending);
    this.pending = undefined;
  }

  private addNow(interval: UsageInterval): void {
    const { startSeconds, endSeconds } = interval;
    // Requested resources by pool and account, constant over the interval.
    const held = new Map<string, Map<string, { cpu: number; mem: number }>>();
    for (const [workload, byPool] of Object.entries(interval.runningInstances)) {
      const w = this.workloadByName.get(workload);
      if (!w) throw new InvalidInputError('usage interval', `unknown workload "${workload}"`);
      for (const [pool, n] of Object.entries(byPool)) {
        if (n <= 0) continue;
        const account = this.accountOf.get(workload)!;
        let byAccount = held.get(pool);
        if (!byAccount) held.set(pool, (byAccount = new Map()));
        const h = byAccount.get(account) ?? { cpu: 0, mem: 0 };
        h.cpu += n * w.perInstance.cpuMillicores;
        h.mem += n * w.perInstance.memoryMiB;
        byAccount.set(account, h);
      }
    }
    for (let t = startSeconds; t < endSeconds; ) {
      const hourStart = Math.floor(t / HOUR) * HOUR;
      const until = Math.min(endSeconds, hourStart + HOUR);
      const hours = (until - t) / HOUR;
      for (const [pool, nodes] of Object.entries(interval.nodesByPool)) {
        if (nodes > 0) this.addPool(hourStart, pool, nodes, held.get(pool), hours);
      }
      for (const [pool, reserved] of Object.entries(interval.reservedNodesByPool ?? {})) {
        if (reserved > 0) this.addReserved(hourStart, pool, reserved, interval.nodesByPool[pool] ?? 0, hours);
      }
      t = until;
    }
  }

  private addPool(hourStart: number, poolName: string, nodes: number, held: Map<string, { cpu: number; mem: number }> | undefined, hours: number): void {
    const pool = this.poolByName.get(poolName);
    if (!pool) throw new InvalidInputError('usage interval', `unknown pool "${poolName}"`);
    const cap = pool.nodeType.capacity;
    const totalCpu = nodes * cap.cpuMillicores;
    const totalMem = nodes * cap.memoryMiB;
    let byPool = this.hours.get(hourStart);
    if (!byPool) this.hours.set(hourStart, (byPool = new Map()));
    let byAccount = byPool.get(poolName);
    if (!byAccount) byPool.set(poolName, (byAccount = new Map()));
    const credit = (account: string, nodeHours: number, vcpuHours: number, gibHours: number) => {
      let acc = byAccount.get(account);
      if (!acc) byAccount.set(account, (acc = { nodeHours: 0, vcpuHours: 0, gibHours: 0 }));
      acc.nodeHours += nodeHours;
      acc.vcpuHours += vcpuHours;
      acc.gibHours += gibHours;
    };
    let heldCpu = 0;
    let heldMem = 0;
    let heldNodes = 0;
    for (const [account, h] of held ?? []) {
      const nodeShare = (h.cpu / totalCpu + h.mem / totalMem) / 2;
      credit(account, nodeShare * nodes * hours, (h.cpu / 1000) * hours, (h.mem / 1024) * hours);
      heldCpu += h.cpu;
      heldMem += h.mem;
      heldNodes += nodeShare * nodes;
    }
    credit(UNALLOCATED, (nodes - heldNodes) * hours, ((totalCpu - heldCpu) / 1000) * hours, ((totalMem - heldMem) / 1024) * hours);
  }

  private addReserved(hourStart: number, poolName: string, reserved: number, nodes: number, hours: number): void {
    if (!this.poolByName.has(poolName)) throw new InvalidInputError('usage interval', `unknown pool "${poolName}" in reservations`);
    let byPool = this.reservedHours.get(hourStart);
    if (!byPool) this.reservedHours.set(hourStart, (byPool = new Map()));
    const acc = byPool.get(poolName) ?? { reserved: 0, covered: 0 };
    acc.reserved += reserved * hours;
    acc.covered += Math.min(nodes, reserved) * hours;
    byPool.set(poolName, acc);
  }

  /** Reserved capacity per hour and pool, sorted by hour and pool (empty when nothing was reserved). */
  reservationRecords(): ReservationRecord[] {
    this.flush();
    const out: ReservationRecord[] = [];
    for (const hourStart of [...this.reservedHours.keys()].sort((a, b) => a - b)) {
      const byPool = this.reservedHours.get(hourStart)!;
      for (const pool of [...byPool.keys()].sort()) {
        const r = byPool.get(pool)!;
        out.push({ hourStartSeconds: hourStart, pool, zone: this.poolByName.get(pool)!.zone, reservedNodeHours: r.reserved, coveredNodeHours: r.covered });
      }
    }
    return out;
  }

  /** Records sorted by hour, pool and account. */
  records(): UsageRecord[] {
    this.flush();
    const out: UsageRecord[] = [];
    for (const hourStart of [...this.hours.keys()].sort((a, b) => a - b)) {
      const byPool = this.hours.get(hourStart)!;
      for (const poolName of [...byPool.keys()].sort()) {
        const pool = this.poolByName.get(poolName)!;
        const byAccount = byPool.get(poolName)!;
        for (const account of [...byAccount.keys()].sort()) {
          const a = byAccount.get(account)!;
          out.push({
            hourStartSeconds: hourStart,
            provider: pool.provider,
            providerKind: this.kindOf.get(pool.provider) ?? 'cloud',
            pool: poolName,
            zone: pool.zone,
            account,
            nodeHours: a.nodeHours,
            vcpuHours: a.vcpuHours,
            gibHours: a.gibHours,
          });
        }
      }
    }
    return out;
  }
}

function sameCounts(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
  if (a === b) return true;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k]) return false;
  return true;
}

/** Whether two intervals have the same nodes and running instances. */
function sameState(a: UsageInterval, b: UsageInterval): boolean {
  if (!sameCounts(a.nodesByPool, b.nodesByPool)) return false;
  if (a.reservedNodesByPool !== b.reservedNodesByPool && !sameCounts(a.reservedNodesByPool ?? {}, b.reservedNodesByPool ?? {})) return false;
  if (a.runningInstances === b.runningInstances) return true;
  const ka = Object.keys(a.runningInstances);
  if (ka.length !== Object.keys(b.runningInstances).length) return false;
  for (const w of ka) {
    const rb = b.runningInstances[w];
    if (!rb || !sameCounts(a.runningInstances[w], rb)) return false;
  }
  return true;
}

/** Usage records of a sequence of intervals. */
export function meter(intervals: Iterable<UsageInterval>, pools: readonly Pool[], workloads: readonly Workload[], providers: readonly Provider[] = []): UsageRecord[] {
  const m = new HourlyMeter(pools, workloads, providers);
  for (const i of intervals) m.add(i);
  return m.records();
}

/** Sum of usage by a key (e.g. by pool, by account). */
export function totalsBy(records: readonly UsageRecord[], key: (r: UsageRecord) => string): Map<string, { nodeHours: number; vcpuHours: number; gibHours: number }> {
  const out = new Map<string, { nodeHours: number; vcpuHours: number; gibHours: number }>();
  for (const r of records) {
    const k = key(r);
    const t = out.get(k) ?? { nodeHours: 0, vcpuHours: 0, gibHours: 0 };
    t.nodeHours += r.nodeHours;
    t.vcpuHours += r.vcpuHours;
    t.gibHours += r.gibHours;
    out.set(k, t);
  }
  return out;
}
