/**
 * The phased plan of a move: from the placement before a change to one that
 * keeps every instance out of the pools the change takes down.
 *
 *   1. add capacity at the target pools (nodes for the final placement);
 *   2. shift, level by level of the dependency graph (callers first): each
 *      round starts instances at the target and then stops as many at the
 *      source (start before stop, at most maxSurge at a time), or, for a
 *      service without surge, stops at most maxUnavailable then starts as
 *      many; a stateful service copies its data to a new instance at the
 *      target (copy time = data / bandwidth) and then cuts over (a stated
 *      pause) by stopping the original;
 *   3. release the nodes of the pools the change takes down.
 *
 * Callers move before their callees, so when a callee leaves a zone no caller
 * is left behind calling it there; the calls that do cross zones while the
 * callers run at the target and their callees still at the source are
 * reported per phase (accepted, with their added latency and cost).
 *
 * Traffic weight follows instances (calls spread over a service's running
 * instances), so starting and stopping instances is the traffic shift.
 * Every phase has a health gate and the exact actions that undo it.
 * Pure: values in, values out.
 */
import { InfeasibleError, InvalidInputError } from '../core/errors.ts';
import type { BudgetAmount, MaintenanceSettings, Placement } from '../core/migration.ts';
import type { Pool, Workload } from '../core/model.ts';
import { inverse, type Action, type ScaleNodesAction, type ScaleWorkloadAction } from '../core/plan.ts';
import { rollbackId } from '../drivers/executor.ts';
import { applyInPlace, copyPlacement, countIn, nodesFor, normalize, totalOf, usageByPool } from './placement.ts';

export type PhaseKind = 'addCapacity' | 'shift' | 'releaseCapacity';

export interface Phase {
  /** 1, 2, …: the `phase` of its actions. */
  readonly number: number;
  readonly kind: PhaseKind;
  /** What the phase does, in words ("start 2 frontend in b-general; copy redis-cart to b-general"). */
  readonly description: string;
  readonly actions: readonly Action[];
  /** The actions that undo this phase, in the order they run (the reverse of `actions`), under their derived ids. */
  readonly rollback: readonly Action[];
  /** Time the phase waits before its gate's soak starts: node provisioning, data copy, cutover pause (seconds). */
  readonly waitSeconds: number;
  /** wait + the gate's soak time. */
  readonly durationSeconds: number;
  /** Stateful services cut over in this phase (each unavailable for the cutover pause). */
  readonly cutovers: readonly string[];
  readonly placementAfter: Placement;
  readonly nodesAfter: Readonly<Record<string, number>>;
}

export interface MigrationPlan {
  readonly initial: Placement;
  readonly initialNodes: Readonly<Record<string, number>>;
  readonly final: Placement;
  readonly finalNodes: Readonly<Record<string, number>>;
  readonly phases: readonly Phase[];
  /** Sum of the phases' durations: how long before the window the plan must start. */
  readonly leadSeconds: number;
  /** Instances a service needed at the target that no target pool had room for (quota), by service. */
  readonly unplaced: Readonly<Record<string, number>>;
  /** Per-service budget limits the plan was made under (whole instances), for checks. */
  readonly limits: Readonly<Record<string, { readonly maxUnavailable: number; readonly maxSurge: number }>>;
}

export interface PlanInput {
  readonly workloads: readonly Workload[];
  readonly pools: readonly Pool[];
  /** Services callers first (a topological order of the dependency graph), every workload once. */
  readonly order: readonly string[];
  /** Depth of each service in the graph (0 for services nothing calls); services of one level move together. */
  readonly levels: ReadonlyMap<string, number>;
  readonly settings: MaintenanceSettings;
  readonly initial: Placement;
  readonly initialNodes: Readonly<Record<string, number>>;
  /** Instances each service must have in total once moved (sized for the span the plan and the window cover). */
  readonly finalInstances: Readonly<Record<string, number>>;
  readonly decidedAtSeconds: number;
  /** Prefix of every action id (unique per plan: a restart finds its actions by id). */
  readonly idPrefix: string;
  /** Phases are numbered from `phaseOffset + 1` (a return plan continues the move's numbering). */
  readonly phaseOffset?: number;
  /** Move only these services (a return moves back what was moved); others stay where they are. */
  readonly only?: ReadonlySet<string>;
}

/** Whole instances of a budget amount for a service of `n` instances: surge rounds up, unavailability down (as Kubernetes). */
export function budgetInstances(a: BudgetAmount, n: number, round: 'up' | 'down'): number {
  if ('instances' in a) return a.instances;
  const v = (a.percent / 100) * n;
  return round === 'up' ? Math.ceil(v - 1e-9) : Math.floor(v + 1e-9);
}

/** Depth of each service: the longest call path from a service nothing calls. */
export function graphLevels(order: readonly string[], edges: readonly { from: string; to: string }[]): Map<string, number> {
  const level = new Map(order.map((s) => [s, 0]));
  for (const s of order) {
    for (const e of edges) if (e.from === s && level.has(e.to)) level.set(e.to, Math.max(level.get(e.to)!, level.get(s)! + 1));
  }
  return level;
}

interface Move {
  readonly service: string;
  readonly stateful: boolean;
  /** Instances at the source, by affected pool. */
  readonly source: Map<string, number>;
  /** Instances to have at the target, by pool (in preference order). */
  readonly target: Map<string, number>;
  readonly surge: number;
  readonly unavailable: number;
}

export function buildMigrationPlan(input: PlanInput): MigrationPlan {
  const { settings } = input;
  const affected = settings.change.pools;
  const byName = new Map(input.workloads.map((w) => [w.name, w]));
  const poolByName = new Map(input.pools.map((p) => [p.name, p]));
  for (const s of input.order) if (!byName.has(s)) throw new InvalidInputError('migration plan', `order names unknown service "${s}"`);
  for (const s of Object.keys(input.initial)) if (!byName.has(s)) throw new InvalidInputError('migration plan', `initial placement names unknown service "${s}"`);

  // Room left in each target pool at its quota, after what stays there.
  const staying: Record<string, Record<string, number>> = {};
  for (const [s, pools] of Object.entries(input.initial)) {
    for (const [pool, n] of Object.entries(pools)) if (!affected.includes(pool)) (staying[s] ??= {})[pool] = n;
  }
  const stayUsage = usageByPool(staying, byName);
  const room = new Map(
    settings.targetPools.map((name) => {
      const p = poolByName.get(name)!;
      const u = stayUsage.get(name) ?? { cpuMillicores: 0, memoryMiB: 0 };
      return [name, { cpuMillicores: p.maxNodes * p.nodeType.capacity.cpuMillicores - u.cpuMillicores, memoryMiB: p.maxNodes * p.nodeType.capacity.memoryMiB - u.memoryMiB }];
    }),
  );

  const moves: Move[] = [];
  const unplaced: Record<string, number> = {};
  const limits: Record<string, { maxUnavailable: number; maxSurge: number }> = {};
  for (const s of input.order) {
    const w = byName.get(s)!;
    const total = totalOf(input.initial, s);
    const atSource = countIn(input.initial, s, affected);
    const svc = settings.services[s];
    const finalTotal = input.finalInstances[s] ?? total;
    const surge = budgetInstances(svc.budget.maxSurge, Math.max(total, finalTotal), 'up');
    const unavailable = budgetInstances(svc.budget.maxUnavailable, Math.max(total, finalTotal), 'down');
    limits[s] = { maxUnavailable: unavailable, maxSurge: surge };
    if (atSource === 0 || (input.only && !input.only.has(s))) continue;
    if (surge === 0 && unavailable === 0) throw new InfeasibleError(`service "${s}" cannot move`, [`maxSurge and maxUnavailable both round to 0 instances of ${total}`]);
    let want = Math.max(0, finalTotal - (total - atSource));
    const target = new Map<string, number>();
    for (const pool of settings.targetPools) {
      if (want === 0) break;
      const r = room.get(pool)!;
      const fit = Math.floor(Math.min(r.cpuMillicores / w.perInstance.cpuMillicores, r.memoryMiB / w.perInstance.memoryMiB) + 1e-9);
      const take = Math.max(0, Math.min(want, fit));
      if (take > 0) {
        target.set(pool, take);
        r.cpuMillicores -= take * w.perInstance.cpuMillicores;
        r.memoryMiB -= take * w.perInstance.memoryMiB;
        want -= take;
      }
    }
    if (want > 0) unplaced[s] = want;
    const source = new Map(affected.filter((p) => (input.initial[s]?.[p] ?? 0) > 0).map((p) => [p, input.initial[s][p]]));
    moves.push({ service: s, stateful: svc.stateful, source, target, surge, unavailable });
  }

  const phases: Phase[] = [];
  const offset = input.phaseOffset ?? 0;
  /** The placement as the plan has left it so far, changed in place as actions are made; each phase keeps a copy. */
  const placement: Record<string, Record<string, number>> = copyPlacement(normalize(input.initial));
  let nodes: Record<string, number> = { ...input.initialNodes };
  const soak = settings.gate.soakSeconds;
  /** Close a phase whose actions are already applied to `placement` (node counts are applied here). */
  const addPhase = (kind: PhaseKind, description: string, actions: Action[], waitSeconds: number, cutovers: string[]) => {
    for (const a of actions) if (a.kind === 'scaleNodes') nodes = { ...nodes, [a.pool]: a.toNodes };
    phases.push({
      number: offset + phases.length + 1,
      kind,
      description,
      actions,
      rollback: [...actions].reverse().map((a) => inverse(a, rollbackId(a.id))),
      waitSeconds,
      durationSeconds: waitSeconds + soak,
      cutovers,
      placementAfter: normalize(placement),
      nodesAfter: nodes,
    });
  };
  const ids = () => {
    let i = 0;
    const phase = offset + phases.length + 1;
    return () => `${input.idPrefix}/p${phase}/a${++i}`;
  };
  const base = (id: string, reason: string) => ({ id, decidedAtSeconds: input.decidedAtSeconds, phase: offset + phases.length + 1, reason });
  const scaleNodes = (id: string, pool: string, to: number, reason: string): ScaleNodesAction => ({
    ...base(id, reason),
    kind: 'scaleNodes',
    pool,
    fromNodes: nodes[pool] ?? 0,
    toNodes: to,
  });

  // 1. Capacity at the targets for the final placement (the target only grows during the move).
  let final: Record<string, Record<string, number>> = copyPlacement(placement);
  for (const m of moves) {
    for (const pool of m.source.keys()) delete final[m.service][pool];
    for (const [pool, n] of m.target) final[m.service][pool] = (final[m.service][pool] ?? 0) + n;
  }
  final = normalize(final);
  const finalUsage = usageByPool(final, byName);
  {
    const next = ids();
    const actions: Action[] = [];
    let wait = 0;
    for (const pool of settings.targetPools) {
      const need = nodesFor(poolByName.get(pool)!, finalUsage.get(pool));
      if (need > (nodes[pool] ?? 0)) {
        actions.push(scaleNodes(next(), pool, need, `capacity at ${pool} for the move off ${affected.join(', ')}`));
        wait = Math.max(wait, poolByName.get(pool)!.provisioningDelaySeconds);
      }
    }
    if (actions.length) addPhase('addCapacity', actions.map((a) => `add nodes to ${(a as ScaleNodesAction).pool} (${(a as ScaleNodesAction).fromNodes} → ${(a as ScaleNodesAction).toNodes})`).join('; '), actions, wait, []);
  }

  // 2. Shift, level by level (callers first), in rounds.
  const levelsUsed = [...new Set(moves.map((m) => input.levels.get(m.service) ?? 0))].sort((a, b) => a - b);
  const copySeconds = (s: string) => (settings.services[s].dataMiB * 8) / settings.copyBandwidthMbps;
  for (const level of levelsUsed) {
    const here = moves.filter((m) => (input.levels.get(m.service) ?? 0) === level);
    // Left to start (per target pool) and to stop (per source pool), per service.
    const toStart = new Map(here.map((m) => [m.service, new Map(m.target)]));
    const toStop = new Map(here.map((m) => [m.service, new Map(m.source)]));
    const left = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    const takeFrom = (m: Map<string, number>, k: number): [string, number][] => {
      const out: [string, number][] = [];
      for (const [pool, n] of m) {
        if (k === 0) break;
        const t = Math.min(n, k);
        if (t > 0) out.push([pool, t]);
        m.set(pool, n - t);
        k -= t;
      }
      return out;
    };
    let startedThisRound = new Map<string, number>();
    for (let round = 0; here.some((m) => left(toStart.get(m.service)!) > 0 || left(toStop.get(m.service)!) > 0); round++) {
      if (round > 10_000) throw new Error('migration plan did not converge');
      // Phase A: surge services start, no-surge services stop; stateful ones copy.
      for (const half of ['A', 'B'] as const) {
        const next = ids();
        const actions: Action[] = [];
        const words: string[] = [];
        const cutovers: string[] = [];
        let wait = 0;
        for (const m of here) {
          const startNow = (half === 'A') === (m.surge > 0 || m.stateful);
          const s = m.service;
          if (startNow) {
            const starts = toStart.get(s)!;
            const k = m.stateful ? left(starts) : m.surge > 0 ? Math.min(m.surge, left(starts)) : Math.min(m.unavailable, left(starts));
            let started = 0;
            for (const [pool, n] of takeFrom(starts, k)) {
              const have = placement[s]?.[pool] ?? 0;
              const a: ScaleWorkloadAction = { ...base(next(), m.stateful ? `copy ${s} to ${pool}` : `start ${s} in ${pool}`), kind: 'scaleWorkload', workload: s, pool, fromInstances: have, toInstances: have + n };
              actions.push(a);
              applyInPlace(placement, a);
              started += n;
              if (m.stateful) {
                wait = Math.max(wait, copySeconds(s));
                words.push(`copy ${s} to ${pool} (${settings.services[s].dataMiB} MiB at ${settings.copyBandwidthMbps} Mbit/s: ${copySeconds(s).toFixed(1)} s)`);
              } else words.push(`start ${n} ${s} in ${pool}`);
            }
            if (half === 'A') startedThisRound.set(s, started);
          } else {
            const stops = toStop.get(s)!;
            const remainingStarts = left(toStart.get(s)!);
            // Stop as many as were started (start before stop); once nothing is left to start, every one left (down to the final count, or a stateful cutover).
            let k: number;
            if (m.stateful) k = remainingStarts === 0 ? left(stops) : 0;
            else if (m.surge > 0) k = remainingStarts === 0 ? left(stops) : Math.min(startedThisRound.get(s) ?? 0, left(stops));
            else k = Math.min(m.unavailable, left(stops));
            for (const [pool, n] of takeFrom(stops, k)) {
              const have = placement[s]?.[pool] ?? 0;
              const a: ScaleWorkloadAction = { ...base(next(), m.stateful ? `cut ${s} over from ${pool}` : `stop ${s} in ${pool}`), kind: 'scaleWorkload', workload: s, pool, fromInstances: have, toInstances: have - n };
              actions.push(a);
              applyInPlace(placement, a);
              if (m.stateful) {
                wait = Math.max(wait, settings.cutoverPauseSeconds);
                cutovers.push(s);
                words.push(`cut ${s} over (stop in ${pool}; ${settings.cutoverPauseSeconds} s pause)`);
              } else words.push(`stop ${n} ${s} in ${pool}`);
            }
          }
        }
        if (actions.length === 0) continue;
        addPhase('shift', words.join('; '), actions, wait, cutovers);
      }
      startedThisRound = new Map();
    }
  }

  // 3. Release the nodes of the pools the change takes down.
  {
    const next = ids();
    const usage = usageByPool(placement, byName);
    const actions = affected
      .filter((pool) => (nodes[pool] ?? 0) > nodesFor(poolByName.get(pool)!, usage.get(pool)))
      .map((pool) => scaleNodes(next(), pool, nodesFor(poolByName.get(pool)!, usage.get(pool)), `drain ${pool}`));
    if (actions.length) addPhase('releaseCapacity', actions.map((a) => `release nodes of ${a.pool} (${a.fromNodes} → ${a.toNodes})`).join('; '), actions, 0, []);
  }

  return {
    initial: normalize(input.initial),
    initialNodes: { ...input.initialNodes },
    final: normalize(placement),
    finalNodes: nodes,
    phases,
    leadSeconds: phases.reduce((a, p) => a + p.durationSeconds, 0),
    unplaced,
    limits,
  };
}

/** A limit a plan breaks, found by `checkPlan`. */
export interface PlanViolation {
  readonly phase: number;
  readonly action: string;
  readonly problem: string;
}

/**
 * Replay a plan action by action and report every limit it breaks:
 * - a service's instances above max(before, after) + maxSurge, or below
 *   min(before, after) − maxUnavailable (a stateful copy counts as surge);
 * - a pool's resources above its nodes' capacity (nodes ready or not) or its quota;
 * - an action that does not match the state (a `from` count that differs);
 * - instances left in a pool the change takes down, at the end.
 * An empty list means the plan honours its limits. Used by tests and as a
 * check before a plan is executed.
 */
export function checkPlan(plan: MigrationPlan, workloads: readonly Workload[], pools: readonly Pool[], affected: readonly string[]): PlanViolation[] {
  const byName = new Map(workloads.map((w) => [w.name, w]));
  const poolByName = new Map(pools.map((p) => [p.name, p]));
  const out: PlanViolation[] = [];
  const placement = copyPlacement(plan.initial);
  const nodes: Record<string, number> = { ...plan.initialNodes };
  const usage = usageByPool(placement, byName);
  const before = (s: string) => totalOf(plan.initial, s);
  const after = (s: string) => totalOf(plan.final, s);
  const overCapacity = (phase: number, action: string, pool: string) => {
    const p = poolByName.get(pool)!;
    const u = usage.get(pool) ?? { cpuMillicores: 0, memoryMiB: 0 };
    const have = Math.min(nodes[pool] ?? 0, p.maxNodes);
    if (u.cpuMillicores > have * p.nodeType.capacity.cpuMillicores + 1e-6 || u.memoryMiB > have * p.nodeType.capacity.memoryMiB + 1e-6) {
      out.push({ phase, action, problem: `${pool} holds ${u.cpuMillicores}m CPU and ${u.memoryMiB} MiB on ${have} nodes: over its capacity` });
    }
  };
  // Checked after every action, but only what the action changed: its service's count and its pools' capacity.
  for (const phase of plan.phases) {
    for (const a of phase.actions) {
      if (a.phase !== phase.number) out.push({ phase: phase.number, action: a.id, problem: `action is labelled phase ${a.phase}` });
      try {
        applyInPlace(placement, a);
      } catch (e) {
        out.push({ phase: phase.number, action: a.id, problem: (e as Error).message });
        continue;
      }
      if (a.kind === 'scaleNodes') {
        if ((nodes[a.pool] ?? 0) !== a.fromNodes) out.push({ phase: phase.number, action: a.id, problem: `expects ${a.fromNodes} nodes in ${a.pool}, there are ${nodes[a.pool] ?? 0}` });
        nodes[a.pool] = a.toNodes;
        overCapacity(phase.number, a.id, a.pool);
      }
      if (a.kind === 'scaleWorkload' || a.kind === 'migrate') {
        const s = a.workload;
        const w = byName.get(s)!;
        const changes: [string, number][] = a.kind === 'scaleWorkload' ? [[a.pool, a.toInstances - a.fromInstances]] : [[a.fromPool, -a.instances], [a.toPool, a.instances]];
        for (const [pool, d] of changes) {
          const u = usage.get(pool) ?? { cpuMillicores: 0, memoryMiB: 0 };
          u.cpuMillicores += d * w.perInstance.cpuMillicores;
          u.memoryMiB += d * w.perInstance.memoryMiB;
          usage.set(pool, u);
          overCapacity(phase.number, a.id, pool);
        }
        const n = totalOf(placement, s);
        const limit = plan.limits[s] ?? { maxSurge: 0, maxUnavailable: 0 };
        if (n > Math.max(before(s), after(s)) + limit.maxSurge) out.push({ phase: phase.number, action: a.id, problem: `${s} has ${n} instances, above ${Math.max(before(s), after(s))} + maxSurge ${limit.maxSurge}` });
        if (n < Math.min(before(s), after(s)) - limit.maxUnavailable) out.push({ phase: phase.number, action: a.id, problem: `${s} has ${n} instances, below ${Math.min(before(s), after(s))} − maxUnavailable ${limit.maxUnavailable}` });
      }
    }
  }
  for (const s of Object.keys(placement)) {
    const left = countIn(placement, s, affected);
    if (left > 0) out.push({ phase: plan.phases.length, action: '(end)', problem: `${s} still has ${left} instances in ${affected.join(', ')}` });
  }
  return out;
}

/**
 * The move back once the window is over: the services the move took out of
 * the change's pools go back to the pools they came from, by the same rules
 * (capacity first, callers first, start before stop, copy then cutover,
 * budgets), and the nodes they used at the target are released. Phases
 * continue the move's numbering.
 */
export function buildReturnPlan(move: MigrationPlan, input: Omit<PlanInput, 'initial' | 'initialNodes' | 'finalInstances' | 'phaseOffset' | 'only'>): MigrationPlan {
  const s = input.settings;
  const moved = Object.keys(move.initial).filter((svc) => countIn(move.initial, svc, s.change.pools) > 0);
  const holding = s.targetPools.filter((p) => moved.some((svc) => (move.final[svc]?.[p] ?? 0) > 0));
  const back = [...new Set([s.initialPool, ...moved.flatMap((svc) => s.change.pools.filter((p) => (move.initial[svc]?.[p] ?? 0) > 0))])].filter((p) => s.change.pools.includes(p));
  return buildMigrationPlan({
    ...input,
    settings: { ...s, change: { ...s.change, pools: holding }, targetPools: back },
    initial: move.final,
    initialNodes: move.finalNodes,
    finalInstances: Object.fromEntries(moved.map((svc) => [svc, totalOf(move.initial, svc)])),
    phaseOffset: move.phases.length,
    only: new Set(moved),
  });
}
