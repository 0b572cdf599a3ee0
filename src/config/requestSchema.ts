import { z } from 'zod';
import { parseTimestamp } from '../ingest/csv.ts';
import { parseDurationSeconds } from './duration.ts';
import { parseCpuMillicores, parseMemoryMiB } from './units.ts';
import { quantity } from './schema.ts';

/**
 * Tenants of the capacity-request queue and the body of a request, as zod
 * schemas (validation, OpenAPI and types from one place). Amounts take the
 * scenario format's units: a number in the field's unit, or a string with a
 * unit ("2 cores", "4 GiB").
 */

const name = z.string().min(1).max(128).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits, ".", "_" or "-", starting with a letter or digit');

const duration = (positive: boolean) =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    const s = parseDurationSeconds(v);
    if (s === undefined || s < 0 || (positive && s === 0)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${v}" is not a ${positive ? 'positive ' : ''}duration (use seconds or e.g. "90s", "5m", "1h", "7d")` });
      return z.NEVER;
    }
    return s;
  });

const timestamp = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const t = typeof v === 'number' ? v : parseTimestamp(v);
  if (!Number.isFinite(t)) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${v}" is not a timestamp (use ISO 8601 or epoch seconds)` });
    return z.NEVER;
  }
  return t;
});

/**
 * A tenant of the request queue (config kind `tenant`, `/v1/tenants`).
 * `weight` scales its fair share; `guaranteed` is a minimum the queue always
 * keeps available for it (like an account's guaranteedInstances, as
 * resources: N instances of a workload are N × its per-instance size);
 * `throttle` limits how fast and how much it may queue.
 */
export const tenantSchema = z
  .object({
    name,
    /** The account the tenant's capacity is for (informational). */
    account: z.string().min(1).max(128).optional(),
    /** Weight in weighted dominant resource fairness: a tenant of weight 2 gets twice the dominant share of one of weight 1. */
    weight: z.number().positive().max(1e6).default(1),
    /** Highest priority the tenant's requests may ask for (absent: any). */
    maxPriority: z.number().int().min(-1_000_000).max(1_000_000).optional(),
    guaranteed: z
      .object({ cpuMillicores: quantity((v, f) => parseCpuMillicores(v, f), { allowZero: true }).default(0), memoryMiB: quantity(parseMemoryMiB, { allowZero: true }).default(0) })
      .strict()
      .default({}),
    throttle: z
      .object({
        /** Token bucket refill rate: submits per minute. */
        submitsPerMinute: z.number().positive().max(1e6).default(60),
        /** Token bucket size: most submits at once. */
        burst: z.number().int().positive().max(1e6).default(10),
        /** Most requests queued at once. */
        maxQueued: z.number().int().positive().max(1e6).default(100),
      })
      .strict()
      .default({}),
  })
  .strict();

/** POST /v1/requests. Give `workload` and `instances`, or `cpuMillicores` and/or `memoryMiB`. */
export const submitRequestSchema = z
  .object({
    tenant: z.string().min(1).max(128),
    workload: z.string().min(1).max(128).optional(),
    instances: z.number().int('must be a whole number of instances').positive('must be at least 1').max(1e6).optional(),
    cpuMillicores: quantity((v, f) => parseCpuMillicores(v, f)).optional(),
    memoryMiB: quantity(parseMemoryMiB).optional(),
    /** Higher is more important; granted before any lower priority. */
    priority: z.number().int().min(-1_000_000).max(1_000_000).default(0),
    /** Latest time it may be granted (epoch seconds or ISO 8601); after it the request expires. */
    deadline: timestamp.optional(),
    /** Or: how long it may wait from now (seconds or e.g. "10m"). */
    maxWaitSeconds: duration(false).optional(),
    /** How long the grant lasts (seconds or e.g. "2h"); absent: until cancelled. */
    durationSeconds: duration(true).optional(),
    /** The same key twice (per tenant) is one request. Also accepted as the Idempotency-Key header. */
    idempotencyKey: z.string().min(1).max(200).optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    const byWorkload = r.workload !== undefined || r.instances !== undefined;
    const byAmount = r.cpuMillicores !== undefined || r.memoryMiB !== undefined;
    if (byWorkload && byAmount) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['workload'], message: 'give workload and instances, or cpuMillicores/memoryMiB, not both' });
    else if (!byWorkload && !byAmount) ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'give workload and instances, or cpuMillicores and/or memoryMiB' });
    else if (byWorkload && r.workload === undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['workload'], message: 'is required with instances' });
    else if (byWorkload && r.instances === undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['instances'], message: 'is required with workload' });
    if (r.deadline !== undefined && r.maxWaitSeconds !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['maxWaitSeconds'], message: 'give deadline or maxWaitSeconds, not both' });
  });

export type Tenant = z.infer<typeof tenantSchema>;
export type SubmitRequestBody = z.infer<typeof submitRequestSchema>;
