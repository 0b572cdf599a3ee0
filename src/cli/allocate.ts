/**
 * `headroom allocate FILE`: solve an allocation problem file (pools, per-step
 * instance needs, quotas, tags, maintenance, budget, priority rules, traffic)
 * with the horizon engine and print the plan, its cost against a valid lower
 * bound, who is short, and optionally why each workload got what it got and
 * how the file's what-if alternatives compare.
 */
import type { Command } from 'commander';
import { type AllocationProblem, loadAllocationFile } from '../config/allocationFile.ts';
import { InvalidInputError } from '../core/errors.ts';
import type { Allocation } from '../core/plan.ts';
import { checkPackingSteps } from '../optimize/packingSteps.ts';
import { type WorkloadExplanation, explainHorizon } from '../optimize/explain.ts';
import { type HorizonOptions, type HorizonResult, optimizeHorizon } from '../optimize/optimizeHorizon.ts';
import { type WhatIfReport, whatIf } from '../optimize/whatif.ts';
import { stepRanges } from '../optimize/text.ts';
import { table } from './format.ts';

export interface AllocateFlags {
  readonly method?: string;
  readonly timeLimit?: string;
  readonly explain?: boolean | string[];
  readonly json?: string;
  readonly packNodes?: boolean;
  readonly resplitPools?: string;
  readonly lpWindowSteps?: string;
}

export interface AllocateReport {
  readonly text: string;
  readonly json: Record<string, unknown>;
}

const amount = (x: number) => x.toFixed(2);

/** Instances placed in one step's allocation, over all workloads and pools. */
const instancesIn = (a: Allocation) => Object.values(a.instances).reduce((sum, byPool) => sum + Object.values(byPool).reduce((x, y) => x + y, 0), 0);

function horizonOptions(flags: AllocateFlags): HorizonOptions {
  const method = flags.method ?? 'auto';
  if (method !== 'auto' && method !== 'exact' && method !== 'decomposition') throw new InvalidInputError('--method', `expected auto, exact or decomposition, got "${method}"`);
  const timeLimitSeconds = flags.timeLimit === undefined ? undefined : Number(flags.timeLimit);
  if (timeLimitSeconds !== undefined && !(timeLimitSeconds > 0 && timeLimitSeconds <= 3600)) throw new InvalidInputError('--time-limit', `expected seconds in (0, 3600], got "${flags.timeLimit}"`);
  const resplitPools = flags.resplitPools ?? 'given';
  if (resplitPools !== 'given' && resplitPools !== 'touched') throw new InvalidInputError('--resplit-pools', `expected given or touched, got "${resplitPools}"`);
  const lpWindowSteps = flags.lpWindowSteps === undefined ? undefined : Number(flags.lpWindowSteps);
  if (lpWindowSteps !== undefined && !(Number.isInteger(lpWindowSteps) && lpWindowSteps >= 0)) throw new InvalidInputError('--lp-window-steps', `expected a whole number of steps ≥ 0, got "${flags.lpWindowSteps}"`);
  return { method, resplitPools, ...(timeLimitSeconds !== undefined ? { timeLimitSeconds } : {}), ...(flags.packNodes ? { packNodes: true } : {}), ...(lpWindowSteps !== undefined ? { lpWindowSteps } : {}) };
}

function summary(problem: AllocationProblem, r: HorizonResult): string {
  const { input } = problem;
  const c = r.cost;
  const windows = r.aggregate && r.aggregate.windows > 1 ? ` in ${r.aggregate.windows} windows` : '';
  const how = r.method === 'exact' ? 'exact MIP' : `decomposition (${r.aggregate?.classes ?? 0} workload classes, aggregated LP bound${windows})`;
  const lines = [
    `Allocation "${problem.name}": ${input.workloads.length} workloads, ${input.pools.length} pools, ${input.steps} steps of ${input.stepHours} h; ${how}, ${r.seconds.toFixed(2)} s`,
    '',
    table(
      ['cost over the horizon', 'amount'],
      [
        ['on-demand nodes', amount(c.onDemand)],
        ['reserved nodes', amount(c.reserved)],
        ['node churn', amount(c.churn)],
        ['instance starts (migration)', amount(c.migration)],
        ['pool create/teardown', amount(c.lifecycle)],
        ['cross-zone/provider traffic', amount(c.traffic)],
        ['total spend', amount(c.total)],
        ['shortfall penalty', amount(c.shortfallPenalty)],
        ['objective', amount(c.objective)],
        ['lower bound', amount(r.lowerBound)],
        ['gap', `${(r.gap * 100).toFixed(2)}%`],
      ],
    ),
  ];
  if (r.exactAborted) lines.push('', `The exact model did not finish (${r.exactAborted}); the plan above is the decomposition's, with its bound.`);
  return lines.join('\n');
}

function poolTable(r: HorizonResult): string {
  const { context: ctx, plan } = r;
  const rows = ctx.pools.flatMap((p, i) => {
    const counts = plan.nodes.map((n) => n[i]);
    const nodeHours = counts.reduce((a, b) => a + b, 0) * ctx.stepHours;
    if (nodeHours === 0 && plan.reserved[i] === 0) return [];
    const spend = counts.reduce((sum, n) => sum + p.costPerHour * Math.max(0, n - plan.reserved[i]) * ctx.stepHours, 0) + (p.reservedCostPerHour ?? 0) * plan.reserved[i] * ctx.stepHours * ctx.steps;
    return [[p.name, p.provider, p.zone, p.nodeType.name, String(plan.reserved[i]), `${Math.min(...counts)}–${Math.max(...counts)}`, nodeHours.toFixed(1), amount(spend)]];
  });
  return table(['pool', 'provider', 'zone', 'node type', 'reserved', 'nodes', 'node-hours', 'cost'], rows, [1, 2, 3]);
}

function stepTable(r: HorizonResult): string {
  const rows = r.allocations.map((a, t) => {
    const nodes = Object.values(a.nodesByPool).reduce((x, y) => x + y, 0);
    const instances = instancesIn(a);
    const short = Object.values(a.shortfall).reduce((x, y) => x + y, 0);
    return [String(t), String(nodes), String(instances), amount(a.costPerHour), short > 0 ? String(short) : '-'];
  });
  return table(['step', 'nodes', 'instances', 'cost/h', 'short'], rows);
}

function shortfallText(r: HorizonResult): string {
  const ctx = r.context;
  const rows = ctx.workloads.flatMap((w, wi) => {
    const series = r.shortfall[w.name];
    const steps = series.flatMap((s, t) => (s > 0 ? [t] : []));
    if (steps.length === 0) return [];
    return [[w.name, String(w.priority), String(series.reduce((a, b) => a + b, 0)), stepRanges(steps), String(ctx.guaranteed[steps[0]][wi])]];
  });
  if (rows.length === 0) return 'Every workload gets every instance it needs at every step.';
  return `Short of capacity (lower priorities throttled first, guaranteed minimums kept):\n\n${table(['workload', 'priority', 'missing instance-steps', 'when', 'guaranteed'], rows, [3])}`;
}

/** Pools most short of nodes first, with how many each needs ("p +3, q +1"); past five, how many more pools. */
export function extraByPool(pools: readonly { readonly pool: string; readonly extraNodes: number }[], shown = 5): string {
  const short = pools.filter((p) => p.extraNodes > 0).sort((a, b) => b.extraNodes - a.extraNodes || a.pool.localeCompare(b.pool));
  const listed = short.slice(0, shown).map((p) => `${p.pool} +${p.extraNodes}`);
  const rest = short.length - listed.length;
  return rest > 0 ? `${listed.join(', ')} and ${rest} more pool${rest === 1 ? '' : 's'}` : listed.join(', ');
}

/** Every step's instances packed node by node (vector bin packing), and its busiest step in detail. */
async function packingOf(r: HorizonResult): Promise<{ text: string; readonly json: Record<string, unknown> }> {
  const ctx = r.context;
  const workloads = ctx.workloads.map((w) => ({ name: w.name, perInstance: w.perInstance }));
  let busiest = 0;
  for (let t = 1; t < r.allocations.length; t++) if (instancesIn(r.allocations[t]) > instancesIn(r.allocations[busiest])) busiest = t;
  const reports = await checkPackingSteps(r.allocations, ctx.pools, workloads, (t) => ({ exact: 'never', effort: t === busiest ? 'best' : 'enough' }));
  const short = reports.flatMap((rep, t) => (rep.extraNodes > 0 ? [`step ${t}: ${rep.extraNodes} more node${rep.extraNodes === 1 ? '' : 's'}, ${rep.extraCostPerHour.toFixed(2)}/h (${extraByPool(rep.pools)})`] : []));
  const cores = (m: number) => (m / 1000).toFixed(1);
  const gib = (m: number) => (m / 1024).toFixed(1);
  const pct = (used: number, cap: number) => (cap > 0 ? `${Math.round((100 * used) / cap)}%` : '-');
  const rows = reports[busiest].pools.map((p) => {
    const f = p.fragmentation;
    return [p.pool, String(p.nodes), String(p.instances), String(p.nodesNeeded), pct(f.used.cpuMillicores, f.capacity.cpuMillicores), pct(f.used.memoryMiB, f.capacity.memoryMiB), cores(f.stranded.cpuMillicores), gib(f.stranded.memoryMiB)];
  });
  const verdict = short.length
    ? `Packing node by node needs more nodes than the plan counts at ${short.length} step(s) (the model counts capacity per pool and per workload, not per node; --pack-nodes adds them and costs them):\n  ${short.join('\n  ')}`
    : 'Every step packs onto its nodes node by node (vector bin packing: balance, first-fit, best-fit and dot-product heuristics).';
  const text = `Packing at the busiest step (${busiest})\n\n${table(['pool', 'nodes', 'instances', 'nodes packing needs', 'CPU used', 'memory used', 'stranded cores', 'stranded GiB'], rows)}\n\n${verdict}`;
  return {
    text,
    json: {
      busiestStep: busiest,
      stepsNeedingMoreNodes: reports.flatMap((rep, t) => (rep.extraNodes > 0 ? [{ step: t, extraNodes: rep.extraNodes, extraCostPerHour: rep.extraCostPerHour }] : [])),
      pools: reports[busiest].pools.map((p) => ({ pool: p.pool, nodes: p.nodes, instances: p.instances, nodesNeeded: p.nodesNeeded, lowerBound: p.lowerBound, fragmentation: p.fragmentation })),
    },
  };
}

function whatIfText(report: WhatIfReport): string {
  const rows = [report.base, ...report.alternatives].map((o) => [
    o.name,
    o.feasible ? 'yes' : 'no',
    o.holdsSlos ? 'yes' : 'no',
    o.cost === undefined ? '-' : amount(o.cost),
    o.gap === undefined ? '-' : `${(o.gap * 100).toFixed(1)}%`,
    o.feasible ? o.failures.map((f) => `${f.workload} short ${f.missingInstanceSteps} at ${stepRanges(f.steps)}`).join('; ') || '-' : o.conflicts.join('; '),
  ]);
  const best = report.best ? `Cheapest alternative that holds every SLO: ${report.best}.` : 'No alternative holds every SLO.';
  const widest = Math.max(0, ...[report.base, ...report.alternatives].map((o) => o.gap ?? 0));
  const note = widest > 0.001 ? `\nSpends closer than the gaps (up to ${(widest * 100).toFixed(1)}% of each from its lower bound) are within the solver's tolerance, not real differences.` : '';
  return `What-if\n\n${table(['alternative', 'feasible', 'holds SLOs', 'spend', 'gap', 'failing'], rows, [5])}\n\n${best}${note}`;
}

function explanationText(explanations: readonly WorkloadExplanation[]): string {
  return explanations.map((e) => [`${e.workload} (peak at step ${e.peakStep})`, ...e.text.map((line) => `  ${line}`)].join('\n')).join('\n\n');
}

/** Solves the file and renders the report (text and JSON). */
export async function allocateReport(file: string, flags: AllocateFlags): Promise<AllocateReport> {
  const options = horizonOptions(flags);
  const problem = loadAllocationFile(file);
  // Before solving: a misspelt name should not cost the user a solve.
  const names = Array.isArray(flags.explain) ? flags.explain : undefined;
  const known = new Set(problem.input.workloads.map((w) => w.name));
  for (const n of names ?? []) if (!known.has(n)) throw new InvalidInputError('--explain', `unknown workload "${n}"`);
  const result = await optimizeHorizon(problem.input, options);
  const packing = await packingOf(result);
  if (result.packing) {
    const p = result.packing;
    const blockedSteps = [...new Set(p.blocked.map((b) => b.step))];
    packing.text += `\n\nWith --pack-nodes: ${p.addedNodeSteps} node-step(s) added, ${p.removedNodeSteps} emptied into room elsewhere and ${p.movedInstances} instance(s) moved so that the steps pack, in ${p.seconds.toFixed(2)} s${blockedSteps.length ? `; left as planned at steps ${stepRanges(blockedSteps)}: ${p.blocked[0].reason}` : ''}.`;
    packing.json.packNodes = p;
  }
  const parts = [summary(problem, result), poolTable(result), stepTable(result), shortfallText(result), packing.text];
  let explanations: WorkloadExplanation[] | undefined;
  if (flags.explain) {
    explanations = await explainHorizon(result, names ? { workloads: names } : {});
    parts.push(`Why each workload got what it got\n\n${explanationText(explanations)}`);
  }
  let report: WhatIfReport | undefined;
  if (problem.alternatives.length > 0) {
    report = await whatIf(problem.input, problem.alternatives, options, result);
    parts.push(whatIfText(report));
  }
  const json = {
    name: problem.name,
    method: result.method,
    seconds: result.seconds,
    cost: result.cost,
    lowerBound: result.lowerBound,
    gap: result.gap,
    reservedByPool: result.reservedByPool,
    steps: result.allocations,
    shortfall: result.shortfall,
    packing: packing.json,
    ...(explanations ? { explanations } : {}),
    ...(report ? { whatIf: report } : {}),
  };
  return { text: `${parts.join('\n\n')}\n`, json };
}

export function allocateCommand(program: Command, writeOut: (path: string, text: string) => void): void {
  program
    .command('allocate')
    .description('solve an allocation problem file over its steps: nodes per pool, instances per workload, cost against a valid lower bound, who is short; with --explain why, and its what-if alternatives compared')
    .argument('<file>', 'allocation problem YAML (see examples/allocation.yaml)')
    .option('--method <method>', 'auto (exact MIP while small, decomposition at scale), exact or decomposition', 'auto')
    .option('--time-limit <seconds>', 'time limit of each exact solve (the base and every alternative)', '10')
    .option('--explain [workloads...]', 'explain every workload, or the ones named')
    .option('--resplit-pools <pools>', "decomposition: the pools each step's re-split offers a workload, given (those the greedy placement gave it) or touched (every pool of the step's LP, by pricing: cheaper, about three times slower)", 'given')
    .option('--lp-window-steps <steps>', 'decomposition: solve the aggregated LP in windows of at most this many steps (default: one LP up to 96 steps, windows of 24 beyond; 0: one LP)')
    .option('--pack-nodes', 'raise node counts (and move instances) until every step packs node by node, and cost that')
    .option('--json <file>', 'also write the result as JSON to FILE ("-" for standard output only)')
    .action(async (file: string, flags: AllocateFlags) => {
      const { text, json } = await allocateReport(file, flags);
      if (flags.json === '-') {
        process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
        return;
      }
      process.stdout.write(text);
      if (flags.json) {
        writeOut(flags.json, `${JSON.stringify(json, null, 2)}\n`);
        process.stderr.write(`wrote ${flags.json}\n`);
      }
    });
}
