import { join, resolve } from 'node:path';
import { InvalidInputError } from '../core/errors.ts';
import { PostgresDb, SqliteDb } from './db.ts';
import { SqlStore } from './sqlStore.ts';
import type { Store } from './store.ts';

export interface OpenStoreOptions {
  /** Directory of the embedded SQLite database (`headroom.db`); default `./data`. */
  readonly dataDir?: string;
  /** A `postgres://` or `postgresql://` URL: use PostgreSQL instead of SQLite. */
  readonly databaseUrl?: string;
}

/** Open (and migrate) the store the options name: PostgreSQL for a URL, else SQLite under the data directory. */
export async function openStore(options: OpenStoreOptions = {}): Promise<Store> {
  if (options.databaseUrl) {
    if (!/^postgres(ql)?:\/\//.test(options.databaseUrl)) throw new InvalidInputError('--database', 'expected a postgres:// or postgresql:// URL');
    const db = new PostgresDb(options.databaseUrl);
    try {
      return await SqlStore.open(db);
    } catch (e) {
      await db.close().catch(() => undefined);
      throw e;
    }
  }
  const path = join(resolve(options.dataDir ?? 'data'), 'headroom.db');
  return SqlStore.open(new SqliteDb(path));
}
