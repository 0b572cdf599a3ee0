import { z } from 'zod';
import { parseDurationSeconds } from './duration.ts';
import { checkWorkloadKeys, poolSchema, predictivePolicySchema, providerSchema, workloadSchema } from './schema.ts';
import { tenantSchema } from './requestSchema.ts';

/**
 * Configuration documents of `headroom serve`, built from the scenario
 * format's schemas (src/config/schema.ts) so a pool or provider is written the
 * same way in a scenario file, a `headroom apply` file and an API call. A
 * service workload is a scenario workload without `demand` (its demand is the
 * samples pushed or pulled for it) and with where its metrics come from.
 */

const seconds = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const s = parseDurationSeconds(v);
  if (s === undefined || s <= 0) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${v}" is not a positive duration (use seconds or e.g. "90s", "5m", "1h", "7d")` });
    return z.NEVER;
  }
  return s;
});

export const prometheusMetricsSchema = z
  .object({
    /** PromQL giving the workload's demand in requests per second, e.g. `sum(rate(http_requests_total{app="api"}[5m]))`. */
    query: z.string().min(1).max(4096),
    /** Resolution of the range queries. */
    stepSeconds: seconds.default(60),
    /** How far back the first pull reaches when nothing has been read yet. */
    backfillSeconds: seconds.default(7 * 86400),
  })
  .strict();

export const serviceWorkloadSchema = workloadSchema
  .innerType()
  .omit({ demand: true })
  .extend({
    metrics: z.object({ prometheus: prometheusMetricsSchema }).strict().optional(),
    /**
     * When false, a forecast never lowers the instance count: the workload
     * scales in only as far as observed demand allows (for workloads whose
     * forecast dips are not trusted).
     */
    scaleInFromForecast: z.boolean().default(true),
  })
  .strict()
  .superRefine(checkWorkloadKeys);

export const LOOP_MODES = ['act', 'dry-run', 'forecast-only'] as const;

/** How the control loop runs. */
export const loopPolicySchema = z
  .object({
    /** `act`: plan and execute; `dry-run`: plan only; `forecast-only`: stop after forecasting. */
    mode: z.enum(LOOP_MODES).default('act'),
    /** Time between scheduled cycles. */
    intervalSeconds: seconds.default(300),
    /** Grid the samples are averaged onto before forecasting. */
    stepSeconds: seconds.default(300),
    horizonSeconds: seconds.default(3600),
    /** History read for each forecast. */
    historySeconds: seconds.default(14 * 86400),
  })
  .strict();

export const POLICY_NAMES = ['predictive', 'loop'] as const;
export const policySchemas = { predictive: predictivePolicySchema, loop: loopPolicySchema } as const;

/** What `headroom apply -f FILE.yaml` sends: any subset of the configuration, by name. */
export const desiredStateSchema = z
  .object({
    name: z.string().optional(),
    description: z.string().optional(),
    workloads: z.array(serviceWorkloadSchema).default([]),
    pools: z.array(poolSchema).default([]),
    providers: z.array(providerSchema).default([]),
    /** Tenants of the capacity-request queue (src/queue). */
    tenants: z.array(tenantSchema).default([]),
    policies: z.object({ predictive: predictivePolicySchema.optional(), loop: loopPolicySchema.optional() }).strict().default({}),
  })
  .strict();

export { poolSchema, providerSchema, predictivePolicySchema };
export type ServiceWorkload = z.infer<typeof serviceWorkloadSchema>;
export type ServicePool = z.infer<typeof poolSchema>;
export type ServiceProvider = z.infer<typeof providerSchema>;
export type LoopPolicy = z.infer<typeof loopPolicySchema>;
export type PredictivePolicy = z.infer<typeof predictivePolicySchema>;
export type DesiredState = z.infer<typeof desiredStateSchema>;
