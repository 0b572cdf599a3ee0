/**
 * Pools in the replay: which pools plans may use at each moment (health and
 * creation-cost threshold), the life cycle of candidate pools (created on
 * demand through the reconciler, dismantled here once unused), idle
 * capacity, fragmentation, and the record of every pool change.
 */
import type { Pool, PoolLifecycleSettings, Scenario } from '../core/model.ts';
import type { Allocation, PoolLifecycleAction, PoolNetworkConfig } from '../core/plan.ts';
import type { Allocator } from './policies/policy.ts';
import type { SimulatorDriver } from '../drivers/simulator.ts';
import { exclusionKey, exclusionsAt, healthChangeTimes, type Exclusions } from '../plan/health.ts';
import { NetworkPlanner, parseRange } from '../plan/network.ts';
import { fragmentation, packBest, type ItemType } from '../optimize/binpack.ts';

/** Defaults when a scenario has no `poolLifecycle`. */
export const DEFAULT_POOL_LIFECYCLE: PoolLifecycleSettings = { maxCreationCost: Infinity, dismantleAfterSeconds: 3600, idleReclaimSeconds: 600 };

export function lifecycleOf(scenario: Scenario): PoolLifecycleSettings {
  return scenario.poolLifecycle ?? DEFAULT_POOL_LIFECYCLE;
}

/** Candidate pools that may never be created: their creation cost is above the threshold. */
export function barredCandidates(pools: readonly Pool[], settings: PoolLifecycleSettings): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of pools) {
    const cost = p.creationCost ?? 0;
    if (p.candidate && cost > settings.maxCreationCost) out.set(p.name, `creation cost ${cost} is above the threshold ${settings.maxCreationCost} (poolLifecycle.maxCreationCost)`);
  }
  return out;
}

/**
 * The pools plans may use now: not excluded by health, and not a candidate
 * whose creation cost is above the threshold. One per policy run; the replay
 * moves its clock.
 */
export class PoolStatus {
  readonly barred: ReadonlyMap<string, string>;
  private excludedNow: Exclusions = new Map();
  private usable: readonly Pool[];
  private keyNow = '';
  private readonly changes: number[];
  private nextChange = 0;

  constructor(private readonly scenario: Scenario, startSeconds: number) {
    this.barred = barredCandidates(scenario.pools, lifecycleOf(scenario));
    this.changes = healthChangeTimes(scenario.incidents ?? []);
    this.usable = scenario.pools;
    this.recompute(startSeconds);
  }

  /** Whether anything besides the scenario's own pool list can apply (health, incidents, barred candidates). */
  get active(): boolean {
    return this.barred.size > 0 || this.changes.length > 0 || this.scenario.providers.some((p) => p.health === 'failing') || this.scenario.pools.some((p) => p.health === 'failing');
  }

  private recompute(timeSeconds: number): boolean {
    const excluded = exclusionsAt(this.scenario.pools, this.scenario.providers, this.scenario.incidents ?? [], timeSeconds);
    const key = exclusionKey(excluded);
    this.excludedNow = excluded;
    const changed = key !== this.keyNow;
    this.keyNow = key;
    this.usable = excluded.size === 0 && this.barred.size === 0 ? this.scenario.pools : this.scenario.pools.filter((p) => !excluded.has(p.name) && !this.barred.has(p.name));
    return changed;
  }

  /** Advance to `timeSeconds`; true when the excluded pools changed. */
  setTime(timeSeconds: number): boolean {
    let due = false;
    while (this.nextChange < this.changes.length && this.changes[this.nextChange] <= timeSeconds) {
      this.nextChange++;
      due = true;
    }
    return due ? this.recompute(timeSeconds) : false;
  }

  /** Pools excluded now, with why. */
  get excluded(): Exclusions {
    return this.excludedNow;
  }

  /** Pools a plan may use now (the scenario's own array when nothing is excluded). */
  usablePools(): readonly Pool[] {
    return this.usable;
  }

  /** Shortfall of the latest allocation a policy asked for, by workload (see `recordingShortfall`). */
  lastShortfall: Readonly<Record<string, number>> = {};

  /** Text that changes whenever `usablePools` does (for allocation caches). */
  get key(): string {
    return this.keyNow;
  }
}

/**
 * `allocator`, noting each allocation's shortfall on `status` (the latest one
 * asked for is taken as the plan in force; policies that plan ahead, like the
 * oracle, make that an approximation).
 */
export function recordingShortfall(allocator: Allocator, status: PoolStatus): Allocator {
  const note = (a: Allocation): Allocation => {
    status.lastShortfall = a.shortfall;
    return a;
  };
  return {
    allocate: async (targets, current, nodes) => note(await allocator.allocate(targets, current, nodes)),
    ...(allocator.allocateWindow ? { allocateWindow: async (window, current, nodes) => note(await allocator.allocateWindow!(window, current, nodes)) } : {}),
  };
}

/** One change of a pool in a run. */
export interface PoolChange {
  readonly timeSeconds: number;
  readonly pool: string;
  /** create / dismantle: life cycle; scale: node count of a candidate pool; exclude / restore: health; evacuate: the last instance planned in an excluded pool moved away. */
  readonly action: 'create' | 'dismantle' | 'scale' | 'exclude' | 'evacuate' | 'restore';
  readonly fromNodes: number;
  readonly toNodes: number;
  readonly reason: string;
  readonly network?: PoolNetworkConfig;
}

/** Free capacity of a pool that no instance shape can use, from packing its running instances node by node. */
export interface PoolFragmentation {
  readonly pool: string;
  /** Hourly samples with instances or nodes in the pool. */
  readonly samples: number;
  readonly meanNodes: number;
  readonly meanFreeCpuMillicores: number;
  readonly meanFreeMemoryMiB: number;
  /** Free capacity stranded because another resource of its node is exhausted. */
  readonly meanStrandedCpuMillicores: number;
  readonly meanStrandedMemoryMiB: number;
  readonly maxStrandedCpuMillicores: number;
  readonly maxStrandedMemoryMiB: number;
  /**
   * Samples whose running instances need more nodes, packed node by node, than
   * the pool had ready (the simulator counts a pool's capacity in aggregate),
   * and the most nodes short in one sample.
   */
  readonly samplesShortOfNodes: number;
  readonly maxNodesShort: number;
}

/** Idle capacity per pool over the run. */
export interface PoolIdle {
  readonly pool: string;
  /** Node-hours of ready nodes nothing ran on (beyond what the running instances need). */
  readonly idleNodeHours: number;
  /** Node-hours of nodes idle for longer than `idleReclaimSeconds` that reclaim would give back. */
  readonly reclaimableNodeHours: number;
  /** Node-hours of idle nodes held only by the pool's minimum (reserved but idle). */
  readonly reservedIdleNodeHours: number;
}

/** A workload the plan gave fewer instances than it asked for (contention, pools excluded or not created): who lost what. */
export interface Throttled {
  readonly workload: string;
  readonly priority: number;
  /** Instances the latest plan could not place (its shortfall), integrated over the run, in instance-hours. */
  readonly missingInstanceHours: number;
  /** Hours during which the latest plan left the workload short. */
  readonly hoursShort: number;
}

export interface PoolReport {
  readonly changes: readonly PoolChange[];
  readonly fragmentation: readonly PoolFragmentation[];
  readonly idle: readonly PoolIdle[];
  readonly throttled: readonly Throttled[];
  /** Candidate pools never offered to plans, with why. */
  readonly barred: readonly { readonly pool: string; readonly reason: string }[];
  /** One-off creation costs of the pools created (not part of the policy's `cost`, which is what was invoiced). */
  readonly creationCost: number;
}

/**
 * Life cycle and health changes, one row of cells each (time, pool, action,
 * nodes, why), the first `maxRows`; node count changes of candidate pools
 * are only counted (`scales`), and rows past `maxRows` too (`more`).
 */
export function poolChangeRows(all: readonly PoolChange[], maxRows: number): { rows: string[][]; more: number; scales: number } {
  const changes = all.filter((c) => c.action !== 'scale');
  const minute = (s: number) => new Date(s * 1000).toISOString().slice(0, 16).replace('T', ' ');
  const rows = changes.slice(0, maxRows).map((c) => [
    minute(c.timeSeconds),
    c.pool,
    c.action,
    c.fromNodes === c.toNodes ? String(c.toNodes) : `${c.fromNodes} → ${c.toNodes}`,
    c.network ? `${c.reason}; network ${c.network.segment} ${c.network.cidr}` : c.reason,
  ]);
  return { rows, more: Math.max(0, changes.length - maxRows), scales: all.length - changes.length };
}

/** The network planner of a scenario with an address plan (ranges of existing pools taken). */
export function networkPlannerOf(scenario: Scenario): NetworkPlanner | undefined {
  if (!scenario.network) return undefined;
  const parent = parseRange(scenario.network.parentCidr, 'network.parentCidr');
  const existing = scenario.pools.filter((p) => !p.candidate && p.network?.cidr).map((p) => ({ pool: p.name, range: parseRange(p.network!.cidr!, `pool "${p.name}" network.cidr`) }));
  return new NetworkPlanner(parent, scenario.network.podsPerNode, existing);
}

interface Sample {
  readonly nodes: Readonly<Record<string, number>>;
  readonly running: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/**
 * Follows one policy's run: applies health to the simulated cluster before
 * each tick, dismantles unused candidate pools after it, and gathers idle
 * capacity and hourly samples for the fragmentation report.
 */
export class PoolTracker {
  private readonly changes: PoolChange[] = [];
  /** Excluded pools still holding planned instances, with when they were excluded. */
  private readonly evacuating = new Map<string, number>();
  private readonly settings: PoolLifecycleSettings;
  private readonly emptySince = new Map<string, number>();
  /** Per pool (in scenario order): the last `windowTicks` idle node counts. */
  private readonly idleRings: Int32Array[];
  private tickCount = 0;
  private readonly candidates: readonly Pool[];
  private readonly idleSeconds = new Map<string, { idle: number; reclaimable: number; reserved: number }>();
  private readonly samples: Sample[] = [];
  private readonly perInstance: Map<string, { cpuMillicores: number; memoryMiB: number }>;
  private readonly windowTicks: number;
  /** Per workload: instance-seconds and seconds the plan in force left short. */
  private readonly short = new Map<string, { instanceSeconds: number; seconds: number }>();
  private seq = 0;
  private initialCreationCost = 0;

  constructor(
    private readonly scenario: Scenario,
    private readonly status: PoolStatus,
    private readonly driver: SimulatorDriver,
    private readonly startSeconds: number,
    private readonly policy: string,
  ) {
    this.settings = lifecycleOf(scenario);
    this.perInstance = new Map(scenario.workloads.map((w) => [w.name, w.perInstance]));
    this.windowTicks = Math.max(1, Math.round(this.settings.idleReclaimSeconds / scenario.simulation.tickSeconds));
    this.idleRings = scenario.pools.map(() => new Int32Array(this.windowTicks));
    this.candidates = scenario.pools.filter((p) => p.candidate);
    for (const p of scenario.pools) this.idleSeconds.set(p.name, { idle: 0, reclaimable: 0, reserved: 0 });
    // Candidate pools the initial allocation uses exist from the start.
    const nodes = driver.nodeCounts();
    for (const p of scenario.pools) {
      if (!p.candidate || !driver.poolExists(p.name)) continue;
      const network = driver.networkPlanner?.configFor(p);
      this.initialCreationCost += p.creationCost ?? 0;
      this.changes.push({ timeSeconds: startSeconds, pool: p.name, action: 'create', fromNodes: 0, toNodes: nodes[p.name] ?? 0, reason: 'in place when the replay starts (the initial allocation uses it)', ...(network ? { network } : {}) });
    }
    this.applyHealth(startSeconds);
  }

  private applyHealth(timeSeconds: number): void {
    const excluded = this.status.excluded;
    for (const p of this.scenario.pools) {
      const failing = excluded.has(p.name);
      if (failing === this.driver.isPoolFailing(p.name)) continue;
      const nodes = this.driver.nodeCounts();
      this.driver.setPoolFailing(p.name, failing);
      if (failing) this.evacuating.set(p.name, timeSeconds);
      else this.evacuating.delete(p.name);
      const n = nodes[p.name] ?? 0;
      this.changes.push({ timeSeconds, pool: p.name, action: failing ? 'exclude' : 'restore', fromNodes: n, toNodes: n, reason: failing ? `excluded from plans: ${excluded.get(p.name)}` : 'healthy again: plans may use it' });
    }
  }

  /** Before the policy's tick: the status's clock has moved; failing pools stop running anything. */
  beforeTick(timeSeconds: number): void {
    this.applyHealth(timeSeconds);
  }

  /** After the policy's tick: dismantle candidate pools unused for long enough, account idle nodes, sample hourly. */
  afterTick(timeSeconds: number): void {
    const tick = this.scenario.simulation.tickSeconds;
    const billed = this.driver.nodeCounts();
    for (const [pool, since] of this.evacuating) {
      if (this.driver.hasDesiredIn(pool)) continue;
      this.evacuating.delete(pool);
      const n = billed[pool] ?? 0;
      this.changes.push({ timeSeconds, pool, action: 'evacuate', fromNodes: n, toNodes: n, reason: `no instance planned there any more, ${Math.round(timeSeconds - since)} s after it was excluded` });
    }
    for (const p of this.candidates) {
      if (!this.driver.poolExists(p.name)) continue;
      if ((billed[p.name] ?? 0) > 0 || this.driver.hasDesiredIn(p.name)) this.emptySince.delete(p.name);
      else if (!this.emptySince.has(p.name)) this.emptySince.set(p.name, timeSeconds);
      else if (timeSeconds - this.emptySince.get(p.name)! >= this.settings.dismantleAfterSeconds) {
        const action: PoolLifecycleAction = {
          id: `${this.policy}/pools#${this.seq++}`,
          kind: 'dismantlePool',
          pool: p.name,
          decidedAtSeconds: timeSeconds,
          phase: 0,
          reason: `no nodes and no instances for ${Math.round(this.settings.dismantleAfterSeconds / 60)} min`,
        };
        const r = this.driver.applySync(action);
        if (r.ok) {
          this.driver.networkPlanner?.release(p.name);
          this.emptySince.delete(p.name);
        }
      }
    }
    // Idle: ready, healthy nodes beyond what the running instances need (in aggregate).
    const running = this.driver.running();
    const readyNodes = this.driver.readyNodeCounts();
    const used = new Map<string, { cpu: number; mem: number }>();
    for (const [w, byPool] of Object.entries(running)) {
      const r = this.perInstance.get(w)!;
      for (const [pool, n] of Object.entries(byPool)) {
        const u = used.get(pool) ?? { cpu: 0, mem: 0 };
        u.cpu += n * r.cpuMillicores;
        u.mem += n * r.memoryMiB;
        used.set(pool, u);
      }
    }
    const ticks = ++this.tickCount;
    for (const [i, p] of this.scenario.pools.entries()) {
      const ready = this.driver.isPoolFailing(p.name) ? 0 : readyNodes[p.name] ?? 0;
      const u = used.get(p.name);
      const needed = u ? Math.ceil(Math.max(u.cpu / p.nodeType.capacity.cpuMillicores, u.mem / p.nodeType.capacity.memoryMiB) - 1e-9) : 0;
      const idle = Math.max(0, ready - needed);
      const held = Math.max(0, Math.min(idle, p.minNodes - needed));
      // The last `windowTicks` idle counts, in a ring.
      const ring = this.idleRings[i];
      ring[(ticks - 1) % this.windowTicks] = idle;
      let idleThroughout = 0;
      if (ticks >= this.windowTicks) {
        idleThroughout = ring[0];
        for (let k = 1; k < ring.length; k++) if (ring[k] < idleThroughout) idleThroughout = ring[k];
      }
      const acc = this.idleSeconds.get(p.name)!;
      acc.idle += idle * tick;
      acc.reserved += held * tick;
      acc.reclaimable += Math.max(0, idleThroughout - held) * tick;
    }
    for (const [w, n] of Object.entries(this.status.lastShortfall)) {
      if (!(n > 0)) continue;
      const acc = this.short.get(w) ?? { instanceSeconds: 0, seconds: 0 };
      acc.instanceSeconds += n * tick;
      acc.seconds += tick;
      this.short.set(w, acc);
    }
    if ((timeSeconds - this.startSeconds) % 3600 === 0) this.samples.push({ nodes: readyNodes, running });
  }

  /** The run's pool report. */
  report(): PoolReport {
    const candidates = new Set(this.scenario.pools.filter((p) => p.candidate).map((p) => p.name));
    const poolByName = new Map(this.scenario.pools.map((p) => [p.name, p]));
    let creationCost = this.initialCreationCost;
    const fromLog: PoolChange[] = [];
    for (const record of this.driver.log) {
      if (record.status !== 'succeeded') continue;
      const a = record.action;
      if (a.kind === 'createPool' || a.kind === 'dismantlePool') {
        if (a.kind === 'createPool') creationCost += poolByName.get(a.pool)?.creationCost ?? 0;
        fromLog.push({ timeSeconds: record.updatedAtSeconds, pool: a.pool, action: a.kind === 'createPool' ? 'create' : 'dismantle', fromNodes: 0, toNodes: 0, reason: a.reason, ...(a.network ? { network: a.network } : {}) });
      } else if (a.kind === 'scaleNodes' && candidates.has(a.pool)) {
        fromLog.push({ timeSeconds: record.updatedAtSeconds, pool: a.pool, action: 'scale', fromNodes: a.fromNodes, toNodes: a.toNodes, reason: a.reason });
      }
    }
    // A pool created with its first nodes: the create row shows how many (pre-allocation).
    for (const [i, c] of fromLog.entries()) {
      if (c.action !== 'create') continue;
      const first = fromLog.slice(i + 1).find((x) => x.pool === c.pool && x.action === 'scale' && x.timeSeconds === c.timeSeconds);
      if (first) fromLog[i] = { ...c, toNodes: first.toNodes };
    }
    const order = { exclude: 0, evacuate: 0, restore: 0, create: 1, scale: 2, dismantle: 3 } as const;
    const changes = [...this.changes, ...fromLog].sort((a, b) => a.timeSeconds - b.timeSeconds || order[a.action] - order[b.action]);
    const priority = new Map(this.scenario.workloads.map((w) => [w.name, w.priority]));
    const throttled: Throttled[] = [...this.short].map(([workload, acc]) => ({ workload, priority: priority.get(workload) ?? 0, missingInstanceHours: acc.instanceSeconds / 3600, hoursShort: acc.seconds / 3600 }));
    throttled.sort((a, b) => b.missingInstanceHours - a.missingInstanceHours);
    return {
      changes,
      fragmentation: this.fragmentationReport(),
      idle: this.scenario.pools.map((p) => {
        const acc = this.idleSeconds.get(p.name)!;
        return { pool: p.name, idleNodeHours: acc.idle / 3600, reclaimableNodeHours: acc.reclaimable / 3600, reservedIdleNodeHours: acc.reserved / 3600 };
      }),
      throttled,
      barred: [...this.status.barred].map(([pool, reason]) => ({ pool, reason })),
      creationCost,
    };
  }

  private fragmentationReport(): PoolFragmentation[] {
    const out: PoolFragmentation[] = [];
    for (const p of this.scenario.pools) {
      let count = 0;
      let nodes = 0;
      let freeCpu = 0;
      let freeMem = 0;
      let strandedCpu = 0;
      let strandedMem = 0;
      let maxCpu = 0;
      let maxMem = 0;
      let short = 0;
      let maxShort = 0;
      for (const s of this.samples) {
        const types: ItemType[] = Object.keys(s.running)
          .sort()
          .map((w) => ({ name: w, size: this.perInstance.get(w)!, count: s.running[w][p.name] ?? 0 }))
          .filter((t) => t.count > 0);
        const ready = s.nodes[p.name] ?? 0;
        if (types.length === 0 && ready === 0) continue;
        const f = poolFragmentation(p, types, ready);
        count++;
        if (f.nodes > ready) {
          short++;
          maxShort = Math.max(maxShort, f.nodes - ready);
        }
        nodes += f.nodes;
        freeCpu += f.free.cpuMillicores;
        freeMem += f.free.memoryMiB;
        strandedCpu += f.stranded.cpuMillicores;
        strandedMem += f.stranded.memoryMiB;
        maxCpu = Math.max(maxCpu, f.stranded.cpuMillicores);
        maxMem = Math.max(maxMem, f.stranded.memoryMiB);
      }
      if (count === 0) continue;
      out.push({
        pool: p.name,
        samples: count,
        meanNodes: nodes / count,
        meanFreeCpuMillicores: freeCpu / count,
        meanFreeMemoryMiB: freeMem / count,
        meanStrandedCpuMillicores: strandedCpu / count,
        meanStrandedMemoryMiB: strandedMem / count,
        maxStrandedCpuMillicores: maxCpu,
        maxStrandedMemoryMiB: maxMem,
        samplesShortOfNodes: short,
        maxNodesShort: maxShort,
      });
    }
    return out;
  }
}

/**
 * Fragmentation of one pool: its instances packed node by node (best
 * heuristic packing), on `nodes` nodes (or as many as the packing needs, if
 * more). Stranded capacity is free capacity on nodes where no instance shape
 * of the pool fits because another resource is exhausted.
 */
export function poolFragmentation(pool: Pool, types: readonly ItemType[], nodes: number): { nodes: number; free: { cpuMillicores: number; memoryMiB: number }; stranded: { cpuMillicores: number; memoryMiB: number } } {
  const packing = packBest(types, pool.nodeType.capacity);
  const empty = Math.max(0, nodes - packing.nodes.length);
  const { summary } = fragmentation(packing, pool.nodeType.capacity, types.map((t) => t.size), empty);
  return {
    nodes: summary.nodes,
    free: { cpuMillicores: summary.free.cpuMillicores, memoryMiB: summary.free.memoryMiB },
    stranded: { cpuMillicores: summary.stranded.cpuMillicores, memoryMiB: summary.stranded.memoryMiB },
  };
}
