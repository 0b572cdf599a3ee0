import type { FastifyBaseLogger, FastifyInstance, FastifyReply, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { REQUEST_STATUSES, RequestConflictError, RequestNotFoundError, RequestThrottledError, type RequestStatus } from '../core/requests.ts';
import { submitRequestSchema } from '../config/requestSchema.ts';
import type { RequestQueue } from '../queue/service.ts';

type ZodApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

/** A request body is a few hundred bytes; anything near this is not one. */
export const REQUEST_BODY_LIMIT_BYTES = 64 * 1024;

const idParams = z.object({ id: z.coerce.number().int().positive() }).strict();
const statusList = z.string().transform((s, ctx) => {
  const out = s.split(',').map((x) => x.trim());
  for (const x of out) if (!(REQUEST_STATUSES as readonly string[]).includes(x)) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `unknown status "${x}" (expected ${REQUEST_STATUSES.join(', ')})` });
  return out as RequestStatus[];
});

/** Queue errors as HTTP answers: 429 with Retry-After naming the limit, 409, 404; anything else goes to the app's error handler. */
async function answer<T>(reply: FastifyReply, fn: () => Promise<T>): Promise<T | FastifyReply> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof RequestThrottledError) {
      return reply
        .status(429)
        .header('retry-after', String(e.retryAfterSeconds))
        .send({ error: 'Throttled', message: e.message, tenant: e.tenant, limit: e.limit, retryAfterSeconds: e.retryAfterSeconds });
    }
    if (e instanceof RequestConflictError) return reply.status(409).send({ error: 'Conflict', message: e.message });
    if (e instanceof RequestNotFoundError) return reply.status(404).send({ error: 'NotFound', message: e.message });
    throw e;
  }
}

/** Routes of the capacity-request queue (src/queue): submit, read, list, cancel, and the queue's capacity. */
export function registerRequestRoutes(app: ZodApp, queue: RequestQueue): void {
  app.post(
    '/v1/requests',
    {
      config: { role: 'operator' },
      bodyLimit: REQUEST_BODY_LIMIT_BYTES,
      schema: {
        tags: ['requests'],
        summary: 'Ask for capacity: instances of a workload, or CPU and memory. 201 for a new request, 200 for a repeated idempotency key; 429 with Retry-After when the tenant is throttled',
        body: submitRequestSchema,
        headers: z.object({ 'idempotency-key': z.string().min(1).max(200).optional() }).passthrough(),
      },
    },
    async (req, reply) =>
      answer(reply, async () => {
        const { request, created } = await queue.submit(req.body, req.headers['idempotency-key'] as string | undefined);
        return reply.status(created ? 201 : 200).send(request);
      }),
  );
  app.get(
    '/v1/requests',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['requests'],
        summary: 'Requests, newest first; queued ones with their position in the queue',
        querystring: z.object({ tenant: z.string().min(1).max(128).optional(), status: statusList.optional(), limit: z.coerce.number().int().min(1).max(100_000).default(100) }).strict(),
      },
    },
    async (req) => ({ requests: await queue.list({ tenant: req.query.tenant, statuses: req.query.status, limit: req.query.limit }) }),
  );
  app.get('/v1/requests/:id', { config: { role: 'viewer' }, schema: { tags: ['requests'], summary: "One request's fate: status, position, reason, timestamps", params: idParams } }, async (req, reply) =>
    answer(reply, async () => {
      const r = await queue.get(req.params.id);
      if (!r) throw new RequestNotFoundError(req.params.id);
      return r;
    }),
  );
  const cancel = (id: number, reason: string | undefined, reply: FastifyReply) => answer(reply, () => queue.cancel(id, reason ? `cancelled: ${reason}` : 'cancelled'));
  app.delete('/v1/requests/:id', { config: { role: 'operator' }, schema: { tags: ['requests'], summary: 'Cancel a queued or granted request', params: idParams } }, async (req, reply) => cancel(req.params.id, undefined, reply));
  app.post(
    '/v1/requests/:id/cancel',
    { config: { role: 'operator' }, bodyLimit: REQUEST_BODY_LIMIT_BYTES, schema: { tags: ['requests'], summary: 'Cancel a queued or granted request, with a reason', params: idParams, body: z.object({ reason: z.string().max(500).optional() }).strict().default({}) } },
    async (req, reply) => cancel(req.params.id, req.body.reason, reply),
  );
  app.get('/v1/queue', { config: { role: 'viewer' }, schema: { tags: ['requests'], summary: 'What the queue can grant: capacity at quota, planned for workloads, granted, free, held for guaranteed minimums' } }, async () => queue.summary());
}
