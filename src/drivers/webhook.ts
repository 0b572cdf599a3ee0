import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { DriverError, InvalidInputError } from '../core/errors.ts';
import type { Action } from '../core/plan.ts';
import { rememberResult, type ActionResult, type Driver, type ObservedState } from './driver.ts';

/**
 * The webhook driver: each action is POSTed as JSON to a URL the team runs
 * (their own actuator, a ChatOps bot, a ticketing bridge). Every request is
 * signed so the receiver can tell it came from headroom and was not replayed:
 *
 *   Headroom-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 *   Idempotency-Key: <action id>
 *
 * as Stripe signs its webhooks. The receiver recomputes the HMAC over the
 * timestamp, a dot and the raw body bytes, compares in constant time, and
 * rejects a timestamp outside its tolerance (replay protection); it
 * deduplicates on Idempotency-Key, since a retry carries the same key (and
 * the same body) with a fresh timestamp and signature.
 */

export const SIGNATURE_HEADER = 'headroom-signature';
export const IDEMPOTENCY_HEADER = 'idempotency-key';
/** Receivers should reject signatures older (or newer) than this, in seconds. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:$/.test(new URL(u).protocol), 'must be an http or https URL')
  .refine((u) => !new URL(u).username && !new URL(u).password, 'must not carry credentials (user:password@); the HMAC signature authenticates headroom');

export const webhookConfigSchema = z
  .object({
    url: httpUrl,
    /** The shared secret, inline (prefer `secretEnv`). */
    secret: z.string().min(16, 'must be at least 16 characters').optional(),
    /** Name of the environment variable that holds the shared secret. */
    secretEnv: z.string().min(1).optional(),
    /** Per request, in milliseconds. */
    timeoutMs: z.number().int().positive().max(120_000).default(10_000),
    /** URL answering GET with the observed state as JSON (signed the same way, over an empty body); absent: observe() fails. */
    observeUrl: httpUrl.optional(),
    /** Extra headers, e.g. a tenant id (not for secrets: they are not redacted). */
    headers: z.record(z.string()).default({}),
  })
  .strict()
  .refine((c) => (c.secret === undefined) !== (c.secretEnv === undefined), { message: 'give exactly one of "secret" or "secretEnv"' });

export type WebhookConfig = z.input<typeof webhookConfigSchema>;

/** The JSON body of one action request. */
export interface WebhookActionBody {
  readonly type: 'headroom.action';
  readonly action: Action;
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. */
export function signWebhook(secret: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex');
  return `t=${timestampSeconds},v1=${mac}`;
}

export type SignatureVerdict = { readonly ok: true; readonly timestampSeconds: number } | { readonly ok: false; readonly problem: string };

/**
 * What a receiver written in TypeScript runs: checks the header's format, the
 * timestamp against `nowSeconds` ± `toleranceSeconds`, and the HMAC (any of
 * `secrets` may match, so a secret can be rotated) in constant time.
 * `body` must be the raw bytes received, not re-serialized JSON.
 */
export function verifyWebhookSignature(
  header: string | undefined,
  body: string | Buffer,
  secrets: readonly string[],
  nowSeconds: number,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): SignatureVerdict {
  if (!header) return { ok: false, problem: 'missing signature header' };
  const parts = new Map<string, string[]>();
  for (const item of header.split(',')) {
    const eq = item.indexOf('=');
    if (eq <= 0) return { ok: false, problem: 'malformed signature header' };
    const key = item.slice(0, eq).trim();
    parts.set(key, [...(parts.get(key) ?? []), item.slice(eq + 1).trim()]);
  }
  const t = parts.get('t');
  if (!t || t.length !== 1 || !/^\d+$/.test(t[0])) return { ok: false, problem: 'signature header has no valid timestamp' };
  const timestampSeconds = Number(t[0]);
  if (Math.abs(nowSeconds - timestampSeconds) > toleranceSeconds) {
    return { ok: false, problem: `timestamp ${timestampSeconds} is outside the tolerance of ${toleranceSeconds} s` };
  }
  const given = (parts.get('v1') ?? []).filter((v) => /^[0-9a-f]{64}$/.test(v)).map((v) => Buffer.from(v, 'hex'));
  if (!given.length) return { ok: false, problem: 'signature header has no v1 signature' };
  const payload = Buffer.concat([Buffer.from(`${timestampSeconds}.`), typeof body === 'string' ? Buffer.from(body) : body]);
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(payload).digest();
    if (given.some((g) => timingSafeEqual(g, expected))) return { ok: true, timestampSeconds };
  }
  return { ok: false, problem: 'no signature matches' };
}

const countsByPool = z.record(z.number().int().nonnegative());
const observedSchema = z.object({
  timeSeconds: z.number(),
  readyNodesByPool: countsByPool,
  pendingNodesByPool: countsByPool,
  runningInstances: z.record(countsByPool),
  desiredInstances: z.record(countsByPool),
});

/** A URL fit for an error message: no user info, query or fragment (they may carry tokens). */
function redactUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

export interface WebhookDriverOptions {
  /** Clock (epoch seconds) for signature timestamps; injected for tests. */
  readonly now?: () => number;
  /** Where `secretEnv` is looked up; defaults to process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The fetch to use; defaults to the global one (Node's undici). */
  readonly fetch?: typeof fetch;
}

export class WebhookDriver implements Driver {
  readonly name = 'webhook';
  /** Private (#) so neither JSON.stringify nor util.inspect shows the secret (nor URLs, whose query may hold a token). */
  readonly #secret: string;
  readonly #config: z.output<typeof webhookConfigSchema>;
  private readonly now: () => number;
  private readonly fetch: typeof fetch;
  private readonly results = new Map<string, ActionResult>();

  constructor(config: WebhookConfig, options: WebhookDriverOptions = {}) {
    const parsed = webhookConfigSchema.safeParse(config);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InvalidInputError(`webhook driver config${issue.path.length ? `.${issue.path.join('.')}` : ''}`, issue.message);
    }
    const { secret: _omit, ...rest } = parsed.data;
    this.#config = { ...rest };
    let secret = parsed.data.secret;
    if (parsed.data.secretEnv !== undefined) {
      secret = (options.env ?? process.env)[parsed.data.secretEnv];
      if (!secret) throw new InvalidInputError('webhook driver config.secretEnv', `environment variable ${parsed.data.secretEnv} is not set`);
      if (secret.length < 16) throw new InvalidInputError('webhook driver config.secretEnv', `the secret in ${parsed.data.secretEnv} must be at least 16 characters`);
    }
    this.#secret = secret!;
    this.now = options.now ?? (() => Math.floor(Date.now() / 1000));
    this.fetch = options.fetch ?? fetch;
  }

  private async send(url: string, method: 'POST' | 'GET', body: string, extra: Record<string, string>): Promise<Response> {
    const t = Math.floor(this.now());
    const headers: Record<string, string> = {
      ...this.#config.headers,
      ...extra,
      'user-agent': 'headroom-webhook-driver',
      [SIGNATURE_HEADER]: signWebhook(this.#secret, t, body),
    };
    if (method === 'POST') headers['content-type'] = 'application/json';
    return this.fetch(url, {
      method,
      headers,
      ...(method === 'POST' ? { body } : {}),
      // A signed request is never forwarded to wherever a redirect points.
      redirect: 'manual',
      signal: AbortSignal.timeout(this.#config.timeoutMs),
    });
  }

  /**
   * POST the action. Idempotent per id within this process (a repeated id
   * returns the earlier answer); across restarts the receiver deduplicates
   * on the Idempotency-Key header. 2xx: done; 408, 429, 5xx, timeouts and
   * network errors: retryable; other answers (4xx, redirects): permanent.
   */
  async apply(action: Action): Promise<ActionResult> {
    const earlier = this.results.get(action.id);
    if (earlier) return earlier;
    const body = JSON.stringify({ type: 'headroom.action', action } satisfies WebhookActionBody);
    const where = `webhook ${redactUrl(this.#config.url)}`;
    let response: Response;
    try {
      response = await this.send(this.#config.url, 'POST', body, { [IDEMPOTENCY_HEADER]: action.id });
    } catch (e) {
      const timedOut = e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError');
      const cause = e instanceof Error && e.cause instanceof Error ? `: ${e.cause.message}` : '';
      const error = timedOut ? `${where} did not answer within ${this.#config.timeoutMs} ms` : `${where} unreachable (${e instanceof Error ? e.message : String(e)}${cause})`;
      return { ok: false, error, retryable: true };
    }
    const result = await classify(response, where);
    if (result.ok || !result.retryable) rememberResult(this.results, action.id, result);
    return result;
  }

  async observe(): Promise<ObservedState> {
    if (!this.#config.observeUrl) throw new DriverError('the webhook driver has no observeUrl configured: it cannot observe the managed state', false);
    const where = `webhook ${redactUrl(this.#config.observeUrl)}`;
    let response: Response;
    try {
      response = await this.send(this.#config.observeUrl, 'GET', '', {});
    } catch (e) {
      throw new DriverError(`${where} unreachable (${e instanceof Error ? e.message : String(e)})`, true);
    }
    const result = await classify(response, where);
    if (!result.ok) throw new DriverError(result.error!, result.retryable ?? false);
    let json: unknown;
    try {
      json = await response.json();
    } catch {
      throw new DriverError(`${where} answered with a body that is not JSON`, false);
    }
    const parsed = observedSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new DriverError(`${where} answered with an invalid observed state at ${issue.path.join('.') || '(root)'}: ${issue.message}`, false);
    }
    return parsed.data;
  }
}

async function classify(response: Response, where: string): Promise<ActionResult> {
  const status = response.status;
  if (status >= 200 && status < 300) return { ok: true };
  // Keep a short excerpt of the receiver's answer: enough to act on, never a whole page.
  let excerpt = '';
  try {
    excerpt = (await response.text()).replace(/\s+/g, ' ').trim().slice(0, 200);
  } catch {
    excerpt = '';
  }
  const said = excerpt ? `: ${excerpt}` : '';
  if (status >= 300 && status < 400) {
    return { ok: false, error: `${where} redirected (${status}) to ${response.headers.get('location') ?? 'nowhere'}; configure the final URL`, retryable: false };
  }
  const retryable = status === 408 || status === 429 || status >= 500;
  return { ok: false, error: `${where} answered ${status}${said}`, retryable };
}
