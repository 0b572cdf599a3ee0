import type { Command } from 'commander';
import { InvalidInputError } from '../core/errors.ts';
import type { QueueSummary, RequestView } from '../queue/service.ts';
import { HeadroomClient } from './client.ts';
import { table } from './format.ts';
import { clientCommand, iso, out, type ClientFlags } from './service.ts';


function integer(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n)) throw new InvalidInputError(flag, `"${text}" is not a whole number`);
  return n;
}

/** "2000" stays a number (the field's unit); "2 cores", "4 GiB" go to the service as text, which parses units. */
const quantity = (text: string): number | string => (/^\s*-?\d+(\.\d+)?\s*$/.test(text) ? Number(text) : text);

function amounts(r: RequestView): string {
  const what = r.workload ? `${r.instances} × ${r.workload} = ` : '';
  return `${what}${r.cpuMillicores}m CPU, ${r.memoryMiB} MiB`;
}

export function describeRequest(r: RequestView): string {
  const where = r.status === 'queued' && r.position !== undefined ? `, position ${r.position}` : '';
  return `request ${r.id} (${r.tenant}): ${r.status}${where}${r.reason ? ` (${r.reason})` : ''}`;
}

function showRequest(r: RequestView): void {
  const rows: [string, string | undefined][] = [
    ['id', String(r.id)],
    ['tenant', r.tenant],
    ['status', r.status],
    ['position', r.position === undefined ? undefined : String(r.position)],
    ['reason', r.reason],
    ['asks for', amounts(r)],
    ['priority', String(r.priority)],
    ['submitted', iso(r.submittedAtSeconds)],
    ['deadline', r.deadlineSeconds === undefined ? 'none' : iso(r.deadlineSeconds)],
    ['duration', r.durationSeconds === undefined ? 'until cancelled' : `${r.durationSeconds} s`],
    ['granted', r.grantedAtSeconds === undefined ? undefined : iso(r.grantedAtSeconds)],
    ['ends', r.endsAtSeconds === undefined ? undefined : iso(r.endsAtSeconds)],
    ['finished', r.finishedAtSeconds === undefined ? undefined : iso(r.finishedAtSeconds)],
    ['idempotency key', r.idempotencyKey],
  ];
  for (const [k, v] of rows) if (v !== undefined) out(`${`${k}:`.padEnd(17)}${v}`);
}

/** `headroom request submit | list | show | cancel`, talking to the API. */
export function addRequestCommands(program: Command): void {
  const request = program.command('request').description('capacity requests: ask for capacity, follow its fate in the queue, cancel');

  clientCommand(
    request
      .command('submit')
      .description('ask for capacity for a tenant: --workload and --instances, or --cpu and/or --memory')
      .requiredOption('--tenant <name>', 'tenant (configured with `tenants:` in an apply file)')
      .option('--workload <name>', 'ask for instances of this workload')
      .option('--instances <n>', 'how many instances of --workload')
      .option('--cpu <quantity>', 'CPU, in millicores or with a unit ("2 cores")')
      .option('--memory <quantity>', 'memory, in MiB or with a unit ("4 GiB")')
      .option('--priority <n>', 'higher is granted first', '0')
      .option('--max-wait <duration>', 'expire if not granted within this long (e.g. "10m")')
      .option('--deadline <time>', 'expire if not granted by this time (ISO 8601 or epoch seconds)')
      .option('--duration <duration>', 'how long the grant lasts (default: until cancelled)')
      .option('--idempotency-key <key>', 'the same key twice is one request (safe retries)'),
  ).action(
    async (flags: ClientFlags & { tenant: string; workload?: string; instances?: string; cpu?: string; memory?: string; priority: string; maxWait?: string; deadline?: string; duration?: string; idempotencyKey?: string }) => {
      const body: Record<string, unknown> = { tenant: flags.tenant, priority: integer('--priority', flags.priority) };
      if (flags.workload !== undefined) body.workload = flags.workload;
      if (flags.instances !== undefined) body.instances = integer('--instances', flags.instances);
      if (flags.cpu !== undefined) body.cpuMillicores = quantity(flags.cpu);
      if (flags.memory !== undefined) body.memoryMiB = quantity(flags.memory);
      if (flags.maxWait !== undefined) body.maxWaitSeconds = quantity(flags.maxWait);
      if (flags.deadline !== undefined) body.deadline = quantity(flags.deadline);
      if (flags.duration !== undefined) body.durationSeconds = quantity(flags.duration);
      if (flags.idempotencyKey !== undefined) body.idempotencyKey = flags.idempotencyKey;
      const r = await new HeadroomClient(flags).request<RequestView>('POST', '/v1/requests', body);
      out(flags.json ? JSON.stringify(r, null, 2) : describeRequest(r));
    },
  );

  clientCommand(
    request
      .command('list')
      .description('requests, newest first')
      .option('--tenant <name>', 'only this tenant\'s')
      .option('--status <list>', 'only these statuses (comma-separated: queued, granted, rejected, expired, cancelled, released)')
      .option('--limit <n>', 'at most this many', '100'),
  ).action(async (flags: ClientFlags & { tenant?: string; status?: string; limit: string }) => {
    const q = new URLSearchParams({ limit: String(integer('--limit', flags.limit)) });
    if (flags.tenant) q.set('tenant', flags.tenant);
    if (flags.status) q.set('status', flags.status);
    const { requests } = await new HeadroomClient(flags).request<{ requests: RequestView[] }>('GET', `/v1/requests?${q}`);
    if (flags.json) return out(JSON.stringify(requests, null, 2));
    if (requests.length === 0) return out('no requests');
    out(
      table(
        ['id', 'tenant', 'status', 'position', 'priority', 'asks for', 'deadline', 'reason'],
        requests.map((r) => [String(r.id), r.tenant, r.status, r.position === undefined ? '-' : String(r.position), String(r.priority), amounts(r), r.deadlineSeconds === undefined ? '-' : iso(r.deadlineSeconds), r.reason ?? '']),
        [1, 2, 5, 6, 7],
      ),
    );
  });

  clientCommand(request.command('show').description("one request's fate: status, position, reason, timestamps").argument('<id>')).action(async (id: string, flags: ClientFlags) => {
    const r = await new HeadroomClient(flags).request<RequestView>('GET', `/v1/requests/${integer('id', id)}`);
    if (flags.json) return out(JSON.stringify(r, null, 2));
    showRequest(r);
  });

  clientCommand(request.command('queue').description('what the queue can grant: capacity at quota, planned for workloads, granted, free, held for guarantees')).action(async (flags: ClientFlags) => {
    const q = await new HeadroomClient(flags).request<QueueSummary>('GET', '/v1/queue');
    if (flags.json) return out(JSON.stringify(q, null, 2));
    const row = (name: string, a: { cpuMillicores: number; memoryMiB: number }) => [name, String(Math.round(a.cpuMillicores)), String(Math.round(a.memoryMiB))];
    out(
      table(['', 'CPU (m)', 'memory (MiB)'], [
        row('healthy pools at quota', q.capacity),
        row('all pools at quota', q.ceiling),
        row('planned for workloads', q.planned),
        row('granted to requests', q.granted),
        row('free', q.free),
        row('  held for guarantees', q.heldForGuarantees),
      ]),
    );
    out(`${q.queuedRequests} queued, ${q.grantedRequests} granted`);
  });

  clientCommand(request.command('cancel').description('cancel a queued or granted request').argument('<id>').option('--reason <text>', 'why (kept with the request)')).action(
    async (id: string, flags: ClientFlags & { reason?: string }) => {
      const r = await new HeadroomClient(flags).request<RequestView>('POST', `/v1/requests/${integer('id', id)}/cancel`, flags.reason ? { reason: flags.reason } : {});
      out(flags.json ? JSON.stringify(r, null, 2) : describeRequest(r));
    },
  );
}
