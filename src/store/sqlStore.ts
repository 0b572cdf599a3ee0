import { createHash } from 'node:crypto';
import type { ActionLog, ActionLogUpdate } from '../core/actionLog.ts';
import { InvalidInputError } from '../core/errors.ts';
import type { QuantileForecast } from '../core/forecast.ts';
import type { Action, ActionRecord, ActionStatus } from '../core/plan.ts';
import type { Db, Row } from './db.ts';
import { migrate } from './migrations.ts';
import { SqlRequestStore } from './requests.ts';
import { TokenCache } from './tokenCache.ts';
import type {
  ApiToken,
  ConfigChange,
  ConfigDocument,
  ConfigInput,
  ConfigKind,
  CycleStatus,
  HighWaterMark,
  IngestResult,
  LoopCycle,
  LoopMode,
  Role,
  SampleInput,
  SeriesSummary,
  Store,
  StoreStatus,
  StoredForecast,
  StoredPlan,
} from './store.ts';

/** JSON with object keys sorted, so equal documents give equal text (and hashes). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Sample rows come out of the driver already in the API's shape (no second object per sample). */
const SAMPLE_COLUMNS = 'time_seconds AS "timeSeconds", value';
type SampleRowOut = { timeSeconds: number; value: number };
/** Both drivers give DOUBLE PRECISION as JS numbers; convert only if one ever does not. */
function samplesOut(rows: SampleRowOut[]): SampleRowOut[] {
  for (const r of rows) {
    if (typeof r.timeSeconds !== 'number') r.timeSeconds = Number(r.timeSeconds);
    if (typeof r.value !== 'number') r.value = Number(r.value);
  }
  return rows;
}

/**
 * Where the engine has no exact change signal (PostgreSQL), how long a
 * verified token is reused before it is looked up again: a token revoked by
 * another server process on the same database is refused at most this long
 * after the revocation commits (through this store: at once).
 */
export const TOKEN_CACHE_TTL_MS = 2000;

export interface SqlStoreOptions {
  /** Token reuse bound where the engine has no exact change signal (default TOKEN_CACHE_TTL_MS; 0: look up every time). */
  readonly tokenCacheTtlMs?: number;
  /** Monotonic clock in milliseconds for that bound; injected by tests. */
  readonly nowMs?: () => number;
}

/** Lock key serializing configuration writers (version numbers) on PostgreSQL. */
const CONFIG_LOCK = 7_400_002;

/** FROM and WHERE of the latest version of each document of one kind, unless it is a deletion (alias `c`); `kind` is `?` or a quoted constant. */
function liveConfig(kind: string): string {
  return `FROM config_documents c
       JOIN (SELECT name, MAX(version) AS version FROM config_documents WHERE kind = ${kind} GROUP BY name) m ON c.name = m.name AND c.version = m.version
       WHERE c.kind = ${kind} AND c.deleted = 0`;
}

/**
 * Everything `status()` reads, as one statement: one prepared statement and
 * one round trip on PostgreSQL (five separate statements cost five parses
 * and plans there), one read transaction on SQLite, and one snapshot on both.
 * Each part's rows are tagged and mapped onto shared columns: part 0 the
 * latest cycle (n1 id, n2 started, n3 finished, t1 mode, t2 status, t3
 * summary, t4 error), 1 live workload names, 2 live pool names, 3 series
 * summaries (t1 workload, n1 samples, n2 first, n3 last), 4 the number of
 * open actions (n1). Names sort as `ORDER BY name` sorts them elsewhere.
 */
const STATUS = `SELECT 0 AS part, id AS n1, started_at_seconds AS n2, finished_at_seconds AS n3, mode AS t1, status AS t2, summary AS t3, error AS t4
       FROM (SELECT * FROM loop_cycles ORDER BY id DESC LIMIT 1) last_cycle
     UNION ALL SELECT 1, NULL, NULL, NULL, c.name, NULL, NULL, NULL ${liveConfig("'workload'")}
     UNION ALL SELECT 2, NULL, NULL, NULL, c.name, NULL, NULL, NULL ${liveConfig("'pool'")}
     UNION ALL SELECT 3, samples, first_seconds, last_seconds, workload, NULL, NULL, NULL FROM series_stats
     UNION ALL SELECT 4, COUNT(*), NULL, NULL, NULL, NULL, NULL, NULL FROM actions WHERE status IN ('pending', 'sent')
     ORDER BY part, t1`;

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const optNum = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : num(v));
const optStr = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : String(v));

/** The Store over SQL that both SQLite and PostgreSQL run. */
export class SqlStore implements Store {
  readonly actions: ActionLog;
  readonly requests: SqlRequestStore;
  /** Verified tokens by hash (see findTokenByHash). */
  private readonly tokens: TokenCache;

  private constructor(private readonly db: Db, options: SqlStoreOptions) {
    this.actions = new SqlActionLog(db);
    this.requests = new SqlRequestStore(db);
    const counter = db.changeCounter?.bind(db);
    this.tokens = new TokenCache(counter ? { kind: 'changeCounter', counter } : { kind: 'ttl', ttlMs: options.tokenCacheTtlMs ?? TOKEN_CACHE_TTL_MS, nowMs: options.nowMs ?? (() => performance.now()) });
  }

  /** Open a store on `db`, migrating its schema to the current version. */
  static async open(db: Db, options: SqlStoreOptions = {}): Promise<SqlStore> {
    await migrate(db);
    return new SqlStore(db, options);
  }

  get dialect(): 'sqlite' | 'postgres' {
    return this.db.dialect;
  }

  // ---- samples ----

  async insertSamples(samples: readonly SampleInput[], mark?: HighWaterMark): Promise<IngestResult> {
    samples.forEach((s, i) => {
      if (typeof s.workload !== 'string' || s.workload.length === 0) throw new InvalidInputError(`samples[${i}].workload`, 'must be a non-empty string');
      if (!Number.isFinite(s.timeSeconds)) throw new InvalidInputError(`samples[${i}].timeSeconds`, `must be a finite number of epoch seconds, got ${s.timeSeconds}`);
      if (!Number.isFinite(s.value) || s.value < 0) throw new InvalidInputError(`samples[${i}].value`, `must be a finite, non-negative number, got ${s.value}`);
    });
    // Group by workload (in name order, so concurrent writers lock statistics rows in one order).
    const groups = new Map<string, SampleInput[]>();
    for (const s of samples) {
      let g = groups.get(s.workload);
      if (!g) groups.set(s.workload, (g = []));
      g.push(s);
    }
    const names = [...groups.keys()].sort();
    return this.db.transaction(async (tx) => {
      let accepted = 0;
      for (const name of names) {
        const g = groups.get(name)!;
        const n = await tx.insertSamples(g);
        accepted += n;
        if (n === 0) continue;
        // The batch's time range bounds the new samples' range exactly: its duplicates lie inside the stored range already.
        let first = Infinity;
        let last = -Infinity;
        for (const s of g) {
          if (s.timeSeconds < first) first = s.timeSeconds;
          if (s.timeSeconds > last) last = s.timeSeconds;
        }
        await tx.run(
          `INSERT INTO series_stats (workload, samples, first_seconds, last_seconds) VALUES (?, ?, ?, ?)
           ON CONFLICT (workload) DO UPDATE SET samples = series_stats.samples + excluded.samples,
             first_seconds = CASE WHEN excluded.first_seconds < series_stats.first_seconds THEN excluded.first_seconds ELSE series_stats.first_seconds END,
             last_seconds = CASE WHEN excluded.last_seconds > series_stats.last_seconds THEN excluded.last_seconds ELSE series_stats.last_seconds END`,
          [name, n, first, last],
        );
      }
      if (mark) {
        await tx.run(
          'INSERT INTO ingest_marks (source, workload, high_water_seconds) VALUES (?, ?, ?) ON CONFLICT (source, workload) DO UPDATE SET high_water_seconds = excluded.high_water_seconds',
          [mark.source, mark.workload, mark.seconds],
        );
      }
      return { accepted, duplicates: samples.length - accepted };
    });
  }

  async readSamples(workload: string, fromSeconds: number, toSeconds: number, lastN?: number): Promise<{ timeSeconds: number; value: number }[]> {
    if (lastN !== undefined) {
      // The limit in SQL (a backward walk of the primary key), so a request for the latest N never materializes the whole range.
      const rows = await this.db.query<SampleRowOut>(`SELECT ${SAMPLE_COLUMNS} FROM samples WHERE workload = ? AND time_seconds >= ? AND time_seconds < ? ORDER BY time_seconds DESC LIMIT ?`, [workload, fromSeconds, toSeconds, lastN]);
      return samplesOut(rows).reverse();
    }
    const rows = await this.db.query<SampleRowOut>(`SELECT ${SAMPLE_COLUMNS} FROM samples WHERE workload = ? AND time_seconds >= ? AND time_seconds < ? ORDER BY time_seconds`, [workload, fromSeconds, toSeconds]);
    return samplesOut(rows);
  }

  async countSamples(workload?: string): Promise<number> {
    const rows = workload === undefined ? await this.db.query('SELECT COUNT(*) AS n FROM samples') : await this.db.query('SELECT COUNT(*) AS n FROM samples WHERE workload = ?', [workload]);
    return num(rows[0].n);
  }

  async seriesSummaries(): Promise<SeriesSummary[]> {
    const rows = await this.db.query('SELECT workload, samples, first_seconds, last_seconds FROM series_stats ORDER BY workload');
    return rows.map((r) => ({ workload: String(r.workload), samples: num(r.samples), firstSeconds: num(r.first_seconds), lastSeconds: num(r.last_seconds) }));
  }

  async highWaterMark(source: string, workload: string): Promise<number | undefined> {
    const rows = await this.db.query('SELECT high_water_seconds FROM ingest_marks WHERE source = ? AND workload = ?', [source, workload]);
    return rows.length ? num(rows[0].high_water_seconds) : undefined;
  }

  // ---- configuration ----

  private static configRow(r: Row): ConfigDocument {
    return {
      kind: String(r.kind) as ConfigKind,
      name: String(r.name),
      version: num(r.version),
      document: r.document === null || r.document === undefined ? null : JSON.parse(String(r.document)),
      hash: String(r.hash),
      updatedAtSeconds: num(r.created_at_seconds),
    };
  }

  async applyConfig(docs: readonly ConfigInput[], atSeconds: number): Promise<{ kind: ConfigKind; name: string; version: number; change: ConfigChange }[]> {
    return this.db.transaction(async (tx) => {
      await tx.lock(CONFIG_LOCK);
      const out: { kind: ConfigKind; name: string; version: number; change: ConfigChange }[] = [];
      for (const d of docs) {
        const text = canonicalJson(d.document);
        const hash = sha256Hex(text);
        const latest = await tx.query('SELECT version, hash, deleted FROM config_documents WHERE kind = ? AND name = ? ORDER BY version DESC LIMIT 1', [d.kind, d.name]);
        const live = latest.length > 0 && num(latest[0].deleted) === 0;
        if (live && String(latest[0].hash) === hash) {
          out.push({ kind: d.kind, name: d.name, version: num(latest[0].version), change: 'unchanged' });
          continue;
        }
        const version = latest.length ? num(latest[0].version) + 1 : 1;
        await tx.run('INSERT INTO config_documents (kind, name, version, document, hash, deleted, created_at_seconds) VALUES (?, ?, ?, ?, ?, 0, ?)', [d.kind, d.name, version, text, hash, atSeconds]);
        out.push({ kind: d.kind, name: d.name, version, change: live ? 'updated' : 'created' });
      }
      return out;
    });
  }

  async getConfig(kind: ConfigKind, name: string): Promise<ConfigDocument | undefined> {
    const rows = await this.db.query('SELECT * FROM config_documents WHERE kind = ? AND name = ? ORDER BY version DESC LIMIT 1', [kind, name]);
    if (rows.length === 0 || num(rows[0].deleted) !== 0) return undefined;
    return SqlStore.configRow(rows[0]);
  }

  async listConfig(kind: ConfigKind): Promise<ConfigDocument[]> {
    return (await this.db.query(`SELECT c.* ${liveConfig('?')} ORDER BY c.name`, [kind, kind])).map(SqlStore.configRow);
  }

  async configHistory(kind: ConfigKind, name: string): Promise<ConfigDocument[]> {
    const rows = await this.db.query('SELECT * FROM config_documents WHERE kind = ? AND name = ? ORDER BY version', [kind, name]);
    return rows.map(SqlStore.configRow);
  }

  async deleteConfig(kind: ConfigKind, name: string, atSeconds: number): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      await tx.lock(CONFIG_LOCK);
      const latest = await tx.query('SELECT version, deleted FROM config_documents WHERE kind = ? AND name = ? ORDER BY version DESC LIMIT 1', [kind, name]);
      if (latest.length === 0 || num(latest[0].deleted) !== 0) return false;
      await tx.run("INSERT INTO config_documents (kind, name, version, document, hash, deleted, created_at_seconds) VALUES (?, ?, ?, NULL, '', 1, ?)", [kind, name, num(latest[0].version) + 1, atSeconds]);
      return true;
    });
  }

  // ---- forecasts ----

  private static forecastRow(r: Row): StoredForecast {
    const forecast: QuantileForecast = {
      model: String(r.model),
      startSeconds: num(r.start_seconds),
      stepSeconds: num(r.step_seconds),
      mean: JSON.parse(String(r.mean)),
      quantiles: JSON.parse(String(r.quantiles)),
    };
    return { id: num(r.id), workload: String(r.workload), cycleId: optNum(r.cycle_id), createdAtSeconds: num(r.created_at_seconds), forecast };
  }

  async insertForecast(workload: string, forecast: QuantileForecast, atSeconds: number, cycleId?: number): Promise<number> {
    const rows = await this.db.transaction((tx) =>
      tx.query('INSERT INTO forecasts (workload, cycle_id, created_at_seconds, model, start_seconds, step_seconds, mean, quantiles) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id', [
        workload,
        cycleId ?? null,
        atSeconds,
        forecast.model,
        forecast.startSeconds,
        forecast.stepSeconds,
        JSON.stringify(forecast.mean),
        JSON.stringify(forecast.quantiles),
      ]),
    );
    return num(rows[0].id);
  }

  async latestForecast(workload: string): Promise<StoredForecast | undefined> {
    return (await this.listForecasts(workload, 1))[0];
  }

  async listForecasts(workload: string, limit: number): Promise<StoredForecast[]> {
    const rows = await this.db.query('SELECT * FROM forecasts WHERE workload = ? ORDER BY id DESC LIMIT ?', [workload, limit]);
    return rows.map(SqlStore.forecastRow);
  }

  // ---- plans ----

  private static planRow(r: Row): StoredPlan {
    return {
      id: num(r.id),
      cycleId: optNum(r.cycle_id),
      mode: String(r.mode) as LoopMode,
      decidedAtSeconds: num(r.decided_at_seconds),
      target: JSON.parse(String(r.target)),
      actions: JSON.parse(String(r.actions)),
      explanation: JSON.parse(String(r.explanation)),
    };
  }

  async insertPlan(plan: Omit<StoredPlan, 'id'>): Promise<number> {
    const rows = await this.db.transaction((tx) =>
      tx.query('INSERT INTO plans (cycle_id, mode, decided_at_seconds, target, actions, explanation) VALUES (?, ?, ?, ?, ?, ?) RETURNING id', [
        plan.cycleId ?? null,
        plan.mode,
        plan.decidedAtSeconds,
        JSON.stringify(plan.target),
        JSON.stringify(plan.actions),
        JSON.stringify(plan.explanation ?? null),
      ]),
    );
    return num(rows[0].id);
  }

  async getPlan(id: number): Promise<StoredPlan | undefined> {
    const rows = await this.db.query('SELECT * FROM plans WHERE id = ?', [id]);
    return rows.length ? SqlStore.planRow(rows[0]) : undefined;
  }

  async planOfCycle(cycleId: number): Promise<StoredPlan | undefined> {
    const rows = await this.db.query('SELECT * FROM plans WHERE cycle_id = ? ORDER BY id DESC LIMIT 1', [cycleId]);
    return rows.length ? SqlStore.planRow(rows[0]) : undefined;
  }

  async listPlans(limit: number): Promise<StoredPlan[]> {
    const rows = await this.db.query('SELECT * FROM plans ORDER BY id DESC LIMIT ?', [limit]);
    return rows.map(SqlStore.planRow);
  }

  // ---- cycles ----

  private static cycleRow(r: Row): LoopCycle {
    return {
      id: num(r.id),
      mode: String(r.mode) as LoopMode,
      status: String(r.status) as CycleStatus,
      startedAtSeconds: num(r.started_at_seconds),
      finishedAtSeconds: optNum(r.finished_at_seconds),
      summary: r.summary === null || r.summary === undefined ? undefined : JSON.parse(String(r.summary)),
      error: optStr(r.error),
    };
  }

  async startCycle(mode: LoopMode, atSeconds: number): Promise<number> {
    const rows = await this.db.transaction((tx) => tx.query("INSERT INTO loop_cycles (mode, status, started_at_seconds) VALUES (?, 'running', ?) RETURNING id", [mode, atSeconds]));
    return num(rows[0].id);
  }

  async finishCycle(id: number, result: { status: Exclude<CycleStatus, 'running'>; atSeconds: number; summary?: unknown; error?: string }): Promise<void> {
    await this.db.run('UPDATE loop_cycles SET status = ?, finished_at_seconds = ?, summary = ?, error = ? WHERE id = ?', [
      result.status,
      result.atSeconds,
      result.summary === undefined ? null : JSON.stringify(result.summary),
      result.error ?? null,
      id,
    ]);
  }

  async getCycle(id: number): Promise<LoopCycle | undefined> {
    const rows = await this.db.query('SELECT * FROM loop_cycles WHERE id = ?', [id]);
    return rows.length ? SqlStore.cycleRow(rows[0]) : undefined;
  }

  async listCycles(limit: number): Promise<LoopCycle[]> {
    const rows = await this.db.query('SELECT * FROM loop_cycles ORDER BY id DESC LIMIT ?', [limit]);
    return rows.map(SqlStore.cycleRow);
  }

  async interruptRunningCycles(atSeconds: number): Promise<LoopCycle[]> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query("SELECT * FROM loop_cycles WHERE status = 'running' ORDER BY id");
      await tx.run("UPDATE loop_cycles SET status = 'interrupted', finished_at_seconds = ?, error = 'the process stopped during this cycle' WHERE status = 'running'", [atSeconds]);
      return rows.map((r) => ({ ...SqlStore.cycleRow(r), status: 'interrupted' as const }));
    });
  }

  async status(): Promise<StoreStatus> {
    const workloads: string[] = [];
    const pools: string[] = [];
    const series: SeriesSummary[] = [];
    let lastCycle: LoopCycle | undefined;
    let openActions = 0;
    for (const r of await this.db.query(STATUS)) {
      const part = num(r.part);
      if (part === 0) {
        lastCycle = SqlStore.cycleRow({ id: r.n1, mode: r.t1, status: r.t2, started_at_seconds: r.n2, finished_at_seconds: r.n3, summary: r.t3, error: r.t4 });
      } else if (part === 1) workloads.push(String(r.t1));
      else if (part === 2) pools.push(String(r.t1));
      else if (part === 3) series.push({ workload: String(r.t1), samples: num(r.n1), firstSeconds: num(r.n2), lastSeconds: num(r.n3) });
      else openActions = num(r.n1);
    }
    return { workloads, pools, series, lastCycle, openActions };
  }

  async recentActions(limit: number, statuses?: readonly ActionStatus[]): Promise<ActionRecord[]> {
    if (statuses && statuses.length === 0) return [];
    const where = statuses ? `WHERE status IN (${statuses.map(() => '?').join(', ')})` : '';
    const rows = await this.db.query(`SELECT * FROM (SELECT * FROM actions ${where} ORDER BY seq DESC LIMIT ?) recent ORDER BY seq`, [...(statuses ?? []), limit]);
    return rows.map(actionRow);
  }

  // ---- tokens ----

  private static tokenRow(r: Row): ApiToken {
    return { id: String(r.id), name: String(r.name), role: String(r.role) as Role, createdAtSeconds: num(r.created_at_seconds), revokedAtSeconds: optNum(r.revoked_at_seconds) };
  }

  async createToken(token: ApiToken, tokenHash: string): Promise<void> {
    await this.db.run('INSERT INTO api_tokens (id, name, role, token_hash, created_at_seconds) VALUES (?, ?, ?, ?, ?)', [token.id, token.name, token.role, tokenHash, token.createdAtSeconds]);
  }

  /**
   * Every authenticated request asks this, so a verified token is remembered
   * (src/store/tokenCache.ts). On SQLite it is reused only while the
   * database's change counter shows no commit at all, from any connection or
   * process: a revocation anywhere is seen by the next request, exactly as
   * without the cache. On PostgreSQL, which has no cheap exact signal, it is
   * reused for at most `tokenCacheTtlMs` (2 s) after its lookup began: a
   * revocation through this store is seen at once, one committed by another
   * process within that bound. Unknown hashes are never remembered.
   */
  async findTokenByHash(tokenHash: string): Promise<ApiToken | undefined> {
    const hit = this.tokens.get(tokenHash);
    if (hit) return hit;
    const start = this.tokens.begin();
    const rows = await this.db.query('SELECT * FROM api_tokens WHERE token_hash = ? AND revoked_at_seconds IS NULL', [tokenHash]);
    const token = rows.length ? Object.freeze(SqlStore.tokenRow(rows[0])) : undefined;
    this.tokens.remember(tokenHash, token, start);
    return token;
  }

  async listTokens(): Promise<ApiToken[]> {
    return (await this.db.query('SELECT * FROM api_tokens ORDER BY created_at_seconds, id')).map(SqlStore.tokenRow);
  }

  async revokeToken(id: string, atSeconds: number): Promise<boolean> {
    try {
      return (await this.db.run('UPDATE api_tokens SET revoked_at_seconds = ? WHERE id = ? AND revoked_at_seconds IS NULL', [atSeconds, id])) > 0;
    } finally {
      // After the commit (or a failure): lookups still in flight may have read the token before it, so none of them is remembered.
      this.tokens.invalidate();
    }
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

/** The ActionLog on the `actions` table; `seq` keeps begin order. */
function actionRow(r: Row): ActionRecord {
  const undoes = optStr(r.undoes);
  const error = optStr(r.error);
  return {
    action: JSON.parse(String(r.action)) as Action,
    status: String(r.status) as ActionStatus,
    attempts: num(r.attempts),
    updatedAtSeconds: num(r.updated_at_seconds),
    ...(error !== undefined ? { error } : {}),
    ...(undoes !== undefined ? { undoes } : {}),
  };
}

class SqlActionLog implements ActionLog {
  constructor(private readonly db: Db) {}

  private static row(r: Row): ActionRecord {
    return actionRow(r);
  }

  async begin(action: Action, atSeconds: number, undoes?: string): Promise<{ record: ActionRecord; created: boolean }> {
    return this.db.transaction(async (tx) => {
      const created = await tx.run("INSERT INTO actions (id, action, status, attempts, updated_at_seconds, undoes) VALUES (?, ?, 'pending', 0, ?, ?) ON CONFLICT (id) DO NOTHING", [
        action.id,
        JSON.stringify(action),
        atSeconds,
        undoes ?? null,
      ]);
      const rows = await tx.query('SELECT * FROM actions WHERE id = ?', [action.id]);
      return { record: SqlActionLog.row(rows[0]), created: created > 0 };
    });
  }

  async update(id: string, change: ActionLogUpdate): Promise<ActionRecord> {
    return this.db.transaction(async (tx) => {
      const sets = ['status = ?', 'updated_at_seconds = ?', 'error = ?'];
      const params: (string | number | null)[] = [change.status, change.atSeconds, change.error ?? null];
      if (change.attempts !== undefined) {
        sets.push('attempts = ?');
        params.push(change.attempts);
      }
      const n = await tx.run(`UPDATE actions SET ${sets.join(', ')} WHERE id = ?`, [...params, id]);
      if (n === 0) throw new Error(`action log has no action "${id}"`);
      const rows = await tx.query('SELECT * FROM actions WHERE id = ?', [id]);
      return SqlActionLog.row(rows[0]);
    });
  }

  async get(id: string): Promise<ActionRecord | undefined> {
    const rows = await this.db.query('SELECT * FROM actions WHERE id = ?', [id]);
    return rows.length ? SqlActionLog.row(rows[0]) : undefined;
  }

  async list(filter?: { readonly statuses?: readonly ActionStatus[] }): Promise<ActionRecord[]> {
    const statuses = filter?.statuses;
    if (statuses && statuses.length === 0) return [];
    const rows = statuses
      ? await this.db.query(`SELECT * FROM actions WHERE status IN (${statuses.map(() => '?').join(', ')}) ORDER BY seq`, statuses)
      : await this.db.query('SELECT * FROM actions ORDER BY seq');
    return rows.map(SqlActionLog.row);
  }
}
