import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { storeLocations } from '../../test/support/stores.ts';
import { PostgresDb, SqliteDb } from '../store/db.ts';
import { openStore } from '../store/open.ts';
import { SqlStore, TOKEN_CACHE_TTL_MS } from '../store/sqlStore.ts';
import { bootstrapAdminToken, issueToken } from './auth.ts';
import { ServiceMetrics } from './metrics.ts';
import { buildApi } from './server.ts';

/**
 * Revocation as a client sees it, on both engines, with the token cache in
 * front of every request: through this server it takes effect at the next
 * request; through another server on the same database, at the next request
 * on SQLite and within TOKEN_CACHE_TTL_MS on PostgreSQL.
 */

const where = storeLocations('tokens');

describe.each(['sqlite', 'postgres'])('token revocation on %s', (engine) => {
  it('refuses a token revoked through this server at once, and one revoked by another server within the bound', async () => {
    let clockMs = 0;
    const dir = where.sqliteDir();
    const url = engine === 'postgres' ? where.postgresUrl() : undefined;
    const store = await SqlStore.open(url ? new PostgresDb(url) : new SqliteDb(join(dir, 'headroom.db')), { nowMs: () => clockMs });
    const other = await openStore(url ? { databaseUrl: url } : { dataDir: dir });
    const app = await buildApi({ store, metrics: new ServiceMetrics(), now: () => 1000 });
    const admin = (await bootstrapAdminToken(store, 1)).generatedSecret!;
    const get = async (token: string) => (await app.inject({ method: 'GET', url: '/v1/status', headers: { authorization: `Bearer ${token}` } })).statusCode;

    const created = await app.inject({ method: 'POST', url: '/v1/tokens', headers: { authorization: `Bearer ${admin}` }, payload: { name: 'dash', role: 'viewer' } });
    const viewer = created.json() as { id: string; token: string };
    expect(await get(viewer.token)).toBe(200);
    expect(await get(viewer.token)).toBe(200);
    // Through this server: the very next request is refused, the clock standing still.
    expect((await app.inject({ method: 'DELETE', url: `/v1/tokens/${viewer.id}`, headers: { authorization: `Bearer ${admin}` } })).statusCode).toBe(200);
    expect(await get(viewer.token)).toBe(401);

    // Through another server process on the same database.
    clockMs = 10_000;
    const ci = await issueToken(other, 'ci', 'viewer', 2);
    expect(await get(ci.secret)).toBe(200);
    expect(await other.revokeToken(ci.token.id, 3)).toBe(true);
    if (engine === 'sqlite') {
      expect(await get(ci.secret)).toBe(401);
    } else {
      clockMs = 10_000 + TOKEN_CACHE_TTL_MS - 1;
      expect(await get(ci.secret)).toBe(200);
      clockMs = 10_000 + TOKEN_CACHE_TTL_MS;
      expect(await get(ci.secret)).toBe(401);
    }
    // Unknown tokens are never remembered: refused before another server creates it, accepted right after.
    const secret = `hr_${'x'.repeat(43)}`;
    expect(await get(secret)).toBe(401);
    await issueToken(other, 'late', 'viewer', 4, secret);
    expect(await get(secret)).toBe(200);

    await app.close();
    await other.close();
    await store.close();
  });
});
