import { z } from 'zod';
import { InvalidInputError } from '../core/errors.ts';
import { parseDurationSeconds } from './duration.ts';
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
function quantity(parse: (v: Quantity, field: string) => number) {
  return z.union([z.number(), z.string()]).transform((v, ctx) => {
    try {
      const n = parse(v, '');
      if (!(n > 0)) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be more than 0, got "${v}"` });
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

export const workloadSchema = z
  .object({
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
    sizingQuantile: probability.default(0.95),
    tags: z.array(z.string()).default([]),
    account: z.string().optional(),
  })
  .strict()
  .superRefine((w, ctx) => {
    if (w.serviceTimeSeconds === undefined && w.throughputPerInstanceRps === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'give serviceTimeSeconds or throughputPerInstanceRps' });
    }
    if (w.serviceTimeSeconds !== undefined && w.throughputPerInstanceRps !== undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'give serviceTimeSeconds or throughputPerInstanceRps, not both' });
    }
    if (w.minInstances > w.maxInstances) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['minInstances'], message: `minInstances (${w.minInstances}) is above maxInstances (${w.maxInstances})` });
    }
  });

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
  })
  .strict()
  .refine((p) => p.minNodes <= p.maxNodes, { message: 'minNodes is above maxNodes', path: ['minNodes'] });

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
    model: z.enum(['auto', 'mstl', 'seasonal-naive', 'auto-ets']).default('auto'),
    refitIntervalSeconds: positiveSeconds.default(6 * 3600),
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
    billing: billingSchema.optional(),
    agreements: z.array(agreementSchema).optional(),
    policies: z.object({ predictive: predictivePolicySchema.default({}) }).strict().default({}),
  })
  .strict();

export type ScenarioFile = z.infer<typeof scenarioSchema>;
export type ScenarioFileInput = z.input<typeof scenarioSchema>;
export type WorkloadFile = z.infer<typeof workloadSchema>;
export type PoolFile = z.infer<typeof poolSchema>;
export type AgreementFile = z.infer<typeof agreementSchema>;
export type PredictivePolicyConfig = z.infer<typeof predictivePolicySchema>;
