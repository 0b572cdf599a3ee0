import type { Command } from 'commander';
import { Option } from 'commander';
import { InvalidInputError } from '../core/errors.ts';
import { quantileAt } from '../core/forecast.ts';
import type { Action } from '../core/plan.ts';
import { driverNames } from '../control/drivers.ts';
import type { GrantHeld, SloPrice } from '../control/loop.ts';
import type { LoopCycle, StoredForecast, StoredPlan } from '../store/store.ts';
import { formatAmounts } from '../queue/capacity.ts';
import { HeadroomClient, applyFile } from './client.ts';

export interface ClientFlags {
  url?: string;
  token?: string;
  json?: boolean;
}

export const out = (s: string): void => void process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
export const iso = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');

export function clientCommand(cmd: Command): Command {
  return cmd
    .option('--url <url>', 'headroom API base URL (default $HEADROOM_URL or http://127.0.0.1:8080)')
    .option('--token <token>', 'API token (default $HEADROOM_TOKEN)')
    .option('--json', 'print the API answer as JSON');
}

function describeAction(a: Action): string {
  switch (a.kind) {
    case 'scaleNodes':
    case 'reserve':
      return `${a.kind} ${a.pool}: ${a.fromNodes} -> ${a.toNodes} nodes`;
    case 'scaleWorkload':
      return `scaleWorkload ${a.workload} in ${a.pool}: ${a.fromInstances} -> ${a.toInstances} instances`;
    case 'migrate':
      return `migrate ${a.instances} of ${a.workload}: ${a.fromPool} -> ${a.toPool}`;
    default:
      return `${a.kind} ${a.pool}`;
  }
}

/** "SLO p95 latency ≤ 200 ms at 120.00 rps: 142 ms with 12 instances; 13 would give 98 ms (+0.050/h); half the risk (p97.5 peak 130.10 rps) needs 14 (+0.100/h)" */
export function sloPriceText(price: SloPrice, needed: number): string {
  const latency = price.slo.includes('latency');
  const measure = (x: number) => (!Number.isFinite(x) ? 'no bound (saturated)' : latency ? `${Number((x * 1000).toPrecision(3))} ms` : `${Number((x * 100).toPrecision(3))}%`);
  const cost = (x: number | undefined) => (x === undefined ? '' : ` (+${x.toFixed(3)}/h)`);
  const parts = [`SLO ${price.slo} at ${price.demandRps.toFixed(2)} rps: ${measure(price.achieved)} with ${needed} instance${needed === 1 ? '' : 's'}; ${needed + 1} would give ${measure(price.achievedWithOneMore)}${cost(price.oneMoreInstanceCostPerHour)}`];
  const risk = price.halfTheRisk;
  if (risk) parts.push(`half the risk (p${Number((risk.quantile * 100).toPrecision(6))} peak ${risk.peakRps.toFixed(2)} rps) needs ${risk.instances}${cost(risk.extraCostPerHour)}`);
  return parts.join('; ');
}

export function printPlan(plan: StoredPlan): void {
  const e = plan.explanation as { workloads?: Record<string, { neededInstances: number; allocatedInstances: number; reason: string; sloPrice?: SloPrice }>; grants?: Record<string, GrantHeld>; costPerHourBefore?: number; costPerHourAfter?: number };
  out(`plan ${plan.id} (${plan.mode}) decided ${iso(plan.decidedAtSeconds)}: cost/h ${e.costPerHourBefore?.toFixed(3) ?? '?'} -> ${plan.target.costPerHour.toFixed(3)}`);
  for (const [w, x] of Object.entries(e.workloads ?? {})) {
    out(`  ${w}: ${x.allocatedInstances}/${x.neededInstances} instances; ${x.reason}`);
    if (x.sloPrice) out(`    ${sloPriceText(x.sloPrice, x.neededInstances)}`);
  }
  for (const [id, g] of Object.entries(e.grants ?? {})) {
    const where = Object.entries(g.placement).map(([pool, n]) => `${pool} ${n}`).join(', ');
    out(`  request ${id} (tenant ${g.tenant}): ${formatAmounts(g)} held as ${g.pieces} piece${g.pieces === 1 ? '' : 's'}${where ? ` in ${where}` : ''}${g.shortPieces > 0 ? `; ${g.shortPieces} short (no room this cycle)` : ''}`);
  }
  if (plan.actions.length === 0) out('  no actions: the cluster already matches the target');
  for (const a of plan.actions) out(`  [phase ${a.phase}] ${describeAction(a)}`);
}

export function addServiceCommands(program: Command): void {
  program
    .command('serve')
    .description('run the control plane: HTTP API, store, scheduled loop and metrics pulls')
    .option('--data-dir <dir>', 'directory of the embedded SQLite database', process.env.HEADROOM_DATA_DIR ?? 'data')
    .option('--database <url>', 'postgres://… URL: use PostgreSQL instead of SQLite (default $HEADROOM_DATABASE_URL)')
    .option('--host <host>', 'address to listen on', process.env.HEADROOM_HOST ?? '127.0.0.1')
    .option('--port <n>', 'port to listen on (0: any free port)', process.env.HEADROOM_PORT ?? '8080')
    .addOption(new Option('--driver <name>', `driver that carries out actions (${driverNames().join(', ')})`).default(process.env.HEADROOM_DRIVER ?? 'simulator'))
    .option('--prometheus <url>', 'Prometheus base URL to pull workload metrics from (default $HEADROOM_PROMETHEUS_URL)')
    .option('--pull-interval <seconds>', 'seconds between Prometheus pulls', '60')
    .option('--no-schedule', 'run loop cycles only on demand (POST /v1/loop/run)')
    .option('--body-limit <bytes>', 'largest request body', String(16 * 1024 * 1024))
    .option('--log-level <level>', 'pino log level', process.env.HEADROOM_LOG_LEVEL ?? 'info')
    .action(async (flags: { dataDir: string; database?: string; host: string; port: string; driver: string; prometheus?: string; pullInterval: string; schedule: boolean; bodyLimit: string; logLevel: string }) => {
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidInputError('--port', `"${flags.port}" is not a port number`);
      const pullIntervalSeconds = Number(flags.pullInterval);
      if (!(pullIntervalSeconds > 0)) throw new InvalidInputError('--pull-interval', `"${flags.pullInterval}" is not a positive number of seconds`);
      const bodyLimitBytes = Number(flags.bodyLimit);
      if (!Number.isInteger(bodyLimitBytes) || bodyLimitBytes < 1024) throw new InvalidInputError('--body-limit', 'must be a whole number of bytes, at least 1024');
      // Loaded here, so the replay commands do not pay for the server's modules.
      const [{ createLogger }, { startService }] = await Promise.all([import('../api/logger.ts'), import('../control/service.ts')]);
      const logger = createLogger({ level: flags.logLevel });
      const service = await startService({
        dataDir: flags.dataDir,
        databaseUrl: flags.database ?? process.env.HEADROOM_DATABASE_URL,
        host: flags.host,
        port,
        driver: flags.driver,
        prometheusUrl: flags.prometheus ?? process.env.HEADROOM_PROMETHEUS_URL,
        pullIntervalSeconds,
        schedule: flags.schedule,
        bodyLimitBytes,
        logger,
        bootstrapToken: process.env.HEADROOM_BOOTSTRAP_TOKEN,
        // Printed once, to the terminal only (never to the log).
        onBootstrapToken: (secret) => process.stderr.write(`headroom: bootstrap admin token (shown once, store it now): ${secret}\n`),
      });
      process.stderr.write(`headroom: serving on ${service.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          logger.info({ signal }, 'shutting down');
          service.close().then(resolve, resolve);
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
    });

  clientCommand(program.command('apply').description('apply a desired-state YAML file (workloads, pools, providers, policies); idempotent').requiredOption('-f, --file <file>', 'YAML file')).action(
    async (flags: ClientFlags & { file: string }) => {
      const r = await applyFile(new HeadroomClient(flags), flags.file);
      if (flags.json) return out(JSON.stringify(r, null, 2));
      for (const c of r.changes) out(`${c.kind}/${c.name}: ${c.change}${c.change === 'unchanged' ? '' : ` (version ${c.version})`}`);
      out(r.changed === 0 ? 'no change' : `${r.changed} changed, ${r.unchanged} unchanged`);
    },
  );

  clientCommand(program.command('status').description('configuration, series, the last loop cycle and open actions')).action(async (flags: ClientFlags) => {
    const s = await new HeadroomClient(flags).request<{ store: string; workloads: string[]; pools: string[]; series: { workload: string; samples: number; lastSeconds: number }[]; lastCycle: LoopCycle | null; openActions: number }>('GET', '/v1/status');
    if (flags.json) return out(JSON.stringify(s, null, 2));
    out(`store: ${s.store}`);
    out(`workloads: ${s.workloads.join(', ') || '(none)'}`);
    out(`pools: ${s.pools.join(', ') || '(none)'}`);
    for (const x of s.series) out(`  ${x.workload}: ${x.samples} samples, last at ${iso(x.lastSeconds)}`);
    out(s.lastCycle ? `last cycle: #${s.lastCycle.id} ${s.lastCycle.mode} ${s.lastCycle.status} at ${iso(s.lastCycle.startedAtSeconds)}${s.lastCycle.error ? ` (${s.lastCycle.error})` : ''}` : 'last cycle: none yet');
    out(`open actions: ${s.openActions}`);
  });

  clientCommand(program.command('forecast').description("a workload's latest forecast: median and quantiles per step").argument('<workload>')).action(async (workload: string, flags: ClientFlags) => {
    const f = await new HeadroomClient(flags).request<StoredForecast>('GET', `/v1/workloads/${encodeURIComponent(workload)}/forecast`);
    if (flags.json) return out(JSON.stringify(f, null, 2));
    const fc = f.forecast;
    out(`forecast ${f.id} of ${workload} (${fc.model}), made ${iso(f.createdAtSeconds)}, requests per second:`);
    out(['time'.padEnd(20), ...fc.quantiles.map((q) => `p${Math.round(q.level * 100)}`.padStart(10))].join(''));
    fc.mean.forEach((_, k) => out([iso(fc.startSeconds + k * fc.stepSeconds).padEnd(20), ...fc.quantiles.map((q) => quantileAt(fc, q.level, k).toFixed(2).padStart(10))].join('')));
  });

  clientCommand(program.command('plan').description('show the latest plan, or with --dry-run make one now without acting').option('--dry-run', 'run a dry-run cycle now and show its plan')).action(
    async (flags: ClientFlags & { dryRun?: boolean }) => {
      const client = new HeadroomClient(flags);
      let plan: StoredPlan | undefined;
      if (flags.dryRun) {
        const cycle = await client.request<LoopCycle>('POST', '/v1/loop/run', { mode: 'dry-run' });
        if (cycle.status !== 'succeeded') throw new InvalidInputError(`cycle ${cycle.id}`, `the dry run failed: ${cycle.error}`);
        const planId = (cycle.summary as { planId?: number } | undefined)?.planId;
        plan = planId ? await client.request<StoredPlan>('GET', `/v1/plans/${planId}`) : undefined;
      } else {
        plan = (await client.request<{ plans: StoredPlan[] }>('GET', '/v1/plans?limit=1')).plans[0];
      }
      if (!plan) throw new InvalidInputError('plan', 'no plan yet');
      if (flags.json) return out(JSON.stringify(plan, null, 2));
      printPlan(plan);
    },
  );

  const tokens = program.command('token').description('manage API tokens (admin)');
  clientCommand(tokens.command('create').description('create a token; its secret is printed once').requiredOption('--name <name>').addOption(new Option('--role <role>').choices(['viewer', 'operator', 'admin']).makeOptionMandatory())).action(
    async (flags: ClientFlags & { name: string; role: string }) => {
      const r = await new HeadroomClient(flags).request<{ id: string; token: string }>('POST', '/v1/tokens', { name: flags.name, role: flags.role });
      out(flags.json ? JSON.stringify(r, null, 2) : `token ${r.id} (${flags.role}): ${r.token}`);
    },
  );
  clientCommand(tokens.command('revoke').argument('<id>')).action(async (id: string, flags: ClientFlags) => {
    await new HeadroomClient(flags).request('DELETE', `/v1/tokens/${encodeURIComponent(id)}`);
    out(`revoked ${id}`);
  });
}
