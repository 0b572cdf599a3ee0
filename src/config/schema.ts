import { z } from 'zod';
import { parseDurationSeconds } from './duration.ts';

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
    cpuMillicores: z.number().positive(),
    memoryMiB: z.number().positive(),
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
    cpuMillicores: z.number().positive(),
    memoryMiB: z.number().positive(),
    costPerHour: z.number().nonnegative(),
    provisioningDelaySeconds: seconds.default(180),
    minNodes: z.number().int().nonnegative().default(0),
    /** Quota: the most nodes the pool may hold. */
    maxNodes: z.number().int().positive().default(1000),
    tags: z.array(z.string()).default([]),
  })
  .strict()
  .refine((p) => p.minNodes <= p.maxNodes, { message: 'minNodes is above maxNodes', path: ['minNodes'] });

export const providerSchema = z.object({ name, kind: z.enum(['own', 'partner', 'cloud']).default('cloud') }).strict();

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
    model: z.enum(['auto', 'mstl', 'seasonal-naive', 'auto-ets', 'theta', 'auto-arima']).default('auto'),
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
    policies: z.object({ predictive: predictivePolicySchema.default({}) }).strict().default({}),
  })
  .strict();

export type ScenarioFile = z.infer<typeof scenarioSchema>;
export type ScenarioFileInput = z.input<typeof scenarioSchema>;
export type WorkloadFile = z.infer<typeof workloadSchema>;
export type PoolFile = z.infer<typeof poolSchema>;
export type PredictivePolicyConfig = z.infer<typeof predictivePolicySchema>;
