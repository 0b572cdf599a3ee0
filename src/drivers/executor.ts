import type { ActionLog } from '../core/actionLog.ts';
import { DriverError, InvalidInputError } from '../core/errors.ts';
import { inverse, type Action, type ActionRecord, type ActionStatus } from '../core/plan.ts';
import type { ActionResult, Driver } from './driver.ts';

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

/** Statuses after which an action is never sent again under the same id. */
const FINAL: readonly ActionStatus[] = ['succeeded', 'skipped', 'failed', 'rolledBack'];

/** Delay before attempt `attempt + 1` (seconds), after `attempt` failed attempts. */
export function backoffSeconds(retry: RetryPolicy, attempt: number): number {
  return Math.min(retry.maxDelaySeconds, retry.initialDelaySeconds * retry.factor ** Math.max(0, attempt - 1));
}

function validateRetry(retry: RetryPolicy): void {
  const bad = (field: string, problem: string) => new InvalidInputError(`retry.${field}`, problem);
  if (!Number.isInteger(retry.maxAttempts) || retry.maxAttempts < 1) throw bad('maxAttempts', `must be a whole number of at least 1, got ${retry.maxAttempts}`);
  if (!(retry.initialDelaySeconds >= 0)) throw bad('initialDelaySeconds', `must be 0 or more, got ${retry.initialDelaySeconds}`);
  if (!(retry.maxDelaySeconds >= retry.initialDelaySeconds)) throw bad('maxDelaySeconds', `must be at least initialDelaySeconds (${retry.initialDelaySeconds}), got ${retry.maxDelaySeconds}`);
  if (!(retry.factor >= 1)) throw bad('factor', `must be 1 or more, got ${retry.factor}`);
}

/** A driver's answer, or what a thrown error means: `DriverError` says; anything else (network, timeout) may pass. */
async function ask(driver: Driver, action: Action): Promise<ActionResult> {
  try {
    return await driver.apply(action);
  } catch (e) {
    if (e instanceof DriverError) return { ok: false, error: e.message, retryable: e.retryable };
    return { ok: false, error: e instanceof Error ? e.message : String(e), retryable: true };
  }
}

/**
 * Execute one action through `driver`, logging it before it is sent. The
 * record moves pending → sent → succeeded | failed; a retryable failure goes
 * back to pending (with its error) and is sent again after a backoff, until
 * the policy's attempts are spent. Attempts count across restarts.
 *
 * A record already final (succeeded, failed, rolledBack, skipped) is returned
 * as it is: an id is sent at most until it has an answer, never again after.
 * A record found `sent` (the process died after sending, before the result
 * was written) is sent again with the same id, even when its attempts are
 * spent: drivers are idempotent per id, so the driver answers with its
 * earlier result rather than acting twice.
 */
export async function executeAction(action: Action, driver: Driver, log: ActionLog, options: ExecuteOptions, undoes?: string): Promise<ActionRecord> {
  const retry = options.retry ?? DEFAULT_RETRY;
  validateRetry(retry);
  const { record } = await log.begin(action, options.now(), undoes);
  if (FINAL.includes(record.status)) return record;
  let attempts = record.attempts;
  let mustAsk = record.status === 'sent';
  if (!mustAsk && attempts > 0 && attempts < retry.maxAttempts) {
    // Died while waiting to retry: wait as the policy says before the next attempt.
    await options.sleep(backoffSeconds(retry, attempts));
  }
  for (;;) {
    if (!mustAsk && attempts >= retry.maxAttempts) {
      return log.update(action.id, { status: 'failed', atSeconds: options.now(), attempts, error: record.error ?? `gave up after ${attempts} attempts` });
    }
    mustAsk = false;
    attempts++;
    await log.update(action.id, { status: 'sent', atSeconds: options.now(), attempts });
    const result = await ask(driver, action);
    if (result.ok) return log.update(action.id, { status: 'succeeded', atSeconds: options.now(), attempts });
    const error = result.error ?? 'the driver reported a failure without a message';
    if (result.retryable && attempts < retry.maxAttempts) {
      await log.update(action.id, { status: 'pending', atSeconds: options.now(), attempts, error });
      await options.sleep(backoffSeconds(retry, attempts));
      continue;
    }
    const why = result.retryable ? `${error} (gave up after ${attempts} attempts)` : error;
    return log.update(action.id, { status: 'failed', atSeconds: options.now(), attempts, error: why });
  }
}

/**
 * Execute `actions` in order through `driver`, each logged before it is sent
 * and updated with its result (see `executeAction`). An action the log
 * already holds as succeeded is not sent again, so running a plan again after
 * a crash resumes it; the first action that fails for good stops the
 * sequence, leaving later actions unsent (and absent from the log).
 */
export async function executeActions(actions: readonly Action[], driver: Driver, log: ActionLog, options: ExecuteOptions): Promise<ExecutionOutcome> {
  assertUniqueIds(actions);
  const records: ActionRecord[] = [];
  for (const action of actions) {
    const record = await executeAction(action, driver, log, options);
    records.push(record);
    if (record.status !== 'succeeded' && record.status !== 'skipped') return { records, ok: false, failed: record };
  }
  return { records, ok: true };
}

function assertUniqueIds(actions: readonly Action[]): void {
  const seen = new Set<string>();
  for (const a of actions) {
    if (seen.has(a.id)) throw new InvalidInputError(`action "${a.id}"`, 'appears twice in the plan: action ids must be unique');
    if (a.id.endsWith(ROLLBACK_SUFFIX)) throw new InvalidInputError(`action "${a.id}"`, `ids ending in "${ROLLBACK_SUFFIX}" are reserved for rollbacks`);
    seen.add(a.id);
  }
}

const ROLLBACK_SUFFIX = '/rollback';

/** Id of the action that undoes `id`: derived, so a restart finds the rollback it began. */
export function rollbackId(id: string): string {
  return `${id}${ROLLBACK_SUFFIX}`;
}

/** A check after a phase (for instance SLO metrics within bounds for a soak time). */
export type PhaseGate = (phase: number, records: readonly ActionRecord[]) => Promise<{ readonly ok: boolean; readonly reason?: string }>;

export interface PhasedOptions extends ExecuteOptions {
  /**
   * Runs after each phase's actions all succeeded, before the next phase
   * starts. A gate that fails rolls the plan back. After a restart, the gate
   * of the last completed phase runs again when the next phase has not begun
   * (its earlier verdict was not recorded), the last phase's included.
   */
  readonly gate?: PhaseGate;
}

export interface PhasedOutcome {
  /** completed: every phase done; rolledBack: a phase failed and every completed action was undone; rollbackFailed: an undo failed, the state is mixed. */
  readonly status: 'completed' | 'rolledBack' | 'rollbackFailed';
  /** Phase numbers in execution order. */
  readonly phases: readonly number[];
  /** Records of the plan's actions that were begun, in plan order. */
  readonly records: readonly ActionRecord[];
  /** Records of the undo actions, in the order they ran (reverse of the actions they undo). */
  readonly rollback: readonly ActionRecord[];
  /** Phase that failed (its actions or its gate), when any. */
  readonly failedPhase?: number;
  /** Why the plan was rolled back (the failed action's error or the gate's reason). */
  readonly reason?: string;
}

/** The plan's actions grouped by phase, phases ascending, plan order kept within a phase. */
export function groupByPhase(actions: readonly Action[]): { phase: number; actions: Action[] }[] {
  const byPhase = new Map<number, Action[]>();
  for (const a of actions) {
    if (!Number.isInteger(a.phase)) throw new InvalidInputError(`action "${a.id}"`, `phase must be a whole number, got ${a.phase}`);
    const list = byPhase.get(a.phase) ?? [];
    list.push(a);
    byPhase.set(a.phase, list);
  }
  return [...byPhase].sort(([a], [b]) => a - b).map(([phase, list]) => ({ phase, actions: list }));
}

/**
 * Execute a plan phase by phase: every action of a phase succeeds (and the
 * phase's gate passes) before the next phase starts. When an action fails for
 * good or a gate fails, every action that succeeded is undone (its `inverse`)
 * in reverse order, each undo logged under the derived id `rollbackId(id)`
 * with `undoes` set, and the undone action is marked rolledBack.
 *
 * Durable and resumable: the log says where a previous run stopped. Running
 * the same plan again continues forward when nothing failed, or continues the
 * rollback when an action failed or any undo was begun; no id is sent after
 * it has an answer.
 */
export async function executePhases(actions: readonly Action[], driver: Driver, log: ActionLog, options: PhasedOptions): Promise<PhasedOutcome> {
  assertUniqueIds(actions);
  const phases = groupByPhase(actions);
  const ordered = phases.flatMap((p) => p.actions);
  const phaseNumbers = phases.map((p) => p.phase);

  const found = async () => {
    const out = new Map<string, ActionRecord>();
    for (const a of ordered) {
      const r = await log.get(a.id);
      if (r) out.set(a.id, r);
    }
    return out;
  };
  const recordsInOrder = async () => [...(await found()).values()];

  // Resume a rollback when one was decided earlier: an action failed, or an undo was begun.
  // The phase that failed is the failed action's, or, after a failed gate, the last phase that has undos.
  const before = await found();
  let failedPhase: number | undefined;
  let undonePhase: number | undefined;
  let reason: string | undefined;
  for (const a of ordered) {
    const r = before.get(a.id);
    if (r?.status === 'failed') {
      failedPhase ??= a.phase;
      reason ??= `action ${a.id} failed: ${r.error ?? 'no message'}`;
    }
    if (r?.status === 'rolledBack' || (await log.get(rollbackId(a.id))) !== undefined) undonePhase = a.phase;
  }
  failedPhase ??= undonePhase;

  if (failedPhase === undefined) {
    for (let i = 0; i < phases.length; i++) {
      const { phase, actions: list } = phases[i];
      const outcome = await executeActions(list, driver, log, options);
      if (!outcome.ok) {
        failedPhase = phase;
        reason = `action ${outcome.failed!.action.id} failed: ${outcome.failed!.error ?? 'no message'}`;
        break;
      }
      const nextBegun = i + 1 < phases.length && (await Promise.all(phases[i + 1].actions.map((a) => log.get(a.id)))).some((r) => r !== undefined);
      if (options.gate && !nextBegun) {
        const verdict = await options.gate(phase, outcome.records);
        if (!verdict.ok) {
          failedPhase = phase;
          reason = `gate of phase ${phase} failed: ${verdict.reason ?? 'no reason given'}`;
          break;
        }
      }
    }
    if (failedPhase === undefined) return { status: 'completed', phases: phaseNumbers, records: await recordsInOrder(), rollback: [] };
  } else {
    reason = reason ? `resumed rollback: ${reason}` : 'resumed rollback';
  }

  return rollBack(ordered, driver, log, options, phaseNumbers, failedPhase, reason ?? 'rolled back', recordsInOrder);
}

async function rollBack(
  ordered: readonly Action[],
  driver: Driver,
  log: ActionLog,
  options: ExecuteOptions,
  phases: readonly number[],
  failedPhase: number,
  reason: string,
  recordsInOrder: () => Promise<ActionRecord[]>,
): Promise<PhasedOutcome> {
  // An action left `sent` by a crash has an unknown effect: ask the driver (same id) before deciding whether to undo it.
  for (const a of ordered) {
    const r = await log.get(a.id);
    if (r && (r.status === 'sent' || (r.status === 'pending' && r.attempts > 0))) await executeAction(a, driver, log, options);
  }
  // Undo what took effect, newest first. Every undo is logged (pending) before the first one is sent, so the decision is durable.
  const toUndo: Action[] = [];
  for (const a of [...ordered].reverse()) {
    const r = await log.get(a.id);
    if (r?.status === 'succeeded' || r?.status === 'rolledBack') toUndo.push(a);
  }
  for (const a of toUndo) await log.begin(inverse(a, rollbackId(a.id)), options.now(), a.id);

  const rollback: ActionRecord[] = [];
  for (const a of toUndo) {
    const undo = await executeAction(inverse(a, rollbackId(a.id)), driver, log, options, a.id);
    rollback.push(undo);
    if (undo.status !== 'succeeded') {
      return { status: 'rollbackFailed', phases, records: await recordsInOrder(), rollback, failedPhase, reason: `${reason}; undo ${undo.action.id} failed: ${undo.error ?? 'no message'}` };
    }
    const original = await log.get(a.id);
    if (original?.status !== 'rolledBack') await log.update(a.id, { status: 'rolledBack', atSeconds: options.now(), attempts: original?.attempts });
  }
  return { status: 'rolledBack', phases, records: await recordsInOrder(), rollback, failedPhase, reason };
}
