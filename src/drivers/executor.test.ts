import { describe, expect, it } from 'vitest';
import { MemoryActionLog, type ActionLog, type ActionLogUpdate } from '../core/actionLog.ts';
import { DriverError, InvalidInputError } from '../core/errors.ts';
import type { Pool, Workload } from '../core/model.ts';
import type { Action, ActionRecord } from '../core/plan.ts';
import { rememberResult, type ActionResult, type Driver, type ObservedState } from './driver.ts';
import { backoffSeconds, DEFAULT_RETRY, executeActions, executePhases, rollbackId, type ExecuteOptions } from './executor.ts';
import { SimulatorDriver } from './simulator.ts';

/**
 * A driver that answers from a script (per id, one answer per call; the last
 * one repeats) and is idempotent as the contract asks: once an id has a final
 * answer (success or permanent failure) it is returned again without acting.
 * `effects` counts how many times each id really changed something.
 */
class ScriptedDriver implements Driver {
  readonly name = 'scripted';
  readonly calls: string[] = [];
  readonly effects = new Map<string, number>();
  private readonly answered = new Map<string, ActionResult>();
  constructor(
    private readonly script: Record<string, (ActionResult | Error)[]> = {},
    private readonly events?: string[],
  ) {}
  async apply(action: Action): Promise<ActionResult> {
    this.calls.push(action.id);
    this.events?.push(`apply ${action.id}`);
    const earlier = this.answered.get(action.id);
    if (earlier) return earlier;
    const answers = this.script[action.id] ?? [{ ok: true }];
    const n = this.calls.filter((id) => id === action.id).length;
    const answer = answers[Math.min(n, answers.length) - 1];
    if (answer instanceof Error) throw answer;
    if (answer.ok) this.effects.set(action.id, (this.effects.get(action.id) ?? 0) + 1);
    if (answer.ok || !answer.retryable) this.answered.set(action.id, answer);
    return answer;
  }
  async observe(): Promise<ObservedState> {
    throw new Error('not used');
  }
}

/** A log that records every call in `events` and can die (throw) at a chosen call, like a process killed there. */
class SpyLog implements ActionLog {
  constructor(
    readonly inner: MemoryActionLog,
    private readonly events: string[],
    public crashAt?: (call: string) => boolean,
  ) {}
  private maybeCrash(call: string) {
    this.events.push(call);
    if (this.crashAt?.(call)) {
      this.crashAt = undefined;
      throw new Error(`crash at ${call}`);
    }
  }
  async begin(action: Action, atSeconds: number, undoes?: string) {
    this.maybeCrash(`begin ${action.id}`);
    return this.inner.begin(action, atSeconds, undoes);
  }
  async update(id: string, change: ActionLogUpdate) {
    this.maybeCrash(`${change.status} ${id}`);
    return this.inner.update(id, change);
  }
  get(id: string) {
    return this.inner.get(id);
  }
  list(filter?: Parameters<ActionLog['list']>[0]) {
    return this.inner.list(filter);
  }
}

const scale = (id: string, phase = 0, workload = 'w', pool = 'a', fromInstances = 1, toInstances = 2): Action => ({
  id,
  kind: 'scaleWorkload',
  decidedAtSeconds: 0,
  phase,
  reason: 'test',
  workload,
  pool,
  fromInstances,
  toInstances,
});

function harness(script: Record<string, (ActionResult | Error)[]> = {}) {
  const events: string[] = [];
  const sleeps: number[] = [];
  let clock = 1000;
  const driver = new ScriptedDriver(script, events);
  const log = new SpyLog(new MemoryActionLog(), events);
  const options: ExecuteOptions = {
    now: () => clock++,
    sleep: async (s) => {
      sleeps.push(s);
      events.push(`sleep ${s}`);
    },
  };
  return { events, sleeps, driver, log, options };
}

const retryable = (error = 'busy'): ActionResult => ({ ok: false, error, retryable: true });
const permanent = (error = 'invalid'): ActionResult => ({ ok: false, error, retryable: false });

describe('executeActions', () => {
  it('logs each action (pending, then sent) before the driver sees it, and records the result after', async () => {
    const h = harness();
    const out = await executeActions([scale('a'), scale('b')], h.driver, h.log, h.options);
    expect(out.ok).toBe(true);
    expect(h.events).toEqual(['begin a', 'sent a', 'apply a', 'succeeded a', 'begin b', 'sent b', 'apply b', 'succeeded b']);
    expect(out.records.map((r) => [r.action.id, r.status, r.attempts])).toEqual([
      ['a', 'succeeded', 1],
      ['b', 'succeeded', 1],
    ]);
  });

  it('retries a retryable failure with exponential backoff, keeping the error on the pending record meanwhile', async () => {
    const h = harness({ a: [retryable('conflict'), retryable('conflict'), { ok: true }] });
    const out = await executeActions([scale('a')], h.driver, h.log, h.options);
    expect(out.ok).toBe(true);
    expect(h.sleeps).toEqual([1, 2]);
    expect(h.events).toEqual(['begin a', 'sent a', 'apply a', 'pending a', 'sleep 1', 'sent a', 'apply a', 'pending a', 'sleep 2', 'sent a', 'apply a', 'succeeded a']);
    const r = await h.log.get('a');
    expect(r).toMatchObject({ status: 'succeeded', attempts: 3 });
    expect(r!.error).toBeUndefined();
  });

  it('caps the delay and gives up after maxAttempts, stopping the sequence', async () => {
    const h = harness({ a: [retryable('503 from the API server')] });
    const retry = { maxAttempts: 6, initialDelaySeconds: 1, maxDelaySeconds: 5, factor: 2 };
    const out = await executeActions([scale('a'), scale('b')], h.driver, h.log, { ...h.options, retry });
    expect(h.sleeps).toEqual([1, 2, 4, 5, 5]);
    expect(out.ok).toBe(false);
    expect(out.failed).toMatchObject({ status: 'failed', attempts: 6, error: '503 from the API server (gave up after 6 attempts)' });
    expect(h.driver.calls).toEqual(['a', 'a', 'a', 'a', 'a', 'a']);
    expect(await h.log.get('b')).toBeUndefined();
  });

  it('stops at a permanent failure without retrying it; later actions are neither sent nor logged', async () => {
    const h = harness({ b: [permanent('replicas must be >= 0')] });
    const out = await executeActions([scale('a'), scale('b'), scale('c')], h.driver, h.log, h.options);
    expect(out.ok).toBe(false);
    expect(out.failed).toMatchObject({ status: 'failed', attempts: 1, error: 'replicas must be >= 0' });
    expect(out.records.map((r) => r.status)).toEqual(['succeeded', 'failed']);
    expect(h.driver.calls).toEqual(['a', 'b']);
    expect(h.sleeps).toEqual([]);
    expect(await h.log.get('c')).toBeUndefined();
  });

  it('treats a thrown DriverError by its retryable flag and any other thrown error as retryable', async () => {
    const h = harness({ a: [new Error('ECONNRESET'), { ok: true }], b: [new DriverError('forbidden', false)] });
    const out = await executeActions([scale('a'), scale('b')], h.driver, h.log, h.options);
    expect(out.records.map((r) => [r.status, r.attempts])).toEqual([
      ['succeeded', 2],
      ['failed', 1],
    ]);
    expect(out.failed!.error).toBe('forbidden');
  });

  it('sends nothing when the same plan runs again after it succeeded', async () => {
    const h = harness();
    const plan = [scale('a'), scale('b')];
    await executeActions(plan, h.driver, h.log, h.options);
    const again = await executeActions(plan, h.driver, h.log, h.options);
    expect(again.ok).toBe(true);
    expect(h.driver.calls).toEqual(['a', 'b']);
  });

  it('does not retry an action that failed for good in an earlier run: a new attempt needs a new id', async () => {
    const h = harness({ a: [permanent()] });
    await executeActions([scale('a')], h.driver, h.log, h.options);
    const again = await executeActions([scale('a')], h.driver, h.log, h.options);
    expect(again.ok).toBe(false);
    expect(h.driver.calls).toEqual(['a']);
  });

  it('after a crash between sending and recording the result, asks the driver again with the same id, which does not act twice', async () => {
    const h = harness();
    h.log.crashAt = (call) => call === 'succeeded a';
    await expect(executeActions([scale('a'), scale('b')], h.driver, h.log, h.options)).rejects.toThrow('crash at succeeded a');
    expect(await h.log.get('a')).toMatchObject({ status: 'sent', attempts: 1 });
    const out = await executeActions([scale('a'), scale('b')], h.driver, h.log, h.options);
    expect(out.ok).toBe(true);
    expect(h.driver.calls).toEqual(['a', 'a', 'b']);
    expect(h.driver.effects.get('a')).toBe(1);
    expect(await h.log.get('a')).toMatchObject({ status: 'succeeded', attempts: 2 });
  });

  it('asks again about a sent action even when its attempts are spent (the answer is unknown, not failed)', async () => {
    const h = harness();
    const retry = { ...DEFAULT_RETRY, maxAttempts: 1 };
    h.log.crashAt = (call) => call === 'succeeded a';
    await expect(executeActions([scale('a')], h.driver, h.log, { ...h.options, retry })).rejects.toThrow();
    const out = await executeActions([scale('a')], h.driver, h.log, { ...h.options, retry });
    expect(out.ok).toBe(true);
    expect(h.driver.effects.get('a')).toBe(1);
  });

  it('after a crash while waiting to retry, waits the backoff again and keeps counting attempts', async () => {
    const h = harness({ a: [retryable(), retryable(), { ok: true }] });
    h.log.crashAt = (call) => call === 'sent a' && h.driver.calls.length === 2;
    await expect(executeActions([scale('a')], h.driver, h.log, h.options)).rejects.toThrow();
    expect(await h.log.get('a')).toMatchObject({ status: 'pending', attempts: 2, error: 'busy' });
    h.sleeps.length = 0;
    const out = await executeActions([scale('a')], h.driver, h.log, h.options);
    expect(out.records[0]).toMatchObject({ status: 'succeeded', attempts: 3 });
    expect(h.sleeps).toEqual([2]);
  });

  it('rejects duplicate ids, reserved rollback ids and a bad retry policy before sending anything', async () => {
    const h = harness();
    await expect(executeActions([scale('a'), scale('a')], h.driver, h.log, h.options)).rejects.toThrow(InvalidInputError);
    await expect(executeActions([scale('x/rollback')], h.driver, h.log, h.options)).rejects.toThrow('reserved for rollbacks');
    await expect(executeActions([scale('a')], h.driver, h.log, { ...h.options, retry: { ...DEFAULT_RETRY, maxAttempts: 0 } })).rejects.toThrow(
      'retry.maxAttempts: must be a whole number of at least 1, got 0',
    );
    expect(h.driver.calls).toEqual([]);
  });

  it.each([
    [1, 1],
    [2, 2],
    [3, 4],
    [5, 16],
    [6, 30],
    [20, 30],
  ])('backoff after %i failed attempts is %i s (1 s doubling, capped at 30 s)', (attempt, seconds) => {
    expect(backoffSeconds(DEFAULT_RETRY, attempt)).toBe(seconds);
  });
});

describe('executePhases', () => {
  it('runs phases in ascending order, a phase completing (and its gate passing) before the next starts', async () => {
    const h = harness();
    const gates: number[] = [];
    const plan = [scale('p1-a', 1), scale('p0-a', 0), scale('p1-b', 1), scale('p0-b', 0)];
    const out = await executePhases(plan, h.driver, h.log, {
      ...h.options,
      gate: async (phase, records) => {
        gates.push(phase);
        h.events.push(`gate ${phase}: ${records.map((r) => r.action.id).join(',')}`);
        return { ok: true };
      },
    });
    expect(out.status).toBe('completed');
    expect(out.phases).toEqual([0, 1]);
    expect(h.driver.calls).toEqual(['p0-a', 'p0-b', 'p1-a', 'p1-b']);
    expect(h.events.filter((e) => e.startsWith('gate') || e.startsWith('apply'))).toEqual([
      'apply p0-a',
      'apply p0-b',
      'gate 0: p0-a,p0-b',
      'apply p1-a',
      'apply p1-b',
      'gate 1: p1-a,p1-b',
    ]);
  });

  it('when an action fails, undoes every completed action in reverse order under derived ids, logged with undoes', async () => {
    const h = harness({ d: [permanent('quota exceeded')] });
    const plan = [scale('a', 0, 'w1', 'x', 1, 3), scale('b', 0, 'w2', 'x', 2, 4), scale('c', 1, 'w1', 'y', 0, 2), scale('d', 1), scale('e', 2)];
    const out = await executePhases(plan, h.driver, h.log, h.options);
    expect(out.status).toBe('rolledBack');
    expect(out.failedPhase).toBe(1);
    expect(out.reason).toBe('action d failed: quota exceeded');
    expect(h.driver.calls).toEqual(['a', 'b', 'c', 'd', 'c/rollback', 'b/rollback', 'a/rollback']);
    expect(out.rollback.map((r) => [r.action.id, r.undoes, r.status])).toEqual([
      ['c/rollback', 'c', 'succeeded'],
      ['b/rollback', 'b', 'succeeded'],
      ['a/rollback', 'a', 'succeeded'],
    ]);
    expect(out.rollback[2].action).toMatchObject({ kind: 'scaleWorkload', workload: 'w1', pool: 'x', fromInstances: 3, toInstances: 1 });
    expect(out.records.map((r) => [r.action.id, r.status])).toEqual([
      ['a', 'rolledBack'],
      ['b', 'rolledBack'],
      ['c', 'rolledBack'],
      ['d', 'failed'],
    ]);
    expect(await h.log.get('e')).toBeUndefined();
  });

  it('rolls back when a gate fails, the gated phase included', async () => {
    const h = harness();
    const out = await executePhases([scale('a', 0), scale('b', 1), scale('c', 2)], h.driver, h.log, {
      ...h.options,
      gate: async (phase) => (phase === 1 ? { ok: false, reason: 'p99 latency 2.1 s > 0.5 s for 5 min' } : { ok: true }),
    });
    expect(out).toMatchObject({ status: 'rolledBack', failedPhase: 1, reason: 'gate of phase 1 failed: p99 latency 2.1 s > 0.5 s for 5 min' });
    expect(h.driver.calls).toEqual(['a', 'b', 'b/rollback', 'a/rollback']);
  });

  it('resumes an interrupted rollback without repeating any action', async () => {
    const h = harness({ c: [permanent()] });
    const plan = [scale('a', 0), scale('b', 0), scale('c', 1)];
    h.log.crashAt = (call) => call === `succeeded ${rollbackId('b')}`;
    await expect(executePhases(plan, h.driver, h.log, h.options)).rejects.toThrow('crash at succeeded b/rollback');
    // Every undo was logged before the first was sent; b's undo is in flight, a's not begun.
    expect((await h.log.list()).map((r) => [r.action.id, r.status])).toEqual([
      ['a', 'succeeded'],
      ['b', 'succeeded'],
      ['c', 'failed'],
      ['b/rollback', 'sent'],
      ['a/rollback', 'pending'],
    ]);
    const out = await executePhases(plan, h.driver, h.log, h.options);
    expect(out.status).toBe('rolledBack');
    expect(out.failedPhase).toBe(1);
    expect(out.reason).toBe('resumed rollback: action c failed: invalid');
    expect(h.driver.calls).toEqual(['a', 'b', 'c', 'b/rollback', 'b/rollback', 'a/rollback']);
    for (const id of ['a', 'b', 'b/rollback', 'a/rollback']) expect(h.driver.effects.get(id)).toBe(1);
    // A third run finds everything final and sends nothing.
    const third = await executePhases(plan, h.driver, h.log, h.options);
    expect(third.status).toBe('rolledBack');
    expect(h.driver.calls).toHaveLength(6);
  });

  it('resumes a rollback decided by a failed gate, naming the gated phase', async () => {
    const h = harness();
    const plan = [scale('a', 0), scale('b', 1), scale('c', 2)];
    h.log.crashAt = (call) => call === `sent ${rollbackId('a')}`;
    const gate = async (phase: number) => (phase === 1 ? { ok: false, reason: 'error rate 4%' } : { ok: true });
    await expect(executePhases(plan, h.driver, h.log, { ...h.options, gate })).rejects.toThrow();
    const out = await executePhases(plan, h.driver, h.log, { ...h.options, gate });
    expect(out).toMatchObject({ status: 'rolledBack', failedPhase: 1, reason: 'resumed rollback' });
    expect(h.driver.calls).toEqual(['a', 'b', 'b/rollback', 'a/rollback']);
    expect(await h.log.get('c')).toBeUndefined();
  });

  it('resumes forward after a crash between two actions without repeating one', async () => {
    const h = harness();
    const plan = [scale('a', 0), scale('b', 1), scale('c', 1)];
    h.log.crashAt = (call) => call === 'begin c';
    await expect(executePhases(plan, h.driver, h.log, h.options)).rejects.toThrow();
    const out = await executePhases(plan, h.driver, h.log, h.options);
    expect(out.status).toBe('completed');
    expect(h.driver.calls).toEqual(['a', 'b', 'c']);
  });

  it('evaluates again a gate whose verdict was lost in a crash, and only that one', async () => {
    const h = harness();
    const plan = [scale('a', 0), scale('b', 1)];
    let crash = true;
    const gates: number[] = [];
    const gate = async (phase: number) => {
      gates.push(phase);
      if (phase === 1 && crash) {
        crash = false;
        throw new Error('killed during the soak');
      }
      return { ok: true };
    };
    await expect(executePhases(plan, h.driver, h.log, { ...h.options, gate })).rejects.toThrow('killed during the soak');
    const out = await executePhases(plan, h.driver, h.log, { ...h.options, gate });
    expect(out.status).toBe('completed');
    expect(gates).toEqual([0, 1, 1]);
    expect(h.driver.calls).toEqual(['a', 'b']);
  });

  it('reports rollbackFailed, naming the undo that failed, when an undo fails for good', async () => {
    const h = harness({ b: [permanent('boom')], 'a/rollback': [permanent('pool deleted')] });
    const out = await executePhases([scale('a', 0), scale('b', 1)], h.driver, h.log, h.options);
    expect(out.status).toBe('rollbackFailed');
    expect(out.reason).toBe('action b failed: boom; undo a/rollback failed: pool deleted');
    expect((await h.log.get('a'))!.status).toBe('succeeded');
  });

  it('restores the simulator exactly when phase 2 fails (make-before-break move of a workload between pools)', async () => {
    const pool = (name: string, maxNodes: number): Pool => ({
      name,
      provider: 'p',
      zone: name,
      nodeType: { name: 't', capacity: { cpuMillicores: 4000, memoryMiB: 16384 } },
      costPerHour: 0.2,
      provisioningDelaySeconds: 0,
      minNodes: 0,
      maxNodes,
      tags: [],
    });
    const workload: Workload = {
      name: 'web',
      demand: { startSeconds: 0, stepSeconds: 300, values: [1] },
      service: { serviceTimeSeconds: 0.1, concurrency: 1 },
      perInstance: { cpuMillicores: 1000, memoryMiB: 1024 },
      slo: { kind: 'utilization', maxUtilization: 0.7 },
      minInstances: 0,
      maxInstances: 100,
      priority: 1,
      sizingQuantile: 0.95,
      tags: [],
    };
    const sim = new SimulatorDriver([pool('a', 10), pool('b', 2)], [workload], 0, { nodesByPool: { a: 2, b: 0 }, instances: { web: { a: 6 } } });
    const initial = sim.observeSync();
    const base = { decidedAtSeconds: 0, reason: 'move web from a to b' };
    const plan: Action[] = [
      { ...base, id: 'm1', phase: 0, kind: 'scaleNodes', pool: 'b', fromNodes: 0, toNodes: 1 },
      { ...base, id: 'm2', phase: 1, kind: 'scaleWorkload', workload: 'web', pool: 'b', fromInstances: 0, toInstances: 3 },
      { ...base, id: 'm3', phase: 1, kind: 'scaleWorkload', workload: 'web', pool: 'a', fromInstances: 6, toInstances: 3 },
      // Pool b allows 2 nodes: this fails for good, so everything is undone.
      { ...base, id: 'm4', phase: 2, kind: 'scaleNodes', pool: 'b', fromNodes: 1, toNodes: 3 },
      { ...base, id: 'm5', phase: 2, kind: 'scaleWorkload', workload: 'web', pool: 'b', fromInstances: 3, toInstances: 6 },
    ];
    const log = new MemoryActionLog();
    const out = await executePhases(plan, sim, log, { now: () => 0, sleep: async () => {} });
    expect(out.status).toBe('rolledBack');
    expect(out.reason).toBe('action m4 failed: pool "b" allows 0..2 nodes, asked for 3');
    expect(out.rollback.map((r) => r.action.id)).toEqual(['m3/rollback', 'm2/rollback', 'm1/rollback']);
    const after = sim.observeSync();
    expect(after.desiredInstances).toEqual({ web: { a: 6 } });
    expect(after.readyNodesByPool).toEqual(initial.readyNodesByPool);
    expect(after.runningInstances).toEqual(initial.runningInstances);
    const statuses: ActionRecord['status'][] = (await log.list()).map((r) => r.status);
    expect(statuses).toEqual(['rolledBack', 'rolledBack', 'rolledBack', 'failed', 'succeeded', 'succeeded', 'succeeded']);
  });
});

describe('rememberResult', () => {
  it('keeps the latest answers, forgetting the oldest first (a repeated id counts as recent)', () => {
    const m = new Map<string, ActionResult>();
    for (const id of ['a', 'b', 'c']) rememberResult(m, id, { ok: true }, 3);
    rememberResult(m, 'a', { ok: true }, 3);
    rememberResult(m, 'd', { ok: false, error: 'x', retryable: false }, 3);
    expect([...m.keys()]).toEqual(['c', 'a', 'd']);
  });
});
