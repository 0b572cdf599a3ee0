import type { ActionLog } from '../core/actionLog.ts';
import type { Action, ActionRecord } from '../core/plan.ts';
import type { Driver } from './driver.ts';

/** Retry policy for retryable driver failures: exponential backoff with a cap. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  readonly initialDelaySeconds: number;
  readonly maxDelaySeconds: number;
  /** Delay multiplier between attempts. */
  readonly factor: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, initialDelaySeconds: 1, maxDelaySeconds: 30, factor: 2 };

export interface ExecuteOptions {
  readonly retry?: RetryPolicy;
  /** Clock (epoch seconds); injected so replays and tests are deterministic. */
  readonly now: () => number;
  /** Waits between retries; injected (tests pass a no-op or a fake timer). */
  readonly sleep: (seconds: number) => Promise<void>;
}

export interface ExecutionOutcome {
  /** Records of the actions, in order, after execution (or as found, when already done). */
  readonly records: readonly ActionRecord[];
  /** True when every action succeeded (now or in an earlier run). */
  readonly ok: boolean;
  /** The first action that failed for good, when any; later actions were not sent. */
  readonly failed?: ActionRecord;
}

/**
 * Execute `actions` in order through `driver`, logging each one before it is
 * sent and updating it with its result. An action whose id the log already
 * holds as `succeeded` is not sent again (a restart replays a plan safely); a
 * retryable failure is retried with backoff; a permanent failure (or retries
 * exhausted) stops the sequence, leaving later actions unsent.
 *
 * An action found as `sent` (the process died after sending, before the result
 * was written) is sent again with the same id: drivers are idempotent per id,
 * so the driver answers with its earlier result rather than acting twice.
 */
export async function executeActions(actions: readonly Action[], driver: Driver, log: ActionLog, options: ExecuteOptions): Promise<ExecutionOutcome> {
  const retry = options.retry ?? DEFAULT_RETRY;
  const records: ActionRecord[] = [];
  for (const action of actions) {
    const { record } = await log.begin(action, options.now());
    if (record.status === 'succeeded' || record.status === 'skipped') {
      records.push(record);
      continue;
    }
    let attempts = record.attempts;
    let delay = retry.initialDelaySeconds;
    for (;;) {
      attempts++;
      await log.update(action.id, { status: 'sent', atSeconds: options.now(), attempts });
      let ok = false;
      let error: string | undefined;
      let retryable = false;
      try {
        const result = await driver.apply(action);
        ok = result.ok;
        error = result.error;
        retryable = result.retryable ?? false;
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
        retryable = true;
      }
      if (ok) {
        records.push(await log.update(action.id, { status: 'succeeded', atSeconds: options.now(), attempts }));
        break;
      }
      if (retryable && attempts < retry.maxAttempts) {
        await log.update(action.id, { status: 'pending', atSeconds: options.now(), attempts, error });
        await options.sleep(delay);
        delay = Math.min(retry.maxDelaySeconds, delay * retry.factor);
        continue;
      }
      const failed = await log.update(action.id, { status: 'failed', atSeconds: options.now(), attempts, error: error ?? 'failed' });
      records.push(failed);
      return { records, ok: false, failed };
    }
  }
  return { records, ok: true };
}
