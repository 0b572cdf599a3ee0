import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { ApiToken, Role, Store } from '../store/store.ts';

/**
 * API tokens: `hr_` and 32 random bytes (256 bits) in base64url. Only their
 * SHA-256 is stored. A slow password hash (bcrypt, argon2) protects guessable
 * secrets; a 256-bit random token cannot be guessed or brute-forced from its
 * hash, so a fast, deterministic hash loses nothing and lets a request find
 * its token by an indexed lookup instead of a slow comparison per request.
 */

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export function roleAllows(have: Role, need: Role): boolean {
  return RANK[have] >= RANK[need];
}

export function newTokenSecret(): string {
  return `hr_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Create a token; the secret is returned once and never stored. */
export async function issueToken(store: Store, name: string, role: Role, atSeconds: number, secret = newTokenSecret()): Promise<{ token: ApiToken; secret: string }> {
  const token: ApiToken = { id: randomUUID(), name, role, createdAtSeconds: atSeconds };
  await store.createToken(token, hashToken(secret));
  return { token, secret };
}

/**
 * On first start (no token at all), create the bootstrap admin token: the one
 * given (e.g. from HEADROOM_BOOTSTRAP_TOKEN) or a new one, which the caller
 * prints once. Returns the secret only when it was generated here.
 */
export async function bootstrapAdminToken(store: Store, atSeconds: number, given?: string): Promise<{ created: boolean; generatedSecret?: string }> {
  if ((await store.listTokens()).length > 0) return { created: false };
  if (given !== undefined && given.length < 32) throw new Error('the bootstrap token must be at least 32 characters long');
  const { secret } = await issueToken(store, 'bootstrap', 'admin', atSeconds, given);
  return given === undefined ? { created: true, generatedSecret: secret } : { created: true };
}
