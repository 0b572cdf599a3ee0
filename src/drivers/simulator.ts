import type { UsageInterval } from '../core/billing.ts';
import type { Pool, Workload } from '../core/model.ts';
import type { Action, ActionRecord, PoolNetworkConfig } from '../core/plan.ts';
import type { Placement } from '../core/migration.ts';
import type { ActionResult, Driver, ObservedState } from './driver.ts';
import type { NetworkPlanner } from '../plan/network.ts';

export type { UsageInterval };

interface SimNode {
  /** Epoch seconds when the node was requested (billing starts) and when it can run instances. */
  readonly requestedAtSeconds: number;
  readonly readyAtSeconds: number;
}

/**
 * An in-process cluster: pools of nodes that become usable a provisioning delay
 * after they are requested, and workloads whose instances run where ready
 * capacity allows. Capacity requested at t is usable at t + the pool's delay;
 * scaling down frees capacity at once (newest nodes first, not-yet-ready ones
 * before ready ones). Instances are placed as the scheduler would, highest
 * priority first, onto ready capacity in each pool (treated as divisible
 * within a pool: an instance size that divides the node size packs exactly; network
 * bandwidth counts as a third dimension in pools whose node type declares it).
 *
 * Time is injected: the replay engine advances it with `setTime`.
 */
export class SimulatorDriver implements Driver {
  readonly name = 'simulator';
  private nowSeconds: number;
  private readonly nodes = new Map<string, SimNode[]>();
  /** workload -> pool -> desired instances. */
  private readonly desired = new Map<string, Map<string, number>>();
  /** workload -> pool -> running instances (settled lazily by `running()`). */
  private readonly runState = new Map<string, Map<string, number>>();
  private readonly executed = new Map<string, ActionResult>();
  readonly log: ActionRecord[] = [];
  private readonly poolByName: Map<string, Pool>;
  private readonly workloadsByPriority: readonly Workload[];
  private runningCache: Record<string, Record<string, number>> | undefined;
  /** Node-seconds and money accrued, by pool (billing from request to removal). */
  private readonly nodeSeconds = new Map<string, number>();
  private billedCost = 0;
  /** Per-instance requests changed by `resizeWorkload`, by workload (limits are not modelled). */
  private readonly resized = new Map<string, { cpuMillicores: number; memoryMiB: number }>();
  private readonly usageListeners: ((interval: UsageInterval) => void)[] = [];
  /** Nodes reserved (committed) per pool; undefined until reservations are first set. */
  private reserved: Record<string, number> | undefined;
  /** Pools that do not exist now: candidates not yet created, and dismantled pools. */
  private readonly absent = new Set<string>();
  /** Pools whose nodes are failing: nothing runs on them. */
  private readonly failing = new Set<string>();
  /** Assigns new pools' address ranges (the replay sets it when the scenario has an address plan). */
  networkPlanner?: NetworkPlanner;
  /** Network configuration of pools created here, by pool. */
  private readonly networks = new Map<string, PoolNetworkConfig>();

  constructor(
    pools: readonly Pool[],
    workloads: readonly Workload[],
    startSeconds: number,
    initial?: { nodesByPool?: Record<string, number>; instances?: Record<string, Record<string, number>> },
  ) {
    this.nowSeconds = startSeconds;
    this.poolByName = new Map(pools.map((p) => [p.name, p]));
    this.workloadsByPriority = [...workloads].sort((a, b) => b.priority - a.priority || a.name.localeCompare(b.name));
    for (const p of pools) {
      const n = initial?.nodesByPool?.[p.name] ?? p.minNodes;
      // Initial nodes exist already: ready from the start.
      this.nodes.set(p.name, Array.from({ length: n }, () => ({ requestedAtSeconds: startSeconds, readyAtSeconds: startSeconds })));
      this.nodeSeconds.set(p.name, 0);
      if (p.candidate && n === 0) this.absent.add(p.name);
    }
    for (const w of workloads) {
      this.desired.set(w.name, new Map(Object.entries(initial?.instances?.[w.name] ?? {})));
      this.runState.set(w.name, new Map());
    }
    this.settle();
  }

  /** Recompute what runs after a change (instances start or stop at the moment of the change). */
  private settle(): void {
    this.runningCache = undefined;
    this.running();
  }

  get timeSeconds(): number {
    return this.nowSeconds;
  }

  /** Advance the clock, billing every node (ready or provisioning) for the elapsed time. */
  setTime(timeSeconds: number): void {
    const dt = timeSeconds - this.nowSeconds;
    if (dt < 0) throw new Error(`simulator time cannot go back (${timeSeconds} < ${this.nowSeconds})`);
    if (dt === 0) return;
    if (this.usageListeners.length > 0) {
      const interval: UsageInterval = {
        startSeconds: this.nowSeconds,
        endSeconds: timeSeconds,
        nodesByPool: this.nodeCounts(),
        runningInstances: this.running(),
        ...(this.reserved ? { reservedNodesByPool: this.reserved } : {}),
      };
      for (const listener of this.usageListeners) listener(interval);
    }
    for (const [pool, list] of this.nodes) {
      const ns = list.length * dt;
      this.nodeSeconds.set(pool, (this.nodeSeconds.get(pool) ?? 0) + ns);
      const reserved = this.reserved?.[pool] ?? 0;
      // Unreserved pools keep the original expression, so bills without reservations are bit-for-bit unchanged.
      this.billedCost += reserved === 0 ? (ns / 3600) * this.pool(pool).costPerHour : (dt / 3600) * this.poolCostPerHour(pool, list.length);
    }
    const before = this.readyCounts();
    this.nowSeconds = timeSeconds;
    const after = this.readyCounts();
    if (Object.keys(before).some((p) => before[p] !== after[p])) this.settle();
  }

  /**
   * Call `listener` with every interval of time that passes from now on (each
   * `setTime` that advances the clock reports the interval it bills).
   */
  onUsage(listener: (interval: UsageInterval) => void): void {
    this.usageListeners.push(listener);
  }

  /** Money spent on nodes since the start. */
  get cost(): number {
    return this.billedCost;
  }

  nodeHoursByPool(): Record<string, number> {
    return Object.fromEntries([...this.nodeSeconds].map(([p, s]) => [p, s / 3600]));
  }

  private pool(name: string): Pool {
    const p = this.poolByName.get(name);
    if (!p) throw new Error(`unknown pool "${name}"`);
    return p;
  }

  /** The pool as declared. */
  poolSpec(name: string): Pool {
    return this.pool(name);
  }

  /** Ready nodes (able to run instances), by pool. */
  readyNodeCounts(): Record<string, number> {
    return this.readyCounts();
  }

  /** Whether any workload has instances planned (desired) in the pool. */
  hasDesiredIn(pool: string): boolean {
    for (const m of this.desired.values()) if ((m.get(pool) ?? 0) > 0) return true;
    return false;
  }

  /** Whether the pool exists (candidates exist once created, until dismantled). */
  poolExists(pool: string): boolean {
    return this.poolByName.has(pool) && !this.absent.has(pool);
  }

  /** Network configuration of pools created by `createPool` with one, by pool. */
  poolNetworks(): Record<string, PoolNetworkConfig> {
    return Object.fromEntries(this.networks);
  }

  /**
   * Mark a pool's nodes failing (or healthy again): instances stop running
   * there at once and none start until it is healthy; its nodes stay billed
   * until they are removed.
   */
  setPoolFailing(pool: string, failing: boolean): void {
    this.pool(pool);
    if (failing === this.failing.has(pool)) return;
    if (failing) this.failing.add(pool);
    else this.failing.delete(pool);
    this.settle();
  }

  isPoolFailing(pool: string): boolean {
    return this.failing.has(pool);
  }

  private readyCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [pool, list] of this.nodes) {
      let n = 0;
      for (const node of list) if (node.readyAtSeconds <= this.nowSeconds) n++;
      out[pool] = n;
    }
    return out;
  }

  /** Nodes billed now (ready or provisioning), by pool. */
  nodeCounts(): Record<string, number> {
    return Object.fromEntries([...this.nodes].map(([p, l]) => [p, l.length]));
  }

  /** Cost per hour of all nodes billed now (reserved nodes at their committed price, used or not). */
  costPerHour(): number {
    let c = 0;
    for (const [pool, list] of this.nodes) c += (this.reserved?.[pool] ?? 0) === 0 ? list.length * this.pool(pool).costPerHour : this.poolCostPerHour(pool, list.length);
    return c;
  }

  /**
   * A pool's cost rate with `nodes` billed: its reserved nodes at the committed
   * price whether used or not, the nodes beyond them at the on-demand price.
   */
  private poolCostPerHour(name: string, nodes: number): number {
    const pool = this.pool(name);
    const reserved = this.reserved?.[name] ?? 0;
    if (reserved === 0) return nodes * pool.costPerHour;
    return reserved * (pool.committedCostPerHour ?? pool.costPerHour) + Math.max(0, nodes - reserved) * pool.costPerHour;
  }

  /**
   * Set the nodes reserved (committed ahead) per pool from now on; pools not
   * named keep theirs. Reservations change the bill, not the cluster: a
   * reserved node is paid for whether it runs or not, and nodes beyond the
   * reservation are on demand.
   */
  setReservedNodes(byPool: Readonly<Record<string, number>>): void {
    const next = { ...(this.reserved ?? {}) };
    for (const [name, n] of Object.entries(byPool)) {
      const pool = this.pool(name);
      if (!(Number.isInteger(n) && n >= 0)) throw new Error(`reserved nodes of pool "${name}" must be a whole number, 0 or more, got ${n}`);
      if (n > 0 && pool.committedCostPerHour === undefined) throw new Error(`pool "${name}" has no committed price to reserve at`);
      next[name] = n;
    }
    this.reserved = next;
  }

  /** Nodes reserved now, by pool (pools never reserved in are absent). */
  reservedNodes(): Record<string, number> {
    return { ...(this.reserved ?? {}) };
  }

  desiredTotal(workload: string): number {
    let n = 0;
    for (const v of this.desired.get(workload)?.values() ?? []) n += v;
    return n;
  }


  /**
   * Instances that run now, by workload and pool. Running instances stay where
   * they are (no preemption); surplus ones stop when desired counts fall;
   * when nodes go away, the lowest-priority instances on them stop first; new
   * instances start on ready capacity in their pool (the allocation pins
   * instances to pools, as a node selector does), highest priority first;
   * those that don't fit wait, pending, until capacity there is ready.
   */
  running(): Record<string, Record<string, number>> {
    if (this.runningCache) return this.runningCache;
    const ready = this.readyCounts();
    const freeCpu = new Map<string, number>();
    const freeMem = new Map<string, number>();
    // Bandwidth counts only in pools that declare it (absent: not constrained).
    const freeNet = new Map<string, number>();
    for (const [name, p] of this.poolByName) {
      const usable = this.failing.has(name) ? 0 : ready[name];
      freeCpu.set(name, usable * p.nodeType.capacity.cpuMillicores);
      freeMem.set(name, usable * p.nodeType.capacity.memoryMiB);
      if (p.nodeType.capacity.networkMbps !== undefined) freeNet.set(name, usable * p.nodeType.capacity.networkMbps);
    }
    const run = this.runState;
    // 1. Stop instances beyond the desired count in each pool.
    for (const w of this.workloadsByPriority) {
      const r = run.get(w.name)!;
      const want = this.desired.get(w.name)!;
      for (const [pool, n] of r) r.set(pool, Math.min(n, want.get(pool) ?? 0));
    }
    // 2. Keep what still fits, highest priority first; the rest stops (its nodes went away).
    for (const w of this.workloadsByPriority) {
      const r = run.get(w.name)!;
      for (const [pool, n] of r) {
        const keep = this.fitCount(w, pool, n, freeCpu, freeMem, freeNet);
        if (keep === 0) r.delete(pool);
        else r.set(pool, keep);
      }
    }
    // 3. Start missing instances on free ready capacity, highest priority first.
    for (const w of this.workloadsByPriority) {
      const r = run.get(w.name)!;
      for (const [pool, want] of this.desired.get(w.name)!) {
        const n = this.fitCount(w, pool, want - (r.get(pool) ?? 0), freeCpu, freeMem, freeNet);
        if (n > 0) r.set(pool, (r.get(pool) ?? 0) + n);
      }
    }
    const out: Record<string, Record<string, number>> = {};
    for (const [w, r] of run) out[w] = Object.fromEntries([...r].filter(([, n]) => n > 0));
    this.runningCache = out;
    return out;
  }

  /** How many of `want` instances of `w` fit in the pool's free capacity (CPU, memory, and bandwidth where the pool declares it); takes that capacity. */
  private fitCount(w: Workload, pool: string, want: number, freeCpu: Map<string, number>, freeMem: Map<string, number>, freeNet: Map<string, number>): number {
    if (want <= 0) return 0;
    const cpu = this.resized.get(w.name)?.cpuMillicores ?? w.perInstance.cpuMillicores;
    const mem = this.resized.get(w.name)?.memoryMiB ?? w.perInstance.memoryMiB;
    const byCpu = cpu > 0 ? Math.floor((freeCpu.get(pool) ?? 0) / cpu + 1e-9) : Infinity;
    const byMem = mem > 0 ? Math.floor((freeMem.get(pool) ?? 0) / mem + 1e-9) : Infinity;
    const net = w.perInstance.networkMbps ?? 0;
    const netFree = freeNet.get(pool);
    const byNet = net > 0 && netFree !== undefined ? Math.floor(netFree / net + 1e-9) : Infinity;
    const n = Math.max(0, Math.min(want, byCpu, byMem, byNet));
    freeCpu.set(pool, (freeCpu.get(pool) ?? 0) - n * cpu);
    freeMem.set(pool, (freeMem.get(pool) ?? 0) - n * mem);
    if (netFree !== undefined) freeNet.set(pool, netFree - n * net);
    return n;
  }

  /** Where instances run now: service -> pool -> running instances (pools name their zone and provider). */
  placement(): Placement {
    return this.running();
  }

  runningTotal(workload: string): number {
    let n = 0;
    for (const v of Object.values(this.running()[workload] ?? {})) n += v;
    return n;
  }

  /** Apply one action now. Idempotent per action id: a repeated id is not executed again. */
  applySync(action: Action): ActionResult {
    const earlier = this.executed.get(action.id);
    if (earlier) return earlier;
    const record: ActionRecord = { action, status: 'sent', attempts: 1, updatedAtSeconds: this.nowSeconds };
    this.log.push(record);
    const result = this.execute(action);
    record.status = result.ok ? 'succeeded' : 'failed';
    if (!result.ok) record.error = result.error;
    this.executed.set(action.id, result);
    this.settle();
    return result;
  }

  private execute(action: Action): ActionResult {
    switch (action.kind) {
      case 'scaleNodes': {
        const pool = this.poolByName.get(action.pool);
        if (!pool) return { ok: false, error: `unknown pool "${action.pool}"`, retryable: false };
        if (this.absent.has(pool.name) && action.toNodes > 0) return { ok: false, error: `pool "${pool.name}" does not exist; create it first (createPool)`, retryable: false };
        if (action.toNodes < 0 || action.toNodes > pool.maxNodes) {
          return { ok: false, error: `pool "${pool.name}" allows 0..${pool.maxNodes} nodes, asked for ${action.toNodes}`, retryable: false };
        }
        const list = this.nodes.get(pool.name) as SimNode[];
        while (list.length < action.toNodes) {
          list.push({ requestedAtSeconds: this.nowSeconds, readyAtSeconds: this.nowSeconds + pool.provisioningDelaySeconds });
        }
        if (list.length > action.toNodes) {
          // Remove nodes still provisioning first (latest ready time first), then the newest ready ones.
          list.sort((a, b) => a.readyAtSeconds - b.readyAtSeconds);
          list.length = action.toNodes;
        }
        return { ok: true };
      }
      case 'scaleWorkload':
      case 'migrate': {
        const w = this.desired.get(action.workload);
        if (!w) return { ok: false, error: `unknown workload "${action.workload}"`, retryable: false };
        if (action.kind === 'scaleWorkload') {
          if (!this.poolByName.has(action.pool)) return { ok: false, error: `unknown pool "${action.pool}"`, retryable: false };
          if (action.toInstances === 0) w.delete(action.pool);
          else w.set(action.pool, action.toInstances);
        } else {
          const from = w.get(action.fromPool) ?? 0;
          if (from < action.instances) return { ok: false, error: `workload "${action.workload}" has ${from} instances in "${action.fromPool}", cannot move ${action.instances}`, retryable: false };
          w.set(action.fromPool, from - action.instances);
          w.set(action.toPool, (w.get(action.toPool) ?? 0) + action.instances);
        }
        return { ok: true };
      }
      case 'createPool': {
        if (!this.poolByName.has(action.pool)) return { ok: false, error: `unknown pool "${action.pool}"`, retryable: false };
        if (!this.absent.has(action.pool)) return { ok: false, error: `pool "${action.pool}" exists already`, retryable: false };
        this.absent.delete(action.pool);
        if (action.network) this.networks.set(action.pool, action.network);
        return { ok: true };
      }
      case 'dismantlePool': {
        if (!this.poolExists(action.pool)) return { ok: false, error: `pool "${action.pool}" does not exist`, retryable: false };
        const nodes = this.nodes.get(action.pool)?.length ?? 0;
        const holding = [...this.desired].filter(([, m]) => (m.get(action.pool) ?? 0) > 0).map(([w]) => w);
        if (nodes > 0 || holding.length > 0) {
          return { ok: false, error: `pool "${action.pool}" still has ${nodes} nodes${holding.length ? ` and instances of ${holding.join(', ')}` : ''}; scale it to 0 first`, retryable: true };
        }
        this.absent.add(action.pool);
        this.networks.delete(action.pool);
        return { ok: true };
      }
      case 'reserve':
        return { ok: false, error: `the simulator does not model "${action.kind}" yet`, retryable: false };
      case 'resizeWorkload': {
        // Requests decide packing, so they change what fits; limits don't, and are not modelled.
        const w = this.workloadsByPriority.find((x) => x.name === action.workload);
        if (!w) return { ok: false, error: `unknown workload "${action.workload}"`, retryable: false };
        if (action.pool !== undefined) {
          return { ok: false, error: `the simulator resizes a workload in every pool at once; got pool "${action.pool}"`, retryable: false };
        }
        const current = this.resized.get(w.name) ?? { cpuMillicores: w.perInstance.cpuMillicores, memoryMiB: w.perInstance.memoryMiB };
        const next = {
          cpuMillicores: action.to.requests?.cpuMillicores ?? current.cpuMillicores,
          memoryMiB: action.to.requests?.memoryMiB ?? current.memoryMiB,
        };
        if (!(next.cpuMillicores > 0) || !(next.memoryMiB > 0)) {
          return { ok: false, error: `workload "${w.name}": requests must be more than 0 (got ${next.cpuMillicores}m CPU, ${next.memoryMiB} MiB)`, retryable: false };
        }
        this.resized.set(w.name, next);
        return { ok: true };
      }
    }
  }

  async apply(action: Action): Promise<ActionResult> {
    return this.applySync(action);
  }

  observeSync(): ObservedState {
    const ready = this.readyCounts();
    const total = this.nodeCounts();
    return {
      timeSeconds: this.nowSeconds,
      readyNodesByPool: ready,
      pendingNodesByPool: Object.fromEntries(Object.keys(total).map((p) => [p, total[p] - ready[p]])),
      runningInstances: this.running(),
      desiredInstances: Object.fromEntries([...this.desired].map(([w, m]) => [w, Object.fromEntries(m)])),
    };
  }

  async observe(): Promise<ObservedState> {
    return this.observeSync();
  }
}
