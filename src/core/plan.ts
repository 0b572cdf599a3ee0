/**
 * Decisions as data: an allocation says how many nodes each pool should have
 * and where each workload's instances go; a plan is the ordered actions that
 * move the current state to it. Drivers only ever see actions.
 */

/** Target state: nodes per pool and instances per workload per pool. */
export interface Allocation {
  readonly nodesByPool: Readonly<Record<string, number>>;
  /** workload -> pool -> instances */
  readonly instances: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly costPerHour: number;
  /** Instances each workload needed but did not get (contention), by workload. */
  readonly shortfall: Readonly<Record<string, number>>;
}

export type ActionKind =
  | 'scaleNodes' // set a pool's node count
  | 'scaleWorkload' // set a workload's instance count in a pool
  | 'migrate' // move instances of a workload between pools (one phase step)
  | 'reserve' // buy or release committed capacity
  | 'createPool'
  | 'dismantlePool'
  | 'resizeWorkload'; // set a workload's per-instance resource requests and limits

export interface ActionBase {
  /** Unique, stable id: drivers use it to never execute an action twice. */
  readonly id: string;
  readonly kind: ActionKind;
  /** Decision time (epoch seconds) that produced the action. */
  readonly decidedAtSeconds: number;
  /** Phase within a plan; actions of one phase may run together, phases run in order. */
  readonly phase: number;
  readonly reason: string;
}

export interface ScaleNodesAction extends ActionBase {
  readonly kind: 'scaleNodes';
  readonly pool: string;
  readonly fromNodes: number;
  readonly toNodes: number;
}

export interface ScaleWorkloadAction extends ActionBase {
  readonly kind: 'scaleWorkload';
  readonly workload: string;
  readonly pool: string;
  readonly fromInstances: number;
  readonly toInstances: number;
}

export interface MigrateAction extends ActionBase {
  readonly kind: 'migrate';
  readonly workload: string;
  readonly fromPool: string;
  readonly toPool: string;
  readonly instances: number;
}

export interface ReserveAction extends ActionBase {
  readonly kind: 'reserve';
  readonly pool: string;
  readonly fromNodes: number;
  readonly toNodes: number;
}

export interface PoolLifecycleAction extends ActionBase {
  readonly kind: 'createPool' | 'dismantlePool';
  readonly pool: string;
  /** Network configuration of a pool being created (validated against the other pools' ranges). */
  readonly network?: PoolNetworkConfig;
}

/** A new pool's validated network: its segment and an address range sized for its most nodes × pods per node. */
export interface PoolNetworkConfig {
  readonly segment: string;
  readonly cidr: string;
  readonly podsPerNode: number;
  /** Addresses in `cidr`. */
  readonly addresses: number;
  /** Addresses the pool may need: maxNodes × the per-node block (podsPerNode rounded up to a power of two). */
  readonly neededAddresses: number;
}

/** CPU and memory of one resource list (requests or limits); an absent field is left as it is. */
export interface ResourceAmounts {
  readonly cpuMillicores?: number;
  readonly memoryMiB?: number;
}

/** Per-instance resources of a workload: what the scheduler reserves (requests) and the cap (limits). */
export interface InstanceResources {
  readonly requests?: ResourceAmounts;
  readonly limits?: ResourceAmounts;
}

/**
 * Change a workload's per-instance resources (vertical scaling). `from` is
 * the state the decision saw, so the inverse can restore it: it should name
 * every field that `to` sets.
 */
export interface ResizeWorkloadAction extends ActionBase {
  readonly kind: 'resizeWorkload';
  readonly workload: string;
  /** Pool whose instances are resized; absent: every pool. */
  readonly pool?: string;
  readonly from: InstanceResources;
  readonly to: InstanceResources;
}

export type Action = ScaleNodesAction | ScaleWorkloadAction | MigrateAction | ReserveAction | PoolLifecycleAction | ResizeWorkloadAction;

/** Every action has an inverse that undoes it (used for rollback). */
export function inverse(action: Action, id: string): Action {
  switch (action.kind) {
    case 'scaleNodes':
    case 'reserve':
      return { ...action, id, fromNodes: action.toNodes, toNodes: action.fromNodes, reason: `rollback of ${action.id}` };
    case 'scaleWorkload':
      return { ...action, id, fromInstances: action.toInstances, toInstances: action.fromInstances, reason: `rollback of ${action.id}` };
    case 'migrate':
      return { ...action, id, fromPool: action.toPool, toPool: action.fromPool, reason: `rollback of ${action.id}` };
    case 'createPool':
      return { ...action, id, kind: 'dismantlePool', reason: `rollback of ${action.id}` };
    case 'dismantlePool':
      return { ...action, id, kind: 'createPool', reason: `rollback of ${action.id}` };
    case 'resizeWorkload':
      return { ...action, id, from: action.to, to: action.from, reason: `rollback of ${action.id}` };
  }
}

export interface Plan {
  readonly decidedAtSeconds: number;
  readonly target: Allocation;
  readonly actions: readonly Action[];
}

/** Life cycle of an action in the log (as OpenStack Watcher's action states). */
export type ActionStatus = 'pending' | 'sent' | 'succeeded' | 'failed' | 'rolledBack' | 'skipped';

/** One line of the action log: written before the action is sent, updated with its result. */
export interface ActionRecord {
  readonly action: Action;
  status: ActionStatus;
  attempts: number;
  /** Epoch seconds (simulated or wall clock) of the last status change. */
  updatedAtSeconds: number;
  error?: string;
  /** Set when this record undoes another (rollback). */
  readonly undoes?: string;
}
