import { InfeasibleError } from '../core/errors.ts';
import type { Scenario } from '../core/model.ts';
import { failureDomains, sizeForAvailability } from './availability.ts';
import { fitsIn, instancesThatFit } from './resources.ts';
import { sloFeasibility } from './sizing.ts';

/**
 * Checks that every workload can be served at all, before any replay:
 * its SLO is reachable at some instance count, and some pool offering its
 * tags has nodes big enough for one instance; its availability requirement
 * can be met with the failure domains of those pools. Problems are named in the
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
    const fits = tagged.filter((p) => fitsIn(w.perInstance, p.nodeType.capacity));
    if (fits.length === 0) {
      const net = (r: { readonly networkMbps?: number }) => (r.networkMbps === undefined ? '' : `, ${r.networkMbps} Mbit/s`);
      const biggest = tagged.map((p) => `${p.name} (${p.nodeType.capacity.cpuMillicores}m, ${p.nodeType.capacity.memoryMiB} MiB${net(p.nodeType.capacity)})`).join(', ');
      const need = w.perInstance.networkMbps === undefined ? `${w.perInstance.cpuMillicores}m CPU and ${w.perInstance.memoryMiB} MiB` : `${w.perInstance.cpuMillicores}m CPU, ${w.perInstance.memoryMiB} MiB and ${w.perInstance.networkMbps} Mbit/s`;
      problems.push(`workload "${w.name}" needs ${need} per instance; no node is that big: ${biggest}`);
      continue;
    }
    const maxInstancesThatFit = fits.reduce((s, p) => s + p.maxNodes * instancesThatFit(w.perInstance, p.nodeType.capacity), 0);
    if (maxInstancesThatFit < w.minInstances) {
      problems.push(`workload "${w.name}" needs at least ${w.minInstances} instances; its pools' quotas hold at most ${maxInstancesThatFit}`);
    }
    const availability = w.availability;
    if (availability) {
      try {
        // Domain counts and targets are checked at one needed instance: what fails there fails at any demand.
        sizeForAvailability({
          neededInstances: Math.max(1, w.minInstances),
          requirement: availability,
          domains: availability.survive ? failureDomains(w, scenario.pools, availability.survive) : [],
          maxInstances: w.maxInstances,
          name: w.name,
        });
      } catch (e) {
        if (e instanceof InfeasibleError) problems.push(...e.conflicts.map((c) => `${e.message.split(':')[0]}: ${c}`));
        else throw e;
      }
    }
  }
  if (problems.length) throw new InfeasibleError(`scenario "${scenario.name}" cannot be served`, problems);
}
