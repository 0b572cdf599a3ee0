import type { Allocation } from '../../core/plan.ts';
import type { SimulatorDriver } from '../../drivers/simulator.ts';
import { diffAllocation } from '../../plan/diff.ts';

/**
 * Move the driver to `target` by planning and applying the actions.
 * Returns how many actions were applied.
 */
export function applyAllocation(
  driver: SimulatorDriver,
  target: Allocation,
  policy: string,
  reason: string,
  allowNodeScaleDown?: (pool: string) => boolean,
): number {
  const current = {
    nodesByPool: driver.nodeCounts(),
    instances: Object.fromEntries(Object.keys(target.instances).map((w) => [w, driver.desiredByPool(w)])),
  };
  const actions = diffAllocation(current, target, {
    decidedAtSeconds: driver.timeSeconds,
    idPrefix: `${policy}@${driver.timeSeconds}`,
    reason,
    allowNodeScaleDown,
  });
  for (const a of actions) {
    const r = driver.applySync(a);
    if (!r.ok) throw new Error(`${policy}: action ${a.id} (${a.kind}) failed: ${r.error}`);
  }
  return actions.length;
}
