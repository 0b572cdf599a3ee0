import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { storeLocations } from '../../test/support/stores.ts';
import type { Action } from '../core/plan.ts';
import { InvalidInputError } from '../core/errors.ts';
import { executeActions } from '../drivers/executor.ts';
import type { ActionResult, Driver, ObservedState } from '../drivers/driver.ts';
import { PostgresDb, rowBuilder, SqliteDb, toSqliteSql, type Db, type Param, type Row } from './db.ts';
import { openStore } from './open.ts';
import { canonicalJson, SqlStore, TOKEN_CACHE_TTL_MS } from './sqlStore.ts';
import type { Store } from './store.ts';

/**
 * One suite, two engines: the same assertions run on the embedded SQLite store
 * and on a real PostgreSQL 15 server started for this file (Debian package
 * `postgresql`; initdb into a temp dir, loopback port, fsync off).
 */

const scale = (id: string, to: number): Action => ({ id, kind: 'scaleNodes', decidedAtSeconds: 100, phase: 0, reason: 'test', pool: 'general', fromNodes: 0, toNodes: to });

const where = storeLocations('store');

const engines: [string, () => Promise<Store>][] = [
  ['sqlite', () => openStore({ dataDir: where.sqliteDir() })],
  ['postgres', () => openStore({ databaseUrl: where.postgresUrl() })],
];

/** A fresh database of `engine` as a Db, and a second store on the same database (as another server process would open it). */
function engineDb(engine: string): { db: Db; reopen: () => Promise<Store> } {
  if (engine === 'sqlite') {
    const dir = where.sqliteDir();
    return { db: new SqliteDb(join(dir, 'headroom.db')), reopen: () => openStore({ dataDir: dir }) };
  }
  const url = where.postgresUrl();
  return { db: new PostgresDb(url), reopen: () => openStore({ databaseUrl: url }) };
}

/** `inner`, counting token lookups; `holdTokenAnswers(p)` makes the next lookups wait for `p` after the database has answered. */
function countingDb(inner: Db) {
  let hold: Promise<void> | undefined;
  let answerRead!: () => void;
  const out = {
    tokenQueries: 0,
    tokenAnswerRead: Promise.resolve(),
    holdTokenAnswers(p: Promise<void> | undefined) {
      hold = p;
      if (p) out.tokenAnswerRead = new Promise<void>((r) => (answerRead = r));
    },
    db: {
      dialect: inner.dialect,
      async query<T extends Row = Row>(sql: string, params?: readonly Param[]): Promise<T[]> {
        if (!sql.includes('FROM api_tokens WHERE token_hash')) return inner.query<T>(sql, params);
        out.tokenQueries++;
        const held = hold;
        const rows = await inner.query<T>(sql, params);
        if (held) {
          answerRead();
          await held;
        }
        return rows;
      },
      run: (sql, params) => inner.run(sql, params),
      exec: (sql) => inner.exec(sql),
      insertSamples: (rows) => inner.insertSamples(rows),
      lock: (key) => inner.lock(key),
      transaction: (fn) => inner.transaction(fn),
      close: () => inner.close(),
      ...(inner.changeCounter ? { changeCounter: () => inner.changeCounter!() } : {}),
    } satisfies Db as Db,
  };
  return out;
}

describe.each(engines)('store on %s', (engine, open) => {
  it('migrates once: opening the same database again keeps its data', async () => {
    if (engine === 'sqlite') {
      const dir = where.sqliteDir();
      const a = await openStore({ dataDir: dir });
      await a.insertSamples([{ workload: 'w', timeSeconds: 1, value: 2 }]);
      await a.close();
      const b = await openStore({ dataDir: dir });
      expect(await b.countSamples()).toBe(1);
      await b.close();
    } else {
      const url = where.postgresUrl();
      const a = await openStore({ databaseUrl: url });
      await a.insertSamples([{ workload: 'w', timeSeconds: 1, value: 2 }]);
      await a.close();
      const b = await openStore({ databaseUrl: url });
      expect(await b.countSamples()).toBe(1);
      await b.close();
    }
  });

  it('stores a sample once however often it is sent; accepts out-of-order and late samples', async () => {
    const store = await open();
    const batch = [
      { workload: 'api', timeSeconds: 300, value: 3 },
      { workload: 'api', timeSeconds: 100, value: 1 },
      { workload: 'api', timeSeconds: 200, value: 2 },
    ];
    expect(await store.insertSamples(batch)).toEqual({ accepted: 3, duplicates: 0 });
    expect(await store.insertSamples(batch)).toEqual({ accepted: 0, duplicates: 3 });
    // Late: before everything stored so far; and one duplicate inside a new batch.
    expect(await store.insertSamples([{ workload: 'api', timeSeconds: 50, value: 0.5 }, { workload: 'api', timeSeconds: 200, value: 2 }])).toEqual({ accepted: 1, duplicates: 1 });
    expect(await store.readSamples('api', 0, 1000)).toEqual([
      { timeSeconds: 50, value: 0.5 },
      { timeSeconds: 100, value: 1 },
      { timeSeconds: 200, value: 2 },
      { timeSeconds: 300, value: 3 },
    ]);
    expect(await store.readSamples('api', 100, 300)).toHaveLength(2);
    // The latest N of a range, still in time order (the limit runs in SQL).
    expect(await store.readSamples('api', 0, 1000, 2)).toEqual([
      { timeSeconds: 200, value: 2 },
      { timeSeconds: 300, value: 3 },
    ]);
    expect(await store.readSamples('api', 0, 300, 2)).toEqual([
      { timeSeconds: 100, value: 1 },
      { timeSeconds: 200, value: 2 },
    ]);
    expect(await store.readSamples('api', 0, 1000, 10)).toHaveLength(4);
    expect(await store.seriesSummaries()).toEqual([{ workload: 'api', samples: 4, firstSeconds: 50, lastSeconds: 300 }]);
    await store.close();
  });

  it('rejects a batch with a bad sample and stores nothing of it', async () => {
    const store = await open();
    const bad = [
      { workload: 'api', timeSeconds: 1, value: 1 },
      { workload: 'api', timeSeconds: 2, value: Number.NaN },
    ];
    await expect(store.insertSamples(bad)).rejects.toThrow(InvalidInputError);
    await expect(store.insertSamples(bad)).rejects.toThrow('samples[1].value');
    // A failure inside the database (the mark's NOT NULL column) rolls the samples back too.
    await expect(store.insertSamples([{ workload: 'api', timeSeconds: 1, value: 1 }], { source: 'prom', workload: null as unknown as string, seconds: 5 })).rejects.toThrow();
    expect(await store.countSamples()).toBe(0);
    await store.insertSamples([{ workload: 'api', timeSeconds: 1, value: 1 }], { source: 'prom', workload: 'api', seconds: 60 });
    expect(await store.highWaterMark('prom', 'api')).toBe(60);
    await store.insertSamples([], { source: 'prom', workload: 'api', seconds: 120 });
    expect(await store.highWaterMark('prom', 'api')).toBe(120);
    expect(await store.highWaterMark('prom', 'other')).toBeUndefined();
    await store.close();
  });

  it('versions configuration documents; an equal document is unchanged', async () => {
    const store = await open();
    const doc = { name: 'general', cpuMillicores: 4000, memoryMiB: 16384, costPerHour: 0.2 };
    expect(await store.applyConfig([{ kind: 'pool', name: 'general', document: doc }], 10)).toEqual([{ kind: 'pool', name: 'general', version: 1, change: 'created' }]);
    // Key order does not matter: canonical JSON.
    const reordered = { costPerHour: 0.2, memoryMiB: 16384, cpuMillicores: 4000, name: 'general' };
    expect(canonicalJson(reordered)).toBe(canonicalJson(doc));
    expect((await store.applyConfig([{ kind: 'pool', name: 'general', document: reordered }], 11))[0].change).toBe('unchanged');
    expect((await store.applyConfig([{ kind: 'pool', name: 'general', document: { ...doc, costPerHour: 0.3 } }], 12))[0]).toEqual({ kind: 'pool', name: 'general', version: 2, change: 'updated' });
    expect((await store.getConfig('pool', 'general'))?.document).toEqual({ ...doc, costPerHour: 0.3 });
    expect((await store.listConfig('pool')).map((d) => d.version)).toEqual([2]);
    expect(await store.deleteConfig('pool', 'general', 13)).toBe(true);
    expect(await store.deleteConfig('pool', 'general', 14)).toBe(false);
    expect(await store.getConfig('pool', 'general')).toBeUndefined();
    expect(await store.listConfig('pool')).toEqual([]);
    expect((await store.applyConfig([{ kind: 'pool', name: 'general', document: doc }], 15))[0]).toEqual({ kind: 'pool', name: 'general', version: 4, change: 'created' });
    expect((await store.configHistory('pool', 'general')).map((d) => [d.version, d.document === null])).toEqual([[1, false], [2, false], [3, true], [4, false]]);
    await store.close();
  });

  it('keeps forecasts with their quantiles, plans with explanations, and loop cycles', async () => {
    const store = await open();
    const cycle = await store.startCycle('dry-run', 1000);
    const forecast = { model: 'mstl', startSeconds: 3600, stepSeconds: 300, mean: [1, 2], quantiles: [{ level: 0.05, values: [0.5, 1] }, { level: 0.95, values: [2, 3] }] };
    const f1 = await store.insertForecast('api', forecast, 1000, cycle);
    const f2 = await store.insertForecast('api', { ...forecast, mean: [3, 4] }, 1001, cycle);
    expect(f2).toBeGreaterThan(f1);
    expect(await store.latestForecast('api')).toEqual({ id: f2, workload: 'api', cycleId: cycle, createdAtSeconds: 1001, forecast: { ...forecast, mean: [3, 4] } });
    expect((await store.listForecasts('api', 10)).map((f) => f.id)).toEqual([f2, f1]);
    expect(await store.latestForecast('none')).toBeUndefined();
    const target = { nodesByPool: { general: 2 }, instances: { api: { general: 3 } }, costPerHour: 0.4, shortfall: {} };
    const planId = await store.insertPlan({ cycleId: cycle, mode: 'dry-run', decidedAtSeconds: 1000, target, actions: [scale('a1', 2)], explanation: { api: 'p95 demand 10 rps needs 3 instances' } });
    expect(await store.getPlan(planId)).toEqual({ id: planId, cycleId: cycle, mode: 'dry-run', decidedAtSeconds: 1000, target, actions: [scale('a1', 2)], explanation: { api: 'p95 demand 10 rps needs 3 instances' } });
    expect((await store.planOfCycle(cycle))?.id).toBe(planId);
    expect(await store.planOfCycle(cycle + 100)).toBeUndefined();
    await store.finishCycle(cycle, { status: 'succeeded', atSeconds: 1002, summary: { planId } });
    expect((await store.getCycle(cycle))?.summary).toEqual({ planId });
    const running = await store.startCycle('act', 1003);
    expect((await store.getCycle(cycle))?.status).toBe('succeeded');
    expect((await store.interruptRunningCycles(1004)).map((c) => c.id)).toEqual([running]);
    expect((await store.getCycle(running))?.status).toBe('interrupted');
    expect((await store.listCycles(10)).map((c) => c.id)).toEqual([running, cycle]);
    await store.close();
  });

  it('answers status in one go with what the separate reads answer', async () => {
    const store = await open();
    expect(await store.status()).toEqual({ workloads: [], pools: [], series: [], lastCycle: undefined, openActions: 0 });
    const w = (name: string, cpuMillicores = 500) => ({ kind: 'workload' as const, name, document: { name, cpuMillicores } });
    await store.applyConfig([w('b'), w('a'), w('c'), { kind: 'pool', name: 'p1', document: { name: 'p1' } }], 1);
    await store.applyConfig([w('b', 700)], 2);
    await store.deleteConfig('workload', 'c', 3);
    await store.insertSamples([{ workload: 'a', timeSeconds: 10, value: 1 }, { workload: 'a', timeSeconds: 20, value: 2 }, { workload: 'b', timeSeconds: 5, value: 1 }]);
    const done = await store.startCycle('act', 4);
    await store.finishCycle(done, { status: 'succeeded', atSeconds: 5, summary: { plan: 1 } });
    const running = await store.startCycle('dry-run', 6);
    await store.actions.begin(scale('x', 1), 7);
    await store.actions.begin(scale('y', 2), 7);
    await store.actions.begin(scale('z', 3), 7);
    await store.actions.update('y', { status: 'sent', atSeconds: 8 });
    await store.actions.update('z', { status: 'succeeded', atSeconds: 8 });
    const status = await store.status();
    // Hand-computed: c is deleted, b counted once (version 2), two of three actions open, the latest cycle is the running one.
    expect(status.workloads).toEqual(['a', 'b']);
    expect(status.pools).toEqual(['p1']);
    expect(status.openActions).toBe(2);
    expect(status.lastCycle?.status).toBe('running');
    expect(status.series).toEqual([{ workload: 'a', samples: 2, firstSeconds: 10, lastSeconds: 20 }, { workload: 'b', samples: 1, firstSeconds: 5, lastSeconds: 5 }]);
    // The same as the separate reads the status answer was made of before.
    expect(status).toEqual({
      workloads: (await store.listConfig('workload')).map((d) => d.name),
      pools: (await store.listConfig('pool')).map((d) => d.name),
      series: await store.seriesSummaries(),
      lastCycle: (await store.listCycles(1))[0],
      openActions: (await store.actions.list({ statuses: ['pending', 'sent'] })).length,
    });
    // Every field of the latest cycle comes through.
    await store.finishCycle(running, { status: 'failed', atSeconds: 9.5, summary: { notes: ['a "note"'], planId: 3 }, error: 'driver refused' });
    expect((await store.status()).lastCycle).toEqual({ id: running, mode: 'dry-run', status: 'failed', startedAtSeconds: 6, finishedAtSeconds: 9.5, summary: { notes: ['a "note"'], planId: 3 }, error: 'driver refused' });
    expect((await store.status()).lastCycle).toEqual((await store.listCycles(1))[0]);
    await store.close();
  });

  it('finds tokens by hash only, until revoked', async () => {
    const store = await open();
    await store.createToken({ id: 'tok1', name: 'ci', role: 'operator', createdAtSeconds: 5 }, 'hash-1');
    expect(await store.findTokenByHash('hash-1')).toEqual({ id: 'tok1', name: 'ci', role: 'operator', createdAtSeconds: 5, revokedAtSeconds: undefined });
    expect(await store.findTokenByHash('hash-2')).toBeUndefined();
    expect(await store.revokeToken('tok1', 6)).toBe(true);
    expect(await store.revokeToken('tok1', 7)).toBe(false);
    expect(await store.findTokenByHash('hash-1')).toBeUndefined();
    expect((await store.listTokens())[0].revokedAtSeconds).toBe(6);
    await store.close();
  });

  it('sees a token revoked by another store on the same database: SQLite at the next lookup, PostgreSQL within the cache bound', async () => {
    const { db, reopen } = engineDb(engine);
    let clockMs = 0;
    const lookups = countingDb(db);
    const a = await SqlStore.open(lookups.db, { nowMs: () => clockMs });
    const b = await reopen();
    await a.createToken({ id: 'tok', name: 'ci', role: 'viewer', createdAtSeconds: 1 }, 'h');
    await a.createToken({ id: 'other', name: 'x', role: 'admin', createdAtSeconds: 1 }, 'h2');
    const before = lookups.tokenQueries;
    for (let i = 0; i < 3; i++) expect((await a.findTokenByHash('h'))?.role).toBe('viewer');
    // Remembered: one lookup for three requests.
    expect(lookups.tokenQueries - before).toBe(1);
    expect((await b.findTokenByHash('h'))?.id).toBe('tok');
    // Revoked through b (as by another server process).
    expect(await b.revokeToken('tok', 2)).toBe(true);
    if (engine === 'sqlite') {
      expect(await a.findTokenByHash('h')).toBeUndefined();
    } else {
      // No exact signal on PostgreSQL: a answers from memory until the bound has passed since its lookup began, not longer.
      clockMs = TOKEN_CACHE_TTL_MS - 1;
      expect((await a.findTokenByHash('h'))?.id).toBe('tok');
      clockMs = TOKEN_CACHE_TTL_MS;
      expect(await a.findTokenByHash('h')).toBeUndefined();
    }
    expect((await a.findTokenByHash('h2'))?.role).toBe('admin');
    await a.close();
    await b.close();
  });

  it('does not remember a lookup that was in flight during a revocation (the cache cannot bring a revoked token back)', async () => {
    const { db } = engineDb(engine);
    const gated = countingDb(db);
    const store = await SqlStore.open(gated.db, { nowMs: () => 0 });
    await store.createToken({ id: 'tok', name: 'ci', role: 'viewer', createdAtSeconds: 1 }, 'h');
    // The lookup reads the token, then its answer is held back until the revocation has committed.
    let release!: () => void;
    gated.holdTokenAnswers(new Promise<void>((r) => (release = r)));
    const inFlight = store.findTokenByHash('h');
    await gated.tokenAnswerRead;
    gated.holdTokenAnswers(undefined);
    expect(await store.revokeToken('tok', 2)).toBe(true);
    release();
    // Begun before the revocation: it may still answer the token to its own request...
    expect((await inFlight)?.id).toBe('tok');
    // ...but it was not remembered: the next request is refused, with the clock standing still.
    expect(await store.findTokenByHash('h')).toBeUndefined();
    await store.close();
  });

  it('is an ActionLog: begin is idempotent per id, updates keep order, the executor logs through it', async () => {
    const store = await open();
    const log = store.actions;
    expect((await log.begin(scale('x', 1), 1)).created).toBe(true);
    expect(await log.begin(scale('x', 9), 2)).toEqual({ record: { action: scale('x', 1), status: 'pending', attempts: 0, updatedAtSeconds: 1 }, created: false });
    await log.begin(scale('y', 2), 3, 'x');
    await log.update('x', { status: 'failed', atSeconds: 4, attempts: 2, error: 'boom' });
    expect(await log.get('x')).toEqual({ action: scale('x', 1), status: 'failed', attempts: 2, updatedAtSeconds: 4, error: 'boom' });
    expect((await log.list()).map((r) => r.action.id)).toEqual(['x', 'y']);
    expect((await log.list({ statuses: ['pending'] })).map((r) => [r.action.id, r.undoes])).toEqual([['y', 'x']]);
    await expect(log.update('nope', { status: 'sent', atSeconds: 5 })).rejects.toThrow('nope');
    expect((await store.recentActions(1)).map((r) => r.action.id)).toEqual(['y']);
    expect((await store.recentActions(5)).map((r) => r.action.id)).toEqual(['x', 'y']);
    expect((await store.recentActions(5, ['failed'])).map((r) => r.action.id)).toEqual(['x']);
    expect(await store.recentActions(5, [])).toEqual([]);

    // The executor against a driver that fails once (retryable): one record per action, two attempts.
    let calls = 0;
    const observed: ObservedState = { timeSeconds: 0, readyNodesByPool: {}, pendingNodesByPool: {}, runningInstances: {}, desiredInstances: {} };
    const driver: Driver = {
      name: 'flaky',
      async apply(): Promise<ActionResult> {
        calls++;
        return calls === 1 ? { ok: false, error: 'timeout', retryable: true } : { ok: true };
      },
      observe: async () => observed,
    };
    const out = await executeActions([scale('z1', 1), scale('z2', 2)], driver, log, { now: () => 10, sleep: async () => undefined });
    expect(out.ok).toBe(true);
    expect((await log.get('z1'))?.attempts).toBe(2);
    // Running the same plan again sends nothing.
    await executeActions([scale('z1', 1), scale('z2', 2)], driver, log, { now: () => 11, sleep: async () => undefined });
    expect(calls).toBe(3);
    await store.close();
  });

  it('is safe under concurrent writers', async () => {
    const store = await open();
    // 20 overlapping batches at once: times 0..59 for each of 2 workloads, every time sent twice or more.
    const batches = Array.from({ length: 20 }, (_, b) => Array.from({ length: 30 }, (_, i) => ({ workload: b % 2 ? 'a' : 'b', timeSeconds: ((b * 7 + i) % 60) * 60, value: i })));
    const results = await Promise.all(batches.map((s) => store.insertSamples(s)));
    const accepted = results.reduce((n, r) => n + r.accepted, 0);
    expect(await store.countSamples()).toBe(accepted);
    // The per-workload statistics kept by the inserts agree with a count of the rows.
    const summaries = await store.seriesSummaries();
    expect(summaries.map((x) => x.samples)).toEqual([await store.countSamples('a'), await store.countSamples('b')]);
    expect(summaries.map((x) => [x.firstSeconds, x.lastSeconds])).toEqual([[0, 59 * 60], [0, 59 * 60]]);
    expect(await store.countSamples('a')).toBe(new Set(batches.filter((_, b) => b % 2).flat().map((s) => s.timeSeconds)).size);
    // The same document applied 10 times at once: one version.
    const doc = { name: 'p', cpuMillicores: 1, memoryMiB: 1, costPerHour: 1 };
    const applied = await Promise.all(Array.from({ length: 10 }, (_, i) => store.applyConfig([{ kind: 'pool', name: 'p', document: doc }], i)));
    expect(applied.filter((r) => r[0].change === 'created')).toHaveLength(1);
    expect(await store.configHistory('pool', 'p')).toHaveLength(1);
    // The same action begun 10 times at once: one record, created once.
    const begun = await Promise.all(Array.from({ length: 10 }, () => store.actions.begin(scale('same', 3), 1)));
    expect(begun.filter((b) => b.created)).toHaveLength(1);
    expect(await store.actions.list()).toHaveLength(1);
    await store.close();
  });
});

describe('PostgreSQL named statements', () => {
  it('keep answering after another process adds a column to a table read with SELECT * (the statement runs unnamed from then on)', async () => {
    const url = where.postgresUrl();
    const store = await openStore({ databaseUrl: url });
    const cycle = await store.startCycle('dry-run', 1);
    const before = await store.listCycles(5);
    expect(await store.listCycles(5)).toEqual(before);
    // As a newer version's migration would, from another process.
    const other = new PostgresDb(url);
    await other.exec('ALTER TABLE loop_cycles ADD COLUMN note TEXT');
    for (let i = 0; i < 3; i++) expect(await store.listCycles(5)).toEqual(before);
    expect((await store.getCycle(cycle))?.id).toBe(cycle);
    await other.close();
    await store.close();
  });
});

describe('SQLite row builder', () => {
  /** What rows were before: keys assigned one by one. */
  const assigned = (names: readonly string[], values: unknown[]) => {
    const row: Record<string, unknown> = {};
    for (let c = 0; c < names.length; c++) row[names[c]] = values[c];
    return row;
  };
  const cases: [string, string[], unknown[]][] = [
    ['two columns', ['timeSeconds', 'value'], [1_600_000_000.5, 0.1 + 0.2]],
    ['nulls and text', ['id', 'error', 'undoes'], ['a"b\\c', null, 'x']],
    ['a duplicate name (the later wins)', ['name', 'version', 'name'], ['first', 2, 'second']],
    ['names that need quoting', ['a b', "it's", 'line\nbreak', '0'], [1, 2, 3, 4]],
    ['__proto__', ['__proto__', 'x'], [{ polluted: true }, 1]],
  ];
  it.each(cases)('builds the same object as assigning keys: %s', (_name, names, values) => {
    const built = rowBuilder(names)(values);
    const expected = assigned(names, values);
    expect(Object.keys(built)).toEqual(Object.keys(expected));
    expect(built).toEqual(expected);
    expect(Object.getPrototypeOf(built)).toBe(Object.getPrototypeOf(expected));
  });
});

describe('SQLite statement text', () => {
  it('binds LIMIT through a CAST (kept prepared plan), and each execution still takes its own limit', async () => {
    expect(toSqliteSql('SELECT * FROM (SELECT * FROM a ORDER BY seq DESC LIMIT ?) r ORDER BY seq')).toBe('SELECT * FROM (SELECT * FROM a ORDER BY seq DESC LIMIT CAST(? AS INTEGER)) r ORDER BY seq');
    expect(toSqliteSql('SELECT x FROM t WHERE y = ? LIMIT 1')).toBe('SELECT x FROM t WHERE y = ? LIMIT 1');
    const db = new SqliteDb(join(where.sqliteDir(), 'x.db'));
    await db.exec('CREATE TABLE t (x INTEGER PRIMARY KEY)');
    for (let i = 1; i <= 5; i++) await db.run('INSERT INTO t VALUES (?)', [i]);
    const sql = 'SELECT * FROM (SELECT x FROM t ORDER BY x DESC LIMIT ?) r ORDER BY x';
    for (const [limit, want] of [[2, [4, 5]], [4, [2, 3, 4, 5]], [1, [5]], [9, [1, 2, 3, 4, 5]]] as const) {
      expect((await db.query(sql, [limit])).map((r) => r.x)).toEqual(want);
    }
    await db.close();
  });
});

describe('SQLite change counter', () => {
  it('stays put without commits and moves on a commit by this store or by another connection', async () => {
    const dir = where.sqliteDir();
    const a = new SqliteDb(join(dir, 'x.db'));
    await a.exec('CREATE TABLE t (x INTEGER)');
    const b = new SqliteDb(join(dir, 'x.db'));
    const v0 = a.changeCounter();
    await a.query('SELECT * FROM t');
    expect(a.changeCounter()).toBe(v0);
    await a.run('INSERT INTO t VALUES (1)');
    const v1 = a.changeCounter();
    expect(v1).not.toBe(v0);
    expect(a.changeCounter()).toBe(v1);
    await b.run('INSERT INTO t VALUES (2)');
    expect(a.changeCounter()).not.toBe(v1);
    await a.close();
    await b.close();
  });
});
