/**
 * The allocation problem file (`headroom allocate FILE`): instances each
 * workload needs per step (from your own sizing, or headroom's), the pools
 * that can run them and the house rules, plus optional what-if alternatives.
 * One zod schema gives validation (unknown keys rejected, errors with the
 * line and path) and the types, and names that refer to pools, providers or
 * workloads are checked here so their errors carry a line too;
 * `toAllocationProblem` turns it into the engine's input.
 */
import { z } from 'zod';
import type { Alternative } from '../optimize/whatif.ts';
import type { HorizonInput } from '../optimize/horizon.ts';
import { resources } from './domain.ts';
import { quantity } from './schema.ts';
import { parseCpuMillicores, parseMemoryMiB, parseNetworkMbps } from './units.ts';
import { readYamlFile, validateAgainst } from './yamlFile.ts';

/** Limits that keep one request within what the engine solves in minutes, not a denial of service. */
export const ALLOCATION_LIMITS = { steps: 8_784, pools: 5_000, workloads: 100_000 } as const;

const name = z.string().min(1).max(128).regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'use letters, digits, ".", "_", "/" or "-", starting with a letter or digit');
const cpuMillicores = quantity((v, f) => parseCpuMillicores(v, f));
const cpuLimit = quantity((v, f) => parseCpuMillicores(v, f), { allowZero: true });
const memoryMiB = quantity(parseMemoryMiB);
const memoryLimit = quantity(parseMemoryMiB, { allowZero: true });
const networkMbps = quantity(parseNetworkMbps, { allowZero: true });
const money = z.number().finite().nonnegative();
const count = z.number().int().nonnegative();
const step = z.number().int().nonnegative();

const poolSchema = z
  .object({
    name,
    provider: z.string().min(1).default('default'),
    zone: z.string().min(1).default('default'),
    nodeType: z.string().min(1).default('node'),
    cpuMillicores,
    memoryMiB,
    networkMbps: networkMbps.optional(),
    /** On-demand price of one node-hour. */
    costPerHour: money,
    /** Price of one reserved node-hour, paid every step for the whole horizon; absent: no reservation offered. */
    reservedCostPerHour: money.optional(),
    createCost: money.optional(),
    teardownCost: money.optional(),
    minNodes: count.default(0),
    maxNodes: count.default(1000),
    tags: z.array(z.string().min(1)).default([]),
  })
  .strict()
  .refine((p) => p.minNodes <= p.maxNodes, { message: 'minNodes is above maxNodes', path: ['minNodes'] });

const workloadSchema = z
  .object({
    name,
    cpuMillicores,
    memoryMiB,
    networkMbps: networkMbps.optional(),
    /** Instances needed at every step: one number for all steps, or one per step. */
    instances: z.union([count, z.array(count).min(1)]),
    minInstances: count.default(0),
    priority: z.number().int().default(0),
    tags: z.array(z.string().min(1)).default([]),
    /** Keep `survivingInstances` running after losing any one zone (or provider). */
    spread: z.object({ domain: z.enum(['zone', 'provider']), survivingInstances: count }).strict().optional(),
  })
  .strict();

const windowSchema = z.object({ name, pool: z.string().min(1), fromStep: step, toStep: step, nodesDown: count.optional() }).strict();

const alternativeSchema = z
  .object({
    name,
    maintenance: z.array(windowSchema).optional(),
    outage: z.object({ provider: z.string().min(1), fromStep: step, toStep: step }).strict().optional(),
    priceChanges: z.array(z.object({ provider: z.string().min(1).optional(), pool: z.string().min(1).optional(), factor: z.number().finite().positive() }).strict()).optional(),
    activeFlags: z.array(z.string().min(1)).optional(),
  })
  .strict();

export const allocationFileSchema = z
  .object({
    name: z.string().min(1).default('allocation'),
    description: z.string().optional(),
    steps: z.number().int().min(1).max(ALLOCATION_LIMITS.steps),
    stepHours: z.number().finite().positive().default(1),
    /** Hour of the day at the start of step 0 (for priority rules with hours). */
    startHourOfDay: z.number().min(0).lt(24).default(0),
    pools: z.array(poolSchema).min(1).max(ALLOCATION_LIMITS.pools),
    workloads: z.array(workloadSchema).min(1).max(ALLOCATION_LIMITS.workloads),
    quotas: z
      .array(z.object({ provider: z.string().min(1), maxNodes: count.optional(), maxCpuMillicores: cpuLimit.optional(), maxMemoryMiB: memoryLimit.optional() }).strict())
      .optional(),
    maintenance: z.array(windowSchema).optional(),
    traffic: z.array(z.object({ from: z.string().min(1), to: z.string().min(1), gibPerHour: money }).strict()).optional(),
    rules: z
      .array(
        z
          .object({
            name,
            workloads: z.array(z.string().min(1)).min(1),
            priority: z.number().int(),
            hours: z.object({ fromHour: z.number().min(0).max(24), toHour: z.number().min(0).max(24) }).strict().optional(),
            flag: z.string().min(1).optional(),
          })
          .strict(),
      )
      .optional(),
    activeFlags: z.array(z.string().min(1)).optional(),
    /** Most that nodes may cost per step (on-demand + reserved share): one value, or one per step. */
    budgetPerStep: z.union([money, z.array(money)]).optional(),
    costs: z
      .object({ churnPerNode: money.optional(), migrationPerInstance: money.optional(), crossZonePerGiB: money.optional(), crossProviderPerGiB: money.optional() })
      .strict()
      .optional(),
    /**
     * What runs now: nodes per pool and instances per workload and pool. Churn,
     * instance starts and pool creation are priced against it; absent, nothing runs.
     */
    current: z
      .object({
        nodesByPool: z.record(z.string(), count).default({}),
        instances: z.record(z.string(), z.record(z.string(), count)).default({}),
      })
      .strict()
      .optional(),
    /** What-if: each alternative is solved like the base; the cheapest that holds every SLO is named. */
    alternatives: z.array(alternativeSchema).max(100).optional(),
  })
  .strict()
  .superRefine((f, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: z.ZodIssueCode.custom, path, message });
    f.workloads.forEach((w, i) => {
      if (Array.isArray(w.instances) && w.instances.length !== f.steps) issue(['workloads', i, 'instances'], `needs one value per step (${f.steps}), got ${w.instances.length}`);
    });
    if (Array.isArray(f.budgetPerStep) && f.budgetPerStep.length !== f.steps) issue(['budgetPerStep'], `needs one value per step (${f.steps}), got ${f.budgetPerStep.length}`);
    const providers = new Set(f.pools.map((p) => p.provider));
    const pools = new Set(f.pools.map((p) => p.name));
    const workloads = new Set(f.workloads.map((w) => w.name));
    const unique = (list: readonly { name: string }[], key: string) => {
      const seen = new Set<string>();
      list.forEach((x, i) => {
        if (seen.has(x.name)) issue([key, i, 'name'], `"${x.name}" is used twice`);
        seen.add(x.name);
      });
    };
    unique(f.pools, 'pools');
    unique(f.workloads, 'workloads');
    const knownPool = (path: (string | number)[], pool: string) => pools.has(pool) || issue(path, `unknown pool "${pool}"`);
    const knownWorkload = (path: (string | number)[], workload: string) => workloads.has(workload) || issue(path, `unknown workload "${workload}"`);
    f.maintenance?.forEach((m, i) => knownPool(['maintenance', i, 'pool'], m.pool));
    f.quotas?.forEach((q, i) => providers.has(q.provider) || issue(['quotas', i, 'provider'], `no pool has provider "${q.provider}"`));
    f.traffic?.forEach((e, i) => {
      knownWorkload(['traffic', i, 'from'], e.from);
      knownWorkload(['traffic', i, 'to'], e.to);
    });
    f.rules?.forEach((r, i) => r.workloads.forEach((w, j) => knownWorkload(['rules', i, 'workloads', j], w)));
    if (f.current) {
      for (const pool of Object.keys(f.current.nodesByPool)) knownPool(['current', 'nodesByPool', pool], pool);
      for (const [workload, byPool] of Object.entries(f.current.instances)) {
        knownWorkload(['current', 'instances', workload], workload);
        for (const pool of Object.keys(byPool)) knownPool(['current', 'instances', workload, pool], pool);
      }
    }
    unique(f.alternatives ?? [], 'alternatives');
    f.alternatives?.forEach((a, i) => {
      if (a.name === 'base') issue(['alternatives', i, 'name'], '"base" is reserved for the base case');
      if (a.outage && !providers.has(a.outage.provider)) issue(['alternatives', i, 'outage', 'provider'], `no pool has provider "${a.outage.provider}"`);
      if (a.outage && !(a.outage.fromStep < a.outage.toStep && a.outage.toStep <= f.steps)) issue(['alternatives', i, 'outage'], `needs 0 ≤ fromStep < toStep ≤ ${f.steps}`);
      a.maintenance?.forEach((m, j) => knownPool(['alternatives', i, 'maintenance', j, 'pool'], m.pool));
      a.priceChanges?.forEach((c, j) => {
        if (c.pool !== undefined && !pools.has(c.pool)) issue(['alternatives', i, 'priceChanges', j, 'pool'], `unknown pool "${c.pool}"`);
        if (c.provider !== undefined && !providers.has(c.provider)) issue(['alternatives', i, 'priceChanges', j, 'provider'], `no pool has provider "${c.provider}"`);
      });
    });
  });

export type AllocationFile = z.infer<typeof allocationFileSchema>;

export interface AllocationProblem {
  readonly name: string;
  readonly input: HorizonInput;
  readonly alternatives: readonly Alternative[];
}

/** The validated file as the engine's input. */
export function toAllocationProblem(f: AllocationFile): AllocationProblem {
  const input: HorizonInput = {
    steps: f.steps,
    stepHours: f.stepHours,
    startHourOfDay: f.startHourOfDay,
    pools: f.pools.map((p) => ({
      name: p.name,
      provider: p.provider,
      zone: p.zone,
      nodeType: { name: p.nodeType, capacity: resources(p) },
      costPerHour: p.costPerHour,
      provisioningDelaySeconds: 0,
      minNodes: p.minNodes,
      maxNodes: p.maxNodes,
      tags: p.tags,
      ...(p.reservedCostPerHour !== undefined ? { reservedCostPerHour: p.reservedCostPerHour } : {}),
      ...(p.createCost !== undefined ? { createCost: p.createCost } : {}),
      ...(p.teardownCost !== undefined ? { teardownCost: p.teardownCost } : {}),
    })),
    workloads: f.workloads.map((w) => ({
      name: w.name,
      perInstance: resources(w),
      instances: Array.isArray(w.instances) ? w.instances : Array.from({ length: f.steps }, () => w.instances as number),
      minInstances: w.minInstances,
      priority: w.priority,
      tags: w.tags,
      ...(w.spread ? { spread: w.spread } : {}),
    })),
    quotas: f.quotas,
    maintenance: f.maintenance,
    traffic: f.traffic,
    rules: f.rules,
    activeFlags: f.activeFlags,
    budgetPerStep: f.budgetPerStep,
    costs: f.costs,
    ...(f.current ? { current: { nodesByPool: f.current.nodesByPool, instances: f.current.instances, costPerHour: 0, shortfall: {} } } : {}),
  };
  return { name: f.name, input, alternatives: f.alternatives ?? [] };
}

/** Reads, validates and converts an allocation problem file; InvalidInputError names the file, line and field. */
export function loadAllocationFile(path: string): AllocationProblem {
  const { raw, lineOf } = readYamlFile(path, 'allocation file');
  return toAllocationProblem(validateAgainst(allocationFileSchema, raw, path, 'allocation file', lineOf));
}
