import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';

/** A row as a driver returns it: column name -> value. */
export type Row = Record<string, unknown>;
export type Param = string | number | null;
export type Dialect = 'sqlite' | 'postgres';

/** A sample row for bulk insert: workload, epoch seconds, value. */
export interface SampleRow {
  readonly workload: string;
  readonly timeSeconds: number;
  readonly value: number;
}

/**
 * The little SQL both engines share. Statements are written once with `?`
 * placeholders (PostgreSQL's `$n` are substituted); the only dialect-specific
 * operations are the bulk sample insert and the lock that serializes
 * configuration writers.
 */
export interface Db {
  readonly dialect: Dialect;
  query<T extends Row = Row>(sql: string, params?: readonly Param[]): Promise<T[]>;
  run(sql: string, params?: readonly Param[]): Promise<number>;
  /** Run several statements (migrations); no parameters. */
  exec(sql: string): Promise<void>;
  /** Insert samples, skipping (workload, time) pairs already stored; returns how many were new. */
  insertSamples(rows: readonly SampleRow[]): Promise<number>;
  /** Take a lock held until the transaction ends, serializing writers of one kind (no-op where writers are serial anyway). */
  lock(key: number): Promise<void>;
  /** Run `fn` in one transaction: everything or nothing. */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /**
   * A number that changes whenever any connection (this process's writer or
   * another process) has committed since the last call saw it; undefined
   * where the engine offers no cheap exact signal (PostgreSQL). Lets a cache
   * of a read be exactly as fresh as the read itself.
   */
  changeCounter?(): number;
}

/** `?` -> `$1, $2, …` (our SQL has no `?` inside string literals). */
export function toPgPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/**
 * SQLite's text for a statement: `LIMIT ?` becomes `LIMIT CAST(? AS INTEGER)`.
 * SQLite (3.4x, built with STAT4 as better-sqlite3 is) reads a bare `LIMIT ?`'s
 * bound value while planning and so marks the statement expired whenever that
 * parameter is bound again: every execution parsed and planned it anew
 * (measured here: 4.4-5.8 µs against 0.45 µs per execution in a tight loop,
 * far more in the server, where `sqlite3RunParser` showed in `perf` profiles).
 * A CAST is not a bare parameter, so the prepared plan is kept. Equal for the
 * integer limits callers pass (validated as integers at the API).
 */
export function toSqliteSql(sql: string): string {
  return sql.replace(/\bLIMIT \?/g, 'LIMIT CAST(? AS INTEGER)');
}

/**
 * A function turning one array row into an object with these column names,
 * compiled once per statement: an object literal with fixed keys, so V8 makes
 * every row with one shape (300 two-column rows: 2-3 µs, against 11-16 µs
 * assigning keys in a loop shared by all statements, which V8 handles as a
 * megamorphic keyed store). A later duplicate name wins, as with assignment.
 */
export function rowBuilder(names: readonly string[]): (values: unknown[]) => Row {
  if (names.includes('__proto__')) {
    // An object literal would set the prototype; assign as before instead.
    return (values) => {
      const row: Row = {};
      names.forEach((n, c) => (row[n] = values[c]));
      return row;
    };
  }
  return new Function('v', `return { ${names.map((n, c) => `${JSON.stringify(n)}: v[${c}]`).join(', ')} };`) as (values: unknown[]) => Row;
}

/** A FIFO async mutex: one holder at a time. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  async run<T>(fn: () => Promise<T> | T): Promise<T> {
    const prev = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((r) => (release = r));
    await prev;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

/**
 * SQLite through better-sqlite3 (synchronous, in process). One writer
 * connection behind a mutex, so a transaction spanning awaits never lets
 * another request's statement slip into it; a second, read-only connection
 * answers reads outside transactions, seeing only committed data (WAL mode
 * lets it read while the writer writes). Other processes writing the same
 * file wait on SQLite's own lock (busy timeout).
 */
export class SqliteDb implements Db {
  readonly dialect = 'sqlite' as const;
  private readonly writer: Database.Database;
  private readonly reader: Database.Database;
  private readonly mutex = new Mutex();
  private readonly writeStatements = new Map<string, Database.Statement>();
  private readonly readStatements = new Map<string, Database.Statement>();

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.writer = new Database(path);
    this.writer.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a committed transaction survives a process crash
    // (kill -9); only an OS crash or power loss can lose the last commits.
    this.writer.pragma('synchronous = NORMAL');
    this.writer.pragma('busy_timeout = 10000');
    this.writer.pragma('foreign_keys = ON');
    this.reader = new Database(path, { readonly: true, fileMustExist: true });
    this.reader.pragma('busy_timeout = 10000');
  }

  /** SQLite's data_version on the read connection: it changes with every commit made by any other connection, our writer included. */
  changeCounter(): number {
    // Prepared once: db.pragma() compiles the statement on every call (10.8 µs against 4.7 µs, measured on this machine under load).
    this.dataVersion ??= this.reader.prepare('PRAGMA data_version').pluck();
    return this.dataVersion.get() as number;
  }
  private dataVersion?: Database.Statement;

  private prepared(db: Database.Database, cache: Map<string, Database.Statement>, sql: string): Database.Statement {
    let s = cache.get(sql);
    if (!s) {
      s = db.prepare(toSqliteSql(sql));
      cache.set(sql, s);
    }
    return s;
  }

  private txDb(): Db {
    const self = this;
    const tx: Db = {
      dialect: 'sqlite',
      query: async <T extends Row>(sql: string, params: readonly Param[] = []) => self.allOn(self.writer, self.writeStatements, sql, params) as T[],
      run: async (sql, params = []) => self.prepared(self.writer, self.writeStatements, sql).run(...params).changes,
      exec: async (sql) => void self.writer.exec(sql),
      insertSamples: async (rows) => self.insertSamplesNow(rows),
      lock: async () => undefined,
      transaction: (fn) => fn(tx),
      close: async () => undefined,
    };
    return tx;
  }

  private allOn(db: Database.Database, cache: Map<string, Database.Statement>, sql: string, params: readonly Param[]): Row[] {
    const s = this.prepared(db, cache, sql);
    if (!s.reader) {
      s.run(...params);
      return [];
    }
    // Rows as arrays, then objects built here: better-sqlite3 builds each row
    // object key by key in C++, which costs about twice as much (measured on
    // this machine: 300 rows of two columns, 457 µs as objects against 236 µs).
    let build = this.rowBuilders.get(s);
    if (!build) {
      build = rowBuilder(s.columns().map((c) => c.name));
      this.rowBuilders.set(s, build);
      s.raw(true);
    }
    const rows = s.all(...params) as unknown[][];
    const out: Row[] = new Array(rows.length);
    for (let r = 0; r < rows.length; r++) out[r] = build(rows[r]);
    return out;
  }
  private readonly rowBuilders = new WeakMap<Database.Statement, (values: unknown[]) => Row>();

  private insertSamplesNow(rows: readonly SampleRow[]): number {
    // Multi-row statements (fewer statement steps per sample); the remainder one by one.
    const CHUNK = 200;
    const many = this.prepared(this.writer, this.writeStatements, `INSERT INTO samples (workload, time_seconds, value) VALUES ${Array(CHUNK).fill('(?, ?, ?)').join(', ')} ON CONFLICT DO NOTHING`);
    const one = this.prepared(this.writer, this.writeStatements, 'INSERT INTO samples (workload, time_seconds, value) VALUES (?, ?, ?) ON CONFLICT DO NOTHING');
    let n = 0;
    let i = 0;
    const params: Param[] = new Array(CHUNK * 3);
    for (; i + CHUNK <= rows.length; i += CHUNK) {
      for (let k = 0; k < CHUNK; k++) {
        const r = rows[i + k];
        params[3 * k] = r.workload;
        params[3 * k + 1] = r.timeSeconds;
        params[3 * k + 2] = r.value;
      }
      n += many.run(...params).changes;
    }
    for (; i < rows.length; i++) n += one.run(rows[i].workload, rows[i].timeSeconds, rows[i].value).changes;
    return n;
  }

  async query<T extends Row = Row>(sql: string, params: readonly Param[] = []): Promise<T[]> {
    if (/^\s*SELECT\b/i.test(sql)) return this.allOn(this.reader, this.readStatements, sql, params) as T[];
    // A write outside a transaction goes through the writer.
    return this.mutex.run(() => this.allOn(this.writer, this.writeStatements, sql, params) as T[]);
  }

  run(sql: string, params: readonly Param[] = []): Promise<number> {
    return this.mutex.run(() => this.prepared(this.writer, this.writeStatements, sql).run(...params).changes);
  }

  exec(sql: string): Promise<void> {
    return this.mutex.run(() => void this.writer.exec(sql));
  }

  insertSamples(rows: readonly SampleRow[]): Promise<number> {
    return this.transaction(async (tx) => tx.insertSamples(rows));
  }

  async lock(): Promise<void> {}

  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    return this.mutex.run(async () => {
      // IMMEDIATE: take the write lock now, so another process cannot make this transaction fail halfway.
      this.writer.exec('BEGIN IMMEDIATE');
      try {
        const out = await fn(this.txDb());
        this.writer.exec('COMMIT');
        return out;
      } catch (e) {
        if (this.writer.inTransaction) this.writer.exec('ROLLBACK');
        throw e;
      }
    });
  }

  async close(): Promise<void> {
    await this.mutex.run(() => {
      this.reader.close();
      this.writer.close();
    });
  }
}

/**
 * How many distinct SQL texts run as named (prepared) statements; beyond it,
 * unnamed. Bounded because a few texts are built from input (an IN list as
 * long as the statuses asked for) and each connection keeps its statements.
 */
const NAMED_STATEMENTS = 256;

/** "cached plan must not change result type": a prepared `SELECT *` whose table another process has altered. */
const isStalePreparedStatement = (e: unknown): boolean => (e as { code?: string }).code === '0A000' && /cached plan/.test(String((e as Error).message));

/**
 * PostgreSQL through node-postgres: a connection pool; a transaction holds one
 * connection. Statements outside transactions run as named statements, so
 * each connection has PostgreSQL parse and plan them once (measured here on a
 * one-row read: backend CPU 100-150 µs per query unnamed, 40-55 µs named).
 */
export class PostgresDb implements Db {
  readonly dialect = 'postgres' as const;
  private readonly pool: pg.Pool;
  /** SQL text with `?` -> its `$n` text and statement name (none once the bound is reached or the statement went stale). */
  private readonly statements = new Map<string, { readonly text: string; name?: string }>();

  constructor(connectionString: string, options: { maxConnections?: number } = {}) {
    this.pool = new pg.Pool({ connectionString, max: options.maxConnections ?? 10 });
    // An idle client that loses its server must not crash the process; the next query reports it.
    this.pool.on('error', () => undefined);
  }

  private static on(client: pg.Pool | pg.PoolClient): Db {
    const db: Db = {
      dialect: 'postgres',
      query: async <T extends Row>(sql: string, params: readonly Param[] = []) => (await client.query(toPgPlaceholders(sql), params as Param[])).rows as T[],
      run: async (sql, params = []) => (await client.query(toPgPlaceholders(sql), params as Param[])).rowCount ?? 0,
      exec: async (sql) => void (await client.query(sql)),
      insertSamples: async (rows) => {
        if (rows.length === 0) return 0;
        // One statement per batch: three arrays unnested into rows.
        const r = await client.query(
          'INSERT INTO samples (workload, time_seconds, value) SELECT * FROM unnest($1::text[], $2::float8[], $3::float8[]) ON CONFLICT DO NOTHING',
          [rows.map((s) => s.workload), rows.map((s) => s.timeSeconds), rows.map((s) => s.value)],
        );
        return r.rowCount ?? 0;
      },
      lock: async (key) => void (await client.query('SELECT pg_advisory_xact_lock($1)', [key])),
      transaction: async () => {
        throw new Error('nested transactions are not supported');
      },
      close: async () => undefined,
    };
    return db;
  }

  /** Run `sql` on the pool as a named statement (see NAMED_STATEMENTS). */
  private async pooled(sql: string, params: readonly Param[]): Promise<pg.QueryResult> {
    let s = this.statements.get(sql);
    if (!s) {
      s = { text: toPgPlaceholders(sql) };
      if (this.statements.size < NAMED_STATEMENTS) {
        s.name = `headroom_${this.statements.size}`;
        this.statements.set(sql, s);
      }
    }
    if (s.name === undefined) return this.pool.query(s.text, params as Param[]);
    try {
      return await this.pool.query({ name: s.name, text: s.text, values: params as Param[] });
    } catch (e) {
      // Another process changed the table's columns (a newer version's migration): PostgreSQL refuses the
      // prepared statement before running it, so running the text unnamed, from now on, is safe.
      if (!isStalePreparedStatement(e)) throw e;
      s.name = undefined;
      return this.pool.query(s.text, params as Param[]);
    }
  }

  async query<T extends Row = Row>(sql: string, params: readonly Param[] = []): Promise<T[]> {
    return (await this.pooled(sql, params)).rows as T[];
  }
  async run(sql: string, params: readonly Param[] = []): Promise<number> {
    return (await this.pooled(sql, params)).rowCount ?? 0;
  }
  exec(sql: string): Promise<void> {
    return PostgresDb.on(this.pool).exec(sql);
  }
  insertSamples(rows: readonly SampleRow[]): Promise<number> {
    return PostgresDb.on(this.pool).insertSamples(rows);
  }
  async lock(): Promise<void> {
    throw new Error('lock() needs a transaction');
  }

  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const out = await fn(PostgresDb.on(client));
      await client.query('COMMIT');
      return out;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
