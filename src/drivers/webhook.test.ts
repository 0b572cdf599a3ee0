import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryActionLog } from '../core/actionLog.ts';
import { DriverError, InvalidInputError } from '../core/errors.ts';
import type { Action } from '../core/plan.ts';
import { describeDriverContract } from '../../test/driverContract.ts';
import { executeActions } from './executor.ts';
import { signWebhook, verifyWebhookSignature, WebhookDriver, type WebhookActionBody } from './webhook.ts';

/**
 * Tests against a real HTTP receiver on loopback that checks signatures the
 * way the docs tell receivers to (recomputed here independently with
 * node:crypto, not only through `verifyWebhookSignature`), rejects replays
 * outside the tolerance and deduplicates on Idempotency-Key.
 */

const SECRET = 'whsec_0123456789abcdef0123';
const NOW = 1_764_000_000;

interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly rawBody: string;
}

let server: Server;
let base: string;
const received: Received[] = [];
/** Effects the receiver carried out, by idempotency key. */
const executed = new Map<string, number>();
/** What the receiver answers next (status and body), consumed in order; then 200. */
let answers: { status: number; body?: string; headers?: Record<string, string>; hang?: boolean }[] = [];
let receiverNow = NOW;

function handle(req: IncomingMessage, res: ServerResponse, rawBody: string) {
  received.push({ method: req.method!, path: req.url!, headers: req.headers, rawBody });
  const next = answers.shift();
  if (next?.hang) return; // never answers: the driver must time out
  if (next) {
    res.writeHead(next.status, next.headers ?? { 'content-type': 'text/plain' });
    res.end(next.body ?? '');
    return;
  }
  // The receiver a team would write: verify, then deduplicate, then act.
  const verdict = verifyWebhookSignature(req.headers['headroom-signature'] as string | undefined, rawBody, [SECRET], receiverNow);
  if (!verdict.ok) {
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: verdict.problem }));
    return;
  }
  if (req.url === '/state') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ timeSeconds: NOW, readyNodesByPool: { a: 2 }, pendingNodesByPool: { a: 0 }, runningInstances: { web: { a: 3 } }, desiredInstances: { web: { a: 3 } } }),
    );
    return;
  }
  if (req.url === '/bad-state') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ timeSeconds: NOW, readyNodesByPool: { a: -1 } }));
    return;
  }
  const key = req.headers['idempotency-key'] as string;
  if (!executed.has(key)) executed.set(key, 0);
  else {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ duplicate: true }));
    return;
  }
  executed.set(key, executed.get(key)! + 1);
  res.writeHead(202, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ accepted: key }));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

afterEach(() => {
  received.length = 0;
  executed.clear();
  answers = [];
  receiverNow = NOW;
});

const action = (id: string): Action => ({ id, kind: 'scaleWorkload', decidedAtSeconds: NOW - 5, phase: 0, reason: 'forecast p95 rises', workload: 'web', pool: 'a', fromInstances: 2, toInstances: 3 });
const driver = (over: Partial<ConstructorParameters<typeof WebhookDriver>[0]> = {}) =>
  new WebhookDriver({ url: `${base}/actions`, secret: SECRET, timeoutMs: 2000, ...over }, { now: () => NOW });

describe('WebhookDriver', () => {
  it('POSTs the action as JSON, signed with HMAC-SHA256 over "<timestamp>.<raw body>", with the id as idempotency key', async () => {
    const r = await driver({ headers: { 'x-tenant': 'shop' } }).apply(action('act-1'));
    expect(r).toEqual({ ok: true });
    expect(received).toHaveLength(1);
    const req = received[0];
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/actions');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['idempotency-key']).toBe('act-1');
    expect(req.headers['x-tenant']).toBe('shop');
    const body = JSON.parse(req.rawBody) as WebhookActionBody;
    expect(body).toEqual({ type: 'headroom.action', action: action('act-1') });
    // Recompute the signature independently, as the docs describe it.
    const expected = createHmac('sha256', SECRET).update(`${NOW}.${req.rawBody}`).digest('hex');
    expect(req.headers['headroom-signature']).toBe(`t=${NOW},v1=${expected}`);
    expect(executed.get('act-1')).toBe(1);
  });

  it('returns the earlier answer for a repeated id without sending; after a restart the receiver deduplicates on the key', async () => {
    const d = driver();
    await d.apply(action('act-2'));
    await d.apply(action('act-2'));
    expect(received).toHaveLength(1);
    // A new process (empty cache) sends again: same key and body, fresh signature; the receiver acts once.
    const restarted = new WebhookDriver({ url: `${base}/actions`, secret: SECRET }, { now: () => NOW + 7 });
    expect(await restarted.apply(action('act-2'))).toEqual({ ok: true });
    expect(received).toHaveLength(2);
    expect(received[1].rawBody).toBe(received[0].rawBody);
    expect(received[1].headers['headroom-signature']).toMatch(new RegExp(`^t=${NOW + 7},v1=[0-9a-f]{64}$`));
    expect(executed.get('act-2')).toBe(1);
  });

  it('is rejected by the receiver when signed with another secret', async () => {
    const r = await new WebhookDriver({ url: `${base}/actions`, secret: 'not-the-shared-secret!' }, { now: () => NOW }).apply(action('act-3'));
    expect(r).toEqual({ ok: false, error: `webhook ${base}/actions answered 401: {"error":"no signature matches"}`, retryable: false });
  });

  it('is rejected as a replay when its timestamp is older than the tolerance', async () => {
    receiverNow = NOW + 301;
    const r = await driver().apply(action('act-4'));
    expect(r.ok).toBe(false);
    expect(r.error).toContain(`timestamp ${NOW} is outside the tolerance of 300 s`);
    expect(executed.size).toBe(0);
  });

  it.each([
    [200, true, undefined],
    [204, true, undefined],
    [400, false, false],
    [401, false, false],
    [404, false, false],
    [409, false, false],
    [422, false, false],
    [408, false, true],
    [429, false, true],
    [500, false, true],
    [502, false, true],
    [503, false, true],
  ])('classifies HTTP %i as ok=%s, retryable=%s', async (status, ok, retryable) => {
    answers = [{ status, body: status >= 400 ? `status ${status} from receiver` : '' }];
    const r = await driver().apply(action(`c-${status}`));
    expect(r.ok).toBe(ok);
    expect(r.retryable).toBe(retryable);
    if (!ok) expect(r.error).toBe(`webhook ${base}/actions answered ${status}: status ${status} from receiver`);
  });

  it('does not follow a redirect with a signed body, and says where it pointed', async () => {
    answers = [{ status: 307, headers: { location: 'http://elsewhere.example/hook' } }];
    const r = await driver().apply(action('act-5'));
    expect(r).toEqual({ ok: false, error: `webhook ${base}/actions redirected (307) to http://elsewhere.example/hook; configure the final URL`, retryable: false });
    expect(received).toHaveLength(1);
  });

  it('times out (retryable) when the receiver does not answer', async () => {
    answers = [{ status: 0, hang: true }];
    const r = await driver({ timeoutMs: 200 }).apply(action('act-6'));
    expect(r).toEqual({ ok: false, error: `webhook ${base}/actions did not answer within 200 ms`, retryable: true });
  });

  it('reports an unreachable receiver as retryable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const r = await new WebhookDriver({ url: `http://127.0.0.1:${port}/x`, secret: SECRET }).apply(action('act-7'));
    expect(r.ok).toBe(false);
    expect(r.retryable).toBe(true);
    expect(r.error).toMatch(/unreachable .*ECONNREFUSED/);
  });

  it('retries through the executor on 503 and 429, and the receiver acts once', async () => {
    answers = [{ status: 503 }, { status: 429 }];
    const log = new MemoryActionLog();
    const sleeps: number[] = [];
    const out = await executeActions([action('act-8')], driver(), log, { now: () => NOW, sleep: async (s) => void sleeps.push(s) });
    expect(out.ok).toBe(true);
    expect(out.records[0].attempts).toBe(3);
    expect(sleeps).toEqual([1, 2]);
    expect(received.map((r) => r.headers['idempotency-key'])).toEqual(['act-8', 'act-8', 'act-8']);
    expect(executed.get('act-8')).toBe(1);
  });

  it('never shows the secret: not in inspection, JSON or errors; nor the query of the URL (it may hold a token)', async () => {
    const d = new WebhookDriver({ url: `${base}/actions?token=t0k3n`, secret: SECRET }, { now: () => NOW });
    answers = [{ status: 500, body: 'oops' }];
    const r = await d.apply(action('act-9'));
    for (const text of [inspect(d, { depth: 5, showHidden: true }), JSON.stringify(d), r.error!]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain('t0k3n');
    }
    expect(r.error).toBe(`webhook ${base}/actions answered 500: oops`);
  });

  it('reads the secret from an environment variable', async () => {
    const d = new WebhookDriver({ url: `${base}/actions`, secretEnv: 'HOOK_SECRET' }, { now: () => NOW, env: { HOOK_SECRET: SECRET } });
    expect(await d.apply(action('act-10'))).toEqual({ ok: true });
  });

  it.each([
    [{ url: 'ftp://x/y', secret: SECRET }, 'webhook driver config.url: must be an http or https URL'],
    [{ url: 'http://u:p@x/y', secret: SECRET }, 'webhook driver config.url: must not carry credentials (user:password@); the HMAC signature authenticates headroom'],
    [{ url: 'http://x/y' }, 'webhook driver config: give exactly one of "secret" or "secretEnv"'],
    [{ url: 'http://x/y', secret: 'short' }, 'webhook driver config.secret: must be at least 16 characters'],
    [{ url: 'http://x/y', secretEnv: 'NOPE_NOT_SET' }, 'webhook driver config.secretEnv: environment variable NOPE_NOT_SET is not set'],
    [{ url: 'http://x/y', secret: SECRET, timeoutMs: 0 }, 'webhook driver config.timeoutMs: Number must be greater than 0'],
    [{ url: 'http://x/y', secret: SECRET, retries: 3 }, "webhook driver config: Unrecognized key(s) in object: 'retries'"],
  ])('rejects a bad config %j with a message naming the field', (config, message) => {
    let error: unknown;
    try {
      new WebhookDriver(config as never, { env: {} });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toBe(message);
  });

  it('observes through a signed GET of observeUrl and validates the answer', async () => {
    const state = await driver({ observeUrl: `${base}/state` }).observe();
    expect(state.runningInstances).toEqual({ web: { a: 3 } });
    expect(received[0].method).toBe('GET');
    expect(verifyWebhookSignature(received[0].headers['headroom-signature'] as string, '', [SECRET], NOW).ok).toBe(true);
    await expect(driver({ observeUrl: `${base}/bad-state` }).observe()).rejects.toThrow(/invalid observed state at readyNodesByPool\.a/);
    await expect(driver().observe()).rejects.toThrow(DriverError);
  });
});

describe('verifyWebhookSignature', () => {
  const body = '{"type":"headroom.action","action":{"id":"x"}}';
  const header = signWebhook(SECRET, NOW, body);
  it.each([
    ['a valid signature', header, body, [SECRET], NOW, true, undefined],
    ['a valid signature 299 s later', header, body, [SECRET], NOW + 299, true, undefined],
    ['a rotated secret (old one still listed)', header, body, ['new-secret-0123456789', SECRET], NOW, true, undefined],
    ['a body changed by one byte', header, body.replace('x', 'y'), [SECRET], NOW, false, 'no signature matches'],
    ['another secret', header, body, ['another-secret-0123456'], NOW, false, 'no signature matches'],
    ['a replay 301 s later', header, body, [SECRET], NOW + 301, false, `timestamp ${NOW} is outside the tolerance of 300 s`],
    ['a timestamp from the future', signWebhook(SECRET, NOW + 600, body), body, [SECRET], NOW, false, `timestamp ${NOW + 600} is outside the tolerance of 300 s`],
    ['a changed timestamp', header.replace(`t=${NOW}`, `t=${NOW + 1}`), body, [SECRET], NOW, false, 'no signature matches'],
    ['no header', undefined, body, [SECRET], NOW, false, 'missing signature header'],
    ['a malformed header', 'garbage', body, [SECRET], NOW, false, 'malformed signature header'],
    ['no v1', `t=${NOW}`, body, [SECRET], NOW, false, 'signature header has no v1 signature'],
  ])('%s', (_name, h, b, secrets, now, ok, problem) => {
    const v = verifyWebhookSignature(h, b, secrets, now);
    expect(v.ok).toBe(ok);
    if (!v.ok) expect(v.problem).toBe(problem);
  });
});

/** A receiver with state, as a team's actuator would be: verifies, deduplicates on the key, acts, and serves its state. */
async function statefulReceiver(): Promise<{ url: string; close: () => Promise<void> }> {
  const desired: Record<string, Record<string, number>> = { web: { a: 1 } };
  const seen = new Map<string, { status: number; body: string }>();
  const srv = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (!verifyWebhookSignature(req.headers['headroom-signature'] as string, raw, [SECRET], NOW).ok) return reply(401, { error: 'bad signature' });
      if (req.method === 'GET') return reply(200, { timeSeconds: NOW, readyNodesByPool: {}, pendingNodesByPool: {}, runningInstances: desired, desiredInstances: desired });
      const key = req.headers['idempotency-key'] as string;
      const earlier = seen.get(key);
      if (earlier) {
        res.writeHead(earlier.status, { 'content-type': 'application/json' });
        return res.end(earlier.body);
      }
      const { action } = JSON.parse(raw) as WebhookActionBody;
      let answer: { status: number; body: string };
      if (action.kind !== 'scaleWorkload' || !desired[action.workload]) answer = { status: 422, body: JSON.stringify({ error: `unknown workload ${action.kind === 'scaleWorkload' ? action.workload : action.kind}` }) };
      else {
        desired[action.workload][action.pool] = action.toInstances;
        answer = { status: 200, body: JSON.stringify({ done: key }) };
      }
      seen.set(key, answer);
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  return { url, close: () => new Promise<void>((resolve) => srv.close(() => resolve())) };
}

describeDriverContract('WebhookDriver (stateful loopback receiver)', async () => {
  const r = await statefulReceiver();
  const make = () => new WebhookDriver({ url: `${r.url}/actions`, observeUrl: `${r.url}/state`, secret: SECRET }, { now: () => NOW });
  return { driver: make(), workload: 'web', pool: 'a', initialInstances: 1, restarted: make, close: r.close };
});
