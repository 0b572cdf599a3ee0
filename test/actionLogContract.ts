/**
 * The behaviour every ActionLog must have (memory, SQLite, PostgreSQL): the
 * executor's guarantees (log before send, never twice, resumable rollback)
 * rest on it. A store calls `describeActionLogContract` with a factory that
 * returns an empty log.
 */
import { describe, expect, it } from 'vitest';
import type { ActionLog } from '../src/core/actionLog.ts';
import type { Action } from '../src/core/plan.ts';

export function describeActionLogContract(name: string, makeLog: () => Promise<ActionLog>): void {
  const scale = (id: string): Action => ({ id, kind: 'scaleWorkload', decidedAtSeconds: 100, phase: 1, reason: 'forecast', workload: 'web', pool: 'a', fromInstances: 2, toInstances: 3 });
  const resize: Action = {
    id: 'resize-1',
    kind: 'resizeWorkload',
    decidedAtSeconds: 100,
    phase: 0,
    reason: 'right-size',
    workload: 'web',
    from: { requests: { cpuMillicores: 100, memoryMiB: 64 } },
    to: { requests: { cpuMillicores: 150, memoryMiB: 96.5 }, limits: { cpuMillicores: 1000 } },
  };

  describe(`ActionLog contract: ${name}`, () => {
    it('begins a record as pending with no attempts, and returns the same record (unchanged) for an id it holds', async () => {
      const log = await makeLog();
      const first = await log.begin(scale('a'), 10);
      expect(first.created).toBe(true);
      expect(first.record).toEqual({ action: scale('a'), status: 'pending', attempts: 0, updatedAtSeconds: 10 });
      await log.update('a', { status: 'sent', atSeconds: 11, attempts: 1 });
      const again = await log.begin({ ...scale('a'), reason: 'other' } as Action, 20);
      expect(again.created).toBe(false);
      expect(again.record).toMatchObject({ status: 'sent', attempts: 1, updatedAtSeconds: 11, action: { reason: 'forecast' } });
    });

    it('records what a rollback undoes', async () => {
      const log = await makeLog();
      await log.begin(scale('a/rollback'), 10, 'a');
      expect((await log.get('a/rollback'))!.undoes).toBe('a');
    });

    it('round-trips every field of an action', async () => {
      const log = await makeLog();
      await log.begin(resize, 5);
      expect((await log.get('resize-1'))!.action).toEqual(resize);
    });

    it('updates status, attempts and error, clearing the error when none is given', async () => {
      const log = await makeLog();
      await log.begin(scale('a'), 10);
      const pending = await log.update('a', { status: 'pending', atSeconds: 12, attempts: 1, error: '503' });
      expect(pending).toMatchObject({ status: 'pending', attempts: 1, updatedAtSeconds: 12, error: '503' });
      const done = await log.update('a', { status: 'succeeded', atSeconds: 13, attempts: 2 });
      expect(done.error).toBeUndefined();
      expect(await log.get('a')).toEqual(done);
      const kept = await log.update('a', { status: 'rolledBack', atSeconds: 14 });
      expect(kept.attempts).toBe(2);
    });

    it('refuses to update an id it does not hold', async () => {
      const log = await makeLog();
      await expect(log.update('ghost', { status: 'sent', atSeconds: 1 })).rejects.toThrow(/ghost/);
      expect(await log.get('ghost')).toBeUndefined();
    });

    it('lists records in the order they were begun, optionally by status', async () => {
      const log = await makeLog();
      for (const id of ['c', 'a', 'b']) await log.begin(scale(id), 1);
      await log.update('a', { status: 'failed', atSeconds: 2, error: 'x' });
      expect((await log.list()).map((r) => r.action.id)).toEqual(['c', 'a', 'b']);
      expect((await log.list({ statuses: ['failed'] })).map((r) => r.action.id)).toEqual(['a']);
      expect((await log.list({ statuses: ['pending', 'failed'] })).map((r) => r.action.id)).toEqual(['c', 'a', 'b']);
    });

    it('hands out copies: changing a returned record does not change the log', async () => {
      const log = await makeLog();
      const { record } = await log.begin(scale('a'), 1);
      record.status = 'succeeded';
      (await log.get('a'))!.attempts = 9;
      expect(await log.get('a')).toMatchObject({ status: 'pending', attempts: 0 });
    });
  });
}
