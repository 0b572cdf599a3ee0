import { InfeasibleError } from '../core/errors.ts';
import type { Scenario } from '../core/model.ts';
import { sloFeasibility } from './sizing.ts';

/**
 * Checks that every workload can be served at all, before any replay:
 * its SLO is reachable at some instance count, and some pool offering its
 * tags has nodes big enough for one instance. Problems are named in the
 * user's terms (workload, pool, tag), all at once.
 */
export function checkScenario(scenario: Scenario): void {
  const problems: string[] = [];
  for (const w of scenario.workloads) {
    try {
      sloFeasibility(w);
    } catch (e) {
      problems.push(e instanceof Error ? e.message : String(e));
    }
    const tagged = scenario.pools.filter((p) => w.tags.every((t) => p.tags.includes(t)));
    if (tagged.length === 0) {
      problems.push(`workload "${w.name}" needs tag(s) ${w.tags.join(', ')}: no pool offers them`);
      continue;
    }
    const fits = tagged.filter((p) => p.nodeType.capacity.cpuMillicores >= w.perInstance.cpuMillicores && p.nodeType.capacity.memoryMiB >= w.perInstance.memoryMiB);
    if (fits.length === 0) {
      const biggest = tagged.map((p) => `${p.name} (${p.nodeType.capacity.cpuMillicores}m, ${p.nodeType.capacity.memoryMiB} MiB)`).join(', ');
      problems.push(`workload "${w.name}" needs ${w.perInstance.cpuMillicores}m CPU and ${w.perInstance.memoryMiB} MiB per instance; no node is that big: ${biggest}`);
      continue;
    }
    const maxInstancesThatFit = fits.reduce(
      (s, p) => s + p.maxNodes * Math.min(Math.floor(p.nodeType.capacity.cpuMillicores / w.perInstance.cpuMillicores), Math.floor(p.nodeType.capacity.memoryMiB / w.perInstance.memoryMiB)),
      0,
    );
    if (maxInstancesThatFit < w.minInstances) {
      problems.push(`workload "${w.name}" needs at least ${w.minInstances} instances; its pools' quotas hold at most ${maxInstancesThatFit}`);
    }
  }
  if (problems.length) throw new InfeasibleError(`scenario "${scenario.name}" cannot be served`, problems);
}
