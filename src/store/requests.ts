import {
  RequestConflictError,
  RequestNotFoundError,
  RequestThrottledError,
  type CapacityRequest,
  type NewCapacityRequest,
  type RequestChange,
  type RequestFilter,
  type RequestStatus,
  type RequestStore,
  type SubmitLimits,
} from '../core/requests.ts';
import { takeToken } from '../queue/throttle.ts';
import type { Db, Param, Row } from './db.ts';

/** Lock key serializing queue writers (submits, decisions, cancels) on PostgreSQL; SQLite's writer is serial anyway. */
const QUEUE_LOCK = 7_400_003;

const NO_DEADLINE = 1e300;
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const opt = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : num(v));

function requestRow(r: Row): CapacityRequest {
  const out: Record<string, unknown> = {
    id: num(r.id),
    tenant: String(r.tenant),
    cpuMillicores: num(r.cpu_millicores),
    memoryMiB: num(r.memory_mib),
    priority: num(r.priority),
    submittedAtSeconds: num(r.submitted_at_seconds),
    status: String(r.status) as RequestStatus,
  };
  const optional: [string, unknown][] = [
    ['workload', r.workload === null ? undefined : r.workload],
    ['instances', opt(r.instances)],
    ['deadlineSeconds', opt(r.deadline_seconds)],
    ['durationSeconds', opt(r.duration_seconds)],
    ['reason', r.reason === null ? undefined : r.reason],
    ['grantedAtSeconds', opt(r.granted_at_seconds)],
    ['endsAtSeconds', opt(r.ends_at_seconds)],
    ['finishedAtSeconds', opt(r.finished_at_seconds)],
    ['idempotencyKey', r.idempotency_key === null ? undefined : r.idempotency_key],
  ];
  for (const [k, v] of optional) if (v !== undefined) out[k] = v;
  return out as unknown as CapacityRequest;
}

const COLUMNS = 'id, tenant, idempotency_key, workload, instances, cpu_millicores, memory_mib, priority, submitted_at_seconds, deadline_seconds, duration_seconds, status, reason, granted_at_seconds, ends_at_seconds, finished_at_seconds';

/** The capacity-request queue on the `capacity_requests` and `tenant_buckets` tables. */
export class SqlRequestStore implements RequestStore {
  constructor(private readonly db: Db) {}

  async submit(request: NewCapacityRequest, limits: SubmitLimits, nowSeconds: number): Promise<{ request: CapacityRequest; created: boolean }> {
    return this.db.transaction(async (tx) => {
      await tx.lock(QUEUE_LOCK);
      if (request.idempotencyKey !== undefined) {
        const same = await tx.query(`SELECT ${COLUMNS}, body_hash FROM capacity_requests WHERE tenant = ? AND idempotency_key = ?`, [request.tenant, request.idempotencyKey]);
        if (same.length > 0) {
          if (String(same[0].body_hash) !== request.bodyHash) {
            throw new RequestConflictError(`idempotency key "${request.idempotencyKey}" of tenant "${request.tenant}" was used for request ${num(same[0].id)} with a different body`);
          }
          return { request: requestRow(same[0]), created: false };
        }
      }
      const queued = await tx.query("SELECT deadline_seconds FROM capacity_requests WHERE tenant = ? AND status = 'queued'", [request.tenant]);
      if (queued.length >= limits.maxQueued) {
        // The tenant's earliest deadline is when a slot frees at the latest (by expiry), if any has one.
        const deadlines = queued.map((r) => opt(r.deadline_seconds)).filter((d): d is number => d !== undefined);
        const retry = deadlines.length ? Math.max(1, Math.ceil(Math.min(...deadlines) - nowSeconds)) : limits.fallbackRetryAfterSeconds;
        throw new RequestThrottledError(request.tenant, 'maxQueued', retry, `tenant "${request.tenant}" already has ${queued.length} requests queued (throttle.maxQueued = ${limits.maxQueued}); retry after ${retry} s`);
      }
      const bucketRows = await tx.query('SELECT tokens, updated_at_seconds FROM tenant_buckets WHERE tenant = ?', [request.tenant]);
      const bucket = bucketRows.length ? { tokens: num(bucketRows[0].tokens), updatedAtSeconds: num(bucketRows[0].updated_at_seconds) } : undefined;
      const taken = takeToken(bucket, { ratePerSecond: limits.submitsPerSecond, burst: limits.burst }, nowSeconds);
      if (!taken.ok) {
        const perMinute = +(limits.submitsPerSecond * 60).toPrecision(6);
        throw new RequestThrottledError(
          request.tenant,
          'submitsPerMinute',
          taken.retryAfterSeconds,
          `tenant "${request.tenant}" submits faster than its throttle allows (throttle.submitsPerMinute = ${perMinute}, burst ${limits.burst}); retry after ${taken.retryAfterSeconds} s`,
        );
      }
      await tx.run(
        'INSERT INTO tenant_buckets (tenant, tokens, updated_at_seconds) VALUES (?, ?, ?) ON CONFLICT (tenant) DO UPDATE SET tokens = excluded.tokens, updated_at_seconds = excluded.updated_at_seconds',
        [request.tenant, taken.bucket.tokens, taken.bucket.updatedAtSeconds],
      );
      const rows = await tx.query(
        `INSERT INTO capacity_requests (tenant, idempotency_key, body_hash, workload, instances, cpu_millicores, memory_mib, priority, submitted_at_seconds, deadline_seconds, duration_seconds, status)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued') RETURNING ${COLUMNS}`,
        [
          request.tenant,
          request.idempotencyKey ?? null,
          request.bodyHash,
          request.workload ?? null,
          request.instances ?? null,
          request.cpuMillicores,
          request.memoryMiB,
          request.priority,
          nowSeconds,
          request.deadlineSeconds ?? null,
          request.durationSeconds ?? null,
        ],
      );
      return { request: requestRow(rows[0]), created: true };
    });
  }

  async get(id: number): Promise<CapacityRequest | undefined> {
    const rows = await this.db.query(`SELECT ${COLUMNS} FROM capacity_requests WHERE id = ?`, [id]);
    return rows.length ? requestRow(rows[0]) : undefined;
  }

  async list(filter: RequestFilter = {}): Promise<CapacityRequest[]> {
    const where: string[] = [];
    const params: Param[] = [];
    if (filter.tenant !== undefined) {
      where.push('tenant = ?');
      params.push(filter.tenant);
    }
    if (filter.statuses) {
      if (filter.statuses.length === 0) return [];
      where.push(`status IN (${filter.statuses.map(() => '?').join(', ')})`);
      params.push(...filter.statuses);
    }
    const limit = filter.limit ?? 1000;
    const rows = await this.db.query(`SELECT ${COLUMNS} FROM capacity_requests ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`, [...params, limit]);
    return rows.map(requestRow);
  }

  async open(): Promise<CapacityRequest[]> {
    return (await this.db.query(`SELECT ${COLUMNS} FROM capacity_requests WHERE status IN ('queued', 'granted') ORDER BY id`)).map(requestRow);
  }

  async position(r: CapacityRequest): Promise<number> {
    // The queue order of compareQueued in SQL: priority desc, deadline asc (none last), submit time asc, id asc.
    // No deadline sorts as 1e300 (deadlines are epoch seconds).
    const d = r.deadlineSeconds ?? NO_DEADLINE;
    const rows = await this.db.query(
      `SELECT COUNT(*) AS n FROM capacity_requests WHERE status = 'queued' AND (priority > ? OR (priority = ? AND (
         COALESCE(deadline_seconds, ${NO_DEADLINE}) < ? OR (COALESCE(deadline_seconds, ${NO_DEADLINE}) = ? AND (
           submitted_at_seconds < ? OR (submitted_at_seconds = ? AND id < ?))))))`,
      [r.priority, r.priority, d, d, r.submittedAtSeconds, r.submittedAtSeconds, r.id],
    );
    return num(rows[0].n) + 1;
  }

  async decide(decide: (open: readonly CapacityRequest[]) => readonly RequestChange[], nowSeconds: number): Promise<RequestChange[]> {
    return this.db.transaction(async (tx) => {
      await tx.lock(QUEUE_LOCK);
      const open = (await tx.query(`SELECT ${COLUMNS} FROM capacity_requests WHERE status IN ('queued', 'granted') ORDER BY id`)).map(requestRow);
      const byId = new Map(open.map((r) => [r.id, r]));
      const applied: RequestChange[] = [];
      for (const c of decide(open)) {
        let n: number;
        if (c.to === c.from) {
          n = await tx.run('UPDATE capacity_requests SET reason = ? WHERE id = ? AND status = ?', [c.reason, c.id, c.from]);
        } else if (c.to === 'granted') {
          const duration = byId.get(c.id)?.durationSeconds;
          n = await tx.run("UPDATE capacity_requests SET status = 'granted', reason = ?, granted_at_seconds = ?, ends_at_seconds = ? WHERE id = ? AND status = 'queued'", [
            c.reason,
            nowSeconds,
            duration === undefined ? null : nowSeconds + duration,
            c.id,
          ]);
        } else {
          n = await tx.run('UPDATE capacity_requests SET status = ?, reason = ?, finished_at_seconds = ? WHERE id = ? AND status = ?', [c.to, c.reason, nowSeconds, c.id, c.from]);
        }
        if (n > 0) applied.push(c);
      }
      return applied;
    });
  }

  async cancel(id: number, nowSeconds: number, reason: string): Promise<CapacityRequest> {
    return this.db.transaction(async (tx) => {
      await tx.lock(QUEUE_LOCK);
      const rows = await tx.query(`SELECT ${COLUMNS} FROM capacity_requests WHERE id = ?`, [id]);
      if (rows.length === 0) throw new RequestNotFoundError(id);
      const r = requestRow(rows[0]);
      if (r.status !== 'queued' && r.status !== 'granted') throw new RequestConflictError(`request ${id} is already ${r.status}${r.reason ? ` (${r.reason})` : ''}`);
      await tx.run("UPDATE capacity_requests SET status = 'cancelled', reason = ?, finished_at_seconds = ? WHERE id = ?", [r.status === 'granted' ? `${reason}; its grant was released` : reason, nowSeconds, id]);
      return requestRow((await tx.query(`SELECT ${COLUMNS} FROM capacity_requests WHERE id = ?`, [id]))[0]);
    });
  }
}
