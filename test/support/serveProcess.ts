import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const BIN = resolve(import.meta.dirname, '../../bin/headroom.mjs');

export interface ServerProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout (JSON log lines) and stderr. */
  output(): string;
  /** Resolves with the exit code or signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawn `headroom serve` as a real process and wait until it answers /readyz. */
export async function spawnServer(args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...nodeArgs, BIN, 'serve', '--port', '0', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  const deadline = Date.now() + 60_000;
  let url: string | undefined;
  while (!url) {
    const m = /serving on (http:\/\/\S+)/.exec(out);
    if (m) url = m[1];
    else if (child.exitCode !== null) throw new Error(`headroom serve exited (${child.exitCode}):\n${out}`);
    else if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`headroom serve did not start in 60 s:\n${out}`);
    } else await new Promise((r) => setTimeout(r, 50));
  }
  for (;;) {
    const r = await fetch(`${url}/readyz`).catch(() => undefined);
    if (r?.ok) break;
    if (Date.now() > deadline) throw new Error(`headroom serve never became ready:\n${out}`);
    await new Promise((r2) => setTimeout(r2, 50));
  }
  return { url, child, output: () => out, exited };
}

export async function api<T = any>(url: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
