import type { Db } from './db.ts';

/**
 * The schema, as numbered migrations shared by SQLite and PostgreSQL. Types
 * are chosen to mean the same on both (TEXT, INTEGER, BIGINT, DOUBLE
 * PRECISION); JSON documents are stored as TEXT. `{{serial}}` is an
 * auto-incrementing integer primary key in each dialect. Never edit an applied
 * migration: add the next number.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE samples (
  workload TEXT NOT NULL,
  time_seconds DOUBLE PRECISION NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (workload, time_seconds)
){{withoutRowid}};
CREATE TABLE ingest_marks (
  source TEXT NOT NULL,
  workload TEXT NOT NULL,
  high_water_seconds DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (source, workload)
);
CREATE TABLE config_documents (
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  document TEXT,
  hash TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  created_at_seconds DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (kind, name, version)
);
CREATE TABLE loop_cycles (
  id {{serial}},
  mode TEXT NOT NULL,
  status TEXT NOT NULL,
  started_at_seconds DOUBLE PRECISION NOT NULL,
  finished_at_seconds DOUBLE PRECISION,
  summary TEXT,
  error TEXT
);
CREATE TABLE forecasts (
  id {{serial}},
  workload TEXT NOT NULL,
  cycle_id BIGINT,
  created_at_seconds DOUBLE PRECISION NOT NULL,
  model TEXT NOT NULL,
  start_seconds DOUBLE PRECISION NOT NULL,
  step_seconds DOUBLE PRECISION NOT NULL,
  mean TEXT NOT NULL,
  quantiles TEXT NOT NULL
);
CREATE INDEX forecasts_by_workload ON forecasts (workload, id);
CREATE TABLE plans (
  id {{serial}},
  cycle_id BIGINT,
  mode TEXT NOT NULL,
  decided_at_seconds DOUBLE PRECISION NOT NULL,
  target TEXT NOT NULL,
  actions TEXT NOT NULL,
  explanation TEXT NOT NULL
);
CREATE TABLE actions (
  seq {{serial}},
  id TEXT NOT NULL UNIQUE,
  action TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  updated_at_seconds DOUBLE PRECISION NOT NULL,
  error TEXT,
  undoes TEXT
);
CREATE INDEX actions_by_status ON actions (status);
CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at_seconds DOUBLE PRECISION NOT NULL,
  revoked_at_seconds DOUBLE PRECISION
);
`,
  },
  {
    version: 2,
    name: 'per-workload sample statistics',
    // Kept by every insert, so status pages need no scan of the samples.
    sql: `
CREATE TABLE series_stats (
  workload TEXT PRIMARY KEY,
  samples BIGINT NOT NULL,
  first_seconds DOUBLE PRECISION NOT NULL,
  last_seconds DOUBLE PRECISION NOT NULL
);
INSERT INTO series_stats (workload, samples, first_seconds, last_seconds)
  SELECT workload, COUNT(*), MIN(time_seconds), MAX(time_seconds) FROM samples GROUP BY workload;
`,
  },
  {
    version: 3,
    name: 'capacity requests and tenant token buckets',
    // Amounts are the request's totals at submit time; NULL idempotency keys never collide (NULLs are distinct in a unique index on both engines).
    sql: `
CREATE TABLE capacity_requests (
  id {{serial}},
  tenant TEXT NOT NULL,
  idempotency_key TEXT,
  body_hash TEXT NOT NULL,
  workload TEXT,
  instances INTEGER,
  cpu_millicores DOUBLE PRECISION NOT NULL,
  memory_mib DOUBLE PRECISION NOT NULL,
  priority INTEGER NOT NULL,
  submitted_at_seconds DOUBLE PRECISION NOT NULL,
  deadline_seconds DOUBLE PRECISION,
  duration_seconds DOUBLE PRECISION,
  status TEXT NOT NULL,
  reason TEXT,
  granted_at_seconds DOUBLE PRECISION,
  ends_at_seconds DOUBLE PRECISION,
  finished_at_seconds DOUBLE PRECISION
);
CREATE UNIQUE INDEX capacity_requests_idempotency ON capacity_requests (tenant, idempotency_key);
CREATE INDEX capacity_requests_by_status ON capacity_requests (status, tenant);
CREATE TABLE tenant_buckets (
  tenant TEXT PRIMARY KEY,
  tokens DOUBLE PRECISION NOT NULL,
  updated_at_seconds DOUBLE PRECISION NOT NULL
);
`,
  },
];

function dialectSql(db: Db, sql: string): string {
  return sql
    .replaceAll('{{serial}}', db.dialect === 'sqlite' ? 'INTEGER PRIMARY KEY AUTOINCREMENT' : 'BIGSERIAL PRIMARY KEY')
    .replaceAll('{{withoutRowid}}', db.dialect === 'sqlite' ? ' WITHOUT ROWID' : '');
}

/** Lock key that serializes migrating processes on PostgreSQL. */
const MIGRATION_LOCK = 7_400_001;

/**
 * Bring the schema up to date: each missing migration runs in its own
 * transaction together with its row in `schema_migrations`, so a crash leaves
 * either the old or the new version, never half of one. Returns the version.
 */
export async function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): Promise<number> {
  await db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  let version = 0;
  for (const m of migrations) {
    await db.transaction(async (tx) => {
      await tx.lock(MIGRATION_LOCK);
      const done = await tx.query('SELECT version FROM schema_migrations WHERE version = ?', [m.version]);
      if (done.length > 0) return;
      await tx.exec(dialectSql(db, m.sql));
      await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [m.version, m.name, new Date().toISOString()]);
    });
    version = m.version;
  }
  return version;
}
