import type { ApiToken } from './store.ts';

/**
 * How long a verified token may be reused without asking the database again.
 *
 * - `changeCounter`: exact. A remembered token is reused only while a counter
 *   that moves with every commit by any connection or process (SQLite's
 *   `PRAGMA data_version`) has not moved since the lookup began, so the cache
 *   is never staler than the lookup it saves.
 * - `ttl`: bounded. A remembered token is reused for `ttlMs` after its lookup
 *   began (monotonic clock, milliseconds). A revocation committed by another
 *   process is therefore seen at most `ttlMs` after its commit; one made
 *   through this cache's owner (`invalidate`) is seen at once.
 */
export type TokenFreshness =
  | { readonly kind: 'changeCounter'; readonly counter: () => number }
  | { readonly kind: 'ttl'; readonly ttlMs: number; readonly nowMs: () => number };

/** What a lookup records when it begins, to be handed back to `remember`. */
export interface LookupStart {
  readonly stamp: number;
  readonly generation: number;
}

/**
 * Verified API tokens by hash. Unknown hashes are never remembered (a random
 * guess costs a lookup, and cannot fill memory). A lookup that was in flight
 * while `invalidate` ran is not remembered either: its answer may predate the
 * revocation, and remembering it would bring a revoked token back.
 */
export class TokenCache {
  private readonly entries = new Map<string, { stamp: number; token: ApiToken }>();
  /** Moves with every `invalidate`; a lookup begun under an older generation is not remembered. */
  private generation = 0;

  constructor(
    private readonly freshness: TokenFreshness,
    /** Bound on remembered tokens (cleared when full; an entry is a few hundred bytes). */
    private readonly maxEntries = 10_000,
  ) {}

  private stampNow(): number {
    return this.freshness.kind === 'changeCounter' ? this.freshness.counter() : this.freshness.nowMs();
  }

  private fresh(stamp: number): boolean {
    const f = this.freshness;
    return f.kind === 'changeCounter' ? f.counter() === stamp : f.nowMs() - stamp < f.ttlMs;
  }

  /** The remembered token for `tokenHash`, if still fresh. */
  get(tokenHash: string): ApiToken | undefined {
    const hit = this.entries.get(tokenHash);
    if (!hit) return undefined;
    if (this.fresh(hit.stamp)) return hit.token;
    this.entries.delete(tokenHash);
    return undefined;
  }

  /** Call just before asking the database. */
  begin(): LookupStart {
    return { stamp: this.stampNow(), generation: this.generation };
  }

  /** Remember what a lookup begun at `start` found (`undefined`: nothing, and forget any entry). */
  remember(tokenHash: string, token: ApiToken | undefined, start: LookupStart): void {
    if (!token) {
      this.entries.delete(tokenHash);
      return;
    }
    if (start.generation !== this.generation) return;
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(tokenHash, { stamp: start.stamp, token });
  }

  /** Forget everything, including lookups in flight (call after a revocation commits). */
  invalidate(): void {
    this.entries.clear();
    this.generation++;
  }
}
