import { z } from 'zod';
import { InvalidInputError } from '../core/errors.ts';
import { parseDurationSeconds } from './duration.ts';
import { parseTimestamp } from '../ingest/csv.ts';
import { parseCpuMillicores, parseMemoryMiB, parseNetworkMbps, type Quantity } from './units.ts';

/**
 * The scenario file format. One zod schema gives both validation (with
 * errors that name the path) and the TypeScript types. Unknown keys are
 * rejected everywhere (`strict`), so a typo never passes silently.
 */

const name = z.string().min(1).max(128).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits, ".", "_" or "-", starting with a letter or digit');

/** Seconds, as a number or a duration string such as "5m", "7d". */
const seconds = z
  .union([z.number(), z.string()])
  .transform((v, ctx) => {
    const s = parseDurationSeconds(v);
    if (s === undefined || s < 0) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${v}" is not a duration (use seconds or e.g. "90s", "5m", "1h", "7d")` });
      return z.NEVER;
    }
    return s;
  });
const positiveSeconds = seconds.refine((v) => v > 0, 'must be more than 0 seconds');

/**
 * A resource quantity as a number in the field's canonical unit, or a string
 * with a unit ("4 vCPU", "16 GiB", "10 Gbit/s"), normalised by `parse`
 * (src/config/units.ts); the loader prefixes the message with the field's path.
 */
export function quantity(parse: (v: Quantity, field: string) => number, options: { readonly allowZero?: boolean } = {}) {
  const numberOrString = z.union([z.number(), z.string()], {
    errorMap: (_issue, ctx) => ({ message: ctx.data === undefined ? 'is required' : 'must be a number in the canonical unit or a string with a unit' }),
  });
  return numberOrString.transform((v, ctx) => {
    try {
      const n = parse(v, '');
      if (!(options.allowZero ? n >= 0 : n > 0) || !Number.isFinite(n)) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be ${options.allowZero ? 'at least 0' : 'more than 0'}, got "${v}"` });
        return z.NEVER;
      }
      return n;
    } catch (e) {
      if (!(e instanceof InvalidInputError)) throw e;
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: e.problem });
      return z.NEVER;
    }
  });
}
const cpuMillicores = quantity((v, f) => parseCpuMillicores(v, f));
const memoryMiB = quantity(parseMemoryMiB);
const networkMbps = quantity(parseNetworkMbps);

const probability = z.number().gt(0, 'must be between 0 and 1 (exclusive)').lt(1, 'must be between 0 and 1 (exclusive)');

export const demandUnit = z.enum(['requestsPerSecond', 'requestsPerStep']);

const csvDemand = z
  .object({
    csv: z.string().min(1),
    timestampColumn: z.string().default('timestamp'),
    valueColumn: z.string().default('value'),
    unit: demandUnit.default('requestsPerSecond'),
    /** Multiplier applied after unit conversion (e.g. requests per taxi passenger). */
    scale: z.number().positive().default(1),
  })
  .strict();

const inlineDemand = z
  .object({
    inline: z
      .object({
        start: z.string().optional(),
        stepSeconds: positiveSeconds,
        values: z.array(z.number().finite().nonnegative('demand cannot be negative')).min(2),
      })
      .strict(),
    unit: demandUnit.default('requestsPerSecond'),
    scale: z.number().positive().default(1),
  })
  .strict();

export const demandSource = z.union([csvDemand, inlineDemand]);

const latencySlo = z
  .object({
    latencySeconds: z.number().positive(),
    percentile: probability.default(0.99),
  })
  .strict();
const utilizationSlo = z.object({ maxUtilization: z.number().gt(0).max(1) }).strict();

/** A probability that may be 0 (a failure that never happens) but not 1. */
const failureProbability = z.number().min(0, 'must be between 0 (inclusive) and 1 (exclusive)').lt(1, 'must be between 0 (inclusive) and 1 (exclusive)');

/**
 * Redundancy beyond the SLO's instance count N (see AvailabilityRequirement):
 * N + spareInstances; surviving the loss of one zone or provider; a target
 * probability that at least N instances are up under independent failures.
 */
export const availabilitySchema = z
  .object({
    target: z.number().gt(0, 'must be between 0 and 1 (exclusive)').lt(1, 'must be below 1: no finite redundancy reaches certainty'),
    survive: z.enum(['zone', 'provider']),
    spareInstances: z.number().int().nonnegative(),
    instanceFailureProbability: failureProbability,
    domainFailureProbability: failureProbability,
  })
  .partial()
  .strict()
  .superRefine((a, ctx) => {
    if (a.target === undefined && a.survive === undefined && a.spareInstances === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'give at least one of target, survive, spareInstances' });
    }
    if (a.domainFailureProbability !== undefined && a.survive === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['domainFailureProbability'], message: 'needs survive: zone or provider (the failure domain it is the probability of)' });
    }
    if (a.target !== undefined && a.instanceFailureProbability === undefined && a.domainFailureProbability === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['target'], message: 'needs instanceFailureProbability and/or domainFailureProbability to compute an availability' });
    }
  });

/**
 * Risk level by priority: a workload without its own sizingQuantile is sized at
 * the quantile of the entry with the highest minPriority at or below its priority.
 */
export const riskQuantilesSchema = z
  .array(z.object({ minPriority: z.number().int(), quantile: probability }).strict())
  .min(1)
  .superRefine((entries, ctx) => {
    const sorted = entries.map((e, i) => ({ ...e, i })).sort((a, b) => a.minPriority - b.minPriority);
    for (let k = 1; k < sorted.length; k++) {
      const lower = sorted[k - 1];
      const higher = sorted[k];
      if (lower.minPriority === higher.minPriority) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: [higher.i, 'minPriority'], message: `minPriority ${higher.minPriority} appears twice` });
      } else if (higher.quantile < lower.quantile) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: [higher.i, 'quantile'],
          message: `quantile ${higher.quantile} for minPriority ${higher.minPriority} is below ${lower.quantile} for the lower minPriority ${lower.minPriority}: a higher priority must not be sized at a lower quantile`,
        });
      }
    }
  });

/** The keys of a workload entry (see `workloadSchema` for the checks across keys). */
const workloadFields = z.object({
    name,
    description: z.string().optional(),
    demand: demandSource,
    /** Mean time one request occupies one server, in seconds. */
    serviceTimeSeconds: z.number().positive().optional(),
    /** Requests per second one instance serves at full utilization (alternative to serviceTimeSeconds). */
    throughputPerInstanceRps: z.number().positive().optional(),
    /** Requests one instance serves in parallel. */
    concurrency: z.number().int().positive().default(1),
    cpuMillicores,
    memoryMiB,
    /** Network bandwidth one instance needs (Mbit/s, or e.g. "200 Mbps"). */
    networkMbps: networkMbps.optional(),
    slo: z.union([latencySlo, utilizationSlo]),
    minInstances: z.number().int().nonnegative().default(1),
    maxInstances: z.number().int().positive().default(1000),
    priority: z.number().int().default(0),
    /** Forecast quantile to size at (risk level); when absent: riskQuantiles by priority, else 0.95. */
    sizingQuantile: probability.optional(),
    availability: availabilitySchema.optional(),
    tags: z.array(z.string()).default([]),
    account: z.string().optional(),
  });

/** Checks across a workload's keys, shared by the scenario and the service's workload documents. */
export function checkWorkloadKeys(
  w: { readonly serviceTimeSeconds?: number; readonly throughputPerInstanceRps?: number; readonly minInstances: number; readonly maxInstances: number },
  ctx: z.RefinementCtx,
): void {
  if (w.serviceTimeSeconds === undefined && w.throughputPerInstanceRps === undefined) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'give serviceTimeSeconds or throughputPerInstanceRps' });
  }
  if (w.serviceTimeSeconds !== undefined && w.throughputPerInstanceRps !== undefined) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'give serviceTimeSeconds or throughputPerInstanceRps, not both' });
  }
  if (w.minInstances > w.maxInstances) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['minInstances'], message: `minInstances (${w.minInstances}) is above maxInstances (${w.maxInstances})` });
  }
}

export const workloadSchema = workloadFields.strict().superRefine(checkWorkloadKeys);

export const poolSchema = z
  .object({
    name,
    provider: z.string().default('default'),
    zone: z.string().default('default'),
    nodeType: z.string().default('node'),
    cpuMillicores,
    memoryMiB,
    /** Network bandwidth of one node (Mbit/s, or e.g. "10 Gbit/s"). */
    networkMbps: networkMbps.optional(),
    /** Price of one node-hour on demand; when absent, derived from the provider's on-demand rates per vCPU-hour and GiB-hour. */
    costPerHour: z.number().nonnegative().optional(),
    /** Price of one node-hour when committed ahead; when absent, derived from the provider's committed rates if it has them. */
    committedCostPerHour: z.number().nonnegative().optional(),
    health: z.enum(['healthy', 'failing']).optional(),
    provisioningDelaySeconds: seconds.default(180),
    minNodes: z.number().int().nonnegative().default(0),
    /** Quota: the most nodes the pool may hold. */
    maxNodes: z.number().int().positive().default(1000),
    tags: z.array(z.string()).default([]),
    /** A template: not running at the start, created when plans need it (and its creationCost is within poolLifecycle.maxCreationCost). */
    candidate: z.boolean().optional(),
    /** One-off price of creating the pool, in the scenario's currency. */
    creationCost: z.number().finite().nonnegative().optional(),
    /** Network segment and pod address range (IPv4 CIDR); a candidate's range is assigned from `network.parentCidr` when it is created. */
    network: z
      .object({
        segment: z.string().min(1).optional(),
        cidr: z.string().min(1).optional(),
        podsPerNode: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine((p) => p.minNodes <= p.maxNodes, { message: 'minNodes is above maxNodes', path: ['minNodes'] })
  .refine((p) => !p.candidate || p.minNodes === 0, { message: 'a candidate pool does not exist at the start: its minNodes must be 0', path: ['minNodes'] });

const money = z.number().finite().nonnegative();

/** Prices per resource-hour. */
const resourceRatesSchema = z.object({ perVcpuHour: money.optional(), perGibHour: money.optional() }).strict();

export const providerSchema = z
  .object({
    name,
    kind: z.enum(['own', 'partner', 'cloud']).default('cloud'),
    health: z.enum(['healthy', 'failing']).optional(),
    rates: z.object({ onDemand: resourceRatesSchema.optional(), committed: resourceRatesSchema.optional() }).strict().optional(),
  })
  .strict();

const currency = z.string().regex(/^[A-Z]{3}$/, 'use an ISO 4217 code such as "USD" or "EUR"');

/** "replay" (the whole replayed span), "month" (calendar months, UTC) or a duration of whole hours such as "1d", "7d". */
export const billingPeriodSchema = z.union([z.number(), z.string()]).transform((v, ctx) => {
  if (v === 'replay' || v === 'month') return { kind: v } as const;
  const s = parseDurationSeconds(v);
  if (s === undefined || s <= 0 || s % 3600 !== 0) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${v}" is not a billing period (use "replay", "month" or whole hours such as "1d", "7d")` });
    return z.NEVER;
  }
  return { kind: 'fixed', seconds: s } as const;
});

const billedResource = z.enum(['nodeHours', 'vcpuHours', 'gibHours']);

/** Graduated tiers, or one rate for every unit. */
const rateCardSchema = z.union([
  money.transform((rate) => [{ rate }]),
  z
    .array(z.object({ upTo: z.number().finite().positive().optional(), rate: money }).strict())
    .min(1)
    .superRefine((tiers, ctx) => {
      tiers.forEach((t, i) => {
        const last = i === tiers.length - 1;
        if (last && t.upTo !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [i, 'upTo'], message: 'the last tier takes every unit left: leave out upTo' });
        if (!last && t.upTo === undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [i, 'upTo'], message: 'every tier but the last needs upTo (cumulative units in the period)' });
        const prev = tiers[i - 1]?.upTo;
        if (prev !== undefined && t.upTo !== undefined && t.upTo <= prev) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [i, 'upTo'], message: `upTo must increase: ${t.upTo} is not above the previous tier's ${prev}` });
      });
    }),
]);

const commitmentSchema = z.union([
  z.object({ minSpend: money.refine((v) => v > 0, 'must be more than 0') }).strict(),
  z.object({ resource: billedResource, minUnits: z.number().finite().positive(), shortfallRate: money.optional() }).strict(),
]);

const capSchema = z.union([
  z.object({ resource: billedResource, maxUnits: z.number().finite().positive(), overageRate: money.optional() }).strict(),
  z.object({ maxSpend: z.number().finite().positive(), overageMultiplier: z.number().finite().min(1).default(1) }).strict(),
]);

export const agreementSchema = z
  .object({
    name,
    provider: z.string().min(1),
    /** Pools covered (all of the provider's pools when absent). */
    pools: z.array(z.string().min(1)).min(1).optional(),
    currency: currency.optional(),
    period: billingPeriodSchema.default('month'),
    /** Rate card: per resource-hour, one rate or graduated tiers. */
    rates: z.object({ nodeHours: rateCardSchema.optional(), vcpuHours: rateCardSchema.optional(), gibHours: rateCardSchema.optional() }).strict(),
    commitment: commitmentSchema.optional(),
    cap: capSchema.optional(),
    /** Share of a limit at which to alert that usage nears it. */
    alertShare: z.number().gt(0).max(1).default(0.8),
  })
  .strict()
  .superRefine((a, ctx) => {
    if (!a.rates.nodeHours && !a.rates.vcpuHours && !a.rates.gibHours) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['rates'], message: 'give a rate card for at least one of nodeHours, vcpuHours, gibHours' });
    for (const [key, limit] of [['commitment', a.commitment], ['cap', a.cap]] as const) {
      if (limit && 'resource' in limit && !a.rates[limit.resource]) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: [key, 'resource'], message: `the rate card has no ${limit.resource}` });
      }
    }
  });

export const billingSchema = z
  .object({
    currency: currency.default('USD'),
    /** Period of the on-demand invoices of pools no agreement covers. */
    period: billingPeriodSchema.default('replay'),
  })
  .strict();

export const accountSchema = z
  .object({
    name,
    group: z.string().optional(),
    priority: z.number().int().default(0),
    guaranteedInstances: z.number().int().nonnegative().default(0),
  })
  .strict();

/** One account's reservation settings (see src/core/reservations.ts). */
export const accountReservationSchema = z
  .object({
    /** Nodes reserved when the replay starts. */
    initialNodes: z.number().int().nonnegative().default(0),
    /** Nodes that survive any contention; default: the account's guaranteedInstances converted to nodes. */
    guaranteedNodes: z.number().int().nonnegative().optional(),
    /** Never released below this many nodes. */
    minNodes: z.number().int().nonnegative().default(0),
  })
  .strict();

/** Reservations adjusted from forecasts (src/optimize/reservations.ts); optional. */
export const reservationsSchema = z
  .object({
    /** Pools that sell committed capacity: same node shape, each with a committed price, none under an agreement. */
    pools: z.array(name).min(1, 'name at least one pool to reserve in'),
    /** Time between reviews; a multiple of simulation.decisionIntervalSeconds (default: the decision interval). */
    reviewIntervalSeconds: positiveSeconds.optional(),
    /** Raise when the forecast interval's upper bound passes this share of the reservation. */
    raiseShare: z.number().gt(0).max(1).default(0.9),
    /** Release when predicted demand stays under this share of the reservation ... */
    releaseShare: probability.default(0.8),
    /** ... for this long. */
    releaseAfterSeconds: seconds.default(6 * 3600),
    /** After a change the upper bound fills this share of the reservation (less than raiseShare). */
    targetShare: probability.default(0.8),
    /** Most nodes reservable per pool, all accounts together (default: the pool's maxNodes). */
    maxReservedNodes: z.record(z.number().int().nonnegative()).default({}),
    /**
     * Reserve only nodes that pay for themselves: expected use over the look-ahead at least
     * committedCostPerHour / costPerHour of the pool (true, the default), or that ratio times
     * 1 + margin ({ margin: 0.1 }: 10% above break-even); false turns the rule off.
     */
    breakEven: z.union([z.boolean(), z.object({ margin: z.number().nonnegative() }).strict()]).default(true),
    accounts: z.record(accountReservationSchema).default({}),
  })
  .strict();

export const dependencySchema = z
  .object({ from: z.string(), to: z.string(), callsPerRequest: z.number().nonnegative(), bytesPerCall: z.number().nonnegative().optional() })
  .strict();

export const simulationSchema = z
  .object({
    stepSeconds: positiveSeconds.default(300),
    warmupSeconds: seconds.default(7 * 86400),
    /** Evaluated span after warm-up; by default the rest of the shortest trace. */
    durationSeconds: positiveSeconds.optional(),
    horizonSeconds: positiveSeconds.default(3600),
    decisionIntervalSeconds: positiveSeconds.default(300),
    tickSeconds: positiveSeconds.default(15),
    /** How traces from different periods share one clock: from each one's first sample, or by absolute time. */
    align: z.enum(['start', 'time']).default('start'),
  })
  .strict();

export const predictivePolicySchema = z
  .object({
    model: z.enum(['auto', 'mstl', 'seasonal-naive', 'auto-ets', 'theta', 'auto-arima']).default('auto'),
    refitIntervalSeconds: positiveSeconds.default(6 * 3600),
  })
  .strict();

/** A point in time: ISO 8601, "YYYY-MM-DD HH:MM:SS" or "YYYY-MM-DD" (UTC), or epoch seconds. */
const timestamp = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const t = typeof v === 'number' ? v : parseTimestamp(v);
  if (!Number.isFinite(t)) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${v}" is not a timestamp (use ISO 8601, "YYYY-MM-DD HH:MM:SS" in UTC, or epoch seconds)` });
    return z.NEVER;
  }
  return t;
});

/** A failure of a provider or of one pool during the replay: its pools are excluded from plans and run nothing meanwhile. */
export const incidentSchema = z
  .object({
    provider: z.string().min(1).optional(),
    pool: z.string().min(1).optional(),
    start: timestamp,
    duration: positiveSeconds,
    description: z.string().optional(),
  })
  .strict()
  .refine((i) => (i.provider === undefined) !== (i.pool === undefined), { message: 'name either a provider or a pool' });

/** Address plan: pools' pod ranges lie in `parentCidr` without overlapping. */
export const networkSchema = z
  .object({
    parentCidr: z.string().min(1),
    podsPerNode: z.number().int().positive().default(110),
  })
  .strict();

/** When candidate pools are created and unused capacity given back. */
export const poolLifecycleSchema = z
  .object({
    /** Candidate pools costing more than this to create are never created: demand beyond the other pools is throttled by priority. */
    maxCreationCost: z.number().finite().nonnegative(),
    dismantleAfterSeconds: positiveSeconds.default(3600),
    idleReclaimSeconds: positiveSeconds.default(600),
  })
  .strict();

/** A known event (holiday, campaign) on the scenario's clock; forecasters that take regressors use it. */
export const eventSchema = z
  .object({
    name: z.string().min(1),
    start: timestamp,
    /** Exclusive end. */
    end: timestamp,
    /** Expected multiplicative effect on demand (1.5 = +50%), used until past occurrences give an estimate. */
    multiplier: z.number().positive().optional(),
    /** 'yearly': the same UTC date and time every year. */
    recurrence: z.enum(['yearly']).optional(),
    /** Workloads the event affects; default all. */
    workloads: z.array(z.string()).optional(),
  })
  .strict()
  .refine((e) => e.end > e.start, { message: 'end must be after start', path: ['end'] });
/**
 * Options of a workload generated for a graph service (every workload key but
 * `name` and `demand`, all optional): `graph.workloadDefaults` for every
 * generated workload, `graph.services.<name>` for one. CPU and memory default
 * to the pod requests in the manifests.
 */
export const graphWorkloadOptionsSchema = workloadFields.omit({ name: true, demand: true }).partial().strict();

/**
 * A dependency graph that sizes every service from the entry workloads'
 * traces: `entry` names workloads (with their demand traces) whose demand
 * enters the graph; every other service of the graph becomes a workload whose
 * demand is propagated along the edges. The graph comes from Kubernetes
 * manifests (`manifests`, edges from `*_ADDR` variables), from `dependencies`,
 * or both (then `dependencies` override the ratios of the same edges and add
 * edges).
 */
export const graphSchema = z
  .object({
    manifests: z.string().min(1).optional(),
    entry: z.union([name, z.array(name).min(1)]),
    /** Where edge ratios of imported manifests come from (src/graph/fromManifests.ts). */
    ratios: z.enum(['auto', 'online-boutique', 'unit']).default('auto'),
    /** A locustfile whose `tasks` weights replace Online Boutique's own (online-boutique ratios only). */
    locustfile: z.string().min(1).optional(),
    /** Distinct products per cart in the Online Boutique derivation (default 3). */
    cartLines: z.number().nonnegative().optional(),
    /** Whether the load generator follows redirects in the Online Boutique derivation (default true). */
    followRedirects: z.boolean().optional(),
    workloadDefaults: graphWorkloadOptionsSchema.default({}),
    services: z.record(graphWorkloadOptionsSchema).default({}),
    /** Services of the graph that get no workload (clients such as load generators never get one). */
    exclude: z.array(z.string()).default([]),
  })
  .strict();

/** A Kubernetes-style budget amount: whole instances (0 or more) or a percentage string such as "25%". */
const budgetAmount = z.union([
  z.number().int().nonnegative(),
  z.string().regex(/^\d+(\.\d+)?%$/, 'use whole instances or a percentage such as "25%"'),
]);

const budgetSchema = z.object({ maxUnavailable: budgetAmount, maxSurge: budgetAmount }).partial().strict();

/**
 * A planned change and how to move workloads around it (src/migrate/):
 * which pools go down (or change price) and for how long, the candidate
 * starts to compare, health gates, disruption budgets and surge, and what a
 * copy or a split edge costs. Cross-checks against pools and services are in
 * src/config/maintenance.ts.
 */
export const maintenanceSchema = z
  .object({
    change: z
      .object({
        kind: z.enum(['maintenance', 'outage', 'decommission', 'priceChange']).default('maintenance'),
        pool: z.string().min(1).optional(),
        zone: z.string().min(1).optional(),
        provider: z.string().min(1).optional(),
        /** Length of the window (not for a decommission). */
        duration: positiveSeconds.optional(),
        /** Price multiplier (priceChange only). */
        priceFactor: z.number().positive().optional(),
      })
      .strict(),
    candidates: z
      .object({
        /** When the forecast is made and candidates begin; default: the first evaluated step (after warm-up). */
        from: timestamp.optional(),
        every: positiveSeconds.default(3600),
        within: positiveSeconds.default(7 * 86400),
      })
      .strict()
      .default({}),
    /** Where services run before the change: one pool for all, with per-service overrides. */
    initialPool: z.string().min(1).optional(),
    initialPools: z.record(z.string().min(1)).default({}),
    /** Pools a move may use, in order of preference; default: every pool the change leaves up, same provider first, then cheapest per vCPU. */
    targetPools: z.array(z.string().min(1)).min(1).optional(),
    gate: z
      .object({
        /** Share of each service's requests within its SLO over the soak. */
        minSloAttainment: z.number().gt(0).max(1).default(0.99),
        soak: positiveSeconds.default(300),
      })
      .strict()
      .default({}),
    /** Defaults for every service (Kubernetes' rolling-update defaults: 25% each). */
    budget: budgetSchema.default({}),
    services: z
      .record(
        z
          .object({
            maxUnavailable: budgetAmount.optional(),
            maxSurge: budgetAmount.optional(),
            /** Move by copy then cutover; default from the manifests (databases, caches, volumes). */
            stateful: z.boolean().optional(),
            /** Data a stateful service copies before its cutover. */
            dataMiB: z.number().nonnegative().optional(),
          })
          .strict(),
      )
      .default({}),
    /** Move the services back once the window is over (default: yes for a maintenance or an outage, no for a decommission or a price change). */
    returnAfter: z.boolean().optional(),
    copyBandwidthMbps: z.number().positive().default(1000),
    cutoverPause: seconds.default(30),
    /** Data size of a stateful service without its own dataMiB. */
    defaultDataMiB: z.number().nonnegative().default(1024),
    network: z
      .object({
        crossZoneLatencySeconds: z.number().nonnegative().default(0.001),
        crossProviderLatencySeconds: z.number().nonnegative().default(0.02),
        crossZoneCostPerGiB: z.number().nonnegative().default(0.01),
        crossProviderCostPerGiB: z.number().nonnegative().default(0.08),
        defaultBytesPerCall: z.number().nonnegative().default(2048),
      })
      .strict()
      .default({}),
  })
  .strict();

export const scenarioSchema = z
  .object({
    name,
    description: z.string().optional(),
    simulation: simulationSchema.default({}),
    workloads: z.array(workloadSchema).min(1, 'a scenario needs at least one workload'),
    pools: z.array(poolSchema).min(1, 'a scenario needs at least one pool'),
    providers: z.array(providerSchema).default([]),
    accounts: z.array(accountSchema).default([]),
    dependencies: z.array(dependencySchema).default([]),
    riskQuantiles: riskQuantilesSchema.optional(),
    billing: billingSchema.optional(),
    agreements: z.array(agreementSchema).optional(),
    reservations: reservationsSchema.optional(),
    policies: z.object({ predictive: predictivePolicySchema.default({}) }).strict().default({}),
    events: z.array(eventSchema).optional(),
    graph: graphSchema.optional(),
    maintenance: maintenanceSchema.optional(),
    incidents: z.array(incidentSchema).optional(),
    network: networkSchema.optional(),
    poolLifecycle: poolLifecycleSchema.optional(),
  })
  .strict();

export type ScenarioFile = z.infer<typeof scenarioSchema>;
export type ScenarioFileInput = z.input<typeof scenarioSchema>;
export type WorkloadFile = z.infer<typeof workloadSchema>;
export type AvailabilityConfig = z.infer<typeof availabilitySchema>;
export type RiskQuantilesConfig = z.infer<typeof riskQuantilesSchema>;
export type PoolFile = z.infer<typeof poolSchema>;
export type AgreementFile = z.infer<typeof agreementSchema>;
export type ReservationsFile = z.infer<typeof reservationsSchema>;
export type PredictivePolicyConfig = z.infer<typeof predictivePolicySchema>;
export type EventFile = z.infer<typeof eventSchema>;
export type GraphConfig = z.infer<typeof graphSchema>;
export type GraphWorkloadOptions = z.infer<typeof graphWorkloadOptionsSchema>;
export type MaintenanceFile = z.infer<typeof maintenanceSchema>;
