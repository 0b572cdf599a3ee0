import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { tempDir } from '../helpers.ts';
import { startPostgres, type RunningPostgres } from './servers.ts';

/**
 * For a test file that runs on both stores: a temporary directory and a real
 * PostgreSQL server, started before the file's tests and removed after them,
 * and a fresh place for a store on each engine at every call.
 */
export function storeLocations(label: string): {
  /** A new SQLite data directory (not created yet). */
  sqliteDir(): string;
  /** A new, empty PostgreSQL database; its URL. */
  postgresUrl(): string;
  readonly pg: RunningPostgres;
} {
  let pg: RunningPostgres | undefined;
  let tmp = '';
  let n = 0;
  beforeAll(async () => {
    tmp = tempDir(label);
    pg = await startPostgres();
  });
  afterAll(async () => {
    await pg?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });
  return {
    sqliteDir: () => join(tmp, `db${n++}`),
    postgresUrl: () => pg!.createDatabase(`db${n++}`),
    get pg() {
      return pg!;
    },
  };
}
