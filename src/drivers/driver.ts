import type { Action, InstanceResources } from '../core/plan.ts';

/** What a driver reports back for one action. */
export interface ActionResult {
  readonly ok: boolean;
  readonly error?: string;
  /** Whether a failed action may succeed if tried again. */
  readonly retryable?: boolean;
}

/** Observed state of the managed capacity, as the driver sees it. */
export interface ObservedState {
  readonly timeSeconds: number;
  /** Nodes that are ready to run instances, by pool. */
  readonly readyNodesByPool: Readonly<Record<string, number>>;
  /** Nodes requested but not yet ready, by pool. */
  readonly pendingNodesByPool: Readonly<Record<string, number>>;
  /** Instances that are running, by workload and pool. */
  readonly runningInstances: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Instances desired (spec), by workload and pool. */
  readonly desiredInstances: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Per-instance resources, by workload and pool, where the driver can see them (Kubernetes: the mapped container's). */
  readonly instanceResources?: Readonly<Record<string, Readonly<Record<string, InstanceResources>>>>;
}

/**
 * The seam to the outside world: simulator, Kubernetes, webhook.
 * `apply` must be idempotent per `action.id`: a driver that has already
 * executed an id returns its earlier result without executing it again.
 */
export interface Driver {
  readonly name: string;
  apply(action: Action): Promise<ActionResult>;
  observe(): Promise<ObservedState>;
}

/** Answers a driver keeps in memory: enough for any plan being resumed (older ids are the receiver's or the object's to remember). */
export const RESULTS_KEPT = 10_000;

/** Remember a driver's answer for an action id, forgetting the oldest beyond `kept`. */
export function rememberResult(results: Map<string, ActionResult>, id: string, result: ActionResult, kept = RESULTS_KEPT): void {
  results.delete(id);
  results.set(id, result);
  while (results.size > kept) results.delete(results.keys().next().value as string);
}
