/**
 * Why a horizon has no plan, in user terms. Two layers:
 * 1. Quick checks that need no solver (per workload, per step): no pool offers
 *    its tags, no node is large enough, every usable pool is in maintenance,
 *    its spread has one failure domain, guaranteed minimums exceed what pools
 *    offering a tag can hold, or cost more than the budget at the cheapest price.
 * 2. When those find nothing: a deletion filter over named constraint groups
 *    (an IIS at the level of what the user wrote). Start from all groups; drop
 *    each in turn and keep it dropped if the rest is still infeasible. What is
 *    left is a minimal conflicting set: removing any one of them makes the
 *    problem feasible.
 */
import { type ConstraintGroup, type HorizonContext, type HorizonInput, buildContext, fits, offers, placementSize } from './horizon.ts';
import { buildHorizonModel } from './horizonModel.ts';
import { solveModel } from './solver.ts';
import { cpuText, memoryText, quoteList, stepRanges } from './text.ts';


/** " at steps 3–5" over a horizon; nothing for a single step, where it says nothing. */
const at = (ctx: HorizonContext, steps: readonly number[]): string => (ctx.steps > 1 ? ` at ${stepRanges(steps)}` : '');

function windowsCovering(input: HorizonInput, pools: readonly string[], steps: readonly number[]): string[] {
  return (input.maintenance ?? []).filter((m) => pools.includes(m.pool) && steps.some((t) => t >= m.fromStep && t < m.toStep)).map((m) => m.name);
}

/** Conflicts found without a solver; empty when none is obvious. */
export function quickChecks(ctx: HorizonContext): string[] {
  const { input, pools, workloads, steps: T } = ctx;
  const out: string[] = [];
  workloads.forEach((w, wi) => {
    const guaranteedSteps = Array.from({ length: T }, (_, t) => t).filter((t) => ctx.guaranteed[t][wi] > 0 || ctx.spreadTarget[t][wi] > 0);
    if (guaranteedSteps.length === 0) return;
    const tagged = pools.filter((p) => offers(p, w.tags));
    if (tagged.length === 0) {
      const missing = w.tags.filter((t) => !pools.some((p) => p.tags.includes(t)));
      out.push(missing.length ? `workload '${w.name}' needs tag ${missing.join(', ')}: no pool offers it` : `workload '${w.name}' needs tags ${w.tags.join(', ')}: no single pool offers all of them`);
      return;
    }
    if (!tagged.some((p) => fits(p, w.perInstance))) {
      out.push(`workload '${w.name}' needs ${cpuText(w.perInstance.cpuMillicores)} and ${memoryText(w.perInstance.memoryMiB)} per instance: no node of the pools it may use (${quoteList(tagged.map((p) => p.name))}) is that large`);
      return;
    }
    const eligible = ctx.eligible[wi];
    const dark = guaranteedSteps.filter((t) => eligible.every((p) => ctx.avail[t][p] === 0));
    if (dark.length) {
      const names = eligible.map((p) => pools[p].name);
      const windows = windowsCovering(input, names, dark);
      out.push(
        `workload '${w.name}' guarantees instances${at(ctx, dark)}, but every pool it may use (${quoteList(names)}) is unavailable then` +
          (windows.length ? ` (maintenance ${quoteList(windows)})` : ' (quota 0)'),
      );
      return;
    }
    if (w.spread) {
      const key = w.spread.domain === 'zone' ? ctx.zoneKey : ctx.providerKey;
      const single = guaranteedSteps.filter((t) => ctx.spreadTarget[t][wi] > 0 && new Set(eligible.filter((p) => ctx.avail[t][p] > 0).map((p) => key[p])).size < 2);
      const zonesAt = (t: number) => new Set(eligible.filter((p) => ctx.avail[t][p] > 0).map((p) => key[p])).size;
      // With Z domains, keeping S after losing the fullest one needs at least ⌈S·Z/(Z−1)⌉ instances.
      const tooFew = guaranteedSteps.filter((t) => {
        const z = zonesAt(t);
        const s = ctx.spreadTarget[t][wi];
        return s > 0 && z >= 2 && ctx.req[t][wi] < Math.ceil((s * z) / (z - 1));
      });
      if (tooFew.length) {
        const t = tooFew[0];
        const z = zonesAt(t);
        const s = ctx.spreadTarget[t][wi];
        out.push(
          `workload '${w.name}' must keep ${s} instances after losing any one ${w.spread.domain} of ${z}, which needs at least ${Math.ceil((s * z) / (z - 1))} instances, but it needs only ${ctx.req[t][wi]}${at(ctx, tooFew)}`,
        );
      }
      if (single.length) {
        const domains = [...new Set(eligible.map((p) => key[p]))];
        out.push(
          `workload '${w.name}' must keep ${w.spread.survivingInstances} instances after losing any one ${w.spread.domain}, but${at(ctx, single)} the pools it may use are all in ${w.spread.domain} ${quoteList(domains.slice(0, 3))}` +
            (domains.length > 1 ? ` (others in maintenance: ${quoteList(windowsCovering(input, eligible.map((p) => pools[p].name), single))})` : ''),
        );
      }
    }
  });
  if (out.length) return out;

  // Aggregate capacity per step, for all guaranteed minimums and per required tag.
  const tagSets: string[][] = [[], ...[...new Set(workloads.flatMap((w) => w.tags))].sort().map((t) => [t])];
  for (const tags of tagSets) {
    const members = workloads.map((w, i) => [w, i] as const).filter(([w]) => tags.every((t) => w.tags.includes(t)));
    const offering = pools.map((p, i) => [p, i] as const).filter(([p]) => offers(p, tags));
    for (const [resource, text] of [
      ['cpuMillicores', cpuText],
      ['memoryMiB', memoryText],
    ] as const) {
      const bad: number[] = [];
      let worst = { need: 0, offer: 0 };
      for (let t = 0; t < T; t++) {
        const need = members.reduce((sum, [w, i]) => sum + ctx.guaranteed[t][i] * w.perInstance[resource], 0);
        const offer = offering.reduce((sum, [p, i]) => sum + ctx.avail[t][i] * p.nodeType.capacity[resource], 0);
        if (need > offer) {
          bad.push(t);
          if (need - offer > worst.need - worst.offer) worst = { need, offer };
        }
      }
      if (bad.length === 0) continue;
      const windows = windowsCovering(input, offering.map(([p]) => p.name), bad);
      const subject = tags.length === 0 ? 'guaranteed minimums' : `guaranteed minimums of workloads needing tag ${tags[0]} (${quoteList(members.map(([w]) => w.name))})`;
      const where = tags.length === 0 ? 'all pools together' : `pools offering it (${quoteList(offering.map(([p]) => p.name)) || 'none'})`;
      out.push(
        `${subject} need ${text(worst.need)}${at(ctx, bad)}; ${where} offer at most ${text(worst.offer)}` + (windows.length ? ` with maintenance ${quoteList(windows)}` : ''),
      );
    }
  }
  if (out.length) return out;

  if (ctx.budget) {
    const bad: number[] = [];
    let worst = { need: 0, budget: 0 };
    for (let t = 0; t < T; t++) {
      let need = 0;
      workloads.forEach((w, wi) => {
        if (ctx.guaranteed[t][wi] === 0) return;
        let cheapest = Infinity;
        for (const p of ctx.eligible[wi]) {
          if (ctx.avail[t][p] === 0) continue;
          const pool = pools[p];
          const c = pool.nodeType.capacity;
          const share = Math.max(w.perInstance.cpuMillicores / c.cpuMillicores, w.perInstance.memoryMiB / c.memoryMiB);
          cheapest = Math.min(cheapest, share * Math.min(pool.costPerHour, pool.reservedCostPerHour ?? Infinity) * ctx.stepHours);
        }
        need += ctx.guaranteed[t][wi] * cheapest;
      });
      if (need > ctx.budget[t] + 1e-9) {
        bad.push(t);
        if (need - ctx.budget[t] > worst.need - worst.budget) worst = { need, budget: ctx.budget[t] };
      }
    }
    if (bad.length) out.push(`budget ${worst.budget.toFixed(2)} per step cannot pay for the guaranteed minimums${at(ctx, bad)} (at least ${worst.need.toFixed(2)} even at the cheapest eligible prices)`);
  }
  return out;
}

/** Every named constraint group present in the input. */
export function constraintGroups(input: HorizonInput): ConstraintGroup[] {
  const groups: ConstraintGroup[] = [];
  for (const w of input.workloads) {
    if (w.minInstances > 0) groups.push(`guarantee:${w.name}`);
    if (w.spread && w.spread.survivingInstances > 0) groups.push(`spread:${w.name}`);
    if (w.tags.length) groups.push(`tags:${w.name}`);
  }
  if (input.budgetPerStep !== undefined) groups.push('budget');
  for (const q of input.quotas ?? []) groups.push(`quota:${q.provider}`);
  for (const p of input.pools) {
    groups.push(`poolQuota:${p.name}`);
    if (p.minNodes > 0) groups.push(`minNodes:${p.name}`);
  }
  for (const m of input.maintenance ?? []) groups.push(`maintenance:${m.name}`);
  return groups;
}

/** A constraint group in the user's words. */
export function describeGroup(input: HorizonInput, group: ConstraintGroup): string {
  const [kind, name] = [group.slice(0, group.indexOf(':') < 0 ? group.length : group.indexOf(':')), group.slice(group.indexOf(':') + 1)];
  const w = input.workloads.find((x) => x.name === name);
  const p = input.pools.find((x) => x.name === name);
  switch (kind) {
    case 'guarantee':
      return `workload '${name}' guarantees ${w?.minInstances} instances (${cpuText(w!.perInstance.cpuMillicores)}, ${memoryText(w!.perInstance.memoryMiB)} each)`;
    case 'spread':
      return `workload '${name}' must keep ${w?.spread?.survivingInstances} instances after losing any one ${w?.spread?.domain}`;
    case 'tags': {
      const offering = input.pools.filter((x) => offers(x, w!.tags)).map((x) => x.name);
      return `workload '${name}' runs only in pools tagged ${w!.tags.join(', ')} (${quoteList(offering) || 'none'})`;
    }
    case 'budget':
      return `budget of ${typeof input.budgetPerStep === 'number' ? input.budgetPerStep : 'the given amounts'} per step`;
    case 'quota': {
      const q = input.quotas?.find((x) => x.provider === name);
      const limits = [q?.maxNodes !== undefined ? `${q.maxNodes} nodes` : '', q?.maxCpuMillicores !== undefined ? cpuText(q.maxCpuMillicores) : '', q?.maxMemoryMiB !== undefined ? memoryText(q.maxMemoryMiB) : '']
        .filter(Boolean)
        .join(', ');
      return `provider '${name}' quota (at most ${limits})`;
    }
    case 'poolQuota':
      return `pool '${name}' quota of ${p?.maxNodes} nodes (${cpuText(p!.nodeType.capacity.cpuMillicores)}, ${memoryText(p!.nodeType.capacity.memoryMiB)} each)`;
    case 'minNodes':
      return `pool '${name}' keeps at least ${p?.minNodes} nodes`;
    case 'maintenance': {
      const m = input.maintenance?.find((x) => x.name === name);
      return `maintenance window '${name}' (pool '${m?.pool}' loses ${m?.nodesDown ?? 'all'} nodes at ${stepRanges(Array.from({ length: m!.toStep - m!.fromStep }, (_, i) => m!.fromStep + i))})`;
    }
    default:
      return group;
  }
}

async function feasibleWithout(input: HorizonInput, dropped: ReadonlySet<ConstraintGroup>, timeLimitSeconds: number): Promise<boolean> {
  const ctx = buildContext(input, dropped);
  if (quickChecks(ctx).length) return false;
  const model = buildHorizonModel(ctx);
  const result = await solveModel(model.model, { via: 'arrays', timeLimitSeconds, mipRelGap: 1 });
  return result.status === 'optimal' || result.status === 'timeLimit';
}

/**
 * Deletion filter over constraint groups; returns a minimal conflicting set
 * (empty if the input is feasible or too large to test within `maxPlacements`).
 */
export async function conflictingGroups(input: HorizonInput, options: { maxPlacements?: number; timeLimitSeconds?: number } = {}): Promise<ConstraintGroup[]> {
  const all = constraintGroups(input);
  if (placementSize(buildContext(input)) > (options.maxPlacements ?? 20_000)) return [];
  const limit = options.timeLimitSeconds ?? 5;
  if (await feasibleWithout(input, new Set(), limit)) return [];
  const kept = new Set(all);
  for (const g of all) {
    kept.delete(g);
    const dropped = new Set(all.filter((x) => !kept.has(x)));
    if (await feasibleWithout(input, dropped, limit)) kept.add(g);
  }
  return all.filter((g) => kept.has(g));
}

/** Conflicts in user terms: quick checks first, the deletion filter when they find nothing. */
export async function diagnoseHorizon(input: HorizonInput): Promise<string[]> {
  const quick = quickChecks(buildContext(input));
  if (quick.length) return quick;
  const groups = await conflictingGroups(input);
  return groups.length ? ['these constraints cannot all hold together (dropping any one of them removes the conflict):', ...groups.map((g) => describeGroup(input, g))] : [];
}
