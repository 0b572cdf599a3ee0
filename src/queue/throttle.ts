/**
 * A token bucket per tenant (the classic traffic-shaping bucket, as in
 * RFC 2697's committed burst): the bucket holds up to `burst` tokens and
 * refills at `ratePerSecond`; a submit takes one token, and with less than one
 * token it is throttled until the bucket has refilled to one.
 */

export interface TokenBucket {
  /** Tokens in the bucket at `updatedAtSeconds`. */
  readonly tokens: number;
  readonly updatedAtSeconds: number;
}

export interface BucketLimits {
  readonly ratePerSecond: number;
  readonly burst: number;
}

export type TakeResult =
  | { readonly ok: true; readonly bucket: TokenBucket }
  /** `retryAfterSeconds`: whole seconds until one token is back (at least 1). */
  | { readonly ok: false; readonly bucket: TokenBucket; readonly retryAfterSeconds: number };

/** Refill `bucket` (a new tenant's starts full) up to `nowSeconds` and take one token if there is one. */
export function takeToken(bucket: TokenBucket | undefined, limits: BucketLimits, nowSeconds: number): TakeResult {
  const elapsed = bucket ? Math.max(0, nowSeconds - bucket.updatedAtSeconds) : 0;
  const tokens = bucket ? Math.min(limits.burst, bucket.tokens + elapsed * limits.ratePerSecond) : limits.burst;
  // A small tolerance: refills computed from float seconds may land a hair under a whole token.
  if (tokens >= 1 - 1e-9) return { ok: true, bucket: { tokens: Math.max(0, tokens - 1), updatedAtSeconds: nowSeconds } };
  return { ok: false, bucket: { tokens, updatedAtSeconds: nowSeconds }, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / limits.ratePerSecond)) };
}
