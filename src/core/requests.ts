import { UserError } from './errors.ts';

/**
 * Capacity requests: a tenant asks for an amount of CPU and memory (directly,
 * or as instances of a configured workload); the request waits in a queue
 * until the queue grants it, rejects it, its deadline passes, or it is
 * cancelled. A granted request with a duration is released when it ends.
 */

/** An amount of the two resources the queue shares. */
export interface ResourceAmounts {
  readonly cpuMillicores: number;
  readonly memoryMiB: number;
}

export const REQUEST_STATUSES = ['queued', 'granted', 'rejected', 'expired', 'cancelled', 'released'] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];
/** Statuses a request never leaves. */
export const FINAL_REQUEST_STATUSES: readonly RequestStatus[] = ['rejected', 'expired', 'cancelled', 'released'];

export interface CapacityRequest extends ResourceAmounts {
  readonly id: number;
  readonly tenant: string;
  /** Set when the request asked for instances of a workload; the amounts are then instances × the workload's per-instance size at submit time. */
  readonly workload?: string;
  readonly instances?: number;
  /** Higher is more important. */
  readonly priority: number;
  readonly submittedAtSeconds: number;
  /** Latest epoch second at which the request may still be granted; absent: it waits indefinitely. */
  readonly deadlineSeconds?: number;
  /** How long a grant lasts; absent: until cancelled. */
  readonly durationSeconds?: number;
  readonly status: RequestStatus;
  /** Why it is in its status (for a queued request: what it waits for). */
  readonly reason?: string;
  readonly grantedAtSeconds?: number;
  /** When a granted request with a duration is released. */
  readonly endsAtSeconds?: number;
  /** When it reached a final status. */
  readonly finishedAtSeconds?: number;
  readonly idempotencyKey?: string;
}

/** What a submit stores (the id and status come from the store). */
export interface NewCapacityRequest extends ResourceAmounts {
  readonly tenant: string;
  readonly workload?: string;
  readonly instances?: number;
  readonly priority: number;
  readonly deadlineSeconds?: number;
  readonly durationSeconds?: number;
  readonly idempotencyKey?: string;
  /** SHA-256 of the submitted body: a repeated idempotency key with another body is a conflict. */
  readonly bodyHash: string;
}

/** A tenant's limits on submitting. */
export interface SubmitLimits {
  /** Token bucket: refill rate, in submits per second. */
  readonly submitsPerSecond: number;
  /** Token bucket: most submits in a burst. */
  readonly burst: number;
  /** Most requests of the tenant queued at once. */
  readonly maxQueued: number;
  /** Retry-After for a full queue when none of the tenant's queued requests has a deadline. */
  readonly fallbackRetryAfterSeconds: number;
}

/** A status change (or, with `to` equal to `from`, a new waiting reason) decided for one request. */
export interface RequestChange {
  readonly id: number;
  readonly from: 'queued' | 'granted';
  readonly to: RequestStatus;
  readonly reason: string;
}

export interface RequestFilter {
  readonly tenant?: string;
  readonly statuses?: readonly RequestStatus[];
  /** Most requests returned (the newest first). */
  readonly limit?: number;
}

/** The durable queue (see src/store/requests.ts). */
export interface RequestStore {
  /**
   * Store a request in one transaction with its throttle checks: a repeated
   * idempotency key returns the stored request (`created: false`) and takes
   * no token; a throttled or conflicting submit stores nothing.
   */
  submit(request: NewCapacityRequest, limits: SubmitLimits, nowSeconds: number): Promise<{ request: CapacityRequest; created: boolean }>;
  get(id: number): Promise<CapacityRequest | undefined>;
  list(filter?: RequestFilter): Promise<CapacityRequest[]>;
  /** Queued and granted requests. */
  open(): Promise<CapacityRequest[]>;
  /** 1-based rank of a queued request in the queue order (src/queue/decide.ts compareQueued), counted in the database. */
  position(request: CapacityRequest): Promise<number>;
  /**
   * Under the queue lock: read the open requests, let `decide` (pure) choose
   * the changes, and write them in the same transaction. A change applies only
   * while the request still has its `from` status.
   */
  decide(decide: (open: readonly CapacityRequest[]) => readonly RequestChange[], nowSeconds: number): Promise<RequestChange[]>;
  /** Cancel a queued or granted request (a grant's capacity returns to the queue). */
  cancel(id: number, nowSeconds: number, reason: string): Promise<CapacityRequest>;
}

/** A submit refused by a tenant's throttle; nothing was stored. */
export class RequestThrottledError extends UserError {
  override readonly name = 'RequestThrottledError';
  constructor(readonly tenant: string, readonly limit: 'submitsPerMinute' | 'maxQueued', readonly retryAfterSeconds: number, message: string) {
    super(message);
  }
}

/** The request cannot change as asked (already final; an idempotency key reused with another body). */
export class RequestConflictError extends UserError {
  override readonly name = 'RequestConflictError';
}

export class RequestNotFoundError extends UserError {
  override readonly name = 'RequestNotFoundError';
  constructor(readonly id: number) {
    super(`no capacity request ${id}`);
  }
}
