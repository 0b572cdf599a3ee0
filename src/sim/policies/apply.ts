import type { Action, Allocation } from '../../core/plan.ts';
import type { SimulatorDriver } from '../../drivers/simulator.ts';
import { reconcileActions } from '../../plan/reconcile.ts';

/**
 * Drives one simulated cluster toward a policy's latest target allocation,
 * make before break (see `reconcileActions`). Removals held back longer than
 * `graceSeconds` after the target was set (replacements that cannot run, e.g.
 * when a pool is full) go ahead anyway.
 */
export class Reconciler {
  private target: Allocation | undefined;
  private targetKey = '';
  private reason = '';
  private setAtSeconds = 0;
  private seq = 0;

  constructor(
    private readonly driver: SimulatorDriver,
    private readonly policy: string,
    private readonly graceSeconds: number,
  ) {}

  /** Set the allocation to converge to; a target equal to the current one changes nothing. */
  setTarget(target: Allocation, reason: string): void {
    const key = JSON.stringify([target.nodesByPool, target.instances]);
    if (key === this.targetKey) return;
    this.target = target;
    this.targetKey = key;
    this.reason = reason;
    this.setAtSeconds = this.driver.timeSeconds;
  }

  /** Apply what may be applied now; returns the number of actions applied. */
  tick(): number {
    if (!this.target) return 0;
    const now = this.driver.timeSeconds;
    const { actions } = reconcileActions(this.driver.observeSync(), this.target, {
      decidedAtSeconds: this.setAtSeconds,
      idPrefix: `${this.policy}/${this.seq++}`,
      reason: this.reason,
      forceRemovals: now >= this.setAtSeconds + this.graceSeconds,
    });
    for (const a of withPoolCreation(this.driver, actions)) {
      const r = this.driver.applySync(a);
      if (!r.ok) throw new Error(`${this.policy}: action ${a.id} (${a.kind}) failed: ${r.error}`);
    }
    return actions.length;
  }
}

/** Grace for held-back removals: the slowest pool's provisioning delay plus a minute. */
export function removalGraceSeconds(pools: readonly { readonly provisioningDelaySeconds: number }[]): number {
  return Math.max(0, ...pools.map((p) => p.provisioningDelaySeconds)) + 60;
}

/**
 * `actions` with a `createPool` before the first node asked for in a pool
 * that does not exist yet (a candidate pool), carrying its network
 * configuration when the driver has an address plan. Pre-allocation lead time
 * is the pool's provisioning delay: the policy asks for nodes that far ahead.
 */
export function withPoolCreation(driver: SimulatorDriver, actions: readonly Action[]): Action[] {
  const out: Action[] = [];
  for (const a of actions) {
    if (a.kind === 'scaleNodes' && a.toNodes > a.fromNodes && !driver.poolExists(a.pool)) {
      const pool = driver.poolSpec(a.pool);
      const network = driver.networkPlanner?.configFor(pool);
      out.push({
        id: `${a.id}/create`,
        kind: 'createPool',
        pool: a.pool,
        decidedAtSeconds: a.decidedAtSeconds,
        phase: a.phase,
        reason: `${a.reason}: ${a.toNodes} node${a.toNodes === 1 ? '' : 's'} planned in a pool that does not exist yet`,
        ...(network ? { network } : {}),
      });
    }
    out.push(a);
  }
  return out;
}
