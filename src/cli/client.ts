import { readYamlFile } from '../config/yamlFile.ts';
import { InvalidInputError, UserError } from '../core/errors.ts';

/** A request the API refused (4xx) or could not serve; the message is the API's. */
export class ApiRequestError extends UserError {
  override readonly name = 'ApiRequestError';
  constructor(readonly status: number, message: string, readonly body?: unknown) {
    super(message);
  }
}

export interface ClientOptions {
  /** Base URL of `headroom serve`; default $HEADROOM_URL or http://127.0.0.1:8080. */
  readonly url?: string;
  /** API token; default $HEADROOM_TOKEN. */
  readonly token?: string;
}

/** A small client of the headroom API for the CLI commands. */
export class HeadroomClient {
  readonly url: string;
  private readonly token: string | undefined;

  constructor(options: ClientOptions = {}) {
    this.url = (options.url ?? process.env.HEADROOM_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
    this.token = options.token ?? process.env.HEADROOM_TOKEN;
  }

  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    if (!this.token) throw new InvalidInputError('--token', 'no API token: pass --token or set HEADROOM_TOKEN');
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new UserError(`cannot reach headroom at ${this.url}: ${e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e)}`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    if (!res.ok) {
      const message = json && typeof json === 'object' && 'message' in json ? String((json as { message: unknown }).message) : text;
      throw new ApiRequestError(res.status, `${method} ${path}: ${res.status}: ${message}`, json);
    }
    return json as T;
  }
}

/** "pools[1].cpuMillicores" -> ['pools', 1, 'cpuMillicores']. */
export function parsePath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]);
  return out;
}

/**
 * Read a desired-state YAML file and send it to `/v1/apply`. Validation
 * happens in the service (one schema); its errors are mapped back to lines
 * of the file.
 */
export async function applyFile(client: HeadroomClient, file: string): Promise<{ changes: { kind: string; name: string; version: number; change: string }[]; changed: number; unchanged: number }> {
  const { raw, lineOf } = readYamlFile(file, 'file');
  try {
    return await client.request('POST', '/v1/apply', raw ?? {});
  } catch (e) {
    if (e instanceof ApiRequestError && e.status === 400 && e.body && typeof e.body === 'object' && Array.isArray((e.body as { issues?: unknown }).issues)) {
      const issues = (e.body as { issues: { where: string; problem: string }[] }).issues.map((i) => {
        const line = lineOf(parsePath(i.where.replace(/^body\.?/, '')));
        return `${line ? `line ${line}: ` : ''}${i.where.replace(/^body\.?/, '') || '(top level)'}: ${i.problem}`;
      });
      throw new InvalidInputError(file, `rejected by the service:\n  ${issues.join('\n  ')}`);
    }
    throw e;
  }
}
